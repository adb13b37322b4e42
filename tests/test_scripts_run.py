"""Generated scripts run for real, in subprocesses, with LiteRT and onnxruntime on real photos."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests import models
from tests.conftest import ROOT, porter, run, shared_model

SAMPLES = ROOT / "samples"
GENERATED = ROOT / "generated"


def run_script(script: Path, *args: str, cwd: Path | None = None):
    return run([sys.executable, str(script), *args], cwd=cwd)


def run_json(script: Path, *args: str) -> dict:
    result = run_script(script, *args, "--json", "--runs", "2")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def coin_centres() -> np.ndarray:
    """Centroids (x, y) of the coins in skimage's `coins`, found independently (Otsu)."""
    from skimage import data, filters, measure

    image = data.coins()
    labels = measure.label(image > filters.threshold_otsu(image))
    regions = [r for r in measure.regionprops(labels) if r.area > 200]
    return np.array([(r.centroid[1], r.centroid[0]) for r in regions])


@pytest.mark.parametrize(
    ("script", "model"),
    [
        ("face_det_lite_sample.py", "face_det_lite_sample.tflite"),
        ("face_det_lite_sample_onnx.py", "face_det_lite_sample.onnx"),
    ],
)
def test_sample_detector_finds_the_coins(photos, tmp_path, script, model):
    """The sample model's detections sit on the coins, and nearly every coin is found."""
    out = tmp_path / "annotated.png"
    doc = run_json(
        GENERATED / script,
        "--model",
        str(SAMPLES / model),
        "--image",
        str(photos["coins"]),
        "--output",
        str(out),
    )
    boxes = np.array([d["box"] for d in doc["detections"]])
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], 1)
    coins = coin_centres()
    distance = np.linalg.norm(centres[:, None] - coins[None], axis=2)
    assert (distance.min(axis=1) < 15).mean() >= 0.9, "detections off the coins"
    assert (distance.min(axis=0) < 15).sum() >= 21, "coins missed"
    assert all(0.55 <= d["score"] <= 1 for d in doc["detections"])
    assert all(len(d["landmarks"]) == 5 for d in doc["detections"])
    annotated = Image.open(out)
    assert annotated.size == Image.open(photos["coins"]).size  # drawn on the original
    assert annotated.mode == "RGB"


def test_tflite_and_onnx_samples_agree(photos):
    args = ["--image", str(photos["coins"])]
    a = run_json(
        GENERATED / "face_det_lite_sample.py",
        "--model",
        str(SAMPLES / "face_det_lite_sample.tflite"),
        *args,
    )
    b = run_json(
        GENERATED / "face_det_lite_sample_onnx.py",
        "--model",
        str(SAMPLES / "face_det_lite_sample.onnx"),
        *args,
    )
    assert len(a["detections"]) == len(b["detections"])
    for x, y in zip(a["detections"], b["detections"], strict=True):
        np.testing.assert_allclose(x["box"], y["box"], atol=1)
        assert abs(x["score"] - y["score"]) < 0.02


def test_json_document_shape(photos):
    doc = run_json(
        GENERATED / "face_det_lite_sample.py",
        "--model",
        str(SAMPLES / "face_det_lite_sample.tflite"),
        "--image",
        str(photos["coins"]),
    )
    assert set(doc) >= {"detections", "timings_ms", "delegate", "model", "runs"}
    assert set(doc["timings_ms"]) == {"preprocess", "inference", "postprocess"}
    assert set(doc["timings_ms"]["inference"]) == {"median", "p90"}
    assert doc["delegate"] == {"requested": "cpu", "active": "cpu"}
    face = doc["detections"][0]
    assert len(face["box"]) == 4 and len(face["landmarks"]) == 5


def test_human_output_one_line_per_face_and_timings(photos):
    result = run_script(
        GENERATED / "face_det_lite_sample.py",
        "--model",
        str(SAMPLES / "face_det_lite_sample.tflite"),
        "--image",
        str(photos["coins"]),
        "--runs",
        "3",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.startswith("face ") for line in lines) >= 20
    assert any("median / p90" in line and "preprocess" in line for line in lines)


def test_nms_removes_duplicates(photos):
    args = [
        "--model",
        str(SAMPLES / "face_det_lite_sample.tflite"),
        "--image",
        str(photos["coins"]),
    ]
    plain = run_json(GENERATED / "face_det_lite_sample.py", *args, "--nms-iou", "-1")
    nms = run_json(GENERATED / "face_det_lite_sample.py", *args, "--nms-iou", "0.3")
    assert 0 < len(nms["detections"]) < len(plain["detections"])


@pytest.mark.parametrize(
    ("script", "model", "layout"),
    [
        ("classifier_sample.py", "classifier_sample.tflite", "NHWC"),
        ("classifier_sample_qdq.py", "classifier_sample_qdq.onnx", "NCHW"),
    ],
)
@pytest.mark.parametrize(
    ("colour", "index"), [((230, 25, 25), 2), ((25, 50, 230), 4), ((250, 250, 250), 1)]
)
def test_colour_classifier(tmp_path, script, model, layout, colour, index):
    """The classification family reports the best classes with the names the model
    carries in its metadata: the photo's colour wins."""
    image = tmp_path / "solid.png"
    Image.new("RGB", (100, 60), colour).save(image)
    doc = run_json(GENERATED / script, "--model", str(SAMPLES / model), "--image", str(image))
    best = doc["classes"][0]
    assert best["index"] == index
    assert best["label"] == ["black", "white", "red", "green", "blue"][index]
    assert len(doc["classes"]) == 5 and 0 < best["score"] <= 1


def test_stub_reports_each_output(tmp_path):
    """The stub (forced here) reports the best entries of a 1-D score vector."""
    image = tmp_path / "red.png"
    Image.new("RGB", (100, 60), (230, 25, 25)).save(image)
    model = SAMPLES / "classifier_sample.tflite"
    doc = run_json(
        GENERATED / "classifier_sample_stub.py", "--model", str(model), "--image", str(image)
    )
    scores = doc["outputs"]["scores"]
    assert scores["shape"] == [1, 10]
    assert scores["top"][0][0] == 2


def test_self_check_refuses_another_model(photos):
    result = run_script(
        GENERATED / "face_det_lite_sample.py",
        "--model",
        str(SAMPLES / "classifier_sample.tflite"),
        "--image",
        str(photos["coins"]),
    )
    assert result.returncode == 2
    assert "does not match" in result.stderr and "porter scaffold" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_model_and_image(tmp_path, photos):
    script = GENERATED / "face_det_lite_sample.py"
    result = run_script(
        script, "--model", str(tmp_path / "x.tflite"), "--image", str(photos["coins"])
    )
    assert result.returncode == 2 and "no such model" in result.stderr
    result = run_script(
        script,
        "--model",
        str(SAMPLES / "face_det_lite_sample.tflite"),
        "--image",
        str(tmp_path / "none.png"),
    )
    assert result.returncode == 2 and "no such image" in result.stderr


def test_default_model_is_beside_the_script(tmp_path, photos):
    for name in ("face_det_lite_sample.py",):
        (tmp_path / name).write_text((GENERATED / name).read_text())
    (tmp_path / "face_det_lite_sample.tflite").write_bytes(
        (SAMPLES / "face_det_lite_sample.tflite").read_bytes()
    )
    result = run_script(
        tmp_path / "face_det_lite_sample.py",
        "--image",
        str(photos["coins"]),
        "--runs",
        "1",
        cwd=Path("/"),
    )
    assert result.returncode == 0, result.stderr


def _quantized_passthrough(dtype: str, scale: float, zero_point: int, channels: int) -> bytes:
    """Image input of `dtype` -> DEQUANTIZE -> float32 output: shows what the script fed."""
    from porter.tflite_builder import ModelSpec, OpSpec, TensorSpec, build_tflite

    return build_tflite(
        ModelSpec(
            tensors=[
                TensorSpec(
                    "image", [1, 6, 8, channels], dtype, scale=[scale], zero_point=[zero_point]
                ),
                TensorSpec("seen", [1, 6, 8, channels]),
            ],
            ops=[OpSpec("DEQUANTIZE", [0], [1])],
            inputs=[0],
            outputs=[1],
        )
    )


@pytest.mark.parametrize(
    ("dtype", "scale", "zero_point"),
    [
        ("uint8", 1 / 255, 0),  # the fast path: pixels as they are
        ("int8", 1 / 255, -128),  # shifted, still no float round trip
        ("uint8", 0.0123, 7),
        ("int8", 0.0078125, 0),
        ("int16", 1 / 32768, 0),
    ],
)
@pytest.mark.parametrize(
    ("channels", "order", "expected"),
    [
        (1, "gray", 0.2125 * 30 + 0.7154 * 120 + 0.0721 * 210),  # skimage rgb2gray weights
        (1, "blue", 210),
        (3, "rgb", (30, 120, 210)),
        (3, "bgr", (210, 120, 30)),
    ],
)
def test_quantized_image_inputs(tmp_path, dtype, scale, zero_point, channels, order, expected):
    """What reaches the model, dequantized, is the photo's 0..1 values within half a step."""
    model = models.write(
        tmp_path / "q.tflite", _quantized_passthrough(dtype, scale, zero_point, channels)
    )
    script = tmp_path / "q.py"
    made = porter("scaffold", str(model), "-o", str(script), "--channels", order)
    assert made.returncode == 0, made.stderr
    image = tmp_path / "solid.png"
    Image.new("RGB", (40, 30), (30, 120, 210)).save(image)
    doc = run_json(script, "--image", str(image))
    seen = doc["outputs"]["seen"]
    want = np.round(np.asarray(expected, dtype=np.float64)) / 255
    tolerance = scale / 2 + 1e-6
    if channels == 1:
        assert abs(seen["min"] - want) <= tolerance and abs(seen["max"] - want) <= tolerance
    else:
        assert abs(seen["mean"] - want.mean()) <= tolerance
        assert seen["min"] >= want.min() - tolerance and seen["max"] <= want.max() + tolerance


def test_uint16_onnx_integer_io(tmp_path):
    """uint16 input quantization from the model's DequantizeLinear (AI Hub w8a16 style)."""
    from onnx import TensorProto

    model = models.write(tmp_path / "u16.onnx", models.onnx_integer_io(TensorProto.UINT16, zp=0))
    script = tmp_path / "u16.py"
    assert porter("scaffold", str(model), "-o", str(script)).returncode == 0
    image = tmp_path / "solid.png"
    Image.new("RGB", (16, 16), (64, 128, 255)).save(image)
    doc = run_json(script, "--image", str(image))
    # Relu then QuantizeLinear(0.1, 0) on values 0..1: the output is 0..10 quantization steps.
    y = doc["outputs"]["y"]
    assert y["dtype"] == "uint16"
    np.testing.assert_allclose([y["min"], y["max"]], [0.3, 1.0], atol=0.05)


def test_npy_inputs_for_non_image_models(tmp_path):
    model = models.write(tmp_path / "m.onnx", models.onnx_multi_io())
    script = tmp_path / "m.py"
    assert porter("scaffold", str(model), "-o", str(script)).returncode == 0
    a = np.arange(10, dtype=np.float32).reshape(1, 10)
    b = np.full((1, 10), 0.5, np.float32)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    doc = run_json(
        script, "--input", f"a={tmp_path / 'a.npy'}", "--input", f"b={tmp_path / 'b.npy'}"
    )
    total = doc["outputs"]["sum"]
    assert total["min"] == 0.5 and total["max"] == 9.5
    assert total["top"][0] == [9, 9.5]
    missing = run_script(script, "--input", f"a={tmp_path / 'a.npy'}")
    assert missing.returncode == 2 and "'b'" in missing.stderr
    np.save(tmp_path / "bad.npy", np.zeros((2, 10), np.float32))
    wrong = run_script(
        script, "--input", f"a={tmp_path / 'a.npy'}", "--input", f"b={tmp_path / 'bad.npy'}"
    )
    assert wrong.returncode == 2 and "shape" in wrong.stderr


def test_random_input_smoke_run(tmp_path):
    model = models.write(tmp_path / "d.tflite", models.tflite_multi_io_dynamic())
    script = tmp_path / "d.py"
    made = porter("scaffold", str(model), "-o", str(script), "--input-shape", "state=1,5,8,3")
    assert made.returncode == 0, made.stderr
    doc = run_json(script, "--random-input")
    assert doc["outputs"]["state_out"]["shape"] == [1, 5, 8, 3]


@pytest.mark.parametrize("variant", ["float", "w8a8-int8", "w8a8-uint8-boundary"])
def test_real_face_det_lite(tmp_path, photos, variant):
    """AI Hub's own model: one face on astronaut, where AI Hub's reference puts it; none on coffee.

    The uint8 variant is the int8 model wrapped to uint8 I/O (the signature AI Hub's own
    w8a8 exports often have), so the uint8 fast path runs on real faces too.
    """
    if variant.endswith("uint8-boundary"):
        source = shared_model("face_det_lite-w8a8-int8.tflite")
        model = models.write(
            tmp_path / "face_det_lite-w8a8-uint8.tflite", models.uint8_boundary(source.read_bytes())
        )
    else:
        model = shared_model(f"face_det_lite-{variant}.tflite")
    script = tmp_path / "fdl.py"
    made = porter("scaffold", str(model), "--postproc", "face_det_lite", "-o", str(script))
    assert made.returncode == 0, made.stderr
    face = run_json(script, "--model", str(model), "--image", str(photos["astronaut"]))
    assert len(face["detections"]) == 1
    found = face["detections"][0]
    assert found["score"] > 0.8
    # ../shared/README.md: box about x 227..334, y 44..172 in the 640x480 input (before
    # app.py's enlargement); astronaut is 512x512.
    x1, y1, x2, y2 = found["box"]
    centre = ((x1 + x2) / 2 * 640 / 512, (y1 + y2) / 2 * 480 / 512)
    assert abs(centre[0] - (227 + 334) / 2) < 15 and abs(centre[1] - (44 + 172) / 2) < 15
    for photo in ("coffee", "chelsea"):
        assert (
            run_json(script, "--model", str(model), "--image", str(photos[photo]))["detections"]
            == []
        )
