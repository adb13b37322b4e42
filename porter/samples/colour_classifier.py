"""Colour classifiers: small models whose top class is a photo's mean colour.

`classifier_sample` (TFLite, int8 I/O) and `classifier_sample_qdq` (ONNX, float I/O
with QuantizeLinear/DequantizeLinear at its boundary) score an image's mean colour
against ten named colours, whose names the models carry as metadata ("labels").
"""

from __future__ import annotations

import numpy as np

from porter.tflite_builder import ModelSpec, OpSpec, TensorSpec, build_tflite, constant

COLOURS = {
    "black": (0.0, 0.0, 0.0),
    "white": (1.0, 1.0, 1.0),
    "red": (0.9, 0.1, 0.1),
    "green": (0.1, 0.8, 0.2),
    "blue": (0.1, 0.2, 0.9),
    "yellow": (0.9, 0.9, 0.1),
    "cyan": (0.1, 0.8, 0.9),
    "magenta": (0.8, 0.1, 0.8),
    "orange": (1.0, 0.55, 0.1),
    "grey": (0.5, 0.5, 0.5),
}
CLASSIFIER_SIZE = 64


def _colour_weights() -> tuple[np.ndarray, np.ndarray]:
    """Score = -squared distance of the mean colour to each named colour, made linear."""
    protos = np.array(list(COLOURS.values()), np.float32)
    weights = 2 * protos
    bias = -(protos**2).sum(axis=1)
    return weights.astype(np.float32), bias.astype(np.float32)


def classifier_sample_tflite() -> bytes:
    """A mean-colour classifier with int8 I/O in NHWC."""
    w, bias = _colour_weights()
    n = len(COLOURS)
    s = CLASSIFIER_SIZE
    tensors = [
        TensorSpec("image", [1, s, s, 3], "int8", scale=[1 / 255], zero_point=[-128]),
        TensorSpec("image_float", [1, s, s, 3]),
        TensorSpec("mean_colour", [1, 1, 1, 3]),
        constant("flatten_shape", np.array([1, 3], np.int32)),
        TensorSpec("mean_flat", [1, 3]),
        constant("colour_weights", w),
        constant("colour_bias", bias),
        TensorSpec("scores_float", [1, n]),
        TensorSpec("scores", [1, n], "int8", scale=[0.02], zero_point=[100]),
    ]
    ops = [
        OpSpec("DEQUANTIZE", [0], [1]),
        OpSpec("AVERAGE_POOL_2D", [1], [2], {"size": s, "stride": s}),
        OpSpec("RESHAPE", [2, 3], [4], {"new_shape": [1, 3]}),
        OpSpec("FULLY_CONNECTED", [4, 5, 6], [7]),
        OpSpec("QUANTIZE", [7], [8]),
    ]
    spec = ModelSpec(
        tensors=tensors,
        ops=ops,
        inputs=[0],
        outputs=[8],
        description="porter sample: mean-colour classifier (int8 I/O)",
        metadata={"labels": "\n".join(COLOURS).encode()},
    )
    return build_tflite(spec)


def classifier_sample_qdq_onnx() -> bytes:
    """The colour classifier as a QDQ ONNX model: it takes and gives floats."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w, bias = _colour_weights()
    n = len(COLOURS)
    s = CLASSIFIER_SIZE
    inits = [
        numpy_helper.from_array(np.array(1 / 255, np.float32), "in_scale"),
        numpy_helper.from_array(np.array(0, np.uint8), "in_zero_point"),
        numpy_helper.from_array(np.array(0.02, np.float32), "out_scale"),
        numpy_helper.from_array(np.array(200, np.uint8), "out_zero_point"),
        numpy_helper.from_array(w.T.copy(), "colour_weights"),
        numpy_helper.from_array(bias, "colour_bias"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["image", "in_scale", "in_zero_point"], ["image_q"]),
        helper.make_node(
            "DequantizeLinear", ["image_q", "in_scale", "in_zero_point"], ["image_dq"]
        ),
        helper.make_node("GlobalAveragePool", ["image_dq"], ["mean_colour"]),
        helper.make_node("Flatten", ["mean_colour"], ["mean_flat"]),
        helper.make_node("Gemm", ["mean_flat", "colour_weights", "colour_bias"], ["scores_float"]),
        helper.make_node(
            "QuantizeLinear", ["scores_float", "out_scale", "out_zero_point"], ["scores_q"]
        ),
        helper.make_node(
            "DequantizeLinear", ["scores_q", "out_scale", "out_zero_point"], ["scores"]
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "classifier_sample_qdq",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, s, s])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, n])],
        initializer=inits,
    )
    model = helper.make_model(
        graph, producer_name="porter", opset_imports=[helper.make_opsetid("", 13)]
    )
    model.ir_version = 8
    model.metadata_props.add(key="labels", value="\n".join(COLOURS))
    onnx.checker.check_model(model)
    return model.SerializeToString(deterministic=True)


SAMPLES = {
    "classifier_sample.tflite": classifier_sample_tflite,
    "classifier_sample_qdq.onnx": classifier_sample_qdq_onnx,
}
