"""The segmentation reference (tests/reference_segmentation.py) on hand-worked values."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tests import reference_segmentation as ref

F32 = np.float32


def test_letterbox_is_truncated_back_to_uint8():
    """A flat 2x4 photo into 4x4: scale 1 (a copy), one black row above and one below."""
    photo = np.full((2, 4, 3), 100, np.uint8)
    letterboxed, scale, pad = ref.pil_resize_pad(photo, 4, 4)
    assert (scale, pad) == (1.0, (0, 1))
    arr = np.array(letterboxed)
    assert arr.dtype.kind == "i"
    np.testing.assert_array_equal(arr[1:3], 100)
    np.testing.assert_array_equal(arr[[0, 3]], 0)


def test_flat_region_can_drop_a_level():
    """3x5 of value 3 into 7x7 (scale 1.4, 4x7): float32 rounding in the weighted sums makes
    some pixels 0.011764705 instead of 3 / 255 = 0.011764706; * 255 gives 2.9999998 -> 2."""
    photo = np.full((3, 5, 3), 3, np.uint8)
    letterboxed, _, pad = ref.pil_resize_pad(photo, 7, 7)
    assert pad == (0, 1)
    inside = np.array(letterboxed)[1:5]
    assert set(inside.ravel().tolist()) == {2, 3}


def test_undo_geometry_1080p():
    """1920x1080 into 640: scale 1/3, pad top 140; back to 1920x1920, crop from row 420."""
    scale = 640 / 1920
    assert ref.undo_size(640, 640, scale) == (1920, 1920)
    assert ref.undo_crop((0, 140), scale) == (0, 420)


def test_undo_comes_out_one_pixel_short():
    """2011x2014 (W x H) into 518: int(518 * (2014 / 518)) = 2013 rows for 2014."""
    scale = min(518 / 2014, 518 / 2011)
    assert ref.undo_size(518, 518, scale) == (2013, 2013)


def test_undo_crop_rounds_half_to_even():
    assert ref.undo_crop((1, 3), 2 / 5) == (2, 8)  # 2.5 -> 2, 7.5 -> 8
    assert ref.undo_crop((0, 0), 0.3) == (0, 0)


def test_undo_resize_pad_small():
    """A 4x4 model-size image, photo 2x8 (scale 0.5, pad top 1): back to 8x8, crop rows 2..3."""
    image = np.zeros((4, 4, 1), np.float32)
    image[1:3] = 0.5
    restored = np.array(ref.undo_resize_pad(image, 8, 2, 0.5, (0, 1)), np.float32)
    assert restored.shape == (2, 8, 1)
    # Rows 2 and 3 of the 8-row upscale sample sources 0.75 and 1.25: between black and 0.5.
    np.testing.assert_allclose(restored[0, :, 0], 0.375)
    np.testing.assert_allclose(restored[1, :, 0], 0.5)


def test_pil_undo_resize_pad_truncates():
    image = np.zeros((4, 4, 3), np.uint8)
    image[1:3] = 200
    restored = np.array(ref.pil_undo_resize_pad(image, 8, 2, 0.5, (0, 1)))
    np.testing.assert_array_equal(restored[0], 150)  # 0.75 * 200
    np.testing.assert_array_equal(restored[1], 200)


def test_logits_upsampled_then_argmax_by_hand():
    """2x2 logits, 3 classes, to 4x4: the class boundary falls between the sampled rows."""
    logits = np.zeros((2, 2, 3), np.float32)
    logits[0, :, 0] = 4.0  # top row: class 0
    logits[1, :, 2] = 2.0  # bottom row: class 2 (weaker)
    classes = ref.cityscapes_classes(logits, 4, 4)
    # Rows weigh the top row 1, 0.75, 0.25, 0: class 0 scores 4, 3, 1, 0; class 2 0, .5, 1.5, 2.
    assert classes == [[0] * 4, [0] * 4, [2] * 4, [2] * 4]


def test_argmax_ties_take_the_first_class():
    assert ref.argmax_classes([[[1.0, 1.0, 0.5], [0.0, 2.0, 2.0]]]) == [[0, 1]]


def test_random_palette_matches_ai_hubs_colours():
    palette = ref.random_palette(21)
    assert palette[0] == (0, 0, 0)
    assert palette[1] == (95, 179, 61)
    assert palette[2] == (234, 203, 92)
    assert palette[20] == (116, 237, 109)
    assert ref.random_palette(19) == palette[:19]


def test_blend_half_is_floor_of_the_mean_as_pillow():
    a = np.arange(256, dtype=np.uint8).repeat(256).reshape(256, 256)
    b = a.T.copy()
    blended = np.asarray(Image.blend(Image.fromarray(a), Image.fromarray(b), 0.5))
    np.testing.assert_array_equal(blended, (a.astype(int) + b) // 2)
    assert (
        ref.blend_half(3, 0) == 1 and ref.blend_half(0, 3) == 1 and ref.blend_half(255, 254) == 254
    )


def test_overlay_with_cityscapes_colours_and_unknown_ids():
    letterboxed = [[[100, 100, 100], [0, 0, 0]]]
    classes = [[0, 255]]
    out = ref.overlay(letterboxed, classes, ref.CITYSCAPES_COLOURS)
    assert out == [[[114, 82, 114], [0, 0, 0]]]
    assert len(ref.CITYSCAPES_COLOURS) == 19 and ref.CITYSCAPES_COLOURS[10] == (70, 130, 180)
