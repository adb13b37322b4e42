"""The classification family against AI Hub's imagenet_classifier app, restated in
tests/reference_classification.py, and its script run for real on photos."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from PIL import Image

from tests import reference_classification as ref
from tests.conftest import ROOT, porter, run
from tests.test_face_det_lite_decode import load_script

SAMPLE = ROOT / "samples" / "classification_sample.tflite"
SCRIPT = ROOT / "generated" / "classification_sample.py"


@pytest.fixture(scope="module")
def script():
    return load_script("classification_sample.py")


def photo(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


@pytest.mark.parametrize(
    "size",
    [(640, 427), (427, 640), (455, 300), (224, 224), (300, 224), (257, 256), (1920, 1080)],
)
def test_resize_and_crop_as_torchvision(script, size):
    """Resize(256) with the long side truncated, CenterCrop(224) rounded half to even."""
    image = photo(*size)
    pixels, geometry = script.fit_photo(image, {})
    expected = np.array(ref.preprocess(np.asarray(image)), np.float32)
    np.testing.assert_array_equal(pixels.astype(np.float32) / np.float32(255), expected)
    new_width, new_height = ref.resized_size(*size)
    left, top, _, _ = ref.crop_box(new_width, new_height)
    assert geometry.pad_x == -left and geometry.pad_y == -top
    assert geometry.scale_x == new_width / size[0]


def test_crop_offsets_round_half_to_even():
    """The issue's own cases: 640x427 -> 383x256 (offset 80), 455 wide -> offset 116."""
    assert ref.resized_size(640, 427) == (383, 256)
    assert ref.crop_box(383, 256)[0] == 80
    assert ref.crop_box(455, 256)[0] == 116


@pytest.mark.parametrize("seed", range(4))
def test_softmax_and_top_k(script, seed):
    """Quantized logits (AI Hub's MobileNet-v2 parameters): the same classes in the same
    order as the app's softmax and top-k, probabilities to float32 precision."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (1, 1000), dtype=np.uint8)
    codes[0, rng.integers(0, 1000, 3)] = 255  # ties at the top: lower index first
    spec = {"dtype": "uint8", "quantization": {"scale": [0.1709], "zero_point": [63], "axis": None}}
    decoder = script.Decoder({script.SCORES_OUTPUT: spec}, {"top_k": 5}, ["x"] * 1000)
    result = decoder({script.SCORES_OUTPUT: codes}, None)
    logits = [ref.dequantize(c, 0.1709, 63) for c in codes[0]]
    probabilities = ref.softmax(logits)
    expected = ref.top_k(probabilities, 5)
    assert [entry["index"] for entry in result["classes"]] == expected
    for entry in result["classes"]:
        assert entry["score"] == pytest.approx(probabilities[entry["index"]], rel=1e-5, abs=1e-6)


def test_model_probabilities_are_not_softmaxed_again(script, monkeypatch):
    monkeypatch.setattr(script, "PROBABILITIES", True)
    spec = {"dtype": "float32", "quantization": None}
    decoder = script.Decoder({script.SCORES_OUTPUT: spec}, {"top_k": 2}, [])
    scores = np.array([[0.1, 0.7, 0.2]], np.float32)
    result = decoder({script.SCORES_OUTPUT: scores}, None)
    assert [e["index"] for e in result["classes"]] == [1, 2]
    assert (
        result["classes"][0]["score"] == pytest.approx(0.7)
        and result["classes"][0]["label"] is None
    )


def run_script(*args: str) -> dict:
    ran = run([sys.executable, str(SCRIPT), "--model", str(SAMPLE), *args, "--json"])
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


@pytest.mark.parametrize(
    ("name", "index", "label"),
    [("chelsea", 281, "tabby"), ("coffee", 967, "espresso"), ("rocket", 975, "lakeside")],
)
def test_sample_on_real_photos(tmp_path, name, index, label):
    """The sample scores a photo's mean colour against a few ImageNet classes (see
    porter/samples/classification.py); ImageNet's names come with porter."""
    from skimage import data

    path = tmp_path / f"{name}.png"
    Image.fromarray(getattr(data, name)()).save(path)
    doc = run_script("--image", str(path), "--output", str(tmp_path / "out.png"))
    best = doc["classes"][0]
    assert (best["index"], best["label"]) == (index, label)
    assert sum(entry["score"] for entry in doc["classes"]) <= 1.0 + 1e-6
    assert Image.open(tmp_path / "out.png").size == Image.open(path).size


def test_labels_flag_at_scaffold_and_at_run_time(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("".join(f"thing {i}\n" for i in range(1000)))
    out = tmp_path / "c.py"
    made = porter("scaffold", str(SAMPLE), "--labels", str(names), "-o", str(out))
    assert made.returncode == 0, made.stderr
    assert "labels: --labels" in made.stderr
    red = tmp_path / "red.png"
    Image.new("RGB", (300, 200), (230, 20, 30)).save(red)
    ran = run([sys.executable, str(out), "--model", str(SAMPLE), "--image", str(red), "--json"])
    assert json.loads(ran.stdout)["classes"][0]["label"] == "thing 949"
    other = tmp_path / "other.txt"
    other.write_text("".join(f"other {i}\n" for i in range(1000)))
    doc = run_script("--image", str(red), "--labels", str(other))
    assert doc["classes"][0] == {
        "index": 949,
        "label": "other 949",
        "score": doc["classes"][0]["score"],
    }
