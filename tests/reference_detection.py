"""AI Hub's YOLO detection app restated with plain loops, as a test oracle.

It restates, step by step and without torch, quic/ai-hub-models 0.65.0
(paths relative to ``qai_hub_models/``):

- ``utils/image_processing.py`` L262-360 ``resize_pad``: the letterbox geometry (scale,
  floored new size, centred padding with the odd pixel at the bottom / right) and the
  ``F.interpolate(mode="bilinear")`` call, i.e. align_corners=False and antialias=False;
- PyTorch's CPU bilinear kernel (``aten/src/ATen/native/UpSample.h``
  ``area_pixel_compute_scale``, ``area_pixel_compute_source_index``,
  ``guard_index_and_lambda``, ``compute_source_index_and_lambda``, and the
  ``Interpolate`` accumulation order of ``cpu/UpSampleKernel.cpp``), one output pixel at a
  time in float32;
- ``utils/runtime_torch_wrapper.py`` L272-283 (float input -> quantized: ``rint`` then the
  zero point, clipped) and L340-348 (quantized output -> float32);
- ``models/templates/yolo/model.py`` L47-88 ``yolo_detect_postprocess`` (the head decode
  AI Hub's exports run inside the model, and what a raw Ultralytics ``[1, 4+C, N]`` output
  needs outside it) with ``utils/bounding_box_processing.py`` L222-257 ``box_xywh_to_xyxy``;
- ``utils/bounding_box_processing.py`` L19-130 ``batched_nms``: the ``>=`` score filter and
  torchvision's class-aware ``batched_nms``;
- ``models/templates/yolo/app.py`` L241-270: NMS, then boxes mapped back with
  ``(v - pad) / scale``, not clipped.

Images are ``[H, W, C]`` float32 arrays (channels last, as porter's TFLite inputs; AI Hub's
NCHW arithmetic is the same per channel). Image results are nested lists ``[y][x][c]`` of
numpy float32 scalars; boxes are tuples of float32 scalars. Written for clarity, not speed:
a 1080x1920 photo letterboxed to 640x640x3 takes a few seconds.

Torch arithmetic emulated here, each step rounded to float32 as torch does:

- the bilinear ratio is ``float32(in) / float32(out)`` when a size is given, or
  ``float32(1.0 / scale_factor)`` (the division in double) when a scale factor is given;
- source index ``ratio * (d + 0.5) - 0.5``, raised to 0 when negative; ``i0 = min(floor,
  in - 1)``; ``lambda1 = clamp(src - i0, 0, 1)``, ``lambda0 = 1 - lambda1``;
  ``i1 = i0 + 1`` except at the last input pixel; an axis whose size does not change is
  copied (``i0 = i1 = d``, lambdas 1 and 0);
- two kernels, picked as torch picks them (:func:`torch_kernel`): the generic one combines
  along x, then along y; the channels-last one (outputs with height + width <= 128, or one
  thread and 3 channels) sums four products with weights ``wy * wx``;
- torch's AVX2 / AVX512 builds contract ``a * b + c`` into fused multiply-adds, in the source
  index and in both kernels' sums; that is emulated exactly (``fused=True``, the default),
  and plain float32 arithmetic (``fused=False``) is what ATEN_CPU_CAPABILITY=default gives.
  Both were checked bit for bit against torch 2.13 (/work/ref/facts/reference_checks.md);
- ``(v - pad) / scale`` on a float32 tensor with a Python float: float32 subtraction, then
  float32 division by ``float32(scale)`` (also checked against torch 2.13);
- ``scores >= 0.45`` compares in float32 (the Python float is cast to float32);
- torchvision's ``nms`` computes IoU in float32 and compares ``iou > threshold`` with the
  threshold as a double (read from its nms_kernel.cpp, not run here).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple

import numpy as np

INPUT_SIZE = 640
SCORE_THRESHOLD = 0.45  # templates/yolo/app.py L68
IOU_THRESHOLD = 0.7  # templates/yolo/app.py L69

F32 = np.float32


class Letterbox(NamedTuple):
    """resize_pad's geometry: the scale, the resized size and the four paddings."""

    scale: float
    new_height: int
    new_width: int
    pad_left: int
    pad_top: int
    pad_right: int
    pad_bottom: int


class Tap(NamedTuple):
    """One output index of a bilinear axis: two source indices and their weights."""

    i0: int
    i1: int
    lambda0: np.float32
    lambda1: np.float32


class Detection(NamedTuple):
    """One detection kept by the app: its row in the model output, box, score and class."""

    index: int
    box: tuple[np.float32, np.float32, np.float32, np.float32]  # x1, y1, x2, y2
    score: np.float32
    class_id: int


# ---- letterbox geometry ---------------------------------------------------------------------


def split_padding(pad: int) -> tuple[int, int]:
    """_split_padding("center"): half before (rounded down), the odd pixel after."""
    return pad // 2, pad // 2 + pad % 2


def letterbox(
    height: int, width: int, dst_height: int = INPUT_SIZE, dst_width: int = INPUT_SIZE
) -> Letterbox:
    """resize_pad L316-339: scale = min of the two ratios, sizes floored in double.

    The sizes come from ``math.floor(side * scale)`` with the Python-float scale, so a side
    can come out one pixel short (e.g. 1077 * (640 / 1077) = 639.99999...).
    """
    h_ratio = dst_height / height
    w_ratio = dst_width / width
    scale = min(h_ratio, w_ratio)
    new_height = math.floor(height * scale)
    new_width = math.floor(width * scale)
    top, bottom = split_padding(dst_height - new_height)
    left, right = split_padding(dst_width - new_width)
    return Letterbox(scale, new_height, new_width, left, top, right, bottom)


# ---- torch bilinear, align_corners=False, antialias=False ----------------------------------


def nearest_float32(value: Fraction) -> np.float32:
    """The float32 nearest to an exact rational, ties to the even significand."""
    guess = F32(float(value))
    candidates = [np.nextafter(guess, F32(-np.inf)), guess, np.nextafter(guess, F32(np.inf))]

    def distance(candidate: np.float32) -> tuple[Fraction, int]:
        odd = int(np.array(candidate).view(np.uint32)) & 1
        return abs(Fraction(float(candidate)) - value), odd

    return min(candidates, key=distance)


def fma32(a, b, c) -> np.float32:
    """a * b + c rounded once to float32, as a fused multiply-add instruction computes it.

    The product of two float32 values is exact in a double; if adding ``c`` is exact too
    (TwoSum's error term is zero), one rounding to float32 follows. Otherwise the exact sum is
    rounded with fractions, so no double rounding can creep in.
    """
    product = float(a) * float(b)
    addend = float(c)
    total = product + addend
    back = total - product
    error = (product - (total - back)) + (addend - back)
    if error == 0:
        return F32(total)
    return nearest_float32(Fraction(product) + Fraction(addend))


def bilinear_ratio(in_size: int, out_size: int, scale_factor: float | None = None) -> np.float32:
    """area_pixel_compute_scale (align_corners=False) through compute_scales_value."""
    if scale_factor is not None and scale_factor > 0:
        return F32(1.0 / scale_factor)  # the division happens in double
    return F32(in_size) / F32(out_size)


def linear_taps(
    in_size: int, out_size: int, scale_factor: float | None = None, fused: bool = True
) -> list[Tap]:
    """compute_source_index_and_lambda for every output index of one axis.

    With ``fused``, ``ratio * (d + 0.5) - 0.5`` is one fused multiply-add, as torch's
    AVX2 / AVX512 kernels compute it; without, two float32 roundings (the DEFAULT build).
    """
    taps = []
    if in_size == out_size:
        for d in range(out_size):
            taps.append(Tap(d, d, F32(1), F32(0)))
        return taps
    ratio = bilinear_ratio(in_size, out_size, scale_factor)
    for d in range(out_size):
        centre = F32(d) + F32(0.5)
        src = fma32(ratio, centre, F32(-0.5)) if fused else ratio * centre - F32(0.5)
        if src < 0:
            src = F32(0)
        i0 = min(math.floor(src), in_size - 1)
        lambda1 = min(max(src - F32(i0), F32(0)), F32(1))
        i1 = i0 + 1 if i0 < in_size - 1 else i0
        taps.append(Tap(i0, i1, F32(1) - lambda1, lambda1))
    return taps


def torch_kernel(out_height: int, out_width: int, channels: int, threads: int = 2) -> str:
    """Which CPU kernel torch picks for a float NCHW-contiguous input (UpSampleKernel.cpp).

    ``upsample_bilinear2d_kernel_impl_float`` takes the channels-last kernel when the output's
    height + width is at most 128, or when torch runs on one thread and there are 3 channels;
    otherwise the generic one. (Channels-last inputs with more than 3 channels also take the
    channels-last kernel; this reference only deals with NCHW-contiguous tensors.)
    """
    if out_height + out_width <= 128 or (threads == 1 and channels == 3):
        return "channels_last"
    return "generic"


def combine(p00, p01, p10, p11, tx: Tap, ty: Tap, kernel: str, fused: bool) -> np.float32:
    """One output value from its four source pixels, in the chosen kernel's order.

    generic (``Interpolate<2>`` over ``Interpolate<1>``): along x then along y,
    ``top = p00 * wx0 + p01 * wx1``, ``bottom = p10 * wx0 + p11 * wx1``,
    ``out = top * wy0 + bottom * wy1``; fused, each ``a * w0 + b * w1`` is
    ``fma(a, w0, b * w1)``.

    channels_last (its scalar loop): weights ``w00 = wy0 * wx0`` ... ``w11 = wy1 * wx1``, then
    ``p00 * w00 + p01 * w01 + p10 * w10 + p11 * w11`` left to right; fused,
    ``fma(p11, w11, fma(p10, w10, fma(p00, w00, p01 * w01)))``. (Its vector loop, used when
    there are at least 8 or 16 channels, adds in another order and is not restated.)
    """
    if kernel == "generic":
        if fused:
            top = fma32(p00, tx.lambda0, p01 * tx.lambda1)
            bottom = fma32(p10, tx.lambda0, p11 * tx.lambda1)
            return fma32(top, ty.lambda0, bottom * ty.lambda1)
        top = p00 * tx.lambda0 + p01 * tx.lambda1
        bottom = p10 * tx.lambda0 + p11 * tx.lambda1
        return top * ty.lambda0 + bottom * ty.lambda1
    if kernel == "channels_last":
        w00, w01 = ty.lambda0 * tx.lambda0, ty.lambda0 * tx.lambda1
        w10, w11 = ty.lambda1 * tx.lambda0, ty.lambda1 * tx.lambda1
        if fused:
            total = fma32(p00, w00, p01 * w01)
            total = fma32(p10, w10, total)
            return fma32(p11, w11, total)
        return p00 * w00 + p01 * w01 + p10 * w10 + p11 * w11
    raise ValueError(f"unknown kernel {kernel!r}")


def interpolate_bilinear(
    image: np.ndarray,
    out_height: int,
    out_width: int,
    scale_factor: float | None = None,
    kernel: str | None = None,
    fused: bool = True,
) -> list[list[list[np.float32]]]:
    """F.interpolate(mode="bilinear") of an [H, W, C] float32 image, pixel by pixel.

    ``scale_factor`` (one value for both axes) stands for a call with ``scale_factor=``: the
    ratio is then its reciprocal, not in / out. The output size must be given either way
    (torch computes it as ``int(in * scale_factor)``). ``kernel`` is "generic" or
    "channels_last"; by default the one :func:`torch_kernel` says torch takes on more than one
    thread. ``fused`` emulates the fused multiply-adds of torch's AVX2 / AVX512 builds (bit
    for bit on this machine's torch 2.13); ``fused=False`` is plain float32 arithmetic, as
    with ATEN_CPU_CAPABILITY=default.
    """
    in_height, in_width, channels = image.shape
    if kernel is None:
        kernel = torch_kernel(out_height, out_width, channels)
    rows = linear_taps(in_height, out_height, scale_factor, fused)
    cols = linear_taps(in_width, out_width, scale_factor, fused)
    out = []
    for ty in rows:
        line = []
        for tx in cols:
            pixel = []
            for c in range(channels):
                p00 = F32(image[ty.i0, tx.i0, c])
                p01 = F32(image[ty.i0, tx.i1, c])
                p10 = F32(image[ty.i1, tx.i0, c])
                p11 = F32(image[ty.i1, tx.i1, c])
                pixel.append(combine(p00, p01, p10, p11, tx, ty, kernel, fused))
            line.append(pixel)
        out.append(line)
    return out


def resize_pad(
    image: np.ndarray,
    dst_height: int = INPUT_SIZE,
    dst_width: int = INPUT_SIZE,
    kernel: str | None = None,
    fused: bool = True,
) -> tuple[list[list[list[np.float32]]], float, tuple[int, int]]:
    """resize_pad on an [H, W, C] float32 0..1 image: (padded image, scale, (left, top)).

    The padding is 0.0 (black), as ``F.pad(..., value=0.0)``.
    """
    height, width, channels = image.shape
    box = letterbox(height, width, dst_height, dst_width)
    resized = interpolate_bilinear(image, box.new_height, box.new_width, None, kernel, fused)
    black = [F32(0)] * channels
    out = []
    for y in range(dst_height):
        line = []
        for x in range(dst_width):
            ry, rx = y - box.pad_top, x - box.pad_left
            if 0 <= ry < box.new_height and 0 <= rx < box.new_width:
                line.append(list(resized[ry][rx]))
            else:
                line.append(list(black))
        out.append(line)
    return out, box.scale, (box.pad_left, box.pad_top)


# ---- quantized inputs and outputs ------------------------------------------------------------


def quantize(value: float, scale: float, zero_point: int, low: int = 0, high: int = 255) -> int:
    """runtime_torch_wrapper.py L276-283: rint(float64(v) / scale) + zero point, clipped.

    ``rint`` rounds half to even (0.5 / (1/255) style ties go to the even code).
    """
    code = np.rint(np.float64(value) / scale) + zero_point
    return int(min(max(code, low), high))


def dequantize(code: int, scale: float, zero_point: int) -> np.float32:
    """runtime_torch_wrapper.py L343-348: float32((int32(q) - zero point) * float64(scale))."""
    return F32((int(code) - int(zero_point)) * np.float64(scale))


# ---- head decode -----------------------------------------------------------------------------


def xywh_to_xyxy(cx, cy, w, h) -> tuple[np.float32, np.float32, np.float32, np.float32]:
    """box_xywh_to_xyxy: centre -/+ (size * 0.5), in float32."""
    half_w, half_h = F32(w) * F32(0.5), F32(h) * F32(0.5)
    return (F32(cx) - half_w, F32(cy) - half_h, F32(cx) + half_w, F32(cy) + half_h)


def decode_head(
    output: np.ndarray, channels_first: bool = True
) -> tuple[list[tuple], list[np.float32], list[int]]:
    """yolo_detect_postprocess on one raw head output: (boxes xyxy, best scores, classes).

    ``output`` is ``[4+C, N]`` (``channels_first``, Ultralytics' ``output0`` without its batch
    axis) or ``[N, 4+C]``: rows cx, cy, w, h in input pixels, then C class scores (already
    sigmoids). With one class, AI Hub pads a zero score column before the max (L82-83), so a
    negative score would lose to class 1; the best class is the first maximal score.
    """
    rows = output if channels_first else output.T
    count = rows.shape[1]
    classes_n = rows.shape[0] - 4
    boxes, scores, classes = [], [], []
    for n in range(count):
        boxes.append(xywh_to_xyxy(rows[0, n], rows[1, n], rows[2, n], rows[3, n]))
        candidates = [F32(rows[4 + c, n]) for c in range(classes_n)]
        if classes_n == 1:
            candidates.append(F32(0))
        best = 0
        for c in range(1, len(candidates)):
            if candidates[c] > candidates[best]:
                best = c
        scores.append(candidates[best])
        classes.append(best)
    return boxes, scores, classes


# ---- NMS (torchvision semantics) -------------------------------------------------------------


def box_iou(a: tuple, b: tuple) -> np.float32:
    """torchvision nms_kernel's overlap: no +1, areas (x2 - x1) * (y2 - y1), in float32."""
    a = [F32(v) for v in a]
    b = [F32(v) for v in b]
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    w = max(F32(0), min(a[2], b[2]) - max(a[0], b[0]))
    h = max(F32(0), min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / (area_a + area_b - inter)


def by_score(indices: list[int], scores: list) -> list[int]:
    """Descending score; equal scores keep their input order (a stable sort)."""
    return sorted(indices, key=lambda i: -float(scores[i]))


def nms(boxes: list[tuple], scores: list, iou_threshold: float) -> list[int]:
    """torchvision.ops.nms: greedy by score, drop a later box when IoU > threshold.

    The order is ``scores.sort(stable=True, descending=True)``: ties keep the input order. A
    suppressed box suppresses nothing. The threshold is compared as a double: with 0.3, an
    IoU of float32(0.3) = 0.30000001 suppresses; with 0.7, float32(0.7) = 0.69999999 does not.
    """
    order = by_score(list(range(len(boxes))), scores)
    suppressed = [False] * len(boxes)
    keep = []
    for pos, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        for j in order[pos + 1 :]:
            if not suppressed[j] and float(box_iou(boxes[i], boxes[j])) > iou_threshold:
                suppressed[j] = True
    return keep


def batched_nms(boxes: list[tuple], scores: list, classes: list[int], iou_threshold: float):
    """torchvision.ops.batched_nms: NMS within each class, kept boxes by descending score.

    Ties in score come out in input order. That is what torchvision gives for up to 1000
    boxes (CPU): it shifts each class's boxes by ``class * (max coordinate + 1)`` (in float32,
    so IoUs near the threshold may round differently from this raw-coordinate version) and
    runs one stable ``nms``. Above 1000 boxes it runs ``nms`` per class and sorts the union
    with an unstable ``sort(descending=True)``: equal scores then come out in no fixed order.
    """
    keep = []
    for class_id in sorted(set(classes)):
        members = [i for i in range(len(boxes)) if classes[i] == class_id]
        kept = nms([boxes[i] for i in members], [scores[i] for i in members], iou_threshold)
        keep.extend(members[k] for k in kept)
    return by_score(sorted(keep), scores)


# ---- the app ---------------------------------------------------------------------------------


def map_back(value, pad: int, scale: float) -> np.float32:
    """app.py L263-270: (v - pad) / scale on float32 boxes: float32 steps, not clipped."""
    return (F32(value) - F32(pad)) / F32(scale)


def app_detections(
    boxes: list[tuple],
    scores: list,
    classes: list[int],
    scale: float,
    pad: tuple[int, int],
    score_threshold: float = SCORE_THRESHOLD,
    iou_threshold: float = IOU_THRESHOLD,
) -> list[Detection]:
    """YoloObjectDetectionApp.predict's decode, from the model's three outputs to the photo.

    ``boxes`` are x1, y1, x2, y2 in input pixels, ``scores`` the best class score and
    ``classes`` its class id (the ``boxes`` / ``scores`` / ``class_idx`` outputs, dequantized).
    Keeps ``score >= threshold`` (float32 comparison), runs class-aware NMS, then maps the
    kept boxes back with ``pad = (left, top)`` and ``scale`` from :func:`letterbox`.
    Detections come in descending score order; there is no cap on their number.
    """
    threshold = F32(score_threshold)
    survivors = [i for i in range(len(scores)) if F32(scores[i]) >= threshold]
    kept = batched_nms(
        [boxes[i] for i in survivors],
        [scores[i] for i in survivors],
        [int(classes[i]) for i in survivors],
        iou_threshold,
    )
    pad_x, pad_y = pad
    detections = []
    for k in kept:
        i = survivors[k]
        x1, y1, x2, y2 = boxes[i]
        box = (
            map_back(x1, pad_x, scale),
            map_back(y1, pad_y, scale),
            map_back(x2, pad_x, scale),
            map_back(y2, pad_y, scale),
        )
        detections.append(Detection(i, box, F32(scores[i]), int(classes[i])))
    return detections
