"""depth_sample.tflite, run with LiteRT directly: signature, reproducibility, and inverse
depth that is 10x the smoothed brightness (bright = near)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from porter.samples import depth
from tests.conftest import ROOT

LITERT = pytest.importorskip("ai_edge_litert.interpreter")


@pytest.fixture(scope="module")
def model() -> bytes:
    return depth.depth_sample_tflite()


@pytest.fixture(scope="module")
def interpreter(model):
    it = LITERT.Interpreter(model_content=model)
    it.allocate_tensors()
    return it


def estimate(interpreter, image: np.ndarray) -> np.ndarray:
    """Dequantized inverse depth [256, 256]."""
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image[None])
    interpreter.invoke()
    raw = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0, :, :, 0]
    return raw.astype(np.float64) * 0.04


def reference(image: np.ndarray) -> np.ndarray:
    """10 x the 8x8 cell mean of the grey level, upsampled x8 bilinearly (half-pixel)."""
    grey = image.astype(np.float64).mean(axis=2) / 255
    cells = grey.reshape(32, 8, 32, 8).mean(axis=(1, 3)) * 10
    src = np.maximum((np.arange(256) + 0.5) / 8 - 0.5, 0)
    i0 = np.minimum(np.floor(src).astype(int), 31)
    i1 = np.minimum(i0 + 1, 31)
    w = src - i0
    rows = cells[i0] * (1 - w)[:, None] + cells[i1] * w[:, None]
    return rows[:, i0] * (1 - w)[None, :] + rows[:, i1] * w[None, :]


def test_signature(interpreter):
    (inp,) = interpreter.get_input_details()
    (out,) = interpreter.get_output_details()
    assert inp["name"] == "image" and inp["shape"].tolist() == [1, 256, 256, 3]
    assert inp["dtype"] == np.uint8 and inp["quantization"] == pytest.approx((1 / 255, 0))
    assert out["name"] == "depth_estimates" and out["shape"].tolist() == [1, 256, 256, 1]
    assert out["dtype"] == np.uint8 and out["quantization"] == pytest.approx((0.04, 0))
    assert interpreter.get_signature_list() == {
        "serving_default": {"inputs": ["image"], "outputs": ["depth_estimates"]}
    }


def test_reproducible(model):
    assert depth.depth_sample_tflite() == model
    assert (ROOT / "samples" / "depth_sample.tflite").read_bytes() == model
    assert len(model) < 100_000


def test_bright_disc_is_nearest(interpreter):
    yy, xx = np.mgrid[:256, :256]
    image = np.zeros((256, 256, 3), np.uint8)
    image[np.hypot(xx - 160, yy - 96) <= 40] = 230
    out = estimate(interpreter, image)
    assert out[96, 160] == out.max() == pytest.approx(10 * 230 / 255, abs=0.05)
    near = out > out.max() / 2  # the blob, soft edge halfway
    ys, xs = np.nonzero(near)
    assert abs(ys.mean() - 96) <= 2 and abs(xs.mean() - 160) <= 2
    assert abs(near.sum() - np.pi * 40**2) < 0.15 * np.pi * 40**2
    assert out[250, 10] == 0  # far from the disc: black, farthest


def test_ramp_recedes_to_the_left(interpreter):
    image = np.broadcast_to(np.linspace(0, 255, 256).astype(np.uint8)[None, :, None], (256, 256, 3))
    row = estimate(interpreter, image.copy())[128]
    assert (np.diff(row) >= 0).all() and row[-1] - row[0] > 9


def test_astronaut_matches_the_formula(interpreter):
    from skimage import data

    image = np.asarray(Image.fromarray(data.astronaut()).resize((256, 256), Image.BILINEAR))
    assert np.abs(estimate(interpreter, image) - reference(image)).max() <= 0.02 + 1e-6
