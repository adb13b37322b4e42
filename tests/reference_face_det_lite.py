"""AI Hub's face_det_lite decoding restated with plain loops, as a test oracle.

It restates, step by step and without torch, quic/ai-hub-models:

- qai_hub_models/models/face_det_lite/utils.py: ``detect``, ``nms`` and ``BBox``;
- qai_hub_models/utils/bounding_box_processing.py: ``get_iou`` (the +1 pixel convention);
- qai_hub_models/models/face_det_lite/app.py: the clipping and enlargement of each box.

Torch's parts are emulated one cell at a time: ``sigmoid`` in the heatmap's own dtype,
``max_pool2d(hm, 3, 1, 1)`` as a 3x3 neighbourhood padded with -inf, and ``topk`` as a
sort by descending score with ties in row-major (ascending flat index) order.
Scores stay numpy scalars, so ``score < threshold`` compares as the reference does with
NumPy 2 (a Python float threshold takes the score's float32 type).

Written for clarity, not speed: a 60x80 grid takes tens of milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

STRIDE = 8
TOP_K = 2000
INPUT_WIDTH = 640
INPUT_HEIGHT = 480


@dataclass
class Face:
    """One detection: what utils.BBox holds, plus the heatmap cell it came from."""

    score: np.floating
    box: tuple[float, float, float, float]  # x, y, r, b with x <= r and y <= b
    landmarks: list[tuple[float, float]] = field(default_factory=list)
    cell: tuple[int, int] = (-1, -1)  # (row, column)


def make_face(
    score: float,
    corners: tuple[float, float, float, float],
    landmarks: list[tuple[float, float]] | None = None,
    cell: tuple[int, int] = (-1, -1),
) -> Face:
    """BBox.__init__: keep the smaller of x / r as x, the larger as r; same for y / b."""
    x, y, r, b = corners
    box = (min(x, r), min(y, b), max(x, r), max(y, b))
    return Face(score, box, list(landmarks or []), cell)


def sigmoid_cells(heatmap: np.ndarray) -> list[list[np.floating]]:
    """hm.sigmoid() on channel 0 of an [H, W, C] grid, cell by cell, in its dtype."""
    one = heatmap.dtype.type(1)
    rows, cols = heatmap.shape[:2]
    result = []
    for row in range(rows):
        line = []
        for col in range(cols):
            with np.errstate(over="ignore"):
                line.append(one / (one + np.exp(-heatmap[row, col, 0])))
        result.append(line)
    return result


def max_pool_3x3(values: list[list[np.floating]]) -> list[list[np.floating]]:
    """F.max_pool2d(values, 3, stride=1, padding=1): the max over each 3x3 neighbourhood."""
    rows, cols = len(values), len(values[0])

    def padded(row: int, col: int) -> float:
        if 0 <= row < rows and 0 <= col < cols:
            return values[row][col]
        return -math.inf

    pooled = []
    for row in range(rows):
        line = []
        for col in range(cols):
            best = -math.inf
            for d_row in (-1, 0, 1):
                for d_col in (-1, 0, 1):
                    best = max(best, padded(row + d_row, col + d_col))
            line.append(best)
        pooled.append(line)
    return pooled


def top_k(flat: list[np.floating], k: int) -> list[int]:
    """tensor.topk(k) indices: descending value, ties by ascending index."""
    ranked = sorted(range(len(flat)), key=lambda index: (-flat[index], index))
    return ranked[:k]


def get_iou(box_a: tuple[float, ...], box_b: tuple[float, ...]) -> float:
    """bounding_box_processing.get_iou: xyxy boxes, sides counted with +1."""
    left = max(box_a[0], box_b[0])
    top = max(box_a[1], box_b[1])
    right = min(box_a[2], box_b[2])
    bottom = min(box_a[3], box_b[3])
    inter = max(0, right - left + 1) * max(0, bottom - top + 1)
    area_a = (box_a[2] - box_a[0] + 1) * (box_a[3] - box_a[1] + 1)
    area_b = (box_b[2] - box_b[0] + 1) * (box_b[3] - box_b[1] + 1)
    return inter / float(area_a + area_b - inter)


def nms(faces: list[Face], iou: float) -> list[Face]:
    """utils.nms: by descending score (stable), drop any later face overlapping a kept one."""
    if len(faces) <= 1:
        return faces
    ordered = sorted(faces, key=lambda face: face.score, reverse=True)
    suppressed = [False] * len(ordered)
    kept = []
    for i, face in enumerate(ordered):
        if suppressed[i]:
            continue
        kept.append(face)
        for j in range(i + 1, len(ordered)):
            if not suppressed[j] and get_iou(face.box, ordered[j].box) > iou:
                suppressed[j] = True
    return kept


def detect(
    heatmap: np.ndarray,
    bbox: np.ndarray,
    landmark: np.ndarray,
    threshold: float,
    nms_iou: float = -1,
    stride: int = STRIDE,
    k: int = TOP_K,
) -> list[Face]:
    """utils.detect on [H, W, C] grids (heatmap logits, 4 box edges, 10 landmark offsets)."""
    rows, cols = heatmap.shape[:2]
    scores = sigmoid_cells(heatmap)
    pooled = max_pool_3x3(scores)
    # (hm == hm_pool).float() * hm, flattened row by row.
    flat = []
    for row in range(rows):
        for col in range(cols):
            is_peak = scores[row][col] == pooled[row][col]
            flat.append(scores[row][col] * (1.0 if is_peak else 0.0))
    faces = []
    for index in top_k(flat, min(len(flat), k)):
        score = flat[index]
        if score < threshold:
            break
        cy, cx = index // cols, index % cols
        left, top, right, bottom = (float(v) for v in bbox[cy, cx])
        corners = (
            (cx - left) * stride,
            (cy - top) * stride,
            (cx + right) * stride,
            (cy + bottom) * stride,
        )
        offsets = [float(v) for v in landmark[cy, cx]]
        points = [((offsets[i] + cx) * stride, (offsets[5 + i] + cy) * stride) for i in range(5)]
        faces.append(make_face(score, corners, points, (cy, cx)))
    if nms_iou != -1:
        return nms(faces, nms_iou)
    return faces


def app_box(box: tuple[float, float, float, float]) -> list[int]:
    """app.py, one detection: integer [L, T, W, H], clipped, enlarged when it still fits."""
    xmin, ymin = box[0], box[1]
    w, h = box[2] - box[0] + 1, box[3] - box[1] + 1  # BBox.width / BBox.height
    left, right, top, bottom = int(xmin), int(xmin + w), int(ymin), int(ymin + h)
    width, height = int(w), int(h)
    if left < 0 or top < 0 or right >= INPUT_WIDTH or bottom >= INPUT_HEIGHT:
        left, top = max(left, 0), max(top, 0)
        right, bottom = min(right, INPUT_WIDTH - 1), min(bottom, INPUT_HEIGHT - 1)
    big_left = left - int(width * 0.05)
    big_top = top - int(height * 0.05)
    big_width = int(width * 1.1)
    big_height = int(height * 1.1)
    if (
        big_left >= 0
        and big_top >= 0
        and big_width - 1 + big_left < INPUT_WIDTH
        and big_height - 1 + big_top < INPUT_HEIGHT
    ):
        left, top, width, height = big_left, big_top, big_width, big_height
    return [left, top, width, height]
