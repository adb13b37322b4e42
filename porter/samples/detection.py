"""detection's samples: YOLOv8 signatures (AI Hub's head and Ultralytics' raw head).

Both samples have a real detector's exact interface but hand-set weights: a bright-blob
detector, not a COCO detector. It finds round bright objects 60-100 px across in the
640x640 input, such as the coins of scikit-image's `coins` photo letterboxed to 640x640
(all 24, one detection each). What it computes:

- The RGB input (0..1) is averaged over 8x8 cells: the stride-8 grid, 80x80.
- Blob response r: a centre-surround filter on the cells' grey level (mean of the centre
  disk, radius 4 cells, minus mean of the ring 7..9 cells out; 19x19 cells). Centre
  brightness c: the mean of the centre disk.
- Score logit = max(-30, 12 * (r - 0.25) + 18 * (c - 0.5) - 5000 * (3x3 max of r - r)):
  bright centre-surround peaks score high, and only a local maximum of r scores at all,
  so each blob gives one detection.
- Class logits from the cell's mean colour (R, G, B): 49 "orange" gets 20 * (R - B) - 7,
  32 "sports ball" 0, the other 78 classes -50. The 80 class scores are
  sigmoid(score logit) * softmax(class logits): grey blobs are sports balls, clearly
  orange ones (R - B above 0.35) oranges.
- Box: an 80 px square centred on the cell's centre.
- The stride-16 and stride-32 anchors (40x40 and 20x20 cells, in that order after the
  80x80 ones, row-major) get 120 px and 160 px squares around their cell centres and
  the same colour classes, with score logit -30 (scores 0 once quantized).

The two files:

- `detection_sample.tflite`: AI Hub's yolov8_det w8a8 export: `image` uint8
  [1,640,640,3] (scale 1/255, zero point 0) -> `boxes` uint8 [1,8400,4] x1 y1 x2 y2 in
  input pixels (scale 3.265, zero point 36), `scores` uint8 [1,8400] (max class score;
  scale 1/256, zero point 0), `class_idx` uint8 [1,8400] without quantization (argmax
  class id).
- `detection_raw_sample.onnx`: Ultralytics' raw ONNX export: `images` float32
  [1,3,640,640] -> `output0` float32 [1,84,8400]: cx, cy, w, h in input pixels, then the
  80 class scores, with the metadata_props keys Ultralytics' exporter writes
  (`names` a Python-repr dict of COCO's 80 names, `imgsz` "[640, 640]", `stride` "32",
  `task` "detect", ...); author and description say porter built it.
"""

from __future__ import annotations

import numpy as np

from porter.labels import dataset_labels
from porter.tflite_builder import Graph, TensorSpec, build_tflite

SIZE = 640
STRIDES = (8, 16, 32)
NUM_ANCHORS = sum((SIZE // s) ** 2 for s in STRIDES)  # 8400
NUM_CLASSES = 80
BLOB_STRIDE = 8  # the level whose cells detect blobs; the others score 0
# Centre-surround filter on the stride-8 cell means (radii in cells).
_CENTRE_RADIUS, _RING_INNER, _RING_OUTER, _KERNEL = 4.0, 7.0, 9.0, 19
_GAIN, _RESPONSE_AT_HALF = 12.0, 0.25
_BRIGHTNESS_WEIGHT, _BRIGHTNESS_AT_HALF = 1.5, 0.5  # in units of the response
_PEAK_PENALTY = 5000.0
_OFF_LOGIT = -30.0  # score logit of the levels without a detector
# Box side per stride, px: 80 for the blobs; the others stay inside the boxes' uint8 range.
BOX_SIDES = {8: 80.0, 16: 120.0, 32: 160.0}
SPORTS_BALL, ORANGE = 32, 49
_ORANGE_WEIGHTS, _ORANGE_BIAS = (20.0, 0.0, -20.0), -7.0
_OTHER_CLASS_LOGIT = -50.0

BOXES_Q = (3.265, 36)
SCORES_Q = (1 / 256, 0)

# Ultralytics' `names` metadata: COCO's 80, as porter ships them.
COCO_NAMES = dataset_labels("coco")


def _disk_kernels() -> tuple[np.ndarray, np.ndarray]:
    """Centre-surround (centre mean minus ring mean) and centre-mean 19x19 filters."""
    c = _KERNEL // 2
    yy, xx = np.mgrid[:_KERNEL, :_KERNEL] - c
    d2 = yy**2 + xx**2  # squared distances: integers, exact on every machine
    centre = (d2 <= _CENTRE_RADIUS**2).astype(np.float64)
    ring = ((d2 >= _RING_INNER**2) & (d2 <= _RING_OUTER**2)).astype(np.float64)
    return centre / centre.sum() - ring / ring.sum(), centre / centre.sum()


def blob_filters() -> tuple[np.ndarray, np.ndarray, float]:
    """[K, K, 3] filters on the RGB cell means (grey = channel mean): the response r, the
    weighted centre brightness, and the bias that puts the score logit's zero at
    r = 0.25 with c = 0.5."""
    surround, centre = _disk_kernels()
    grey = np.full(3, 1 / 3)
    response = surround[:, :, None] * grey
    brightness = _BRIGHTNESS_WEIGHT * centre[:, :, None] * grey
    bias = -_RESPONSE_AT_HALF - _BRIGHTNESS_WEIGHT * _BRIGHTNESS_AT_HALF
    return response.astype(np.float32), brightness.astype(np.float32), bias


def class_weights() -> tuple[np.ndarray, np.ndarray]:
    """1x1 weights [80, 3] and bias [80]: the class logits of a cell's mean colour."""
    w = np.zeros((NUM_CLASSES, 3), np.float32)
    bias = np.full(NUM_CLASSES, _OTHER_CLASS_LOGIT, np.float32)
    bias[SPORTS_BALL] = 0.0
    w[ORANGE] = _ORANGE_WEIGHTS
    bias[ORANGE] = _ORANGE_BIAS
    return w, bias


def box_terms(stride: int, corners: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-column [G, 4] and per-row [G, 4] parts of the boxes, which add up to
    x1 y1 x2 y2 (corners) or cx cy w h of a square of BOX_SIDES[stride] on each cell
    centre."""
    g = SIZE // stride
    centres = (np.arange(g) + 0.5) * stride
    side = BOX_SIDES[stride]
    columns = np.zeros((g, 4), np.float32)
    rows = np.zeros((g, 4), np.float32)
    if corners:
        columns[:, 0], columns[:, 2] = centres - side / 2, centres + side / 2
        rows[:, 1], rows[:, 3] = centres - side / 2, centres + side / 2
    else:
        columns[:, 0], columns[:, 2] = centres, side
        rows[:, 1], rows[:, 3] = centres, side
    return columns, rows


def anchor_centres() -> np.ndarray:
    """[8400, 2] cell centres (x, y) in input pixels, in the heads' anchor order."""
    out = []
    for stride in STRIDES:
        g = SIZE // stride
        ys, xs = np.mgrid[:g, :g]
        out.append(np.stack([xs.ravel(), ys.ravel()], 1) * stride + stride / 2)
    return np.concatenate(out).astype(np.float32)


def detection_sample_tflite() -> bytes:
    """yolov8_det w8a8's signature (AI Hub head) with the blob detector inside."""
    g = Graph()
    image = g.tensor(
        TensorSpec("image", [1, SIZE, SIZE, 3], "uint8", scale=[1 / 255], zero_point=[0])
    )
    x = g.op("DEQUANTIZE", [image], "image_float", [1, SIZE, SIZE, 3])
    response_k, brightness_k, blob_bias = blob_filters()
    cls_w, cls_b = class_weights()
    cls_filter = g.const("class_filter", cls_w.reshape(NUM_CLASSES, 1, 1, 3))
    cls_bias = g.const("class_bias", cls_b)
    zero = g.const("zero_bias", np.zeros(1, np.float32))
    level_scores, level_classes, level_boxes = [], [], []
    for stride in STRIDES:
        n = SIZE // stride
        cell = [1, n, n, 1]
        cells = g.op(
            "AVERAGE_POOL_2D", [x], f"p{stride}_cell_rgb", [1, n, n, 3], size=stride, stride=stride
        )
        if stride == BLOB_STRIDE:
            r_filter = g.const("blob_filter", response_k[None])
            b_filter = g.const("brightness_filter", brightness_k[None])
            b_bias = g.const("brightness_bias", np.array([blob_bias], np.float32))
            resp = g.op("CONV_2D", [cells, r_filter, zero], "blob_response", cell)
            bright = g.op("CONV_2D", [cells, b_filter, b_bias], "brightness_term", cell)
            z = g.op("ADD", [resp, bright], "blob_evidence", cell)
            peak = g.op(
                "MAX_POOL_2D", [resp], "blob_local_max", cell, size=3, stride=1, padding="SAME"
            )
            below = g.op("SUB", [peak, resp], "blob_below_local_max", cell)
            gain = g.const("score_gain", np.array([_GAIN], np.float32))
            penalty = g.const("peak_penalty", np.array([-_PEAK_PENALTY], np.float32))
            scaled = g.op("MUL", [z, gain], "blob_logit", cell)
            punish = g.op("MUL", [below, penalty], "non_peak_penalty", cell)
            raw = g.op("ADD", [scaled, punish], "blob_score_logit", cell)
            floor = g.const("score_logit_floor", np.array([_OFF_LOGIT], np.float32))
            logit = g.op("MAXIMUM", [raw, floor], f"p{stride}_score_logit", cell)
        else:
            off_filter = g.const(f"p{stride}_off_filter", np.zeros((1, 1, 1, 3), np.float32))
            off_bias = g.const(f"p{stride}_off_bias", np.array([_OFF_LOGIT], np.float32))
            logit = g.op("CONV_2D", [cells, off_filter, off_bias], f"p{stride}_score_logit", cell)
        objectness = g.op("LOGISTIC", [logit], f"p{stride}_objectness", cell)
        cls_logits = g.op(
            "CONV_2D",
            [cells, cls_filter, cls_bias],
            f"p{stride}_class_logits",
            [1, n, n, NUM_CLASSES],
        )
        cls_probs = g.op("SOFTMAX", [cls_logits], f"p{stride}_class_probs", [1, n, n, NUM_CLASSES])
        cls_scores = g.op(
            "MUL", [cls_probs, objectness], f"p{stride}_class_scores", [1, n, n, NUM_CLASSES]
        )
        axis = g.const(f"p{stride}_class_axis", np.array([3], np.int32))
        best = g.op("REDUCE_MAX", [cls_scores, axis], f"p{stride}_score", [1, n, n])
        cls = g.op("ARG_MAX", [cls_scores, axis], f"p{stride}_class", [1, n, n], "int32")
        flat = g.const(f"p{stride}_flat_shape", np.array([1, n * n], np.int32))
        level_scores.append(
            g.op("RESHAPE", [best, flat], f"p{stride}_score_flat", [1, n * n], new_shape=[1, n * n])
        )
        level_classes.append(
            g.op(
                "RESHAPE",
                [cls, flat],
                f"p{stride}_class_flat",
                [1, n * n],
                "int32",
                new_shape=[1, n * n],
            )
        )
        columns, rows = box_terms(stride, corners=True)
        col = g.const(f"p{stride}_box_columns", columns.reshape(1, 1, n, 4))
        row = g.const(f"p{stride}_box_rows", rows.reshape(1, n, 1, 4))
        box = g.op("ADD", [row, col], f"p{stride}_boxes", [1, n, n, 4])
        box_shape = g.const(f"p{stride}_box_shape", np.array([1, n * n, 4], np.int32))
        level_boxes.append(
            g.op(
                "RESHAPE",
                [box, box_shape],
                f"p{stride}_boxes_flat",
                [1, n * n, 4],
                new_shape=[1, n * n, 4],
            )
        )
    n = NUM_ANCHORS
    boxes_f = g.op("CONCATENATION", level_boxes, "boxes_float", [1, n, 4], axis=1)
    scores_f = g.op("CONCATENATION", level_scores, "scores_float", [1, n], axis=1)
    classes = g.op("CONCATENATION", level_classes, "class_int32", [1, n], "int32", axis=1)
    boxes = g.op_into(
        "QUANTIZE",
        [boxes_f],
        TensorSpec("boxes", [1, n, 4], "uint8", scale=[BOXES_Q[0]], zero_point=[BOXES_Q[1]]),
    )
    scores = g.op_into(
        "QUANTIZE",
        [scores_f],
        TensorSpec("scores", [1, n], "uint8", scale=[SCORES_Q[0]], zero_point=[SCORES_Q[1]]),
    )
    class_idx = g.op("CAST", [classes], "class_idx", [1, n], "uint8")
    spec = g.spec(
        [image],
        [boxes, scores, class_idx],
        description="porter sample: bright-blob detector with yolov8_det w8a8's signature",
        signature=(
            "serving_default",
            {"image": image},
            {"boxes": boxes, "class_idx": class_idx, "scores": scores},
        ),
    )
    return build_tflite(spec)


def ultralytics_metadata() -> dict[str, str]:
    """metadata_props with the keys (and order) of Ultralytics' 8.2 ONNX exporter, every
    value str() of a Python value as it writes them. Author and description say porter
    built it; version is the Ultralytics release whose raw-head layout this copies."""
    return {
        "description": "porter sample: bright-blob detector with a YOLOv8 raw head (not trained)",
        "author": "porter",
        "date": "2025-01-01T00:00:00",
        "version": "8.2.46",
        "license": "porter sample model",
        "docs": "https://docs.ultralytics.com",
        "stride": str(max(STRIDES)),
        "task": "detect",
        "batch": str(1),
        "imgsz": str([SIZE, SIZE]),
        "names": str(dict(enumerate(COCO_NAMES))),
    }


def detection_raw_sample_onnx() -> bytes:
    """Ultralytics' raw YOLOv8 ONNX head ([1,84,8400]) with the blob detector inside."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    response_k, brightness_k, blob_bias = blob_filters()
    cls_w, cls_b = class_weights()
    inits = {
        "blob_filter": response_k.transpose(2, 0, 1)[None],
        "brightness_filter": brightness_k.transpose(2, 0, 1)[None],
        "brightness_bias": np.array([blob_bias], np.float32),
        "score_gain": np.array(_GAIN, np.float32),
        "peak_penalty": np.array(-_PEAK_PENALTY, np.float32),
        "class_filter": cls_w.reshape(NUM_CLASSES, 3, 1, 1),
        "class_bias": cls_b,
        "off_filter": np.zeros((1, 3, 1, 1), np.float32),
        "off_bias": np.array([_OFF_LOGIT], np.float32),
    }
    pad = _KERNEL // 2
    nodes = []
    levels = []
    for stride in STRIDES:
        n = SIZE // stride
        p = f"p{stride}"
        nodes.append(
            helper.make_node(
                "AveragePool",
                ["images"],
                [f"{p}_cell_rgb"],
                kernel_shape=[stride, stride],
                strides=[stride, stride],
            )
        )
        if stride == BLOB_STRIDE:
            nodes += [
                helper.make_node(
                    "Conv", [f"{p}_cell_rgb", "blob_filter"], ["blob_response"], pads=[pad] * 4
                ),
                helper.make_node(
                    "Conv",
                    [f"{p}_cell_rgb", "brightness_filter", "brightness_bias"],
                    ["brightness_term"],
                    pads=[pad] * 4,
                ),
                helper.make_node("Add", ["blob_response", "brightness_term"], ["blob_evidence"]),
                helper.make_node(
                    "MaxPool",
                    ["blob_response"],
                    ["blob_local_max"],
                    kernel_shape=[3, 3],
                    pads=[1, 1, 1, 1],
                ),
                helper.make_node(
                    "Sub", ["blob_local_max", "blob_response"], ["blob_below_local_max"]
                ),
                helper.make_node("Mul", ["blob_evidence", "score_gain"], ["blob_logit"]),
                helper.make_node(
                    "Mul", ["blob_below_local_max", "peak_penalty"], ["non_peak_penalty"]
                ),
                helper.make_node("Add", ["blob_logit", "non_peak_penalty"], ["blob_score_logit"]),
                helper.make_node("Max", ["blob_score_logit", "off_bias"], [f"{p}_score_logit"]),
            ]
        else:
            nodes.append(
                helper.make_node(
                    "Conv", [f"{p}_cell_rgb", "off_filter", "off_bias"], [f"{p}_score_logit"]
                )
            )
        columns, rows = box_terms(stride, corners=False)
        inits[f"{p}_box_columns"] = columns.T.reshape(1, 4, 1, n).copy()
        inits[f"{p}_box_rows"] = rows.T.reshape(1, 4, n, 1).copy()
        inits[f"{p}_flat_shape"] = np.array([1, 4 + NUM_CLASSES, n * n], np.int64)
        nodes += [
            helper.make_node("Sigmoid", [f"{p}_score_logit"], [f"{p}_objectness"]),
            helper.make_node(
                "Conv", [f"{p}_cell_rgb", "class_filter", "class_bias"], [f"{p}_class_logits"]
            ),
            helper.make_node("Softmax", [f"{p}_class_logits"], [f"{p}_class_probs"], axis=1),
            helper.make_node("Mul", [f"{p}_class_probs", f"{p}_objectness"], [f"{p}_class_scores"]),
            helper.make_node("Add", [f"{p}_box_rows", f"{p}_box_columns"], [f"{p}_boxes"]),
            helper.make_node("Concat", [f"{p}_boxes", f"{p}_class_scores"], [f"{p}_head"], axis=1),
            helper.make_node("Reshape", [f"{p}_head", f"{p}_flat_shape"], [f"{p}_head_flat"]),
        ]
        levels.append(f"{p}_head_flat")
    nodes.append(helper.make_node("Concat", levels, ["output0"], axis=2))
    graph = helper.make_graph(
        nodes,
        "detection_raw_sample",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [
            helper.make_tensor_value_info(
                "output0", TensorProto.FLOAT, [1, 4 + NUM_CLASSES, NUM_ANCHORS]
            )
        ],
        initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    model = helper.make_model(
        graph,
        producer_name="porter",
        opset_imports=[helper.make_opsetid("", 17)],
        doc_string="porter sample: bright-blob detector with Ultralytics' raw YOLOv8 head",
    )
    model.ir_version = 8
    for key, value in ultralytics_metadata().items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    return model.SerializeToString(deterministic=True)


SAMPLES = {
    "detection_sample.tflite": detection_sample_tflite,
    "detection_raw_sample.onnx": detection_raw_sample_onnx,
}
