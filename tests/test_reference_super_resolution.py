"""The super-resolution reference (tests/reference_super_resolution.py) on hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from tests import reference_super_resolution as ref

F32 = np.float32


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (0.0, 0),
        (1.0, 255),
        (0.999, 254),  # 254.745 truncates
        (0.5, 127),  # 127.5 truncates
        (1 / 255, 1),  # float32(1/255) * 255 rounds to exactly 1
        (2 / 255, 2),
        (1.7, 255),  # clipped first
        (-0.3, 0),
    ],
)
def test_to_uint8_truncates_after_the_clip(value, code):
    assert ref.to_uint8(F32(value)) == code


def test_every_code_survives_the_round_trip():
    """code / 255 in float32, then * 255 truncated, gives the code back for all 256."""
    assert [ref.to_uint8(ref.input_value(code)) for code in range(256)] == list(range(256))


def test_truncation_is_not_rounding():
    """Just below a code: the float32 product lands below it and drops a level."""
    below = np.nextafter(ref.input_value(100), F32(0))
    assert ref.to_uint8(below) == 99


def test_output_image_and_input_image():
    upscaled = np.array([[[0.0, 0.5, 1.2], [-1.0, 0.25, 0.999]]], np.float32)
    assert ref.output_image(upscaled) == [[[0, 127, 255], [0, 63, 254]]]
    photo = np.array([[[0, 128, 255]]], np.uint8)
    assert ref.input_image(photo) == [[[0, F32(128) / F32(255), 1]]]


def test_quantized_output_real_esrgan():
    """Real-ESRGAN w8a8: s=0.00497, zp=25. Codes below 25 are negative, above 226 exceed 1."""
    scale, zero_point = 0.00497, 25
    assert ref.dequantize(25, scale, zero_point) == 0
    assert ref.to_uint8(ref.dequantize(0, scale, zero_point)) == 0
    assert ref.to_uint8(ref.dequantize(255, scale, zero_point)) == 255  # 1.143, clipped
    # 100 codes above the zero point: 0.497 * 255 = 126.7 -> 126.
    assert ref.to_uint8(ref.dequantize(125, scale, zero_point)) == 126


def test_quantized_input_is_the_code_itself():
    """Input s=1/255, zp=0: every uint8 photo value comes back as itself."""
    assert [ref.quantize(ref.input_value(c), 1 / 255, 0) for c in range(256)] == list(range(256))


def test_scale_factor_from_shapes():
    assert ref.scale_factor((1, 128, 128, 3), (1, 512, 512, 3)) == 4
    assert ref.scale_factor((1, 128, 96, 3), (1, 384, 288, 3)) == 3
    with pytest.raises(ValueError):
        ref.scale_factor((1, 128, 128, 3), (1, 512, 384, 3))
    with pytest.raises(ValueError):
        ref.scale_factor((1, 128, 128, 3), (1, 500, 500, 3))
