"""The detection family against AI Hub's yolo app, restated in tests/reference_detection.py
(resize_pad with torch's bilinear, the app's decode, torchvision's NMS), and its scripts run
for real on photos."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from PIL import Image

from tests import reference_detection as ref
from tests.conftest import ROOT, run
from tests.test_face_det_lite_decode import load_script

F32 = np.float32


@pytest.fixture(scope="module")
def head():
    """The script for AI Hub's head (boxes, scores, class_idx)."""
    return load_script("detection_sample.py")


@pytest.fixture(scope="module")
def raw_head():
    """The script for Ultralytics' raw head ([1, 84, 8400])."""
    return load_script("detection_raw_sample_onnx.py")


# ---- letterbox -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("height", "width"),
    [(17, 29), (40, 25), (24, 32), (31, 11), (12, 12), (9, 64), (48, 40)],
)
def test_letterbox_is_resize_pad(head, monkeypatch, height, width):
    """A 24x32 input (the constants patched): the script's canvas equals resize_pad's,
    value for value, against the reference's plain float32 arithmetic (torch without the
    fused multiply-adds of its AVX builds; those differ by one level in a few values per
    million after quantization)."""
    monkeypatch.setattr(head, "INPUT_HEIGHT", 24)
    monkeypatch.setattr(head, "INPUT_WIDTH", 32)
    rng = np.random.default_rng(height * 100 + width)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    canvas, geometry = head.fit_photo(Image.fromarray(pixels), {})
    expected, scale, (left, top) = ref.resize_pad(
        pixels.astype(F32) / F32(255), 24, 32, kernel="generic", fused=False
    )
    values = canvas.astype(F32) / F32(255) if canvas.dtype == np.uint8 else canvas
    np.testing.assert_array_equal(values, np.array(expected, F32))
    assert (geometry.scale_x, geometry.pad_x, geometry.pad_y) == (scale, left, top)


def test_letterbox_quantizes_as_the_runtime_wrapper(head, monkeypatch):
    """Resampled values become uint8 codes as rint(v / scale) + zero point."""
    monkeypatch.setattr(head, "INPUT_HEIGHT", 24)
    monkeypatch.setattr(head, "INPUT_WIDTH", 32)
    pixels = np.random.default_rng(5).integers(0, 256, (15, 23, 3), dtype=np.uint8)
    canvas, _ = head.fit_photo(Image.fromarray(pixels), {})
    spec = {"dtype": "uint8", "quantization": {"scale": [1 / 255], "zero_point": [0]}}
    codes = head.InputValues(spec)(head.to_layout(canvas, "rgb"))[0]
    expected, _, _ = ref.resize_pad(pixels.astype(F32) / F32(255), 24, 32, "generic", False)
    quantized = [[[ref.quantize(v, 1 / 255, 0) for v in px] for px in row] for row in expected]
    np.testing.assert_array_equal(codes, np.array(quantized, np.uint8))


# ---- AI Hub's head -------------------------------------------------------------------------

BOXES_Q = (3.265, 36)
SCORES_Q = (1 / 256, 0)


def head_specs(head) -> dict[str, dict]:
    def spec(q):
        return {"dtype": "uint8", "quantization": {"scale": [q[0]], "zero_point": [q[1]]}}

    return {
        head.BOXES_OUTPUT: spec(BOXES_Q),
        head.SCORES_OUTPUT: spec(SCORES_Q),
        head.CLASSES_OUTPUT: {"dtype": "uint8", "quantization": None},
    }


def planted_head(seed: int, n: int = 300):
    """Random raw outputs with clusters of overlapping boxes of a few classes, and ties."""
    rng = np.random.default_rng(seed)
    centres = rng.integers(60, 160, (n, 2))
    sizes = rng.integers(8, 40, (n, 2))
    boxes = np.concatenate([centres - sizes // 2, centres + sizes // 2], axis=1)
    boxes = np.clip(boxes, 0, 255).astype(np.uint8)  # codes: 36 -> 0 px, 255 -> 715 px
    scores = rng.choice(np.array([40, 100, 115, 116, 180, 255], np.uint8), n)
    classes = rng.choice(np.array([0, 2, 32], np.uint8), n)
    return boxes[np.newaxis], scores[np.newaxis], classes[np.newaxis]


def expected_head(boxes, scores, classes, scale, pad, photo_size):
    real_boxes = [tuple(ref.dequantize(c, *BOXES_Q) for c in row) for row in boxes[0]]
    real_scores = [ref.dequantize(c, *SCORES_Q) for c in scores[0]]
    return ref.app_detections(real_boxes, real_scores, list(classes[0]), scale, pad)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("photo_size", [(640, 640), (1280, 720), (300, 700)])
def test_head_decode_as_the_app(head, seed, photo_size):
    boxes, scores, classes = planted_head(seed)
    width, height = photo_size
    box = ref.letterbox(height, width)
    geometry = head.Geometry(width, height, box.scale, box.scale, box.pad_left, box.pad_top)
    decoder = head.Decoder(head_specs(head), {"threshold": 0.45, "iou": 0.7}, ["x"] * 80)
    raw = {head.BOXES_OUTPUT: boxes, head.SCORES_OUTPUT: scores, head.CLASSES_OUTPUT: classes}
    got = decoder(raw, geometry)["detections"]
    expected = expected_head(
        boxes, scores, classes, box.scale, (box.pad_left, box.pad_top), photo_size
    )
    assert len(got) == len(expected) > 3
    limits = np.array([width, height, width, height], np.float64)
    for have, want in zip(got, expected, strict=True):
        assert have["class"] == want.class_id
        assert have["score"] == pytest.approx(float(want.score), abs=5e-5)
        clipped = np.minimum(np.maximum(np.array(want.box, np.float64), 0), limits)
        np.testing.assert_allclose(have["box"], clipped, atol=0.006)


def test_overlapping_boxes_of_other_classes_are_kept(head):
    """Per-class NMS: the same box in two classes survives twice; in one class, once."""
    boxes = np.array([[[40, 40, 80, 80], [40, 40, 80, 81], [40, 40, 80, 80]]], np.uint8)
    scores = np.array([[200, 150, 120]], np.uint8)
    classes = np.array([[0, 0, 5]], np.uint8)
    decoder = head.Decoder(head_specs(head), {"threshold": 0.45, "iou": 0.7}, [])
    geometry = head.Geometry(640, 640, 1.0, 1.0)
    raw = {head.BOXES_OUTPUT: boxes, head.SCORES_OUTPUT: scores, head.CLASSES_OUTPUT: classes}
    got = decoder(raw, geometry)["detections"]
    assert [(d["class"], d["score"]) for d in got] == [(0, 0.7812), (5, 0.4688)]
    assert got[0]["label"] is None  # no labels given


# ---- Ultralytics' raw head -----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("features_first", [True, False])
def test_raw_head_decode_as_the_app(raw_head, monkeypatch, seed, features_first):
    rng = np.random.default_rng(seed)
    n, c = 500, 80
    centres = rng.uniform(100, 300, (2, n))
    sizes = rng.uniform(10, 80, (2, n))
    scores = rng.choice(np.array([0.1, 0.44999998, 0.45, 0.5, 0.9], F32), (c, n)) * (
        rng.random((c, n)) < 0.02
    )
    output = np.concatenate([centres, sizes, scores]).astype(F32)
    monkeypatch.setattr(raw_head, "FEATURES_FIRST", features_first)
    spec = {"dtype": "float32", "quantization": None}
    decoder = raw_head.Decoder(
        {raw_head.PREDICTIONS_OUTPUT: spec}, {"threshold": 0.45, "iou": 0.7}, []
    )
    tensor = output if features_first else output.T
    geometry = raw_head.Geometry(640, 640, 1.0, 1.0)
    got = decoder({raw_head.PREDICTIONS_OUTPUT: np.ascontiguousarray(tensor)[np.newaxis]}, geometry)
    boxes, best, classes = ref.decode_head(output, channels_first=True)
    expected = ref.app_detections(boxes, best, classes, 1.0, (0, 0))
    assert len(got["detections"]) == len(expected) > 5
    for have, want in zip(got["detections"], expected, strict=True):
        assert have["class"] == want.class_id
        assert have["score"] == pytest.approx(float(want.score), abs=5e-5)
        np.testing.assert_allclose(
            have["box"], np.maximum(np.array(want.box, float), 0), atol=0.006
        )


# ---- the samples on a real photo -------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "model"),
    [
        ("detection_sample.py", "detection_sample.tflite"),
        ("detection_raw_sample_onnx.py", "detection_raw_sample.onnx"),
    ],
)
def test_samples_find_every_coin(tmp_path, photos, script, model):
    """The samples detect round blobs about 60 px across: each of the 24 coins once."""
    out = tmp_path / "out.png"
    args = ["--model", str(ROOT / "samples" / model), "--image", str(photos["coins"])]
    ran = run(
        [sys.executable, str(ROOT / "generated" / script), *args, "--output", str(out), "--json"]
    )
    assert ran.returncode == 0, ran.stderr
    detections = json.loads(ran.stdout)["detections"]
    assert len(detections) == 24
    assert {d["label"] for d in detections} == {"sports ball"}
    coins = Image.open(photos["coins"])
    for d in detections:
        x1, y1, x2, y2 = d["box"]
        assert 0 <= x1 < x2 <= coins.width and 0 <= y1 < y2 <= coins.height
    assert Image.open(out).size == coins.size
