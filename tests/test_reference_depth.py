"""The depth reference (tests/reference_depth.py) on hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests import reference_depth as ref

F32 = np.float32


def test_model_input_letterboxes_and_divides():
    """A 2x4 photo into 4x4: black rows 0 and 3, the photo / 255 in rows 1 and 2."""
    photo = np.full((2, 4, 3), 51, np.uint8)
    values, scale, pad = ref.model_input(photo, 4, 4)
    assert (scale, pad) == (1.0, (0, 1))
    arr = np.array(values, np.float32)
    np.testing.assert_array_equal(arr[1:3], F32(51) / F32(255))
    np.testing.assert_array_equal(arr[[0, 3]], 0)


def test_depth_back_to_the_photo():
    """A 4x4 prediction for a 2x8 photo (scale 0.5, pad top 1): rows 2 and 3 of the 8x8."""
    prediction = np.zeros((4, 4), np.float32)
    prediction[1] = 1.0
    prediction[2] = 3.0
    depth = np.array(ref.depth_to_photo(prediction, 8, 2, 0.5, (0, 1)), np.float32)
    assert depth.shape == (2, 8)
    # Output rows 2 and 3 sample source rows 0.75 (1 * 0.75) and 1.25 (1 * 0.75 + 3 * 0.25).
    np.testing.assert_allclose(depth[0], 0.75)
    np.testing.assert_allclose(depth[1], 1.5)


def test_normalise_divides_by_the_maximum_only():
    out = ref.normalise([[2.0, 4.0], [1.0, 8.0]])
    assert out == [[0.25, 0.5], [0.125, 1.0]]
    assert all(isinstance(v, np.float32) for line in out for v in line)


def test_normalise_all_zero_gives_nan():
    out = ref.normalise([[0.0, 0.0]])
    assert math.isnan(out[0][0])
    assert ref.heatmap_indices([[0.0]]) == [[None]]


@pytest.mark.parametrize(
    ("value", "entry"),
    [
        (0.0, 0),
        (0.5, 128),
        (1.0, 255),  # 256 is not out of range: it maps to the last entry
        (0.99999994, 255),  # 255.99998 truncates
        (0.00390625, 1),  # exactly 1 / 256
        (0.0039062, 0),
        (-0.2, 0),  # under
        (1.5, 255),  # over
        (float("nan"), None),
    ],
)
def test_plasma_index(value, entry):
    assert ref.plasma_index(value) == entry


def test_heatmap_and_colour():
    entries = ref.heatmap_indices([[1.0, 2.0], [4.0, 0.0]])
    assert entries == [[64, 128], [255, 0]]
    table = [(i, i, i) for i in range(256)]
    table[0], table[255] = (12, 7, 134), (239, 248, 33)
    assert ref.colour(entries[1][0], table) == (239, 248, 33)
    assert ref.colour(entries[1][1], table) == (12, 7, 134)
    assert ref.colour(None, table) == (0, 0, 0)
