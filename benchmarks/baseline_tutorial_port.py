"""The baseline: face_det_lite pre- and postprocessing as the tutorial's hand port does it.

Re-implemented here for the benchmarks, from the public code's facts (written anew):
- Preprocessing (`load_image_litert` in Qualcomm's Dragonwing LiteRT tutorial code): the
  photo converted to RGB, the 3-channel image resized with Pillow's BILINEAR to the input
  size, `np.array`, the blue channel taken for the one-channel face model, `/ 255.0` in
  float64 then float32, then `np.rint(x / scale + zero_point)`, clipped and cast.
- Postprocessing: AI Hub's `utils.detect` ported to numpy with its Python loop over the
  top-k candidates (a BBox object per face, break below the threshold), the O(n^2)
  pairwise NMS (`utils.nms` with `get_iou`) when asked, and app.py's per-face clipping and
  enlargement loop.
The 3x3 max-pool is done with numpy shifts (the hand port has no torch), which is the
baseline's one vectorized step.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def load_image_litert(image: Image.Image, shape: list[int], dtype, scale: float, zero_point: int):
    """The tutorial's preprocessing on an already-decoded image (decoding is not timed)."""
    height, width = shape[1], shape[2]
    resized = image.convert("RGB").resize((width, height), Image.BILINEAR)
    arr = np.array(resized)
    arr = arr[:, :, 2][..., np.newaxis]  # the blue channel, as the tutorial's face setup
    arr = (arr / 255.0).astype(np.float32)
    if scale:
        q = np.rint(arr / float(scale) + int(zero_point))
        info = np.iinfo(dtype)
        arr = np.clip(q, info.min, info.max).astype(dtype)
    return np.expand_dims(arr, 0)


class BBox:
    def __init__(self, xyrb, score, landmark):
        x, y, r, b = xyrb
        self.x, self.y, self.r, self.b = min(x, r), min(y, b), max(x, r), max(y, b)
        self.score = score
        self.landmark = landmark

    @property
    def box(self):
        return [self.x, self.y, self.r, self.b]

    @property
    def xywh(self):
        return [self.x, self.y, self.r - self.x + 1, self.b - self.y + 1]


def get_iou(a, b) -> float:
    xa, ya = max(a[0], b[0]), max(a[1], b[1])
    xb, yb = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, xb - xa + 1) * max(0, yb - ya + 1)
    area_a = (a[2] - a[0] + 1) * (a[3] - a[1] + 1)
    area_b = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    return inter / float(area_a + area_b - inter)


def nms(objs, iou=0.5):
    if objs is None or len(objs) <= 1:
        return objs
    objs = sorted(objs, key=lambda o: o.score, reverse=True)
    keep, flags = [], [0] * len(objs)
    for index, obj in enumerate(objs):
        if flags[index] != 0:
            continue
        keep.append(obj)
        for j in range(index + 1, len(objs)):
            if flags[j] == 0 and get_iou(np.array(obj.box), np.array(objs[j].box)) > iou:
                flags[j] = 1
    return keep


def detect(hm, box, landmark, threshold=0.55, nms_iou=-1, stride=8):
    """hm [1, 1, H, W], box [1, 4, H, W], landmark [1, 10, H, W] (NCHW, as utils.detect)."""
    hm = 1 / (1 + np.exp(-hm))
    padded = np.pad(hm[0, 0], 1, constant_values=-np.inf)
    h, w = hm.shape[2:]
    pooled = np.max(
        np.stack([padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]), axis=0
    )
    flat = ((hm[0, 0] == pooled) * hm[0, 0]).reshape(-1)
    k = min(flat.size, 2000)
    indices = np.argsort(-flat, kind="stable")[:k]
    scores = flat[indices]
    ys = list((indices // w).astype(np.int32))
    xs = list((indices % w).astype(np.int32))
    objs = []
    for cx, cy, score in zip(xs, ys, list(scores), strict=False):
        if score < threshold:
            break
        x, y, r, b = box[0, :, cy, cx]
        xyrb = (np.add(np.array([cx, cy, cx, cy]), [-x, -y, r, b]) * stride).tolist()
        x5y5 = landmark[0, :, cy, cx]
        x5y5 = (x5y5 + ([cx] * 5 + [cy] * 5)) * stride
        objs.append(BBox(xyrb, score, list(zip(x5y5[:5], x5y5[5:], strict=False))))
    if nms_iou != -1:
        return nms(objs, iou=nms_iou)
    return objs


def app_boxes(dets, width=640, height=480):
    res = []
    for det in dets:
        xmin, ymin, w, h = det.xywh
        left, right, top, bottom = int(xmin), int(xmin + w), int(ymin), int(ymin + h)
        bw, bh = int(w), int(h)
        if left < 0 or top < 0 or right >= width or bottom >= height:
            left, top = max(left, 0), max(top, 0)
        b_left, b_top = left - int(bw * 0.05), top - int(bh * 0.05)
        b_w, b_h = int(bw * 1.1), int(bh * 1.1)
        if b_left >= 0 and b_top >= 0 and b_w - 1 + b_left < width and b_h - 1 + b_top < height:
            left, top, bw, bh = b_left, b_top, b_w, b_h
        res.append([left, top, bw, bh, det.score])
    return res


def postprocess(raw: dict, quant: dict, threshold=0.55, nms_iou=-1):
    """Dequantize the NHWC outputs, move them to NCHW, decode, then app.py's boxes."""
    arrays = {}
    for name, values in raw.items():
        scale, zero_point = quant[name]
        real = (values.astype(np.float32) - zero_point) * scale if scale else values
        arrays[name] = np.transpose(real, (0, 3, 1, 2))
    dets = detect(arrays["heatmap"], arrays["bbox"], arrays["landmark"], threshold, nms_iou)
    return app_boxes(dets)
