"""The baseline: face_det_lite pre- and postprocessing as Qualcomm's tutorial code does it.

Re-implemented here for the benchmarks from the public tutorial code (written anew, no code
copied): edgeimpulse/qc-ai-test-docs-examples, ai-hub/face-det-lite/preprocessing.py
(`rgb_numpy_arr_to_input_tensor`) and ai-hub/face-det-lite/postprocessing.py
(`face_det_lite_postprocessing`), which `demo.py` there runs on
face_det_lite-lightweight-face-detection-w8a8.tflite. What it does, step for step:

- Preprocessing gets an RGB uint8 frame already at the input's size (in the tutorial
  GStreamer crops and scales it; the benchmarks do that with Pillow's bilinear resize of the
  RGB photo, `resize_like_gstreamer`). One channel: `Image.fromarray(frame).convert("L")`
  (Pillow's own 0.299 / 0.587 / 0.114 weights) for "grayscale", or one named channel of the
  array ("blue" is what demo.py passes). Then `/ 255.0` (float64), `.astype(float32)`,
  `np.rint(x / scale + zero_point)`, clipped to the type's range and cast, batch axis added.
- Postprocessing reads the three outputs by position (0 heatmap, 1 bbox, 2 landmark) and
  dequantizes each whole in float32. utils.detect ported to numpy: sigmoid with `np.exp` in
  float32 through `out=` buffers; the 3x3 max-pool as an `as_strided` (H, W, 3, 3) window view
  of the heatmap padded with -inf, reduced with `.max(axis=(2, 3))`; peaks are the cells
  `>=` their pool; top-k by `argpartition` then `argsort` of k = min(number of peaks, 2000);
  a Python loop over those candidates, stopping at the first score below the threshold, that
  builds float32 numpy arrays per candidate, truncates xyrb to int32 and makes a BBox;
  utils.nms (pairwise, Python) unless nms_iou is -1 (the tutorial passes -1); then app.py's
  per-face loop that clips to 640x480 and enlarges the box by 5% / 10% when it still fits.

The tutorial's functions take the interpreter and call get_input_details(),
get_output_details() and get_tensor() on every frame; here they take the details and arrays,
read once by the caller, so the baseline's time leaves those calls out (it is slightly
flattered, never penalized).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# ---- preprocessing.py: rgb_numpy_arr_to_input_tensor ------------------------------------


def resize_like_gstreamer(image: Image.Image, width: int, height: int) -> np.ndarray:
    """Stand-in for the tutorial's GStreamer scaling: the RGB frame at the input's size."""
    rgb = image.convert("RGB")
    if rgb.size != (width, height):
        rgb = rgb.resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(rgb)


def frame_to_input(frame: np.ndarray, detail: dict, single_channel: str = "grayscale"):
    """An RGB uint8 (H, W, 3) frame at the input's size to the input tensor.

    `detail` is the interpreter's get_input_details()[0].
    """
    shape = [int(n) for n in detail["shape"]]
    dtype = detail["dtype"]
    scale, zero_point = detail.get("quantization", (0.0, 0))
    if len(shape) != 4 or shape[0] != 1:
        raise ValueError(f"unexpected input shape {shape}")
    if shape[1] in (1, 3):
        layout, channels = "NCHW", shape[1]
    elif shape[3] in (1, 3):
        layout, channels = "NHWC", shape[3]
    else:
        raise ValueError(f"no channel axis in {shape}")
    values = frame
    if channels == 1:
        if single_channel == "grayscale":
            plane = np.asarray(Image.fromarray(frame).convert("L"))
        else:
            plane = frame[:, :, {"red": 0, "green": 1, "blue": 2}[single_channel]]
        values = plane[..., np.newaxis]
    if layout == "NCHW":
        values = np.transpose(values, (2, 0, 1))
    values = (values / 255.0).astype(np.float32)  # a float64 temporary, then float32
    if scale and float(scale) != 0.0:
        codes = np.rint(values / float(scale) + int(zero_point))
        if dtype == np.uint8:
            values = np.clip(codes, 0, 255).astype(np.uint8)
        else:
            values = np.clip(codes, -128, 127).astype(np.int8)
    return np.expand_dims(values, 0)


# ---- postprocessing.py: face_det_lite_postprocessing ------------------------------------


def get_iou(first: np.ndarray, second: np.ndarray) -> float:
    """bounding_box_processing.get_iou: xyxy boxes, +1 pixel on each side."""
    left, top = max(first[0], second[0]), max(first[1], second[1])
    right, bottom = min(first[2], second[2]), min(first[3], second[3])
    overlap = max(0, right - left + 1) * max(0, bottom - top + 1)
    area_first = (first[2] - first[0] + 1) * (first[3] - first[1] + 1)
    area_second = (second[2] - second[0] + 1) * (second[3] - second[1] + 1)
    return overlap / float(area_first + area_second - overlap)


class BBox:
    """utils.BBox: corners sorted into (x, y, r, b), with score and landmarks."""

    def __init__(self, label: str, xyrb: list, score: float = 0, landmark: list | None = None):
        self.label, self.score, self.landmark = label, score, landmark
        x, y, r, b = xyrb
        self.x, self.y, self.r, self.b = min(x, r), min(y, b), max(x, r), max(y, b)

    @property
    def width(self):
        return self.r - self.x + 1

    @property
    def height(self):
        return self.b - self.y + 1

    @property
    def box(self) -> list:
        return [self.x, self.y, self.r, self.b]

    @property
    def xywh(self) -> list:
        return [self.x, self.y, self.width, self.height]


def nms(objs: list[BBox], iou: float = 0.5) -> list[BBox]:
    """utils.nms: sort by score, then drop every later box overlapping a kept one."""
    if objs is None or len(objs) <= 1:
        return objs
    objs = sorted(objs, key=lambda obj: obj.score, reverse=True)
    kept, dropped = [], [False] * len(objs)
    for i, obj in enumerate(objs):
        if dropped[i]:
            continue
        kept.append(obj)
        for j in range(i + 1, len(objs)):
            if not dropped[j] and get_iou(np.array(obj.box), np.array(objs[j].box)) > iou:
                dropped[j] = True
    return kept


def sigmoid(x: np.ndarray) -> np.ndarray:
    result = np.empty_like(x, dtype=np.float32)
    np.negative(x, out=result)
    np.exp(result, out=result)
    result += 1.0
    np.divide(1.0, result, out=result)
    return result


def max_pool_3x3(plane: np.ndarray) -> np.ndarray:
    """max_pool2d(kernel 3, stride 1, padding 1) through an as_strided window view."""
    height, width = plane.shape
    padded = np.pad(plane, ((1, 1), (1, 1)), mode="constant", constant_values=-np.inf)
    row, col = padded.strides
    view = np.lib.stride_tricks.as_strided(
        padded, shape=(height, width, 3, 3), strides=(row, col, row, col), writeable=False
    )
    return view.max(axis=(2, 3))


def top_k(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k largest values and their indices, largest first (argpartition, then argsort)."""
    if k <= 0:
        return np.array([], dtype=values.dtype), np.array([], dtype=np.int64)
    k = min(k, values.size)
    part = np.argpartition(-values, k - 1)[:k]
    ordered = part[np.argsort(-values[part])]
    return values[ordered], ordered


def detect(hm, box, landmark, threshold=0.2, nms_iou=0.2, stride=8) -> list[BBox]:
    """utils.detect on (H, W, C) float32 grids, as the tutorial ported it."""
    plane = sigmoid(hm.astype(np.float32, copy=False))[..., 0]
    pooled = max_pool_3x3(plane)
    peaks = plane >= pooled
    scores_flat = np.where(peaks, plane, 0.0).ravel()
    scores, flat = top_k(scores_flat, min(int(peaks.sum()), 2000))
    width = plane.shape[1]
    ys = (flat // width).astype(np.int32)
    xs = (flat % width).astype(np.int32)
    objs = []
    for cx, cy, score in zip(xs, ys, scores, strict=False):
        if score < threshold:
            break  # sorted, so no later one passes
        x, y, r, b = box[cy, cx].astype(np.float32, copy=False)
        centre = np.array([cx, cy, cx, cy], dtype=np.float32)
        xyrb = (centre + np.array([-x, -y, r, b], dtype=np.float32)) * float(stride)
        xyrb = xyrb.astype(np.int32, copy=False).tolist()
        marks = landmark[cy, cx].astype(np.float32, copy=False)
        marks = marks + np.array([cx] * 5 + [cy] * 5, dtype=np.float32)
        marks *= float(stride)
        points = list(zip(marks[:5].tolist(), marks[5:].tolist(), strict=False))
        objs.append(BBox("0", xyrb=xyrb, score=float(score), landmark=points))
    if nms_iou != -1:
        return nms(objs, iou=nms_iou)
    return objs


def app_boxes(dets: list[BBox], width: int = 640, height: int = 480) -> list[list]:
    """app.py: [L, T, W, H, score] per face, clipped, enlarged when the bigger box fits."""
    res = []
    for det in dets:
        xmin, ymin, w, h = det.xywh
        left, right, top, bottom = int(xmin), int(xmin + w), int(ymin), int(ymin + h)
        box_w, box_h = int(w), int(h)
        if left < 0 or top < 0 or right >= width or bottom >= height:
            left, top = max(left, 0), max(top, 0)
            right, bottom = min(right, width - 1), min(bottom, height - 1)
        big_left, big_top = left - int(box_w * 0.05), top - int(box_h * 0.05)
        big_w, big_h = int(box_w * 1.1), int(box_h * 1.1)
        fits = big_left >= 0 and big_top >= 0
        if fits and big_w - 1 + big_left < width and big_h - 1 + big_top < height:
            left, top, box_w, box_h = big_left, big_top, big_w, big_h
        res.append([left, top, box_w, box_h, det.score])
    return res


def postprocess(outputs: list, threshold: float = 0.55, nms_iou: float = -1) -> list[list]:
    """face_det_lite_postprocessing on the outputs in get_output_details() order.

    `outputs` is [(raw array, (scale, zero_point)), ...]; position 0 is taken as the heatmap,
    1 as the boxes, 2 as the landmarks, as the tutorial does. The tutorial calls detect()
    with threshold 0.55 and nms_iou -1.
    """
    grids = [((raw.astype(np.float32) - zp) * scale)[0] for raw, (scale, zp) in outputs[:3]]
    dets = detect(grids[0], grids[1], grids[2], threshold=threshold, nms_iou=nms_iou, stride=8)
    return app_boxes(dets)
