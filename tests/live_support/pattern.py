"""Synthetic frames the fake gst-launch-1.0 streams when it is given no photos: each one
tells its number, so a test can check that a frame arrived whole and unsheared.

Frame k: red rises left to right and green top to bottom (both to 200), blue is k % 200,
and a white SQUARE x SQUARE square sits at square_at(k).
"""

from __future__ import annotations

import numpy as np

SQUARE = 12


def square_at(k: int, width: int, height: int) -> tuple[int, int]:
    return (k * 7) % (width - SQUARE), (k * 5) % (height - SQUARE)


def pattern(k: int, width: int, height: int) -> np.ndarray:
    frame = np.empty((height, width, 3), np.uint8)
    frame[:, :, 0] = (np.arange(width) * 200 // max(width - 1, 1))[None, :]
    frame[:, :, 1] = (np.arange(height) * 200 // max(height - 1, 1))[:, None]
    frame[:, :, 2] = k % 200
    x, y = square_at(k, width, height)
    frame[y : y + SQUARE, x : x + SQUARE] = 255
    return frame
