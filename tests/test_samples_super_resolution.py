"""super_resolution_sample.tflite, run with LiteRT directly: signature, reproducibility,
and an output that is the bilinear x4 upscale of the input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from porter.samples import super_resolution
from tests.conftest import ROOT

LITERT = pytest.importorskip("ai_edge_litert.interpreter")


@pytest.fixture(scope="module")
def model() -> bytes:
    return super_resolution.super_resolution_sample_tflite()


@pytest.fixture(scope="module")
def interpreter(model):
    it = LITERT.Interpreter(model_content=model)
    it.allocate_tensors()
    return it


def upscale(interpreter, image: np.ndarray) -> np.ndarray:
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image[None])
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]


def torch_bilinear(image: np.ndarray, factor: int) -> np.ndarray:
    """interpolate(bilinear, align_corners=False) in float64: source = (d + 0.5) / f - 0.5,
    clamped at 0, the far neighbour clamped at the edge."""

    def axis(n: int):
        src = np.maximum((np.arange(n * factor) + 0.5) / factor - 0.5, 0)
        i0 = np.minimum(np.floor(src).astype(int), n - 1)
        i1 = np.minimum(i0 + 1, n - 1)
        return i0, i1, src - i0

    y0, y1, wy = axis(image.shape[0])
    x0, x1, wx = axis(image.shape[1])
    f = image.astype(np.float64)
    rows = f[y0] * (1 - wy)[:, None, None] + f[y1] * wy[:, None, None]
    return rows[:, x0] * (1 - wx)[None, :, None] + rows[:, x1] * wx[None, :, None]


def test_signature(interpreter):
    (inp,) = interpreter.get_input_details()
    (out,) = interpreter.get_output_details()
    assert inp["name"] == "image" and inp["shape"].tolist() == [1, 128, 128, 3]
    assert inp["dtype"] == np.uint8 and inp["quantization"] == pytest.approx((1 / 255, 0))
    assert out["name"] == "upscaled_image" and out["shape"].tolist() == [1, 512, 512, 3]
    assert out["dtype"] == np.uint8 and out["quantization"] == pytest.approx((1 / 255, 0))
    assert interpreter.get_signature_list() == {
        "serving_default": {"inputs": ["image"], "outputs": ["upscaled_image"]}
    }


def test_reproducible(model):
    assert super_resolution.super_resolution_sample_tflite() == model
    assert (ROOT / "samples" / "super_resolution_sample.tflite").read_bytes() == model
    assert len(model) < 100_000


def test_astronaut_upscale_is_a_bilinear_resize(interpreter):
    from skimage import data

    small = np.asarray(Image.fromarray(data.astronaut()).resize((128, 128), Image.BOX))
    out = upscale(interpreter, small)
    expected = torch_bilinear(small, 4)
    assert np.abs(out.astype(np.float64) - expected).max() <= 1.0
    # Pillow's BILINEAR upscale is the same filter (8-bit fixed point).
    pil = np.asarray(Image.fromarray(small).resize((512, 512), Image.BILINEAR))
    assert np.abs(out.astype(int) - pil.astype(int)).max() <= 1


def test_flat_and_extreme_levels_survive(interpreter):
    for level in (0, 1, 128, 254, 255):
        out = upscale(interpreter, np.full((128, 128, 3), level, np.uint8))
        assert (out == level).all()
