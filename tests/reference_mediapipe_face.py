"""AI Hub's MediaPipe face detector app restated with plain loops, as a test oracle.

It restates quic/ai-hub-models 0.65.0 (paths relative to ``qai_hub_models/``) and the anchor
generator the detector was trained with:

- MediaPipe's ``SsdAnchorsCalculator::GenerateAnchors``
  (``mediapipe/calculators/tflite/ssd_anchors_calculator.cc``): layers with equal strides
  share a grid of ``ceil(input / stride)`` cells; each layer adds its aspect ratios and, when
  ``interpolated_scale_aspect_ratio > 0``, one more anchor; anchors run layer, y, x, anchor;
  centres are ``(x + 0.5) / grid`` and, with ``fixed_anchor_size``, ``w = h = 1``. AI Hub's
  256x256 BlazeFace (``anchors_face_back.npy``, MediaPipe's old back-camera options) and
  Google's 128x128 short-range model both give 16x16x2 + 8x8x6 = 896 anchors with the same
  values; Google's 192x192 full-range model gives 48x48x1 = 2304;
- ``models/templates/mediapipe/utils.py`` L11-56 ``decode_preds_from_anchors`` and
  L103-173 ``mediapipe_detector_postprocess``: logits clamped to +-100, then a float32
  sigmoid; each (x, y) pair is ``raw * anchor_wh + anchor_centre * (W, H)``, except the
  second pair (w, h), which gets no offset: ``cx = raw0 + ax * 256``, ``w = raw2``; the box
  becomes ``centre -+ size * 0.5`` (x first: x0, y0, x1, y1), then six keypoints;
- ``utils/bounding_box_processing.py`` L19-130 ``batched_nms`` without classes: keep
  ``score >= 0.8`` (float32 comparison), then plain class-agnostic ``torchvision.ops.nms`` at
  IoU 0.3 (``mediapipe_face/app.py`` L60-62): IoU ``inter / (area_a + area_b - inter)`` with
  areas ``(x1 - x0) * (y1 - y0)`` (no +1) in float32; a later face is dropped when IoU **>**
  0.3, the threshold taken as a double (so an IoU of float32(0.3) = 0.30000001 drops it);
  order by descending score, ties in anchor order (see tests/reference_detection.py);
- ``models/templates/mediapipe/app.py`` L362-386 with ``utils/image_processing.py``
  L525-538 ``denormalize_coordinates``: every point becomes
  ``int((v - pad) / scale)`` (float32, truncated toward zero: -0.7 gives 0), and a face is
  dropped when any of its 8 points has a coordinate below 0, an x above the photo's width or a
  y above its height (a point exactly on the width or height stays).

AI Hub's app then keeps only the first face that survives (``break`` at app.py L386); this
reference reports every surviving face, in score order, so the first is AI Hub's.

Inputs are ``[N, 16]`` coordinates and ``[N]`` (or ``[N, 1]``) logits for one image: the
AI Hub 0.65 export's ``box_coords_1`` / ``box_coords_2`` (and scores) concatenated in that
order, or the older single tensors. Results are lists of tuples and NamedTuples.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from tests import reference_detection as detection

F32 = np.float32
SCORE_CLIP = 100.0  # mediapipe_face/model.py L186
SCORE_THRESHOLD = 0.8  # mediapipe_face/app.py L60
IOU_THRESHOLD = 0.3  # mediapipe_face/app.py L61
NUM_KEYPOINTS = 6


class AnchorOptions(NamedTuple):
    """The SsdAnchorsCalculatorOptions fields the face detectors set."""

    input_size_height: int
    input_size_width: int
    num_layers: int
    strides: tuple[int, ...]
    min_scale: float = 0.1484375
    max_scale: float = 0.75
    anchor_offset_x: float = 0.5
    anchor_offset_y: float = 0.5
    aspect_ratios: tuple[float, ...] = (1.0,)
    interpolated_scale_aspect_ratio: float = 1.0
    fixed_anchor_size: bool = True
    reduce_boxes_in_lowest_layer: bool = False


# AI Hub's 256x256 BlazeFace: MediaPipe's old face_detection_back_mobile_gpu.pbtxt options.
AIHUB_256 = AnchorOptions(256, 256, 4, (16, 32, 32, 32), min_scale=0.15625)
# Google's face_detection_short_range (128x128) and full_range (192x192) graphs.
SHORT_RANGE_128 = AnchorOptions(128, 128, 4, (8, 16, 16, 16))
FULL_RANGE_192 = AnchorOptions(192, 192, 1, (4,), interpolated_scale_aspect_ratio=0.0)


class Face(NamedTuple):
    """A face the app keeps: its anchor row, score, box corners and keypoints (photo px)."""

    index: int
    score: np.float32
    box: tuple[tuple[int, int], tuple[int, int]]  # ((x0, y0), (x1, y1))
    keypoints: list[tuple[int, int]]


# ---- anchors -----------------------------------------------------------------------------------


def calculate_scale(min_scale: float, max_scale: float, index: int, count: int) -> np.float32:
    """CalculateScale: the midpoint for one stride, else linear from min to max (float)."""
    if count == 1:
        return (F32(min_scale) + F32(max_scale)) * F32(0.5)
    return F32(min_scale + (max_scale - min_scale) * 1.0 * index / (count - 1.0))


def ssd_anchors(options: AnchorOptions) -> list[tuple[np.float32, ...]]:
    """GenerateAnchors: (x_center, y_center, w, h) per anchor, normalised, in float32."""
    anchors = []
    strides = options.strides
    layer = 0
    while layer < options.num_layers:
        ratios, scales = [], []
        last = layer
        while last < len(strides) and strides[last] == strides[layer]:
            scale = calculate_scale(options.min_scale, options.max_scale, last, len(strides))
            if last == 0 and options.reduce_boxes_in_lowest_layer:
                ratios += [1.0, 2.0, 0.5]
                scales += [F32(0.1), scale, scale]
            else:
                for ratio in options.aspect_ratios:
                    ratios.append(ratio)
                    scales.append(scale)
                if options.interpolated_scale_aspect_ratio > 0:
                    if last == len(strides) - 1:
                        following = F32(1.0)
                    else:
                        following = calculate_scale(
                            options.min_scale, options.max_scale, last + 1, len(strides)
                        )
                    scales.append(F32(math.sqrt(scale * following)))
                    ratios.append(options.interpolated_scale_aspect_ratio)
            last += 1
        sizes = []
        for ratio, scale in zip(ratios, scales, strict=True):
            root = F32(math.sqrt(ratio))
            sizes.append((scale * root, scale / root))  # (w, h)
        grid_h = math.ceil(options.input_size_height / strides[layer])
        grid_w = math.ceil(options.input_size_width / strides[layer])
        for y in range(grid_h):
            for x in range(grid_w):
                for w, h in sizes:
                    x_center = (F32(x) + F32(options.anchor_offset_x)) / F32(grid_w)
                    y_center = (F32(y) + F32(options.anchor_offset_y)) / F32(grid_h)
                    if options.fixed_anchor_size:
                        w, h = F32(1.0), F32(1.0)
                    anchors.append((x_center, y_center, w, h))
        layer = last
    return anchors


# ---- decode ------------------------------------------------------------------------------------


def score(logit) -> np.float32:
    """clamp(-100, 100), then sigmoid in float32: 1 / (1 + exp(-x)).

    Torch's vectorized sigmoid differs from this by one float32 ulp on about 16% of values
    (torch 2.13), so a score within an ulp of the threshold may fall on the other side there.
    """
    x = min(max(F32(logit), F32(-SCORE_CLIP)), F32(SCORE_CLIP))
    with np.errstate(over="ignore"):
        return F32(1) / (F32(1) + np.exp(-x))


def decode(raw, anchor, input_height: int = 256, input_width: int = 256) -> list[np.float32]:
    """One anchor's 16 values to x0, y0, x1, y1 and six (x, y) keypoints, input pixels."""
    ax, ay, aw, ah = (F32(v) for v in anchor)
    offset_x, offset_y = ax * F32(input_width), ay * F32(input_height)
    points = []
    for k in range(len(raw) // 2):
        x = F32(raw[2 * k]) * aw
        y = F32(raw[2 * k + 1]) * ah
        if k != 1:  # the second pair is (w, h): no offset
            x, y = x + offset_x, y + offset_y
        points.append((x, y))
    (cx, cy), (w, h) = points[0], points[1]
    half_w, half_h = w * F32(0.5), h * F32(0.5)
    out = [cx - half_w, cy - half_h, cx + half_w, cy + half_h]
    for x, y in points[2:]:
        out += [x, y]
    return out


def to_photo(value, pad: int, scale: float) -> int:
    """denormalize_coordinates: int((v * 1 - pad) / scale) in float32, toward zero."""
    return int((F32(value) - F32(pad)) / F32(scale))


def inside(points: list[tuple[int, int]], width: int, height: int) -> bool:
    """filter_oob_box: no coordinate below 0, no x above width, no y above height."""
    return (
        min(min(x, y) for x, y in points) >= 0
        and max(x for x, _ in points) <= width
        and max(y for _, y in points) <= height
    )


def detect_faces(
    coords,
    logits,
    anchors,
    photo_width: int,
    photo_height: int,
    scale: float,
    pad: tuple[int, int],
    input_height: int = 256,
    input_width: int = 256,
    score_threshold: float = SCORE_THRESHOLD,
    iou_threshold: float = IOU_THRESHOLD,
) -> list[Face]:
    """The app's _run_box_detector for one image, reporting every face that survives.

    ``scale`` and ``pad = (left, top)`` are resize_pad's (tests/reference_detection.py's
    ``letterbox`` with a 256x256 destination).
    """
    logits = np.asarray(logits).reshape(-1)
    scores = [score(v) for v in logits]
    threshold = F32(score_threshold)
    candidates = [i for i in range(len(scores)) if scores[i] >= threshold]
    decoded = {i: decode(coords[i], anchors[i], input_height, input_width) for i in candidates}
    kept = detection.nms(
        [tuple(decoded[i][:4]) for i in candidates],
        [scores[i] for i in candidates],
        iou_threshold,
    )
    faces = []
    for k in kept:
        i = candidates[k]
        values = decoded[i]
        points = [
            (to_photo(values[2 * p], pad[0], scale), to_photo(values[2 * p + 1], pad[1], scale))
            for p in range(len(values) // 2)
        ]
        if not inside(points, photo_width, photo_height):
            continue
        faces.append(Face(i, scores[i], (points[0], points[1]), points[2:]))
    return faces
