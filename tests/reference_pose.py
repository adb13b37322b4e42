"""AI Hub's HRNet pose decoding restated with plain loops, as a test oracle.

It restates quic/ai-hub-models 0.65.0 (paths relative to ``qai_hub_models/``):

- ``utils/bounding_box_processing.py`` L304-334 ``box_xywh_to_cs``: a person box (top-left
  x, y, width, height; the docstring's "xc, yc" is wrong) to a centre and a scale in pixels:
  the box is first widened or heightened to the input's aspect (192:256 = 0.75), then scaled
  by the padding factor 1.25, in float32. (The demo gets the same numbers from mmpose's
  ``bbox_xyxy2cs`` + ``TopdownAffine._fix_aspect_ratio``, which pad first and fix the aspect
  after; both steps are linear. Without a person detector, mmpose uses the whole image.)
- ``utils/image_processing.py`` L628-687 ``compute_affine_transform`` with L690-733
  ``get_dir`` / ``get_3rd_point``: three float32 point pairs (the centre, a point half the
  scale's width above it, and that offset turned by 90 degrees) define the similarity between
  the photo and an output grid; only ``scale[0]`` matters and there is no 200-pixel unit.
  ``cv2.getAffineTransform`` solves it in double; so does :func:`solve_affine` here.
- ``models/templates/pose/pose_utils.py`` L157-269 ``get_final_preds`` / ``get_max_preds``:
  per joint, the first maximum of the heatmap (row-major), its value, the coordinates zeroed
  when that value is not above 0, a quarter-pixel step towards the larger neighbour (only
  when ``1 < px < W - 1`` and ``1 < py < H - 1``; none when the neighbours are equal), and
  the mapping of heatmap coordinates to the photo (L201-211, output size (48, 64)), written
  back into float32;
- ``models/hrnet_pose/app.py`` L186: ``np.round(preds).astype(np.int32)`` (half to even).

Heatmaps are ``[J, H, W]`` arrays (AI Hub's NCHW without the batch axis; TFLite's
``[1, 64, 48, 17]`` transposed, or pass ``channels_last=True``). Results are lists of tuples.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

F32 = np.float32
INPUT_WIDTH, INPUT_HEIGHT = 192, 256
ASPECT = INPUT_WIDTH / INPUT_HEIGHT  # 0.75
PADDING = 1.25


class Keypoint(NamedTuple):
    """One joint: heatmap coordinates after the shift, photo coordinates, and the peak."""

    heatmap_xy: tuple[np.float32, np.float32]
    xy: tuple[np.float32, np.float32]
    score: np.floating


def box_to_center_scale(
    x: float, y: float, w: float, h: float, aspect: float = ASPECT, padding: float = PADDING
) -> tuple[tuple[np.float32, np.float32], tuple[np.float32, np.float32]]:
    """box_xywh_to_cs: ((cx, cy), (sw, sh)) as float32, the box widened to ``aspect`` first."""
    center = (F32(x + w * 0.5), F32(y + h * 0.5))
    if w > aspect * h:
        h = w / aspect
    elif w < aspect * h:
        w = h * aspect
    scale = (F32(w) * F32(padding), F32(h) * F32(padding))
    return center, scale


def whole_image(width: int, height: int):
    """The person box mmpose falls back to without a detection: the whole photo."""
    return box_to_center_scale(0, 0, width, height)


def third_point(a: tuple, b: tuple) -> tuple[np.float32, np.float32]:
    """get_3rd_point: b plus (a - b) turned by 90 degrees, in float32."""
    dx, dy = a[0] - b[0], a[1] - b[1]
    return (b[0] - dy, b[1] + dx)


def solve_affine(src: list[tuple], dst: list[tuple]) -> list[list[float]]:
    """The 2x3 matrix taking three src points onto three dst points (Cramer's rule, double)."""
    (x0, y0), (x1, y1), (x2, y2) = [(float(p[0]), float(p[1])) for p in src]
    det = x0 * (y1 - y2) - y0 * (x1 - x2) + (x1 * y2 - x2 * y1)
    matrix = []
    for axis in range(2):
        u0, u1, u2 = (float(p[axis]) for p in dst)
        a = (u0 * (y1 - y2) - y0 * (u1 - u2) + (u1 * y2 - u2 * y1)) / det
        b = (x0 * (u1 - u2) - u0 * (x1 - x2) + (x1 * u2 - x2 * u1)) / det
        c = (x0 * (y1 * u2 - y2 * u1) - y0 * (x1 * u2 - x2 * u1) + u0 * (x1 * y2 - x2 * y1)) / det
        matrix.append([a, b, c])
    return matrix


def affine_to_image(center: tuple, scale: tuple, output_size: tuple[int, int]):
    """compute_affine_transform(center, scale, 0, output_size, inv=True): grid -> photo.

    In closed form: ``X = cx + (x - W / 2) * s / W`` and ``Y = cy + (y - H / 2) * s / W``
    with ``s = scale[0]`` and ``(W, H) = output_size``; the points below are built in
    float32 as AI Hub builds them, so the matrix can differ from that in the last bits.
    """
    out_w, out_h = output_size
    s = F32(scale[0])
    cx, cy = F32(center[0]), F32(center[1])
    src0 = (cx, cy)
    src1 = (cx + F32(0), cy + s * F32(-0.5))  # get_dir with no rotation: (0, -s / 2)
    dst0 = (F32(out_w * 0.5), F32(out_h * 0.5))
    dst1 = (dst0[0] + F32(0), dst0[1] + F32(out_w * -0.5))
    src = [src0, src1, third_point(src0, src1)]
    dst = [dst0, dst1, third_point(dst0, dst1)]
    return solve_affine(dst, src)


def apply_affine(matrix, x, y) -> tuple[float, float]:
    """apply_affine_to_coordinates for one point: A[:, :2] @ p + A[:, 2], in double."""
    return (
        matrix[0][0] * float(x) + matrix[0][1] * float(y) + matrix[0][2],
        matrix[1][0] * float(x) + matrix[1][1] * float(y) + matrix[1][2],
    )


def input_pixel_source(u: float, v: float, center: tuple, scale: tuple) -> tuple[float, float]:
    """Where input pixel (u, v) of the 192x256 crop samples the photo (cv2.warpAffine).

    ``pre_process_with_affine`` (image_processing.py L735-771) warps with the forward matrix,
    which cv2 inverts: the sample point is the inverse mapping with output size (192, 256).
    """
    return apply_affine(affine_to_image(center, scale, (INPUT_WIDTH, INPUT_HEIGHT)), u, v)


def joint_peak(heatmap: np.ndarray) -> tuple[np.float32, np.float32, np.floating]:
    """get_max_preds for one [H, W] heatmap: (x, y, maxval), zeroed when maxval <= 0."""
    height, width = heatmap.shape
    best = 0
    for index in range(1, height * width):
        if heatmap[index // width, index % width] > heatmap[best // width, best % width]:
            best = index
    maxval = heatmap[best // width, best % width]
    x = F32(best % width)
    y = F32(math.floor(F32(best) / F32(width)))
    if not maxval > 0:
        x, y = x * F32(0), y * F32(0)
    return x, y, maxval


def quarter_shift(heatmap: np.ndarray, x: np.float32, y: np.float32):
    """get_final_preds L187-199: a quarter pixel towards the larger neighbour, inside only."""
    height, width = heatmap.shape
    px = math.floor(x + F32(0.5))
    py = math.floor(y + F32(0.5))
    if 1 < px < width - 1 and 1 < py < height - 1:
        dx = heatmap[py, px + 1] - heatmap[py, px - 1]
        dy = heatmap[py + 1, px] - heatmap[py - 1, px]
        x = F32(x + F32(np.sign(dx)) * F32(0.25))
        y = F32(y + F32(np.sign(dy)) * F32(0.25))
    return x, y


def final_preds(
    heatmaps: np.ndarray, center: tuple, scale: tuple, channels_last: bool = False
) -> list[Keypoint]:
    """get_final_preds for one person: a Keypoint per joint, in photo pixels (float32)."""
    maps = np.transpose(heatmaps, (2, 0, 1)) if channels_last else heatmaps
    joints, height, width = maps.shape
    matrix = affine_to_image(center, scale, (width, height))
    keypoints = []
    for j in range(joints):
        x, y, maxval = joint_peak(maps[j])
        x, y = quarter_shift(maps[j], x, y)
        px, py = apply_affine(matrix, x, y)
        keypoints.append(Keypoint((x, y), (F32(px), F32(py)), maxval))
    return keypoints


def app_keypoints(keypoints: list[Keypoint]) -> list[tuple[int, int]]:
    """app.py L186: np.round (half to even) of the float32 photo coordinates, as int32."""
    return [(int(np.round(k.xy[0])), int(np.round(k.xy[1]))) for k in keypoints]
