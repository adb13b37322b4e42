"""The pose family: generated/pose_sample.py against tests/reference_pose.py (AI Hub's HRNet
decoding restated with loops), its box fit against values pinned to cv2.warpAffine, the
--box option, wide and tall photos, auto-detection, an ONNX (channels-first) export, and
the sample model run end to end on a photo with a bright dot."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from porter.describe import describe_model
from porter.plan import ScaffoldOptions, make_plan
from porter.samples import pose as sample
from porter.scaffold import generate
from tests import reference_pose as ref
from tests.conftest import ROOT, assert_one_line_error, import_script, run

SCRIPT = ROOT / "generated" / "pose_sample.py"
MODEL = ROOT / "samples" / "pose_sample.tflite"
F32 = np.float32
J, H, W = 17, 64, 48


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return import_script(SCRIPT, "generated_pose_sample")


def geometry_for(script, width: int, height: int, box=None):
    """The script's box fit geometry for a photo of this size (a black photo)."""
    photo = Image.new("RGB", (width, height))
    return script.fit_photo(photo, {"box": box})[1]


def reference_box(width: int, height: int, box) -> tuple:
    x1, y1, x2, y2 = box or (0, 0, width, height)
    return ref.box_to_center_scale(x1, y1, x2 - x1, y2 - y1)


def random_maps(seed: int) -> np.ndarray:
    """[J, H, W] float32 heatmaps: noise, a peak per joint (some on the border rows and
    columns, some with equal neighbours, one with no positive value), some ties."""
    rng = np.random.default_rng(seed)
    maps = (rng.random((J, H, W), dtype=np.float32) * F32(0.3)).round(2).astype(F32)
    for j in range(J):
        y, x = int(rng.integers(0, H)), int(rng.integers(0, W))
        if j % 5 == 0:
            y, x = int(rng.choice([0, 1, 2, H - 3, H - 2, H - 1])), int(rng.choice([0, 1, W - 1]))
        maps[j, y, x] = F32(0.5 + 0.1 * (j % 4))
        if j % 3 == 0:  # equal neighbours along one axis: no step that way
            maps[j, y, max(x - 1, 0)] = maps[j, y, min(x + 1, W - 1)] = F32(0.2)
    maps[7] = -np.abs(maps[7])  # no positive value: the joint stays at cell (0, 0)
    maps[11, 5, 5] = maps[11, 40, 30] = maps[11].max() + F32(0.1)  # a tie: the first wins
    return maps


# ---- decoding against the reference -------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    ("size", "box"),
    [((640, 480), None), ((300, 900), None), ((512, 512), (100.5, 40.25, 300.0, 390.75))],
)
def test_keypoints_match_the_reference(script, seed, size, box):
    maps = random_maps(seed)
    coords, peaks = script.final_preds(maps)
    center, scale = reference_box(*size, box)
    expected = ref.final_preds(maps, center, scale)
    # Heatmap coordinates and peaks: exact.
    assert coords.dtype == F32
    assert coords.tolist() == [list(k.heatmap_xy) for k in expected]
    assert peaks.tolist() == [k.score for k in expected]
    # The photo's coordinates: the same float32 values (the reference solves AI Hub's
    # three-point affine; the script maps through the box fit's geometry).
    points = geometry_for(script, *size, box).to_photo(coords.astype(np.float64) * 4)
    assert points.astype(F32).tolist() == [list(k.xy) for k in expected]
    assert np.round(points.astype(F32)).astype(int).tolist() == [
        list(p) for p in ref.app_keypoints(expected)
    ]


@pytest.mark.parametrize(
    ("x", "y", "shifted"),
    [(1, 20, False), (2, 20, True), (46, 20, True), (47, 20, False), (10, 1, False),
     (10, 2, True), (10, 62, True), (10, 63, False), (0, 0, False), (47, 63, False)],
)  # fmt: skip
def test_quarter_shift_only_strictly_inside(script, x, y, shifted):
    maps = np.zeros((1, H, W), F32)
    maps[0, y, x] = 1.0
    if x + 1 < W:
        maps[0, y, x + 1] = 0.5
    if y + 1 < H:
        maps[0, y + 1, x] = 0.5
    coords, _ = script.final_preds(maps)
    step = 0.25 if shifted else 0.0
    assert coords.tolist() == [[x + step, y + step]]
    assert coords.tolist() == [list(ref.final_preds(maps, (0, 0), (48, 64))[0].heatmap_xy)]


def test_quarter_shift_left_up_and_none_when_equal(script):
    maps = np.zeros((2, H, W), F32)
    maps[0, 30, 20], maps[0, 30, 19], maps[0, 29, 20] = 0.9, 0.4, 0.3  # left, up larger
    maps[1, 30, 20] = 0.9
    maps[1, 30, 19] = maps[1, 30, 21] = maps[1, 29, 20] = maps[1, 31, 20] = 0.4  # all equal
    coords, _ = script.final_preds(maps)
    assert coords.tolist() == [[19.75, 29.75], [20.0, 30.0]]


def test_decoder_on_raw_codes(script):
    """The Decoder dequantizes the model's uint8 NHWC codes and names the keypoints."""
    codes = np.zeros((1, H, W, J), np.uint8)
    for j, (dy, dx) in enumerate(sample.JOINT_OFFSETS):
        codes[0, 32 + dy // 2, 24 + dx, j] = 200 + j
    outputs = {spec["name"]: spec for spec in script.EXPECTED_OUTPUTS}
    decoder = script.Decoder(outputs, {"box": None}, [])
    geometry = script.Geometry(W * 4, H * 4, 1.0, 1.0)  # the input's own pixels
    (pose,) = decoder({"heatmaps": codes}, geometry)["poses"]
    assert [k["name"] for k in pose["keypoints"]] == sample.KEYPOINTS
    for j, (point, (dy, dx)) in enumerate(
        zip(pose["keypoints"], sample.JOINT_OFFSETS, strict=True)
    ):
        assert (point["x"], point["y"]) == (4 * (24 + dx), 4 * (32 + dy // 2))
        assert point["score"] == round((200 + j) / 255, 4)
    assert pose["score"] == round(float(np.mean([(200 + j) / 255 for j in range(J)])), 4)
    assert pose["box"] == [0.0, 0.0, 192.0, 256.0]


def test_pose_score_counts_keypoints_above_the_visibility_threshold(script):
    maps = np.zeros((J, H, W), F32)
    maps[:5, 10, 10] = 0.9
    maps[5:8, 10, 10] = 0.2  # not above 0.2: left out
    maps[8:, 10, 10] = 0.5
    outputs = {"heatmaps": {"dtype": "float32", "quantization": None}}
    decoder = script.Decoder(outputs, {"box": None}, [])
    raw = {"heatmaps": maps.transpose(1, 2, 0)[np.newaxis]}
    (pose,) = decoder(raw, script.Geometry(192, 256, 1.0, 1.0))["poses"]
    assert pose["score"] == round((5 * 0.9 + 9 * 0.5) / 14, 4)
    flat = {"heatmaps": np.zeros((1, H, W, J), F32)}
    (pose,) = decoder(flat, script.Geometry(192, 256, 1.0, 1.0))["poses"]
    assert pose["score"] == 0.0


# ---- the box fit --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "box"),
    [((640, 480), None), ((480, 640), None), ((192, 256), None), ((1000, 200), None),
     ((200, 1000), None), ((640, 480), (10, 20, 110, 420)), ((640, 480), (-50.5, 3.25, 700, 90))],
)  # fmt: skip
def test_centre_scale_and_sampling_match_the_reference(script, size, box):
    """box_xywh_to_cs exactly; each input pixel samples the photo where cv2 would (within
    cv2's 1/32-pixel step)."""
    parsed = script.parse_box(None if box is None else ",".join(map(str, box)))
    centre, scale = script.box_centre_scale(parsed or (0.0, 0.0, *map(float, size)))
    ref_centre, ref_scale = reference_box(*size, box)
    assert centre.tolist() == list(ref_centre) and scale.tolist() == list(ref_scale)
    assert scale[0] / scale[1] == pytest.approx(0.75, rel=1e-6)  # always 3:4, enlarged only
    step_x, origin_x, step_y, origin_y = script.box_transform(centre, scale)
    (cols, col_w), (rows, row_w) = (
        script.sample_axis(step_x, origin_x, 192, 10**6, row=False),
        script.sample_axis(step_y, origin_y, 256, 10**6, row=True),
    )
    for u, v in [(0, 0), (96, 128), (191, 255), (17, 200), (150, 3)]:
        x, y = ref.input_pixel_source(u, v, ref_centre, ref_scale)
        got_x = cols[0][u] + col_w[1][u] / 32 if cols[0][u] > 0 else None
        got_y = rows[0][v] + row_w[1][v] / 32 if rows[0][v] > 0 else None
        if got_x is not None:
            assert abs(got_x - x) <= 1 / 64 + 1e-9
        if got_y is not None:
            assert abs(got_y - y) <= 1 / 64 + 1e-9
    # The geometry maps the input's centre to the box's centre.
    geometry = geometry_for(script, *size, box)
    middle = geometry.to_photo(np.array([[96.0, 128.0]]))[0]
    assert middle == pytest.approx(ref_centre, abs=1e-4)


def pattern(width: int, height: int, channels: int) -> np.ndarray:
    """A busy, machine-independent test photo (integer arithmetic only)."""
    y, x = np.mgrid[:height, :width]
    planes = [(x * 7 + y * 13 + c * 50 + (x * y) % 17) % 256 for c in range(channels)]
    pixels = np.stack(planes, -1).astype(np.uint8)
    return pixels[:, :, 0] if channels == 1 else pixels


# sha256 of cv2.warpAffine(pattern, M, (192, 256)) with AI Hub's M
# (compute_affine_transform(*box_xywh_to_cs(box, 0.75, 1.25), 0, (192, 256))), OpenCV 4.13.
# Pillow's Image.transform on the same photos differs by up to 111 levels near the photo's
# edge and 0.25 to 1.1 on average.
CV2_WARPS = [
    ((300, 200, 3), None, "377a6b6961617fbc72720bd88bc8aaf84143145da8d5c4119c003871af334968"),
    (
        (300, 200, 3),
        (-40.5, 30.25, 170.75, 260.0),
        "3096eabc47a3c13becaeb0c4205a3a5509476327ead806d92f269826fda3c4b1",
    ),
    (
        (97, 131, 1),
        (10.0, 5.0, 60.0, 120.0),
        "d509a54cfb1d62b15d846d2addd4024814cd4de3ee80a043a85b7843f3d14341",
    ),
    ((640, 480, 3), None, "9e1574fe05c29e933ce6469539e0c5a521fcecb41b9683026e85fa4d30609c7b"),
    ((200, 600, 3), None, "23d5c27fa5431be55f73a98c8fe42ac6bb3c17e35d4c0969ead7f654cf59b162"),
]


@pytest.mark.parametrize(("shape", "box", "digest"), CV2_WARPS)
def test_warp_is_cv2s_to_the_bit(script, shape, box, digest):
    import hashlib

    width, height, channels = shape
    photo = Image.fromarray(pattern(width, height, channels))
    pixels, _ = script.fit_photo(photo, {"box": None if box is None else list(box)})
    assert pixels.dtype == np.uint8 and pixels.shape == (256, 192, *([3] if channels == 3 else []))
    assert hashlib.sha256(pixels.tobytes()).hexdigest() == digest


@pytest.mark.parametrize(
    "value",
    ["1,2,3", "a,b,c,d", "10,10,5,20", "0,0,10,0", "nan,0,1,1", "0,0,1e99,1", [1, 2, 3, 4, 5]],
)
def test_bad_boxes_are_refused(script, value):
    with pytest.raises(script.ScriptError, match="box"):
        script.parse_box(value)


def test_box_forms(script):
    assert script.parse_box(None) is None and script.parse_box(" ") is None
    assert script.parse_box(" 1, 2.5 ,3,4") == (1.0, 2.5, 3.0, 4.0)
    assert script.parse_box((1, 2, 3, 4)) == (1.0, 2.0, 3.0, 4.0)


# ---- the sample, end to end ----------------------------------------------------------------


def dot_photo(width: int, height: int, x: float, y: float, radius: float) -> Image.Image:
    yy, xx = np.mgrid[:height, :width]
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[np.hypot(xx - x, yy - y) <= radius] = 255
    return Image.fromarray(pixels)


def expected_skeleton(geometry, row: int, col: int) -> np.ndarray:
    """Where the sample puts each keypoint for a dot on heatmap cell (row, col): the peak
    cells' coordinates times the stride (4) in input pixels, mapped to the photo."""
    cells = np.array([(col + dx, row + dy) for dy, dx in sample.JOINT_OFFSETS], np.float64)
    return geometry.to_photo(cells * 4)


@pytest.mark.parametrize(
    ("size", "box"),
    [((320, 240), None), ((900, 300), None), ((240, 700), None), ((640, 480), "250,100,400,300")],
)
def test_sample_finds_the_skeleton_of_a_dot(script, size, box):
    """A dot placed where the sample's heatmap cell (32, 24) samples the photo: every
    keypoint where the sample puts it, within the quarter-cell step."""
    geometry = geometry_for(script, *size, script.parse_box(box))
    x, y = geometry.to_photo(np.array([[4 * 24 + 1.5, 4 * 32 + 1.5]]))[0]
    radius = 4 / geometry.scale_x
    pipeline = script.prepare(MODEL, box=box)
    (pose,) = pipeline.infer(dot_photo(*size, x, y, radius))["poses"]
    got = np.array([(k["x"], k["y"]) for k in pose["keypoints"]])
    want = expected_skeleton(geometry, 32, 24)
    assert np.abs(got - want).max() <= 0.25 * 4 / geometry.scale_x + 0.01
    assert min(k["score"] for k in pose["keypoints"]) > 0.5
    assert pose["score"] > 0.5


def test_sample_on_a_flat_photo_scores_nothing(script):
    pipeline = script.prepare(MODEL)
    (pose,) = pipeline.infer(np.zeros((300, 400, 3), np.uint8))["poses"]
    assert pose["score"] == 0.0 and all(k["score"] == 0 for k in pose["keypoints"])


def test_command_line_json_and_drawing(tmp_path):
    photo = tmp_path / "dot.png"
    dot_photo(640, 480, 300, 200, 10).save(photo)
    out = tmp_path / "pose.png"
    args = ["--image", str(photo), "--box", "200,60,420,400", "--output", str(out), "--json"]
    result = run([sys.executable, str(SCRIPT), *args])
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    (pose,) = doc["poses"]
    assert set(pose) == {"score", "box", "keypoints"} and pose["box"] == [200, 60, 420, 400]
    assert [k["name"] for k in pose["keypoints"]] == sample.KEYPOINTS
    assert all(set(k) == {"name", "x", "y", "score"} for k in pose["keypoints"])
    assert all(isinstance(k[f], float) for k in pose["keypoints"] for f in ("x", "y", "score"))
    drawn = np.asarray(Image.open(out).convert("RGB"))
    assert drawn.shape == (480, 640, 3)
    # The dot's hips are drawn: green across the hips, orange / blue dots on each side.
    left, right = pose["keypoints"][11], pose["keypoints"][12]
    assert tuple(drawn[round(left["y"]), round(left["x"])]) == (255, 150, 0)
    assert tuple(drawn[round(right["y"]), round(right["x"])]) == (0, 150, 255)
    middle = drawn[round((left["y"] + right["y"]) / 2), round((left["x"] + right["x"]) / 2)]
    assert tuple(middle) == (60, 220, 60)
    text = run([sys.executable, str(SCRIPT), "--image", str(photo)])
    assert text.returncode == 0 and "left_hip" in text.stdout


def test_command_line_refuses_a_bad_box(tmp_path):
    photo = tmp_path / "black.png"
    Image.new("RGB", (64, 64)).save(photo)
    result = run([sys.executable, str(SCRIPT), "--image", str(photo), "--box", "5,5,1,1"])
    assert_one_line_error(result, "box", "x2 > x1")


# ---- detection and other exports ----------------------------------------------------------


def family_of(path: Path) -> str:
    """The family porter scaffold picks for a model, with no flags."""
    plan = make_plan(describe_model(path), ScaffoldOptions(str(path), "x.py"))
    return plan.family["name"]


def test_auto_detection_picks_pose_for_the_sample_only():
    for path in sorted((ROOT / "samples").iterdir()):
        assert (family_of(path) == "pose") == (path.name == "pose_sample.tflite"), path.name


def onnx_pose(path: Path) -> Path:
    """An ONNX export's signature: image [1, 3, 256, 192] -> heatmaps [1, 17, 64, 48]."""
    from onnx import TensorProto, helper

    weights = np.ones((J, 3, 1, 1), np.float32)
    graph = helper.make_graph(
        [
            helper.make_node(
                "AveragePool", ["image"], ["cells"], kernel_shape=[4, 4], strides=[4, 4]
            ),
            helper.make_node("Conv", ["cells", "w"], ["heatmaps"]),
        ],
        "pose",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 256, 192])],
        [helper.make_tensor_value_info("heatmaps", TensorProto.FLOAT, [1, J, H, W])],
        [helper.make_tensor("w", TensorProto.FLOAT, weights.shape, weights.ravel())],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


def test_onnx_channels_first_export(script, tmp_path):
    model = onnx_pose(tmp_path / "pose.onnx")
    out = tmp_path / "pose_onnx.py"
    text, _ = generate(ScaffoldOptions(str(model), str(out)))
    out.write_text(text)
    onnx_script = import_script(out, "generated_pose_onnx")
    assert onnx_script.CHANNELS_LAST is False and onnx_script.IMAGE_INPUT == "image"
    maps = random_maps(3)
    outputs = {"heatmaps": {"dtype": "float32", "quantization": None}}
    geometry = geometry_for(script, 640, 480)
    first = onnx_script.Decoder(outputs, {"box": None}, [])({"heatmaps": maps[None]}, geometry)
    last = script.Decoder(outputs, {"box": None}, [])(
        {"heatmaps": maps.transpose(1, 2, 0)[None]}, geometry
    )
    assert first == last
