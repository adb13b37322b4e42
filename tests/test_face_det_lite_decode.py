"""The generated face_det_lite decoding against a loop-by-loop restatement of AI Hub's.

The vectorized numpy port in generated/face_det_lite_sample.py (NHWC outputs, LiteRT) and
generated/face_det_lite_sample_onnx.py (NCHW outputs, ONNX Runtime) must give the same
detections, in the same order, as tests/reference_face_det_lite.py, which restates
quic/ai-hub-models' face_det_lite utils.py / app.py with plain loops.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests import reference_face_det_lite as ref
from tests.conftest import import_script

GENERATED = Path(__file__).resolve().parent.parent / "generated"
ROWS, COLS = 60, 80
LOW = np.float32(-6.0)  # background logit: sigmoid 0.0025, far below any threshold
THRESHOLD = 0.55  # app.py's


def load_script(filename: str) -> ModuleType:
    """Import a generated script (under generated/) as a module."""
    return import_script(GENERATED / filename)


@pytest.fixture(scope="module")
def nhwc() -> ModuleType:
    return load_script("face_det_lite_sample.py")


@pytest.fixture(scope="module")
def nchw() -> ModuleType:
    return load_script("face_det_lite_sample_onnx.py")


# ---- planted outputs -----------------------------------------------------------------


def grids(rows: int = ROWS, cols: int = COLS, seed: int = 0):
    """Background heatmap logits and per-cell distinct box edges and landmark offsets.

    Box edges (0.5..3) and landmark offsets (-2..2) differ from cell to cell, so a face
    decoded from the wrong cell or in the wrong order shows up in its box.
    """
    rng = np.random.default_rng(seed)
    heatmap = np.full((rows, cols, 1), LOW, np.float32)
    bbox = rng.uniform(0.5, 3.0, (rows, cols, 4)).astype(np.float32)
    landmark = rng.uniform(-2.0, 2.0, (rows, cols, 10)).astype(np.float32)
    return heatmap, bbox, landmark


def plant(heatmap: np.ndarray, cells: dict[tuple[int, int], float]) -> np.ndarray:
    """Set the logits of some (row, col) cells."""
    for (row, col), value in cells.items():
        heatmap[row, col, 0] = value
    return heatmap


def assert_same_detections(module, heatmap, bbox, landmark, threshold, nms_iou=-1):
    """The script's detect, nms and app_boxes equal the reference's; returns its faces."""
    expected = ref.detect(heatmap, bbox, landmark, threshold, k=module.TOP_K)
    scores, boxes, points = module.detect(heatmap, bbox, landmark, threshold)
    if nms_iou != -1:
        expected = ref.nms(expected, nms_iou)
        if scores.size:
            keep = module.nms(boxes, scores, nms_iou)
            scores, boxes, points = scores[keep], boxes[keep], points[keep]
    assert scores.shape == (len(expected),)
    assert boxes.shape == (len(expected), 4)
    assert points.shape == (len(expected), 5, 2)
    np.testing.assert_array_equal(scores, [face.score for face in expected])
    if expected:
        np.testing.assert_allclose(boxes, [face.box for face in expected], rtol=0, atol=1e-9)
        np.testing.assert_allclose(points, [face.landmarks for face in expected], rtol=0, atol=1e-9)
        np.testing.assert_array_equal(
            module.app_boxes(boxes), [ref.app_box(face.box) for face in expected]
        )
    return expected


def cells_of(faces: list[ref.Face]) -> list[tuple[int, int]]:
    return [face.cell for face in faces]


# ---- the reference itself, on hand-worked values ---------------------------------------


def test_reference_decodes_one_face_by_hand():
    """One peak at row 10, column 20 with edges 1, 2, 3, 4: the box is worked out by hand."""
    heatmap, bbox, landmark = grids()
    plant(heatmap, {(10, 20): 2.0})
    bbox[10, 20] = [1, 2, 3, 4]
    landmark[10, 20] = [0, 1, 2, 3, 4, -1, -2, 0, 0.5, 1]
    (face,) = ref.detect(heatmap, bbox, landmark, THRESHOLD)
    assert face.cell == (10, 20)
    assert face.box == ((20 - 1) * 8, (10 - 2) * 8, (20 + 3) * 8, (10 + 4) * 8)
    assert face.landmarks == [(160, 72), (168, 64), (176, 80), (184, 84), (192, 88)]
    assert face.score == np.float32(1) / (np.float32(1) + np.exp(np.float32(-2.0)))
    # width 33, height 49: enlarged by int(33 * 0.05) = 1 and int(49 * 0.05) = 2
    assert ref.app_box(face.box) == [151, 62, 36, 53]


def test_reference_tie_order_and_iou():
    """Ties rank by flat index; get_iou counts pixels inclusively."""
    assert ref.top_k([np.float32(0.5), np.float32(0.7), np.float32(0.5)], 3) == [1, 0, 2]
    assert ref.get_iou((0, 0, 9, 9), (0, 0, 9, 4)) == 0.5
    assert ref.get_iou((0, 0, 9, 9), (20, 20, 29, 29)) == 0.0


# ---- detect ------------------------------------------------------------------------------


def test_planted_peaks_come_out_by_score(nhwc):
    """Separate peaks of different heights, in descending score."""
    heatmap, bbox, landmark = grids()
    plant(heatmap, {(5, 5): 1.0, (30, 40): 3.0, (50, 10): 2.0, (12, 70): 0.5})
    faces = assert_same_detections(nhwc, heatmap, bbox, landmark, THRESHOLD)
    assert cells_of(faces) == [(30, 40), (50, 10), (5, 5), (12, 70)]


@pytest.mark.parametrize(
    ("cells", "order"),
    [
        pytest.param([(20, 30), (20, 31)], [(20, 30), (20, 31)], id="adjacent-in-row"),
        pytest.param([(21, 30), (20, 31)], [(20, 31), (21, 30)], id="adjacent-diagonal"),
        pytest.param([(40, 2), (3, 77)], [(3, 77), (40, 2)], id="far-apart"),
        pytest.param([(10, 60), (11, 5)], [(10, 60), (11, 5)], id="row-before-column"),
    ],
)
def test_exact_ties_in_row_major_order(nhwc, cells, order):
    """Equal scores: both cells are peaks, and the earlier flat index comes first."""
    heatmap, bbox, landmark = grids()
    plant(heatmap, dict.fromkeys(cells, 1.5))
    faces = assert_same_detections(nhwc, heatmap, bbox, landmark, THRESHOLD)
    assert cells_of(faces) == order


def test_saturated_logits_tie_after_sigmoid(nhwc):
    """Logits 20 and 30 both give a float32 score of exactly 1: peaks are found on scores."""
    heatmap, bbox, landmark = grids()
    plant(heatmap, {(8, 8): 30.0, (8, 9): 20.0, (30, 30): 2.0})
    faces = assert_same_detections(nhwc, heatmap, bbox, landmark, THRESHOLD)
    assert cells_of(faces) == [(8, 8), (8, 9), (30, 30)]


def test_plateau_cells_are_all_peaks(nhwc):
    """A 2x2 block of equal maxima: every cell equals its pool, so four faces."""
    heatmap, bbox, landmark = grids()
    block = {(r, c): 1.0 for r in (14, 15) for c in (22, 23)}
    plant(heatmap, block)
    faces = assert_same_detections(nhwc, heatmap, bbox, landmark, THRESHOLD)
    assert cells_of(faces) == [(14, 22), (14, 23), (15, 22), (15, 23)]


def test_plateau_next_to_a_higher_cell(nhwc):
    """Only plateau cells out of the higher cell's 3x3 reach remain peaks."""
    heatmap, bbox, landmark = grids()
    plant(heatmap, {(r, c): 1.0 for r in (14, 15) for c in range(22, 26)})
    plant(heatmap, {(16, 21): 2.0})
    faces = assert_same_detections(nhwc, heatmap, bbox, landmark, THRESHOLD)
    assert cells_of(faces) == [
        (16, 21),
        (14, 22),
        (14, 23),
        (14, 24),
        (14, 25),
        (15, 23),
        (15, 24),
        (15, 25),
    ]


def test_peaks_on_borders_and_corners(nhwc):
    """Corners and edge cells see only part of the 3x3 window (padding is -inf)."""
    heatmap, bbox, landmark = grids()
    edges = [(0, 0), (0, 79), (59, 0), (59, 79), (0, 40), (59, 41), (30, 0), (31, 79)]
    plant(heatmap, {cell: 1.0 + i / 10 for i, cell in enumerate(edges)})
    faces = assert_same_detections(nhwc, heatmap, bbox, landmark, THRESHOLD)
    assert cells_of(faces) == edges[::-1]


def test_constant_heatmap_hits_top_k(nhwc):
    """A constant heatmap above the threshold: all cells are peaks, top-k keeps 2000."""
    heatmap, bbox, landmark = grids()
    heatmap[:] = 1.0
    faces = assert_same_detections(nhwc, heatmap, bbox, landmark, THRESHOLD)
    assert len(faces) == 2000
    assert cells_of(faces) == [divmod(i, COLS) for i in range(2000)]


def test_top_k_cuts_after_the_k_best(nhwc, monkeypatch):
    """With TOP_K = 3 only the three best peaks survive, whatever the threshold allows."""
    monkeypatch.setattr(nhwc, "TOP_K", 3)
    heatmap, bbox, landmark = grids()
    plant(heatmap, {(2 * i, 3 * i): 0.5 + i / 8 for i in range(1, 12)})
    faces = assert_same_detections(nhwc, heatmap, bbox, landmark, THRESHOLD)
    assert cells_of(faces) == [(22, 33), (20, 30), (18, 27)]


def test_top_k_cuts_inside_a_tie(nhwc, monkeypatch):
    """The cut falls between equal scores: the earlier cells are kept."""
    monkeypatch.setattr(nhwc, "TOP_K", 2)
    heatmap, bbox, landmark = grids()
    plant(heatmap, {(40, 5): 1.0, (3, 70): 1.0, (20, 20): 1.0})
    faces = assert_same_detections(nhwc, heatmap, bbox, landmark, THRESHOLD)
    assert cells_of(faces) == [(3, 70), (20, 20)]


def sigmoid32(value: float) -> np.float32:
    x = np.float32(value)
    return np.float32(1) / (np.float32(1) + np.exp(-x))


@pytest.mark.parametrize(
    ("threshold", "found"),
    [
        pytest.param(float(sigmoid32(1.0)), True, id="at"),
        pytest.param(float(np.nextafter(sigmoid32(1.0), np.float32(0))), True, id="just-below"),
        pytest.param(float(np.nextafter(sigmoid32(1.0), np.float32(1))), False, id="just-above"),
        # Between the score and the next float32: compared as float32, as with NumPy 2.
        pytest.param(float(sigmoid32(1.0)) + 1e-12, True, id="between-float32s"),
        pytest.param(0.999, False, id="well-above"),
    ],
)
def test_threshold_is_score_at_least(nhwc, threshold, found):
    """A face is kept when its sigmoid score is >= the threshold."""
    heatmap, bbox, landmark = grids()
    plant(heatmap, {(25, 25): 1.0})
    faces = assert_same_detections(nhwc, heatmap, bbox, landmark, threshold)
    assert cells_of(faces) == ([(25, 25)] if found else [])


def test_no_faces(nhwc):
    """All peaks below the threshold: empty results with the right shapes."""
    heatmap, bbox, landmark = grids()
    plant(heatmap, {(10, 10): -1.0, (40, 40): 0.1})
    assert assert_same_detections(nhwc, heatmap, bbox, landmark, THRESHOLD) == []
    _, boxes, _ = nhwc.detect(heatmap, bbox, landmark, THRESHOLD)
    assert nhwc.app_boxes(boxes).shape == (0, 4)


def test_zero_threshold_admits_non_peaks(nhwc):
    """Non-peaks score 0 in the top-k input, so a threshold of 0 lets them through."""
    rows, cols = np.indices((3, 4))
    heatmap = -(abs(rows - 1) + abs(cols - 1)).astype(np.float32)[:, :, None]  # one peak
    _, bbox, landmark = grids(3, 4)
    faces = assert_same_detections(nhwc, heatmap, bbox, landmark, 0.0)
    others = [(r, c) for r in range(3) for c in range(4) if (r, c) != (1, 1)]
    assert cells_of(faces) == [(1, 1), *others]
    assert all(face.score == 0 for face in faces[1:])


def test_negative_edges_swap_corners(nhwc):
    """Negative box edges cross the corners; BBox keeps min / max."""
    heatmap, bbox, landmark = grids()
    plant(heatmap, {(20, 20): 1.0, (40, 60): 1.5})
    bbox[20, 20] = [-3.0, -2.0, -1.0, -0.5]  # x1 > x2 and y1 > y2
    bbox[40, 60] = [-1.0, 2.0, 0.25, -4.0]  # x swapped the other way, y crossed
    faces = assert_same_detections(nhwc, heatmap, bbox, landmark, THRESHOLD)
    assert faces[1].box == (19 * 8, 19.5 * 8, 23 * 8, 22 * 8)
    assert faces[0].box == (60.25 * 8, 36 * 8, 61 * 8, 38 * 8)


# ---- app.py boxes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        # 100x50 inside the input: moved by 5 / 2 and widened to 110 / 55.
        pytest.param((100, 100, 199, 149), [95, 98, 110, 55], id="fits-enlarged"),
        # Off the left and top: clipped to 0, the enlarged box would not fit.
        pytest.param((-20.5, -3, 59.5, 96), [0, 0, 81, 100], id="off-left-top"),
        # Off the right and bottom: W and H keep their unclipped size.
        pytest.param((600, 450, 700.5, 520), [600, 450, 101, 71], id="off-right-bottom"),
        # Truncation towards zero lifts -0.5 to 0; a small box still enlarges from there.
        pytest.param((-0.5, -0.9, 9.5, 9.5), [0, 0, 12, 12], id="fractional-negative"),
        # The enlarged right edge lands on 639 exactly: it fits.
        pytest.param((535, 10, 634, 109), [530, 5, 110, 110], id="right-edge-639"),
        # One pixel further and it does not.
        pytest.param((536, 10, 635, 109), [536, 10, 100, 100], id="right-edge-640"),
        pytest.param((10, 375, 109, 474), [5, 370, 110, 110], id="bottom-edge-479"),
        pytest.param((10, 376, 109, 475), [10, 376, 100, 100], id="bottom-edge-480"),
        # Entirely outside: left as is.
        pytest.param((700, 500, 720, 530), [700, 500, 21, 31], id="outside"),
    ],
)
def test_app_boxes(nhwc, box, expected):
    """Integer [L, T, W, H] as app.py: clip L and T, enlarge by 5% / 10% when it fits."""
    assert ref.app_box(box) == expected
    got = nhwc.app_boxes(np.array([box], np.float64))
    np.testing.assert_array_equal(got, [expected])


@settings(max_examples=300, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.just(4)),
        elements=st.one_of(
            st.integers(-60, 700).map(float),
            st.floats(-60, 700, allow_nan=False).map(lambda v: round(v * 8) / 8),
            st.floats(-60, 700, allow_nan=False),
        ),
    )
)
def test_app_boxes_property(nhwc, box_corners):
    """Any boxes, including fractional and off-image ones: exactly app.py's integers."""
    x1 = np.minimum(box_corners[:, 0], box_corners[:, 2])
    x2 = np.maximum(box_corners[:, 0], box_corners[:, 2])
    y1 = np.minimum(box_corners[:, 1], box_corners[:, 3])
    y2 = np.maximum(box_corners[:, 1], box_corners[:, 3])
    boxes = np.stack([x1, y1, x2, y2], axis=1)
    expected = [ref.app_box(tuple(float(v) for v in row)) for row in boxes]
    np.testing.assert_array_equal(nhwc.app_boxes(boxes), expected)


# ---- nms -----------------------------------------------------------------------------------


def reference_nms_indices(boxes, scores, iou) -> list[int]:
    faces = [
        ref.make_face(s, tuple(b), cell=(i, 0))
        for i, (b, s) in enumerate(zip(boxes, scores, strict=True))
    ]
    return [face.cell[0] for face in ref.nms(faces, iou)]


@pytest.mark.parametrize(
    ("iou", "kept"),
    [
        pytest.param(0.5, [0, 1, 2, 3, 4], id="iou-equal-is-kept"),
        pytest.param(0.45, [0, 2, 3, 4], id="iou-above-is-suppressed"),
        pytest.param(0.3, [0, 3, 4], id="suppressed-box-suppresses-nothing"),
        pytest.param(0.0, [0, 4], id="any-overlap"),
    ],
)
def test_nms(nhwc, iou, kept):
    """Greedy by score; IoU with +1 sides; a suppressed box suppresses nothing."""
    boxes = np.array(
        [
            [0, 0, 9, 9],  # best
            [0, 0, 9, 4],  # IoU with box 0: 50 / 100 = 0.5 exactly
            [4, 0, 13, 9],  # IoU with box 0: 60 / 140
            [9, 0, 18, 9],  # IoU with box 0: 10 / 190, with box 2: 50 / 150
            [100, 100, 120, 120],  # alone
        ],
        np.float64,
    )
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    assert reference_nms_indices(boxes, scores, iou) == kept
    np.testing.assert_array_equal(nhwc.nms(boxes, scores, iou), kept)


def test_nms_orders_by_score_and_keeps_ties_stable(nhwc):
    """Unsorted input comes back by score; equal scores keep their input order."""
    boxes = np.array([[0, 0, 9, 9], [50, 50, 59, 59], [1, 1, 10, 10], [200, 0, 210, 5]], float)
    scores = np.array([0.6, 0.9, 0.9, 0.6])
    expected = reference_nms_indices(boxes, scores, 0.3)
    assert expected == [1, 2, 3]
    np.testing.assert_array_equal(nhwc.nms(boxes, scores, 0.3), expected)


@pytest.mark.parametrize("nms_iou", [-1, 0.3, 0.0])
def test_detect_then_nms_on_overlapping_faces(nhwc, nms_iou):
    """Neighbouring peaks with large boxes overlap; NMS on and off."""
    heatmap, bbox, landmark = grids()
    bbox[:] = 6.0
    plant(heatmap, {(20, 20): 2.0, (20, 22): 1.5, (22, 21): 1.0, (40, 60): 1.2})
    faces = assert_same_detections(nhwc, heatmap, bbox, landmark, THRESHOLD, nms_iou)
    expected = {
        -1: [(20, 20), (20, 22), (40, 60), (22, 21)],
        0.3: [(20, 20), (40, 60)],
        0.0: [(20, 20), (40, 60)],
    }
    assert cells_of(faces) == expected[nms_iou]


# ---- random outputs --------------------------------------------------------------------------

LOGITS = [-2.0, -0.5, 0.0, 0.25, 0.2, 0.5, 1.0, 1.0000001, 2.0, 4.75, 20.0, 30.0]
EDGES = [-1.5, -0.25, 0.0, 0.05, 0.5, 1.0, 2.75, 12.75]
OFFSETS = [-2.56, -0.5, 0.0, 0.02, 1.0, 2.54]


def small_grids():
    """Small [H, W, C] grids drawing from a few values, so ties and plateaus are common."""

    @st.composite
    def build(draw):
        rows, cols = draw(st.integers(1, 9)), draw(st.integers(1, 12))
        levels = np.array(LOGITS, np.float32)
        heatmap = draw(hnp.arrays(np.float32, (rows, cols, 1), elements=st.sampled_from(levels)))
        bbox = draw(hnp.arrays(np.float32, (rows, cols, 4), elements=st.sampled_from(EDGES)))
        landmark = draw(hnp.arrays(np.float32, (rows, cols, 10), elements=st.sampled_from(OFFSETS)))
        return heatmap, bbox, landmark

    return build()


THRESHOLDS = st.sampled_from([0.0, 0.3, 0.5, 0.55, 0.6225, float(sigmoid32(1.0)), 0.9, 1.0])
NMS_IOUS = st.sampled_from([-1, -1, 0.0, 0.2, 0.5])


def check_random_case(module, data, threshold, nms_iou, top_k) -> None:
    """assert_same_detections with the script's TOP_K set to top_k for the call."""
    saved = module.TOP_K
    module.TOP_K = top_k
    try:
        assert_same_detections(module, *data, threshold, nms_iou)
    finally:
        module.TOP_K = saved


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_grids(), THRESHOLDS, NMS_IOUS, st.sampled_from([2000, 1, 3, 10]))
def test_random_small_grids(nhwc, data, threshold, nms_iou, top_k):
    """Random quantized-like grids: same faces, order, scores, boxes and landmarks."""
    check_random_case(nhwc, data, threshold, nms_iou, top_k)


@pytest.mark.fuzz
@settings(max_examples=5000, deadline=None, suppress_health_check=list(HealthCheck))
@given(small_grids(), THRESHOLDS, NMS_IOUS, st.sampled_from([2000, 1, 3, 10]))
def test_random_small_grids_fuzz(nhwc, data, threshold, nms_iou, top_k):
    """The same comparison, thousands of times (pytest -m fuzz)."""
    check_random_case(nhwc, data, threshold, nms_iou, top_k)


def quantized_outputs(module: ModuleType, seed: int) -> dict[str, np.ndarray]:
    """Random uint8 NHWC outputs, dequantized with the model's own scales and zero points."""
    rng = np.random.default_rng(seed)
    outputs = {}
    for spec in module.EXPECTED_OUTPUTS:
        q = spec["quantization"]
        shape = spec["shape"]
        if spec["name"] == module.HEATMAP_OUTPUT:
            # Mostly background, with bright blobs that make peaks, ties and plateaus.
            values = rng.integers(100, 150, shape)
            bright = rng.random(shape) < 0.15
            values[bright] = rng.choice([170, 180, 190], bright.sum())
        else:
            values = rng.integers(0, 256, shape)
        outputs[spec["name"]] = dequant(values, q)
    return outputs


def dequant(values: np.ndarray, quantization: dict) -> np.ndarray:
    scale = np.float32(quantization["scale"][0])
    return (values.astype(np.float32) - np.float32(quantization["zero_point"][0])) * scale


@pytest.mark.parametrize("seed", range(4))
def test_random_full_size_outputs(nhwc, seed):
    """Full 60x80 outputs on the model's quantization grid, with NMS off and on."""
    outputs = quantized_outputs(nhwc, seed)
    data = [
        outputs[name][0] for name in (nhwc.HEATMAP_OUTPUT, nhwc.BBOX_OUTPUT, nhwc.LANDMARK_OUTPUT)
    ]
    faces = assert_same_detections(nhwc, *data, THRESHOLD)
    assert len(faces) > 20  # the case is not trivially empty
    assert_same_detections(nhwc, *data, THRESHOLD, nms_iou=0.3)


# ---- postprocess, NHWC and NCHW ------------------------------------------------------------


def postprocess(module, outputs, image_size, nms_iou) -> dict:
    """The script's Decoder on these outputs, for a photo of `image_size` stretched to the
    input (nms_iou None: off)."""
    specs = {spec["name"]: spec for spec in module.EXPECTED_OUTPUTS}
    decoder = module.Decoder(specs, {"threshold": THRESHOLD, "nms_iou": nms_iou}, [])
    width, height = image_size
    scale = (module.INPUT_WIDTH / width, module.INPUT_HEIGHT / height)
    return decoder(outputs, module.Geometry(width, height, *scale))


def to_nchw(outputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.ascontiguousarray(v.transpose(0, 3, 1, 2)) for name, v in outputs.items()}


def planted_outputs(module: ModuleType) -> dict[str, np.ndarray]:
    """Planted NHWC outputs: ties, a plateau, border peaks and boxes that leave the input."""
    heatmap, bbox, landmark = grids(seed=3)
    plant(heatmap, {(0, 0): 2.0, (59, 79): 2.0, (10, 10): 1.0, (10, 14): 1.0})
    plant(heatmap, {(r, c): 0.8 for r in (30, 31) for c in (40, 41)})
    bbox[0, 0] = [4.0, 4.0, 6.0, 5.0]  # off the top-left corner
    bbox[59, 79] = [6.0, 5.0, 4.0, 4.0]  # off the bottom-right corner
    bbox[10, 10] = [-1.0, 3.0, 5.0, -2.0]  # crossed edges
    names = (module.HEATMAP_OUTPUT, module.BBOX_OUTPUT, module.LANDMARK_OUTPUT)
    return {
        name: grid[np.newaxis] for name, grid in zip(names, (heatmap, bbox, landmark), strict=True)
    }


def expected_postprocess(outputs, module, image_size, nms_iou) -> list[dict]:
    """Reference faces mapped as porter maps them: [L, T, L+W, T+H] scaled to the photo."""
    data = [
        outputs[n][0] for n in (module.HEATMAP_OUTPUT, module.BBOX_OUTPUT, module.LANDMARK_OUTPUT)
    ]
    faces = ref.detect(*data, THRESHOLD, nms_iou=nms_iou)
    sx, sy = image_size[0] / ref.INPUT_WIDTH, image_size[1] / ref.INPUT_HEIGHT
    expected = []
    for face in faces:
        left, top, width, height = ref.app_box(face.box)
        corners = [left * sx, top * sy, (left + width) * sx, (top + height) * sy]
        limits = [image_size[0], image_size[1]] * 2
        box = [min(max(v, 0), limit) for v, limit in zip(corners, limits, strict=True)]
        marks = [[x * sx, y * sy] for x, y in face.landmarks]
        expected.append({"box": box, "score": float(face.score), "landmarks": marks})
    return expected


@pytest.mark.parametrize("image_size", [(640, 480), (1280, 720), (300, 400)])
@pytest.mark.parametrize("nms_iou", [None, 0.2])
def test_postprocess_nhwc_and_nchw_agree(nhwc, nchw, image_size, nms_iou):
    """The same outputs in both layouts give the same faces, and the reference's."""
    assert nhwc.CHANNEL_AXIS == 3 and nchw.CHANNEL_AXIS == 1
    outputs = planted_outputs(nhwc)
    from_nhwc = postprocess(nhwc, outputs, image_size, nms_iou)
    from_nchw = postprocess(nchw, to_nchw(outputs), image_size, nms_iou)
    assert from_nchw == from_nhwc
    expected = expected_postprocess(outputs, nhwc, image_size, -1 if nms_iou is None else nms_iou)
    got = from_nhwc["detections"]
    assert len(got) == len(expected) == (8 if nms_iou is None else 5)
    for face, want in zip(got, expected, strict=True):
        assert face["box"] == pytest.approx(want["box"], abs=0.006)
        assert face["score"] == pytest.approx(want["score"], abs=5e-5)
        assert np.allclose(face["landmarks"], want["landmarks"], atol=0.006)


def test_grid_layouts(nhwc, nchw):
    """grid() gives the same [H, W, C] array from [1, H, W, C] and [1, C, H, W]."""
    outputs = planted_outputs(nhwc)
    for name, values in outputs.items():
        np.testing.assert_array_equal(nhwc.grid(values), values[0])
        np.testing.assert_array_equal(nchw.grid(to_nchw({name: values})[name]), values[0])


@pytest.mark.parametrize("seed", range(2))
def test_postprocess_layouts_on_random_outputs(nhwc, nchw, seed):
    """Quantized random outputs: NCHW postprocess equals NHWC postprocess."""
    outputs = quantized_outputs(nhwc, seed)
    from_nhwc = postprocess(nhwc, outputs, (1024, 768), 0.3)
    assert from_nhwc["detections"]
    assert postprocess(nchw, to_nchw(outputs), (1024, 768), 0.3) == from_nhwc


def test_postprocess_without_faces(nhwc, nchw):
    """No face above the threshold: an empty list, in both layouts."""
    heatmap, bbox, landmark = grids()
    names = (nhwc.HEATMAP_OUTPUT, nhwc.BBOX_OUTPUT, nhwc.LANDMARK_OUTPUT)
    outputs = {n: g[np.newaxis] for n, g in zip(names, (heatmap, bbox, landmark), strict=True)}
    for nms_iou in (None, 0.3):
        assert postprocess(nhwc, outputs, (640, 480), nms_iou) == {"detections": []}
        assert postprocess(nchw, to_nchw(outputs), (640, 480), nms_iou) == {"detections": []}
