"""face_det_lite decoded on raw quantized codes gives exactly what decoding floats gives.

The generated decode thresholds, peak-tests and dequantizes 8-bit outputs through tables
made once from their scale and zero point (Codes); tests/test_face_det_lite_decode.py pins
the float decode to AI Hub's. Here the two paths meet: for any 8-bit type, scale (also
negative, where the score table falls and the raw-code threshold cannot be used), zero
point and threshold, detect() on codes equals detect() on the dequantized floats, to the bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.test_face_det_lite_decode import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("face_det_lite_sample.py")


def specs(module, dtype: str, params: dict[str, tuple[float, int]]) -> dict[str, dict]:
    """Output specs as the runtime reports them, with these quantization parameters."""
    return {
        name: {
            "name": name,
            "dtype": dtype,
            "quantization": {"scale": [scale], "zero_point": [zero_point], "axis": None},
        }
        for name, (scale, zero_point) in params.items()
    }


def dequantized(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return (values.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)


def assert_same(module, codes_grids, params, threshold):
    names = (module.HEATMAP_OUTPUT, module.BBOX_OUTPUT, module.LANDMARK_OUTPUT)
    dtype = codes_grids[0].dtype.name
    codes = module.Codes(specs(module, dtype, dict(zip(names, params, strict=True))))
    floats = [dequantized(g, *p) for g, p in zip(codes_grids, params, strict=True)]
    expected = module.detect(*floats, threshold)
    got = module.detect(*codes_grids, threshold, codes)
    for want, have in zip(expected, got, strict=True):
        assert have.dtype == want.dtype
        np.testing.assert_array_equal(have, want)
    return codes, got


QUANT = st.tuples(
    st.sampled_from([0.0361419, 0.0549, 0.137113, 0.5, 1e-3, 2.0, -0.0361419]),
    st.integers(-20, 275),
)
THRESHOLDS = st.sampled_from([0.0, -1.0, 0.3, 0.55, 0.85, 0.8500270247459412, 0.99, 1.0])


@st.composite
def code_grids(draw):
    dtype = draw(st.sampled_from([np.uint8, np.int8]))
    rows, cols = draw(st.integers(1, 9)), draw(st.integers(1, 12))
    info = np.iinfo(dtype)
    # A few levels, so ties and plateaus are common; the extremes saturate.
    levels = draw(st.lists(st.integers(info.min, info.max), min_size=1, max_size=5))
    levels += [info.max, info.min]
    heatmap = draw(hnp.arrays(dtype, (rows, cols, 1), elements=st.sampled_from(levels)))
    bbox = draw(hnp.arrays(dtype, (rows, cols, 4)))
    landmark = draw(hnp.arrays(dtype, (rows, cols, 10)))
    params = []
    for _ in range(3):
        scale, zero_point = draw(QUANT)
        params.append((scale, int(np.clip(zero_point, info.min, info.max))))
    return (heatmap, bbox, landmark), params


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(code_grids(), THRESHOLDS)
def test_codes_decode_like_floats(script, data, threshold):
    grids, params = data
    assert_same(script, grids, params, threshold)


@pytest.mark.fuzz
@settings(max_examples=5000, deadline=None, suppress_health_check=list(HealthCheck))
@given(code_grids(), THRESHOLDS)
def test_codes_decode_like_floats_fuzz(script, data, threshold):
    grids, params = data
    assert_same(script, grids, params, threshold)


def test_negative_scale_takes_the_lookup_path(script):
    """A falling score table cannot threshold on raw codes; every cell is looked up."""
    rng = np.random.default_rng(1)
    grids = [rng.integers(0, 256, (60, 80, c), dtype=np.uint8) for c in (1, 4, 10)]
    params = [(-0.0361419, 207), (0.137113, 22), (0.123471, 102)]
    codes, (scores, _, _) = assert_same(script, grids, params, 0.55)
    assert not codes.rising and scores.size > 0


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
def test_full_size_outputs_on_the_tutorial_models_quantization(script, dtype):
    """60x80 outputs with the tutorial model's parameters (uint8) and the int8 model's."""
    rng = np.random.default_rng(7)
    if dtype is np.uint8:
        params = [(0.0361419, 207), (0.137113, 22), (0.123471, 102)]
        heatmap = rng.choice(np.array([150, 200, 230, 250, 255], np.uint8), (60, 80, 1))
    else:
        params = [(0.0549, 18), (0.1694, -123), (0.0738, -4)]
        heatmap = rng.choice(np.array([-40, 0, 20, 40, 127], np.int8), (60, 80, 1))
    bbox = rng.integers(0, 256, (60, 80, 4)).astype(np.uint8).view(dtype)
    landmark = rng.integers(0, 256, (60, 80, 10)).astype(np.uint8).view(dtype)
    codes, (scores, _, _) = assert_same(script, [heatmap, bbox, landmark], params, 0.55)
    assert codes.rising and scores.size > 20


def test_decoder_on_codes_equals_decoder_on_floats(script):
    """The whole Decoder (NMS, app.py boxes, mapping to the photo) from raw outputs."""
    rng = np.random.default_rng(3)
    names = (script.HEATMAP_OUTPUT, script.BBOX_OUTPUT, script.LANDMARK_OUTPUT)
    params = dict(zip(names, [(0.0361419, 207), (0.137113, 22), (0.123471, 102)], strict=True))
    output_specs = specs(script, "uint8", params)
    raw = {
        script.HEATMAP_OUTPUT: rng.choice(np.array([150, 230, 255], np.uint8), (1, 60, 80, 1)),
        script.BBOX_OUTPUT: rng.integers(20, 60, (1, 60, 80, 4)).astype(np.uint8),
        script.LANDMARK_OUTPUT: rng.integers(0, 256, (1, 60, 80, 10)).astype(np.uint8),
    }
    floats = {name: dequantized(values, *params[name]) for name, values in raw.items()}
    geometry = script.Geometry(1280, 960, 0.5, 0.5)
    for nms_iou in (-1, 0.2):
        decoder = script.Decoder(output_specs, {"threshold": 0.55, "nms_iou": nms_iou}, [])
        from_codes = decoder(raw, geometry)
        assert from_codes == decoder(floats, geometry)
        assert from_codes["detections"]


@pytest.mark.parametrize(
    ("dtype", "scale", "zero_point"),
    [
        ("uint8", 1 / 255, 0),
        ("uint8", 0.0039040877, 0),  # the tutorial model's input
        ("int8", 1 / 255, -128),
        ("uint8", 0.5 / 255, 10),
        ("int8", 0.02, 3),
        ("uint16", 1 / 65535, 0),
        ("int16", 1 / 32767, 0),
    ],
)
def test_pixel_table_equals_the_float_arithmetic(script, dtype, scale, zero_point):
    """Every pixel value, through the table (and its steps), as AI Hub's pipeline makes it:
    ToTensor's float32 p / 255, then its runtime wrapper's rint(float64(v) / scale) + zp,
    clipped (qai_hub_models/utils/runtime_torch_wrapper.py)."""
    spec = {"dtype": dtype, "quantization": {"scale": [scale], "zero_point": [zero_point]}}
    table = script.PixelTable(spec)
    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    limits = np.iinfo(dtype)
    unit = pixels.astype(np.float32) / np.float32(255)
    expected = np.clip(
        np.rint(unit.astype(np.float64) / scale) + zero_point, limits.min, limits.max
    )
    got = table(pixels)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, expected.astype(dtype))
    if np.dtype(dtype).itemsize == 1 and abs(scale * 255 - 1) < 0.01:
        assert table.steps is not None, "AI Hub-like 8-bit inputs take the step path"


def test_pixel_table_for_float_inputs(script):
    table = script.PixelTable({"dtype": "float32", "quantization": None})
    pixels = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(table(pixels), pixels.astype(np.float32) / np.float32(255))
