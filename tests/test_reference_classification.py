"""The classification reference (tests/reference_classification.py) on hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from tests import reference_classification as ref


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((640, 427), (383, 256)),  # 256 * 640 / 427 = 383.7, truncated
        ((640, 480), (341, 256)),
        ((1920, 1080), (455, 256)),
        ((800, 533), (384, 256)),
        ((427, 640), (256, 383)),  # portrait: the width is the short side
        ((256, 256), (256, 256)),
        ((100, 50), (512, 256)),  # upscale
    ],
)
def test_resized_size(size, expected):
    assert ref.resized_size(*size) == expected


@pytest.mark.parametrize(
    ("width", "left"),
    [(383, 80), (384, 80), (385, 80), (455, 116), (457, 116), (453, 114), (341, 58), (256, 16)],
)
def test_crop_offsets_round_half_to_even(width, left):
    assert ref.crop_box(width, 256) == (left, 16, left + 224, 16 + 224)


def test_crop_offsets_for_640x427():
    """640x427 -> 383x256 -> crop from (80, 16): the hand-worked case."""
    width, height = ref.resized_size(640, 427)
    assert ref.crop_box(width, height) == (80, 16, 304, 240)
    assert ref.crop_box(256, 383) == (16, 80, 240, 304)


def test_crop_never_pads():
    with pytest.raises(ValueError):
        ref.crop_box(200, 256)


def test_preprocess_without_resize_is_a_crop_divided_by_255():
    """256 wide and 300 high already has a 256 short side: no resampling, crop (16, 38)."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (300, 256, 3), dtype=np.uint8)
    out = np.array(ref.preprocess(image), np.float32)
    assert out.shape == (224, 224, 3)
    expected = image[38:262, 16:240].astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(out, expected)


def test_preprocess_resizes_with_pillow_bilinear():
    """300x200 -> 384x256 with Pillow's antialiased bilinear, then the crop at (80, 16)."""
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)
    out = np.array(ref.preprocess(image), np.float32)
    resized = np.asarray(Image.fromarray(image).resize((384, 256), Image.BILINEAR))
    expected = resized[16:240, 80:304].astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(out, expected)
    assert out.max() <= 1 and out.min() >= 0


def test_dequantize_logits():
    """class_logits s=0.1709 zp=63: code 63 is 0, code 73 is 1.709."""
    assert ref.dequantize(63, 0.1709, 63) == 0
    assert ref.dequantize(73, 0.1709, 63) == np.float32(1.709)
    assert ref.dequantize(0, 0.1709, 63) == np.float32(-63 * 0.1709)


def test_softmax_by_hand():
    probabilities = ref.softmax([0.0, math.log(3.0)])
    assert probabilities == pytest.approx([0.25, 0.75], abs=1e-15)
    # Shifting every logit changes nothing; huge logits do not overflow.
    assert ref.softmax([1000.0, 1000.0 + math.log(3.0)]) == pytest.approx([0.25, 0.75])
    assert sum(ref.softmax(np.arange(1000, dtype=np.float32))) == pytest.approx(1.0)


def test_top_k_ties_by_index():
    probabilities = [0.1, 0.3, 0.3, 0.05, 0.25]
    assert ref.top_k(probabilities, 3) == [1, 2, 4]
    assert ref.top_k(probabilities, 5) == [1, 2, 4, 0, 3]
    assert ref.top_k([0.2] * 4, 2) == [0, 1]


def test_demo_line():
    assert ref.demo_line("tench", 0.8766) == "tench: 87.7%"
    assert ref.demo_line("tench", 1.0) == "tench: 100%"
    assert ref.demo_line("goldfish", 0.000123) == "goldfish: 0.0123%"
