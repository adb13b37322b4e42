"""The mediapipe_face family: generated/mediapipe_face_sample.py against
tests/reference_mediapipe_face.py (AI Hub's MediaPipe face app restated with loops): anchors,
decode, scores, NMS, mapping back and dropping; AI Hub's other export signatures (four
split outputs, unnamed outputs, NCHW) and Google's 128 / 192 models; auto-detection; the
sample on skimage's coins; and Google's real short-range model, fetched from the
mediapipe==0.10.14 wheel, on real photos."""

from __future__ import annotations

import json
import sys
import warnings
import zipfile
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from porter.describe import describe_model
from porter.errors import PorterError
from porter.plan import ScaffoldOptions, make_plan
from porter.samples import mediapipe_face as sample
from porter.scaffold import generate
from tests import photos as wheels
from tests import reference_detection as detection
from tests import reference_mediapipe_face as ref
from tests.conftest import ROOT, import_script, run
from tests.test_samples_detection import COINS
from tests.test_samples_detection import letterbox as pillow_letterbox

SCRIPT = ROOT / "generated" / "mediapipe_face_sample.py"
MODEL = ROOT / "samples" / "mediapipe_face_sample.tflite"
F32 = np.float32
LOW = -20.0  # a background logit


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return import_script(SCRIPT, "generated_mediapipe_face_sample")


def decoder(module: ModuleType, zero_anchors: bool = False, **options):
    outputs = {spec["name"]: spec for spec in module.EXPECTED_OUTPUTS}
    made = module.Decoder(outputs, {**module.OPTIONS, **options}, [])
    if zero_anchors:  # as the reference's hand-worked cases: raw values are input pixels
        made.offsets = np.zeros_like(made.offsets)
    return made


def detect(module, coords, logits, geometry, zero_anchors=False, **options) -> list[dict]:
    raw = {
        "box_coords": np.asarray(coords, F32).reshape(1, -1, 16),
        "box_scores": np.asarray(logits, F32).reshape(1, -1, 1),
    }
    return decoder(module, zero_anchors, **options)(raw, geometry)["detections"]


def as_json(faces: list[ref.Face]) -> list[dict]:
    return [
        {
            "box": [*face.box[0], *face.box[1]],
            "score": round(float(face.score), 4),
            "landmarks": [list(point) for point in face.keypoints],
        }
        for face in faces
    ]


def planted(faces: dict[int, tuple], count: int = 896) -> tuple[np.ndarray, np.ndarray]:
    """Raw values (anchors at 0) and logits: faces[row] = (logit, cx, cy, w, h, keypoint)."""
    coords = np.zeros((count, 16), F32)
    logits = np.full(count, LOW, F32)
    for row, (logit, cx, cy, w, h, *keypoint) in faces.items():
        coords[row] = [cx, cy, w, h, *(keypoint or [(0.0, 0.0)])[0] * 6]
        logits[row] = logit
    return coords, logits


def letterboxed(module, width: int, height: int):
    """The script's letterbox geometry for a photo of this size, and the reference's."""
    geometry = module.fit_photo(Image.new("RGB", (width, height)), {})[1]
    box = detection.letterbox(height, width, module.INPUT_HEIGHT, module.INPUT_WIDTH)
    assert (geometry.scale_x, geometry.pad_x, geometry.pad_y) == (
        box.scale,
        box.pad_left,
        box.pad_top,
    )
    return geometry, box


# ---- anchors, decode, scores, NMS, mapping back --------------------------------------------


def test_anchors_match_the_reference(script):
    anchors = script.ssd_anchors(256, 256)
    assert anchors.dtype == F32
    assert anchors.tolist() == [[x, y] for x, y, _, _ in ref.ssd_anchors(ref.AIHUB_256)]
    assert anchors.tolist() == sample.anchors().tolist()  # the sample's own layout
    offsets = decoder(script).offsets
    assert offsets.tolist() == (anchors * F32(256)).tolist()


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("size", [(640, 480), (300, 900), (256, 256), (1077, 333)])
def test_decode_matches_the_reference(script, seed, size):
    """Random raw values around real anchors, many faces overlapping: the same faces, in
    the same order, with the same integer points and scores."""
    rng = np.random.default_rng(seed)
    coords = np.empty((896, 16), F32)
    coords[:, :2] = rng.normal(0, 12, (896, 2))
    coords[:, 2:4] = rng.uniform(8, 90, (896, 2))
    coords[:, 4:] = coords[:, :2].repeat(6, axis=0).reshape(896, 12) + rng.normal(0, 15, (896, 12))
    logits = np.full(896, -5.0, F32)
    faces = rng.choice(896, 120, replace=False)
    logits[faces] = rng.uniform(0.5, 6, faces.size).astype(F32)
    logits[faces[:10]] = F32(3.0)  # ties: anchor order
    geometry, box = letterboxed(script, *size)
    anchors = ref.ssd_anchors(ref.AIHUB_256)
    expected = ref.detect_faces(
        coords, logits, anchors, size[0], size[1], box.scale, (box.pad_left, box.pad_top)
    )
    assert len(expected) >= 3
    assert detect(script, coords, logits, geometry) == as_json(expected)


def test_every_face_in_score_order(script):
    """The reference's hand-worked case: two faces kept, one overlapping (IoU 0.78) dropped."""
    coords, logits = planted(
        {
            0: (2.0, 60, 100, 40, 40, (60, 100)),
            1: (3.0, 200, 100, 40, 40, (200, 100)),
            2: (1.5, 65, 100, 40, 40, (65, 100)),
            3: (1.0, 128, 128, 10, 10),  # score 0.731: below 0.8
        }
    )
    geometry = script.Geometry(640, 480, 0.4, 0.4, 0, 32)
    faces = detect(script, coords, logits, geometry, zero_anchors=True)
    assert [f["box"] for f in faces] == [[450, 120, 550, 220], [100, 120, 200, 220]]
    assert faces[0]["landmarks"] == [[500, 170]] * 6
    assert [f["score"] for f in faces] == [0.9526, 0.8808]


def test_nms_at_exactly_three_tenths_suppresses(script):
    """IoU 30 / 100 is float32 0.30000001, above 0.3 as torchvision compares it (a double):
    the weaker face goes, although numpy would round 0.3 to that same float32."""
    coords, logits = planted({0: (3.0, 105, 105, 10, 10), 1: (2.0, 101.5, 105, 3, 10)})
    geometry = script.Geometry(640, 480, 1.0, 1.0)
    assert len(detect(script, coords, logits, geometry, zero_anchors=True)) == 1
    assert len(detect(script, coords, logits, geometry, zero_anchors=True, iou=0.31)) == 2


def test_faces_outside_the_photo_are_dropped_and_points_truncate(script):
    coords, logits = planted(
        {
            0: (4.0, 100, 100, 20, 20, (257, 100)),  # a keypoint at x 257 > 256: dropped
            1: (3.0, 30, 30, 20, 20, (256, 200)),  # exactly on the corner: kept
            2: (2.0, 200, 150, 20, 20, (200, -0.5)),  # y -0.5 truncates to 0: kept
            3: (1.5, 5, 150, 20, 20),  # box x0 = -5: dropped
            4: (1.4, 100, 40, 20, 20, (100.9, -0.99)),  # y -0.99 truncates to 0: kept
        }
    )
    geometry = script.Geometry(256, 200, 1.0, 1.0)
    faces = detect(script, coords, logits, geometry, zero_anchors=True)
    expected = ref.detect_faces(coords, logits, [(0, 0, 1, 1)] * 896, 256, 200, 1.0, (0, 0))
    assert [f.index for f in expected] == [1, 2, 4]
    assert faces == as_json(expected)
    assert faces[1]["landmarks"][0] == [200, 0] and faces[2]["landmarks"][0] == [100, 0]


def test_threshold_is_inclusive_in_float32_and_logits_are_clamped(script):
    logit = F32(np.log(4.0))  # scores exactly float32(0.8)
    low = np.nextafter(np.nextafter(np.nextafter(logit, F32(0)), F32(0)), F32(0))
    assert script.face_scores(np.array([logit, low], F32)).tolist() == [
        ref.score(logit),
        ref.score(low),
    ]
    coords, logits = planted(
        {0: (logit, 100, 100, 10, 10), 1: (low, 30, 30, 10, 10), 2: (1e30, 200, 200, 10, 10)}
    )
    logits[3:] = -1e30  # clamped to -100: exp(100) overflows float32, silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        faces = detect(script, coords, logits, script.Geometry(256, 256, 1.0, 1.0), True)
    assert [f["box"][0] for f in faces] == [195, 95]
    assert [f["score"] for f in faces] == [1.0, 0.8]
    assert script.face_scores(np.array([-1e30, 1e30], F32)).tolist() == [0.0, 1.0]


def test_no_faces(script):
    coords, logits = planted({})
    assert detect(script, coords, logits, script.Geometry(256, 256, 1.0, 1.0)) == []


@pytest.mark.parametrize(("width", "height"), [(1000, 200), (200, 1000), (256, 256), (50, 40)])
def test_wide_and_tall_photos_letterbox_as_resize_pad(script, width, height):
    _, box = letterboxed(script, width, height)
    pixels, _ = script.fit_photo(Image.new("RGB", (width, height), (255, 255, 255)), {})
    lit = np.argwhere(pixels[:, :, 0] > 0)
    assert lit.min(axis=0).tolist() == [box.pad_top, box.pad_left]
    assert (lit.max(axis=0) + 1).tolist() == [
        box.pad_top + box.new_height,
        box.pad_left + box.new_width,
    ]


# ---- other exports ------------------------------------------------------------------------


def onnx_model(path: Path, image: list[int], outputs: list[tuple[str, list[int]]]) -> Path:
    """A model with this signature whose outputs are constants (enough to scaffold and
    to check which output plays which role)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, infos = [], []
    for number, (name, shape) in enumerate(outputs):
        value = np.full(shape, number, np.float32)
        nodes.append(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value)))
        infos.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
    image_info = helper.make_tensor_value_info("image", TensorProto.FLOAT, image)
    graph = helper.make_graph(nodes, "face", [image_info], infos)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


def scaffolded(model: Path, name: str) -> tuple[ModuleType, list[str]]:
    out = model.with_suffix(".py")
    text, said = generate(ScaffoldOptions(str(model), str(out)))
    out.write_text(text)
    return import_script(out, name), said


SPLIT = [
    ("box_scores_2", [1, 384, 1]),
    ("box_coords_1", [1, 512, 16]),
    ("box_scores_1", [1, 512, 1]),
    ("box_coords_2", [1, 384, 16]),
]


def test_split_outputs_nchw_join_in_ai_hubs_order(script, tmp_path):
    """AI Hub 0.65's four outputs (here in a shuffled order, NCHW input): the 16x16 grid's
    rows first, then the 8x8 grid's, as the app concatenates them."""
    module, said = scaffolded(
        onnx_model(tmp_path / "split.onnx", [1, 3, 256, 256], SPLIT), "mp_split"
    )
    assert "family: mediapipe_face" in said[0]
    assert module.COORDS_OUTPUTS == ["box_coords_1", "box_coords_2"]
    assert module.SCORES_OUTPUTS == ["box_scores_1", "box_scores_2"]
    assert module.INPUT_CHANNEL_AXIS == 1
    rng = np.random.default_rng(1)
    coords = rng.normal(0, 10, (896, 16)).astype(F32)
    coords[:, 2:4] = 30
    logits = rng.uniform(-4, 5, 896).astype(F32)
    raw = {
        "box_coords_1": coords[None, :512],
        "box_coords_2": coords[None, 512:],
        "box_scores_1": logits[None, :512, None],
        "box_scores_2": logits[None, 512:, None],
    }
    geometry = script.Geometry(256, 256, 1.0, 1.0)
    faces = decoder(module)(raw, geometry)["detections"]
    assert len(faces) > 5
    assert faces == detect(script, coords, logits, geometry)


def test_unnamed_outputs_are_found_by_shape(tmp_path):
    model = onnx_model(
        tmp_path / "old.onnx",
        [1, 3, 256, 256],
        [("output_0", [1, 896, 1]), ("output_1", [1, 896, 16])],
    )
    module, _ = scaffolded(model, "mp_unnamed")
    assert (module.COORDS_OUTPUTS, module.SCORES_OUTPUTS) == (["output_1"], ["output_0"])


@pytest.mark.parametrize(
    ("size", "count", "options"),
    [(128, 896, ref.SHORT_RANGE_128), (192, 2304, ref.FULL_RANGE_192)],
)
def test_googles_models_get_their_anchors_and_decode_scale(script, tmp_path, size, count, options):
    """Google's short range (128x128, 896 anchors) and full range (192x192, 2304): their
    own anchor options, raw values in their input's pixels."""
    outputs = [("regressors", [1, count, 16]), ("classificators", [1, count, 1])]
    model = onnx_model(tmp_path / f"google{size}.onnx", [1, size, size, 3], outputs)
    module, said = scaffolded(model, f"mp_google{size}")
    assert "family: mediapipe_face" in said[0]
    anchors = module.ssd_anchors(size, size)
    assert anchors.tolist() == [[x, y] for x, y, _, _ in ref.ssd_anchors(options)]
    coords = np.zeros((count, 16), F32)
    coords[:, 2:4] = 2
    logits = np.full(count, LOW, F32)
    logits[count - 1] = 5.0  # the last anchor: the bottom-right cell
    raw = {"regressors": coords[None], "classificators": logits[None, :, None]}
    (face,) = decoder(module)(raw, module.Geometry(size, size, 1.0, 1.0))["detections"]
    expected = ref.detect_faces(
        coords, logits, ref.ssd_anchors(options), size, size, 1.0, (0, 0), size, size
    )
    assert [face] == as_json(expected)
    corner = size - size // (8 if count == 896 else 48) // 2  # the last cell's centre
    assert face["box"] == [corner - 1, corner - 1, corner + 1, corner + 1]


def family_of(path: Path) -> str:
    return make_plan(describe_model(path), ScaffoldOptions(str(path), "x.py")).family["name"]


def test_auto_detection_takes_the_sample_and_nothing_else():
    for path in sorted((ROOT / "samples").iterdir()):
        picked = family_of(path)
        assert (picked == "mediapipe_face") == (path.name == "mediapipe_face_sample.tflite"), path
    with pytest.raises(PorterError, match="detection"):  # its raw head does not take it
        make_plan(describe_model(MODEL), ScaffoldOptions(str(MODEL), "x.py", postproc="detection"))


@pytest.mark.parametrize(
    "outputs",
    [
        [("box_coords", [1, 896, 16]), ("box_scores", [1, 896, 1])],  # a 320x320 input
        [("box_coords", [1, 900, 16]), ("box_scores", [1, 900, 1])],  # no known anchors
        [("box_coords", [1, 896, 16])],  # no scores
    ],
)
def test_other_signatures_are_not_taken(tmp_path, outputs):
    size = 320 if outputs[0][1][1] == 896 and len(outputs) == 2 else 256
    model = onnx_model(tmp_path / "other.onnx", [1, size, size, 3], outputs)
    assert family_of(model) != "mediapipe_face"


# ---- the sample, end to end ----------------------------------------------------------------


def test_sample_finds_every_coin_on_the_letterboxed_photo(script):
    """skimage's coins letterboxed to 256x256 (as the sample's own tests feed it): every
    coin once after NMS, its box centred on the coin; all reported but the coin in the
    bottom-right corner, whose 34-pixel box reaches past the canvas's right edge."""
    from skimage import data

    canvas, scale, left, top = pillow_letterbox(np.asarray(data.coins()), 256)
    pipeline = script.prepare(MODEL)
    faces = pipeline.infer(canvas)["detections"]
    points, scores = pipeline.decoder.candidates(pipeline.raw_outputs)
    kept = script.batched_nms(points[:, :2].reshape(-1, 4), scores, None, np.float64(0.3))
    boxes = points[kept, :2].reshape(-1, 4)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    coins = np.array([(left + c * scale, top + r * scale) for r, c, _ in COINS])
    distance = np.hypot(*(centres[:, None] - coins[None]).transpose(2, 0, 1))
    assert sorted(distance.argmin(axis=1)) == list(range(len(COINS)))  # each coin once
    radii = np.array([d * scale / 2 for *_, d in COINS])
    assert (distance.min(axis=1) < 0.5 * radii[distance.argmin(axis=1)]).all()
    outside = [i for i, box in enumerate(boxes) if box[2] > 256]
    assert len(outside) == 1 and COINS[distance[outside[0]].argmin()][:2] == (268, 358)
    assert len(faces) == len(COINS) - 1
    assert [f["score"] for f in faces] == [
        round(float(s), 4) for i, s in enumerate(scores[kept]) if i not in outside
    ]


def test_sample_on_the_photo_matches_the_reference(script):
    """The raw coins photo (384x303): the reference decodes the model's own outputs to the
    same faces; the coin at the bottom-right corner is dropped, its box past the edge."""
    from skimage import data

    photo = np.asarray(data.coins())
    pipeline = script.prepare(MODEL)
    faces = pipeline.infer(photo)["detections"]
    raw = pipeline.raw_outputs
    _, box = letterboxed(script, 384, 303)
    expected = ref.detect_faces(
        raw["box_coords"][0], raw["box_scores"][0], ref.ssd_anchors(ref.AIHUB_256),
        384, 303, box.scale, (box.pad_left, box.pad_top),
    )  # fmt: skip
    assert faces == as_json(expected)
    assert len(faces) == len(COINS) - 1
    assert max(f["box"][2] for f in faces) <= 384


def test_command_line_json_and_drawing(photos, tmp_path):
    out = tmp_path / "coins.png"
    args = ["--image", str(photos["coins"]), "--output", str(out), "--json"]
    result = run([sys.executable, str(SCRIPT), *args])
    assert result.returncode == 0, result.stderr
    faces = json.loads(result.stdout)["detections"]
    assert len(faces) == len(COINS) - 1
    for face in faces:
        assert set(face) == {"box", "score", "landmarks"} and len(face["landmarks"]) == 6
        values = face["box"] + [v for point in face["landmarks"] for v in point]
        assert all(isinstance(v, int) for v in values)
    drawn = np.asarray(Image.open(out).convert("RGB"))
    assert drawn.shape == (303, 384, 3)
    x1, y1, _, y2 = faces[0]["box"]
    assert tuple(drawn[(y1 + y2) // 2, x1]) == (0, 255, 0)  # the box's left edge
    x, y = faces[0]["landmarks"][2]
    assert tuple(drawn[y, x]) == (255, 0, 0)  # the nose tip
    black = tmp_path / "black.png"
    Image.new("RGB", (200, 100)).save(black)
    text = run([sys.executable, str(SCRIPT), "--image", str(black)])
    assert text.returncode == 0 and text.stdout.startswith("no faces found")


# ---- Google's real short-range model -------------------------------------------------------

MEDIAPIPE_WHEEL = wheels.WheelPhoto(
    "mediapipe==0.10.14",
    "mediapipe/modules/face_detection/face_detection_short_range.tflite",
    "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    ("--platform", "manylinux_2_17_x86_64", "--python-version", "3.11",
     "--implementation", "cp", "--abi", "cp311"),
)  # fmt: skip


@pytest.fixture(scope="module")
def short_range(wheel_cache, tmp_path_factory) -> tuple[Path, list[str]]:
    """Google's face_detection_short_range.tflite out of the mediapipe wheel (downloaded once
    into pytest's cache) and a script generated for it."""
    folder = tmp_path_factory.mktemp("short_range")
    wheel = wheels.fetch_wheel(
        MEDIAPIPE_WHEEL.requirement, wheel_cache, MEDIAPIPE_WHEEL.pip_options
    )
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(MEDIAPIPE_WHEEL.member)
    import hashlib

    assert hashlib.sha256(data).hexdigest() == MEDIAPIPE_WHEEL.sha256
    model = folder / "face_detection_short_range.tflite"
    model.write_bytes(data)
    script = folder / "short_range.py"
    text, said = generate(ScaffoldOptions(str(model), str(script)))
    script.write_text(text)
    return script, said


@pytest.mark.network
def test_googles_short_range_model_finds_the_astronaut(short_range, photos):
    script, said = short_range
    assert any("family: mediapipe_face" in line for line in said)
    assert any("values: -1..1 (from the model's TFLite metadata" in line for line in said)
    found = run([sys.executable, str(script), "--image", str(photos["astronaut"]), "--json"])
    assert found.returncode == 0, found.stderr
    (face,) = json.loads(found.stdout)["detections"]
    x1, y1, x2, y2 = face["box"]
    left, top, right, bottom = wheels.FACE_CROPS["astronaut"]  # forehead to chin
    assert left - 5 <= x1 < x2 <= right + 5 and top <= y1 < y2 <= bottom
    assert face["score"] > 0.9
    eye_left, eye_right, nose, mouth = face["landmarks"][:4]
    assert eye_left[0] < nose[0] < eye_right[0]  # the image-left eye first
    assert max(eye_left[1], eye_right[1]) < nose[1] < mouth[1]
    none = run([sys.executable, str(script), "--image", str(photos["coffee"]), "--json"])
    assert none.returncode == 0 and json.loads(none.stdout)["detections"] == []
