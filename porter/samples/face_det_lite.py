"""face_det_lite's sample: AI Hub's w8a8 export's exact signature, hand-set weights.

`face_det_lite_sample` has the exact signature of AI Hub's face_det_lite w8a8 export
(uint8 input [1,480,640,1], uint8 heatmap/bbox/landmark at stride 8) but hand-set
weights: a centre-surround blob detector on the 8x8-averaged image. It does not find
faces; it finds round bright objects about 60 px across in the 640x480 input, such as
the coins of scikit-image's `coins` photo. Boxes are a fixed 72 px square around each
peak and the five "landmarks" are fixed offsets (eyes, nose, mouth corners) inside it.
"""

from __future__ import annotations

import numpy as np

from porter.tflite_builder import ModelSpec, OpSpec, TensorSpec, build_tflite, constant

STRIDE = 8
HEIGHT, WIDTH = 480, 640
GRID_H, GRID_W = HEIGHT // STRIDE, WIDTH // STRIDE
# Centre disk and surround ring radii, in heatmap cells, and the response at which the
# sigmoid crosses face_det_lite's 0.55 threshold (tuned on the `coins` photo).
_CENTRE_RADIUS, _RING_INNER, _RING_OUTER, _KERNEL = 4.0, 6.0, 7.0, 17
_GAIN, _RESPONSE_AT_THRESHOLD = 12.0, 0.25
_LOGIT_AT_THRESHOLD = float(np.log(0.55 / 0.45))
# Box edges (left, top, right, bottom) in cells from the peak cell's corner: a square
# centred on the cell's centre.
_BOX = [4.0, 4.0, 5.0, 5.0]
# Landmark offsets in cells from the peak cell's corner: x of 5 points, then y of 5.
_LANDMARKS = [-1.0, 2.0, 0.5, -0.6, 1.6, -0.5, -0.5, 0.8, 2.1, 2.1]

HEATMAP_Q = (0.05, 160)
BBOX_Q = (0.05, 0)
LANDMARK_Q = (0.02, 128)


def blob_kernel() -> np.ndarray:
    """Centre mean minus ring mean, as a 17x17 filter."""
    c = _KERNEL // 2
    yy, xx = np.mgrid[:_KERNEL, :_KERNEL] - c
    d = np.hypot(yy, xx)
    centre = (d <= _CENTRE_RADIUS).astype(np.float64)
    ring = ((d >= _RING_INNER) & (d <= _RING_OUTER)).astype(np.float64)
    return (centre / centre.sum() - ring / ring.sum()).astype(np.float32)


def _blob_bias() -> float:
    return _LOGIT_AT_THRESHOLD - _GAIN * _RESPONSE_AT_THRESHOLD


def face_det_lite_sample_tflite() -> bytes:
    """face_det_lite's w8a8 signature with the blob detector inside."""
    k = blob_kernel() * _GAIN
    tensors = [
        TensorSpec("input", [1, HEIGHT, WIDTH, 1], "uint8", scale=[1 / 255], zero_point=[0]),
        TensorSpec("image_float", [1, HEIGHT, WIDTH, 1]),
        TensorSpec("cell_mean", [1, GRID_H, GRID_W, 1]),
        constant("blob_filter", k.reshape(1, _KERNEL, _KERNEL, 1)),
        constant("blob_bias", np.array([_blob_bias()], np.float32)),
        TensorSpec("heatmap_float", [1, GRID_H, GRID_W, 1]),
        TensorSpec(
            "heatmap",
            [1, GRID_H, GRID_W, 1],
            "uint8",
            scale=[HEATMAP_Q[0]],
            zero_point=[HEATMAP_Q[1]],
        ),
        constant("bbox_filter", np.zeros((4, 1, 1, 1), np.float32)),
        constant("bbox_bias", np.array(_BOX, np.float32)),
        TensorSpec("bbox_float", [1, GRID_H, GRID_W, 4]),
        TensorSpec(
            "bbox", [1, GRID_H, GRID_W, 4], "uint8", scale=[BBOX_Q[0]], zero_point=[BBOX_Q[1]]
        ),
        constant("landmark_filter", np.zeros((10, 1, 1, 1), np.float32)),
        constant("landmark_bias", np.array(_LANDMARKS, np.float32)),
        TensorSpec("landmark_float", [1, GRID_H, GRID_W, 10]),
        TensorSpec(
            "landmark",
            [1, GRID_H, GRID_W, 10],
            "uint8",
            scale=[LANDMARK_Q[0]],
            zero_point=[LANDMARK_Q[1]],
        ),
    ]
    ops = [
        OpSpec("DEQUANTIZE", [0], [1]),
        OpSpec("AVERAGE_POOL_2D", [1], [2], {"size": STRIDE, "stride": STRIDE}),
        OpSpec("CONV_2D", [2, 3, 4], [5], {"padding": "SAME"}),
        OpSpec("QUANTIZE", [5], [6]),
        OpSpec("CONV_2D", [2, 7, 8], [9], {"padding": "SAME"}),
        OpSpec("QUANTIZE", [9], [10]),
        OpSpec("CONV_2D", [2, 11, 12], [13], {"padding": "SAME"}),
        OpSpec("QUANTIZE", [13], [14]),
    ]
    spec = ModelSpec(
        tensors=tensors,
        ops=ops,
        inputs=[0],
        outputs=[6, 10, 14],
        description="porter sample: blob detector with face_det_lite's w8a8 signature",
        signature=("serving_default", {"input": 0}, {"bbox": 10, "heatmap": 6, "landmark": 14}),
    )
    return build_tflite(spec)


def face_det_lite_sample_onnx() -> bytes:
    """The same detector as an integer-I/O ONNX model in NCHW."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    k = (blob_kernel() * _GAIN).reshape(1, 1, _KERNEL, _KERNEL)
    pad = _KERNEL // 2
    inits = [
        numpy_helper.from_array(np.array(1 / 255, np.float32), "input_scale"),
        numpy_helper.from_array(np.array(0, np.uint8), "input_zero_point"),
        numpy_helper.from_array(k, "blob_filter"),
        numpy_helper.from_array(np.array([_blob_bias()], np.float32), "blob_bias"),
        numpy_helper.from_array(np.zeros((4, 1, 1, 1), np.float32), "bbox_filter"),
        numpy_helper.from_array(np.array(_BOX, np.float32), "bbox_bias"),
        numpy_helper.from_array(np.zeros((10, 1, 1, 1), np.float32), "landmark_filter"),
        numpy_helper.from_array(np.array(_LANDMARKS, np.float32), "landmark_bias"),
    ]
    for name, (scale, zp) in (("heatmap", HEATMAP_Q), ("bbox", BBOX_Q), ("landmark", LANDMARK_Q)):
        inits.append(numpy_helper.from_array(np.array(scale, np.float32), f"{name}_scale"))
        inits.append(numpy_helper.from_array(np.array(zp, np.uint8), f"{name}_zero_point"))
    nodes = [
        helper.make_node(
            "DequantizeLinear", ["input", "input_scale", "input_zero_point"], ["image_float"]
        ),
        helper.make_node(
            "AveragePool",
            ["image_float"],
            ["cell_mean"],
            kernel_shape=[STRIDE, STRIDE],
            strides=[STRIDE, STRIDE],
        ),
        helper.make_node(
            "Conv", ["cell_mean", "blob_filter", "blob_bias"], ["heatmap_float"], pads=[pad] * 4
        ),
        helper.make_node("Conv", ["cell_mean", "bbox_filter", "bbox_bias"], ["bbox_float"]),
        helper.make_node(
            "Conv", ["cell_mean", "landmark_filter", "landmark_bias"], ["landmark_float"]
        ),
    ]
    for name in ("heatmap", "bbox", "landmark"):
        nodes.append(
            helper.make_node(
                "QuantizeLinear", [f"{name}_float", f"{name}_scale", f"{name}_zero_point"], [name]
            )
        )
    graph = helper.make_graph(
        nodes,
        "face_det_lite_sample",
        [helper.make_tensor_value_info("input", TensorProto.UINT8, [1, 1, HEIGHT, WIDTH])],
        [
            helper.make_tensor_value_info("heatmap", TensorProto.UINT8, [1, 1, GRID_H, GRID_W]),
            helper.make_tensor_value_info("bbox", TensorProto.UINT8, [1, 4, GRID_H, GRID_W]),
            helper.make_tensor_value_info("landmark", TensorProto.UINT8, [1, 10, GRID_H, GRID_W]),
        ],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        producer_name="porter",
        opset_imports=[helper.make_opsetid("", 13)],
        doc_string="porter sample: blob detector with face_det_lite's signature (integer I/O)",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString(deterministic=True)


SAMPLES = {
    "face_det_lite_sample.tflite": face_det_lite_sample_tflite,
    "face_det_lite_sample.onnx": face_det_lite_sample_onnx,
}
