"""classification_sample.tflite, run with LiteRT directly: signature, reproducibility,
and the mean-colour classes it gives solid colours and real photos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from porter.samples import classification
from tests.conftest import ROOT

LITERT = pytest.importorskip("ai_edge_litert.interpreter")
LABELS = {
    281: "tabby",
    937: "broccoli",
    948: "Granny Smith",
    949: "strawberry",
    950: "orange",
    951: "lemon",
    967: "espresso",
    975: "lakeside",
}


@pytest.fixture(scope="module")
def model() -> bytes:
    return classification.classification_sample_tflite()


@pytest.fixture(scope="module")
def interpreter(model):
    it = LITERT.Interpreter(model_content=model)
    it.allocate_tensors()
    return it


def classify(interpreter, image: np.ndarray) -> np.ndarray:
    """Raw uint8 logits for one [224,224,3] uint8 image."""
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image[None])
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]


def imagenet_crop(photo: np.ndarray) -> np.ndarray:
    """AI Hub's classifier preprocessing: Resize(256) (Pillow bilinear, long side
    truncated), CenterCrop(224) with Python round."""
    im = Image.fromarray(photo)
    w, h = im.size
    nw, nh = (256, int(256 * h / w)) if w <= h else (int(256 * w / h), 256)
    im = im.resize((nw, nh), Image.BILINEAR)
    left, top = round((nw - 224) / 2), round((nh - 224) / 2)
    return np.asarray(im.crop((left, top, left + 224, top + 224)))


def test_signature(interpreter):
    (inp,) = interpreter.get_input_details()
    (out,) = interpreter.get_output_details()
    assert inp["name"] == "image_tensor"
    assert inp["shape"].tolist() == [1, 224, 224, 3] and inp["dtype"] == np.uint8
    assert inp["quantization"] == pytest.approx((1 / 255, 0))
    assert out["name"] == "class_logits"
    assert out["shape"].tolist() == [1, 1000] and out["dtype"] == np.uint8
    assert out["quantization"] == pytest.approx((0.1709, 63))
    assert interpreter.get_signature_list() == {
        "serving_default": {"inputs": ["image_tensor"], "outputs": ["class_logits"]}
    }


def test_reproducible(model):
    assert classification.classification_sample_tflite() == model
    assert (ROOT / "samples" / "classification_sample.tflite").read_bytes() == model
    assert len(model) < 100_000


def test_imagenet_labels_match():
    """The prototype classes are the ImageNet indices they claim (labels file lines)."""
    labels = ROOT.parent / "ref" / "qhm" / "qai_hub_models" / "labels" / "imagenet_labels.txt"
    if not labels.is_file():
        pytest.skip("AI Hub's label file is not here")
    names = labels.read_text().splitlines()
    assert set(LABELS) == set(classification.PROTOTYPES)
    for index, name in LABELS.items():
        assert names[index] == name


def test_red_photo_is_a_strawberry(interpreter):
    logits = classify(interpreter, np.full((224, 224, 3), (230, 20, 25), np.uint8))
    assert logits.argmax() == 949
    others = np.delete(logits, list(classification.PROTOTYPES))
    assert (others == 0).all()  # every class without a colour sits at the floor
    assert logits[949] > 120  # logit ~ +10


@pytest.mark.parametrize("index", list(classification.PROTOTYPES))
def test_each_prototype_colour_wins_its_class(interpreter, index):
    colour = np.round(np.array(classification.PROTOTYPES[index]) * 255).astype(np.uint8)
    logits = classify(interpreter, np.broadcast_to(colour, (224, 224, 3)).copy())
    assert logits.argmax() == index
    # The logit is 12 - 20|m - p|^2 with m == p (to 1/255): 12, raw 12 / 0.1709 + 63.
    assert abs(int(logits[index]) - round(12 / 0.1709 + 63)) <= 1


def test_logits_follow_the_formula(interpreter):
    """Dequantized logits equal 12 - 20 |m - p|^2 for a two-colour image."""
    image = np.zeros((224, 224, 3), np.uint8)
    image[:, :112] = (200, 120, 40)
    image[:, 112:] = (40, 90, 160)
    logits = (classify(interpreter, image).astype(np.float64) - 63) * 0.1709
    mean = image.reshape(-1, 3).mean(0) / 255
    for index, proto in classification.PROTOTYPES.items():
        expected = max(12 - 20 * ((mean - proto) ** 2).sum(), classification.FLOOR)
        assert logits[index] == pytest.approx(expected, abs=0.1709)


@pytest.mark.parametrize(("photo", "index"), [("coffee", 967), ("chelsea", 281), ("rocket", 975)])
def test_real_photos(interpreter, photo, index):
    from skimage import data

    logits = classify(interpreter, imagenet_crop(np.asarray(getattr(data, photo)())))
    assert logits.argmax() == index
    assert logits[index] - np.sort(logits)[-2] >= 2  # a margin of two quantization steps
