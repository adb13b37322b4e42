"""segmentation_sample.tflite (Cityscapes logits) and segmentation_ids_sample.tflite
(DeepLab class ids), run with LiteRT directly: signatures, reproducibility, and the
colour rules on synthetic stripes and real photos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from porter.samples import segmentation
from tests.conftest import ROOT

LITERT = pytest.importorskip("ai_edge_litert.interpreter")


def interpreter_for(model: bytes):
    it = LITERT.Interpreter(model_content=model)
    it.allocate_tensors()
    return it


@pytest.fixture(scope="module")
def logits_model() -> bytes:
    return segmentation.segmentation_sample_tflite()


@pytest.fixture(scope="module")
def ids_model() -> bytes:
    return segmentation.segmentation_ids_sample_tflite()


def run(interpreter, image: np.ndarray) -> np.ndarray:
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image[None])
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]


def letterbox(photo: np.ndarray, height: int, width: int):
    """Scale to fit, black padding pad//2 top/left; returns the image and the photo's
    rows and columns in it."""
    h, w = photo.shape[:2]
    scale = min(height / h, width / w)
    nh, nw = int(h * scale), int(w * scale)
    out = np.zeros((height, width, 3), np.uint8)
    top, left = (height - nh) // 2, (width - nw) // 2
    resized = Image.fromarray(photo).resize((nw, nh), Image.BILINEAR)
    out[top : top + nh, left : left + nw] = np.asarray(resized)
    return out, slice(top, top + nh), slice(left, left + nw)


# -- Cityscapes logits ------------------------------------------------------------------


def test_logits_signature(logits_model):
    it = interpreter_for(logits_model)
    (inp,) = it.get_input_details()
    (out,) = it.get_output_details()
    assert inp["name"] == "image" and inp["shape"].tolist() == [1, 512, 1024, 3]
    assert inp["dtype"] == np.uint8 and inp["quantization"] == pytest.approx((1 / 255, 0))
    assert out["name"] == "mask" and out["shape"].tolist() == [1, 64, 128, 19]
    assert out["dtype"] == np.uint8 and out["quantization"] == pytest.approx((0.1, 80))
    assert it.get_signature_list() == {
        "serving_default": {"inputs": ["image"], "outputs": ["mask"]}
    }


def test_logits_reproducible(logits_model):
    assert segmentation.segmentation_sample_tflite() == logits_model
    assert (ROOT / "samples" / "segmentation_sample.tflite").read_bytes() == logits_model
    assert len(logits_model) < 100_000


def test_stripes_are_sky_vegetation_road(logits_model):
    image = np.zeros((512, 1024, 3), np.uint8)
    image[:160] = (100, 150, 230)  # sky blue
    image[160:320] = (60, 140, 50)  # green
    image[320:] = (128, 128, 128)  # grey
    out = run(interpreter_for(logits_model), image)
    ids = out.argmax(axis=-1)  # class axis last
    assert (ids[:20] == segmentation.SKY).all()
    assert (ids[20:40] == segmentation.VEGETATION).all()
    assert (ids[40:] == segmentation.ROAD).all()
    logits = (out.astype(np.float64) - 80) * 0.1
    mean = np.array([100, 150, 230]) / 255
    assert logits[0, 0, segmentation.SKY] == pytest.approx(
        12 * (mean[2] - (mean[0] + mean[1]) / 2), abs=0.05
    )
    assert logits[30, 0, 0] == pytest.approx(1.0, abs=0.05)  # road's constant logit
    others = np.setdiff1d(np.arange(19), [0, 2, 8, 10])
    assert np.abs(logits[..., others] + 5).max() < 0.05


def test_rocket_sky_above_the_towers(logits_model):
    from skimage import data

    image, rows, cols = letterbox(np.asarray(data.rocket()), 512, 1024)
    ids = run(interpreter_for(logits_model), image).argmax(axis=-1)
    photo = ids[rows.start // 8 : rows.stop // 8, cols.start // 8 : cols.stop // 8]
    upper, lower = photo[: len(photo) // 2], photo[-len(photo) // 8 :]
    assert (upper == segmentation.SKY).mean() > 0.6
    assert (lower == segmentation.SKY).mean() < 0.05
    assert (ids[: rows.start // 8] == segmentation.BUILDING).all()  # black padding is dark


# -- DeepLab class ids ------------------------------------------------------------------


def test_ids_signature(ids_model):
    it = interpreter_for(ids_model)
    (inp,) = it.get_input_details()
    (out,) = it.get_output_details()
    assert inp["name"] == "image" and inp["shape"].tolist() == [1, 520, 520, 3]
    assert inp["dtype"] == np.uint8 and inp["quantization"] == pytest.approx((1 / 255, 0))
    assert out["name"] == "mask" and out["shape"].tolist() == [1, 520, 520]
    assert out["dtype"] == np.uint8
    assert out["quantization"] == (0.0, 0)  # not quantized: raw class ids
    assert out["quantization_parameters"]["scales"].size == 0
    assert it.get_signature_list() == {
        "serving_default": {"inputs": ["image"], "outputs": ["mask"]}
    }


def test_ids_reproducible(ids_model):
    assert segmentation.segmentation_ids_sample_tflite() == ids_model
    assert (ROOT / "samples" / "segmentation_ids_sample.tflite").read_bytes() == ids_model
    assert len(ids_model) < 100_000


def test_ids_squares(ids_model):
    image = np.full((520, 520, 3), 128, np.uint8)
    image[40:200, 40:200] = (220, 140, 60)  # ginger
    image[300:480, 260:500] = (50, 160, 60)  # green
    ids = run(interpreter_for(ids_model), image)
    assert set(np.unique(ids)) == {0, segmentation.CAT, segmentation.POTTEDPLANT}
    assert (ids[56:184, 56:184] == segmentation.CAT).all()
    assert (ids[316:464, 276:484] == segmentation.POTTEDPLANT).all()
    assert (ids[:24] == 0).all() and (ids[220:280, :240] == 0).all()
    # Edges follow the upsampled logits: the cat square's edge is within a cell.
    assert 32 <= np.argmax(ids[120] == segmentation.CAT) <= 48


def test_chelsea_is_a_cat(ids_model):
    from skimage import data

    image, rows, cols = letterbox(np.asarray(data.chelsea()), 520, 520)
    ids = run(interpreter_for(ids_model), image)
    assert (ids[rows, cols] == segmentation.CAT).mean() > 0.7
    assert (ids[: rows.start] == 0).all() and (ids[rows.stop + 4 :] == 0).all()
