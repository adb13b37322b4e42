"""Small test models, built deterministically by porter's own builders and onnx.helper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from porter.tflite_builder import ModelSpec, OpSpec, TensorSpec, build_tflite, constant


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---- TFLite ------------------------------------------------------------------------


def tflite_float_conv() -> bytes:
    """float32 image in, 3x3 conv, float32 feature map out."""
    w = np.arange(2 * 3 * 3 * 3, dtype=np.float32).reshape(2, 3, 3, 3) / 100
    spec = ModelSpec(
        tensors=[
            TensorSpec("image", [1, 32, 32, 3]),
            constant("weights", w),
            constant("bias", np.zeros(2, np.float32)),
            TensorSpec("features", [1, 32, 32, 2]),
        ],
        ops=[OpSpec("CONV_2D", [0, 1, 2], [3])],
        inputs=[0],
        outputs=[3],
        description="float conv",
    )
    return build_tflite(spec)


def tflite_uint8_per_channel() -> bytes:
    """uint8 I/O (per-tensor) with per-channel int8 conv weights inside; NCHW-looking output."""
    w = (np.arange(3 * 3 * 3 * 3) % 7 - 3).astype(np.int8).reshape(3, 3, 3, 3)
    spec = ModelSpec(
        tensors=[
            TensorSpec("pixels", [1, 16, 16, 3], "uint8", scale=[0.5], zero_point=[10]),
            TensorSpec("x", [1, 16, 16, 3]),
            TensorSpec(
                "w_q",
                [3, 3, 3, 3],
                "int8",
                data=w.tobytes(),
                scale=[0.1, 0.2, 0.3],
                zero_point=[0, 0, 0],
                axis=0,
            ),
            TensorSpec("w", [3, 3, 3, 3]),
            constant("b", np.zeros(3, np.float32)),
            TensorSpec("y", [1, 16, 16, 3]),
            TensorSpec("out", [1, 16, 16, 3], "uint8", scale=[0.25], zero_point=[128]),
        ],
        ops=[
            OpSpec("DEQUANTIZE", [0], [1]),
            OpSpec("DEQUANTIZE", [2], [3]),
            OpSpec("CONV_2D", [1, 3, 4], [5]),
            OpSpec("QUANTIZE", [5], [6]),
        ],
        inputs=[0],
        outputs=[6],
    )
    return build_tflite(spec)


def tflite_int8_io() -> bytes:
    """int8 input and output, per-tensor, with a SignatureDef whose names differ."""
    spec = ModelSpec(
        tensors=[
            TensorSpec(
                "serving_default_x:0", [1, 8, 8, 1], "int8", scale=[1 / 255], zero_point=[-128]
            ),
            TensorSpec("f", [1, 8, 8, 1]),
            TensorSpec(
                "StatefulPartitionedCall:0", [1, 8, 8, 1], "int8", scale=[0.02], zero_point=[5]
            ),
        ],
        ops=[OpSpec("DEQUANTIZE", [0], [1]), OpSpec("QUANTIZE", [1], [2])],
        inputs=[0],
        outputs=[2],
        signature=("serving_default", {"x": 0}, {"y": 2}),
    )
    return build_tflite(spec)


def tflite_multi_io_dynamic() -> bytes:
    """Two inputs (one with a dynamic batch and width), two outputs, int16/uint16/float16."""
    spec = ModelSpec(
        tensors=[
            TensorSpec("audio", [1, 16000], "float32", shape_signature=[-1, 16000]),
            TensorSpec("state", [1, 5, 8, 3], "float32", shape_signature=[1, 5, -1, 3]),
            TensorSpec("sum", [1, 16000]),
            TensorSpec("state_out", [1, 5, 8, 3]),
            TensorSpec(
                "i16",
                [2],
                "int16",
                data=np.array([1, 2], np.int16).tobytes(),
                scale=[0.001],
                zero_point=[0],
            ),
            TensorSpec("u16", [2], "uint16", data=np.array([1, 2], np.uint16).tobytes()),
            TensorSpec("f16", [2], "float16", data=np.array([1, 2], np.float16).tobytes()),
        ],
        ops=[OpSpec("ADD", [0, 0], [2]), OpSpec("ADD", [1, 1], [3])],
        inputs=[0, 1],
        outputs=[2, 3],
    )
    return build_tflite(spec)


def tflite_dynamic_audio() -> bytes:
    """float32 audio [1, N] (N dynamic) -> a 3-tap filter over time -> [1, N - 2, 1, 1].

    Allocated at the placeholder size N = 1, the VALID convolution has no output and
    XNNPACK cannot prepare it: the model only loads at the size of the audio fed, as
    openWakeWord's melspectrogram.tflite. Its SignatureDef names differ from its tensor
    names (audio / serving_default_audio:0, smoothed / StatefulPartitionedCall:0).
    """
    taps = np.array([0.25, 0.5, 0.25], np.float32).reshape(1, 3, 1, 1)
    spec = ModelSpec(
        tensors=[
            TensorSpec("serving_default_audio:0", [1, 1], "float32", shape_signature=[1, -1]),
            constant("frames_shape", np.array([1, -1, 1, 1], np.int32)),
            TensorSpec("frames", [1, 1, 1, 1], shape_signature=[1, -1, 1, 1]),
            constant("taps", taps),
            constant("bias", np.zeros(1, np.float32)),
            TensorSpec("StatefulPartitionedCall:0", [1, 1, 1, 1], shape_signature=[1, -1, 1, 1]),
        ],
        ops=[
            OpSpec("RESHAPE", [0, 1], [2], {"new_shape": [1, -1, 1, 1]}),
            OpSpec("CONV_2D", [2, 3, 4], [5], {"padding": "VALID"}),
        ],
        inputs=[0],
        outputs=[5],
        signature=("serving_default", {"audio": 0}, {"smoothed": 5}),
    )
    return build_tflite(spec)


ALL_TYPES = [
    "float32",
    "float16",
    "int32",
    "uint8",
    "int64",
    "bool",
    "int16",
    "int8",
    "float64",
    "uint32",
    "uint16",
    "complex64",
]


def tflite_all_types() -> bytes:
    """One pass-through input/output tensor of each TensorType the runtime knows."""
    tensors = [TensorSpec(f"t_{name}", [1, 2], name) for name in ALL_TYPES]
    indices = list(range(len(tensors)))
    return build_tflite(ModelSpec(tensors=tensors, ops=[], inputs=indices, outputs=indices))


def tflite_custom_and_metadata(deprecated: bool = False) -> bytes:
    """A custom op, metadata entries (text, min_runtime_version, binary), 2 subgraphs."""
    spec = ModelSpec(
        tensors=[
            TensorSpec("in", [1, 4]),
            TensorSpec("mid", [1, 4]),
            TensorSpec("out", [1, 4]),
        ],
        ops=[OpSpec("CUSTOM:MyCustomOp", [0], [1]), OpSpec("ADD", [1, 1], [2])],
        inputs=[0],
        outputs=[2],
        description="custom op model",
        metadata={
            "min_runtime_version": b"1.5.0\0\0\0\0\0\0\0\0\0\0\0",
            "notes": b"made for porter's tests",
            "TFLITE_METADATA": b"\x10\x00\x00\x00TFLM\x00\x00\x00\x00",
        },
        deprecated_opcodes_only=deprecated,
        extra_subgraphs=1,
    )
    return build_tflite(spec)


def tflite_custom_op(name: str) -> bytes:
    """One custom operator called `name` between a float input and output."""
    spec = ModelSpec(
        tensors=[TensorSpec("x", [1, 8]), TensorSpec("y", [1, 8])],
        ops=[OpSpec(f"CUSTOM:{name}", [0], [1])],
        inputs=[0],
        outputs=[1],
    )
    return build_tflite(spec)


def tflite_string_input() -> bytes:
    spec = ModelSpec(
        tensors=[TensorSpec("text", [1], "string"), TensorSpec("out", [1], "string")],
        ops=[OpSpec("CUSTOM:StringOp", [0], [1])],
        inputs=[0],
        outputs=[1],
    )
    return build_tflite(spec)


def tflite_ambiguous() -> bytes:
    """[1, 3, 8, 3]: channels could be first or last."""
    spec = ModelSpec(
        tensors=[TensorSpec("amb", [1, 3, 8, 3]), TensorSpec("o", [1, 3, 8, 3])],
        ops=[OpSpec("ADD", [0, 0], [1])],
        inputs=[0],
        outputs=[1],
    )
    return build_tflite(spec)


# ---- ONNX --------------------------------------------------------------------------


def onnx_sample_rate() -> bytes:
    """float32 audio [1, N] and an int64 scalar sample rate -> audio * rate / 16000.

    Like silero VAD's `sr`: random int64 values are meaningless for it.
    """
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["sr"], ["rate"], to=TensorProto.FLOAT),
            helper.make_node("Div", ["rate", "base"], ["ratio"]),
            helper.make_node("Mul", ["audio", "ratio"], ["scaled"]),
        ],
        "sample_rate",
        [
            helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, "samples"]),
            helper.make_tensor_value_info("sr", TensorProto.INT64, []),
        ],
        [helper.make_tensor_value_info("scaled", TensorProto.FLOAT, [1, "samples"])],
        initializer=[numpy_helper.from_array(np.array(16000, np.float32), "base")],
    )
    return _model(graph)


def onnx_reflect_pad() -> bytes:
    """Reflect-padding of a [1, N] signal: ONNX Runtime refuses N < 2 at run time, as
    silero VAD's 'Pad reflect requires axis length >= 2'."""
    graph = helper.make_graph(
        [helper.make_node("Pad", ["signal", "pads"], ["padded"], mode="reflect")],
        "reflect_pad",
        [helper.make_tensor_value_info("signal", TensorProto.FLOAT, [1, "n"])],
        [helper.make_tensor_value_info("padded", TensorProto.FLOAT, [1, "m"])],
        initializer=[numpy_helper.from_array(np.array([0, 2, 0, 2], np.int64), "pads")],
    )
    return _model(graph)


def onnx_nan_output() -> bytes:
    """sqrt(x - 2) of x in 0..1: every output is NaN."""
    graph = helper.make_graph(
        [
            helper.make_node("Sub", ["x", "two"], ["shifted"]),
            helper.make_node("Sqrt", ["shifted"], ["root"]),
        ],
        "nan",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("root", TensorProto.FLOAT, [1, 4])],
        initializer=[numpy_helper.from_array(np.array(2, np.float32), "two")],
    )
    return _model(graph)


def _model(graph: onnx.GraphProto, opset: int = 13, **meta: str) -> bytes:
    model = helper.make_model(
        graph,
        producer_name="porter-tests",
        producer_version="1",
        opset_imports=[helper.make_opsetid("", opset)],
    )
    model.ir_version = 8
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    return model.SerializeToString(deterministic=True)


def onnx_float_dynamic() -> bytes:
    """float NCHW input with a named dynamic batch; Relu."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, 32, 32])],
    )
    return _model(graph, description="x" * 300)


def onnx_integer_io(
    dtype: int = TensorProto.UINT8, zp: int = 0, constant_node: bool = False
) -> bytes:
    """Integer input -> DequantizeLinear ... QuantizeLinear -> integer output (AI Hub style)."""
    np_type = helper.tensor_dtype_to_np_dtype(dtype)
    nodes = []
    inits = [
        numpy_helper.from_array(np.array(0.1, np.float32), "out_scale"),
        numpy_helper.from_array(np.array(zp, np_type), "out_zp"),
    ]
    if constant_node:
        nodes += [
            helper.make_node(
                "Constant",
                [],
                ["in_scale"],
                value=numpy_helper.from_array(np.array(1 / 255, np.float32)),
            ),
            helper.make_node(
                "Constant", [], ["in_zp"], value=numpy_helper.from_array(np.array(zp, np_type))
            ),
        ]
    else:
        inits += [
            numpy_helper.from_array(np.array(1 / 255, np.float32), "in_scale"),
            numpy_helper.from_array(np.array(zp, np_type), "in_zp"),
        ]
    nodes += [
        helper.make_node("DequantizeLinear", ["x", "in_scale", "in_zp"], ["xf"]),
        helper.make_node("Relu", ["xf"], ["yf"]),
        helper.make_node("QuantizeLinear", ["yf", "out_scale", "out_zp"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", dtype, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", dtype, [1, 3, 16, 16])],
        initializer=inits,
    )
    opset = 21 if dtype in (TensorProto.UINT16, TensorProto.INT16) else 13
    return _model(graph, opset=opset)


def onnx_qdq(per_channel: bool = False) -> bytes:
    """float input -> QuantizeLinear -> DequantizeLinear -> ... -> float output."""
    if per_channel:
        scale = np.array([0.01, 0.02, 0.03], np.float32)
        zp = np.array([128, 128, 128], np.uint8)
    else:
        scale = np.array(1 / 255, np.float32)
        zp = np.array(0, np.uint8)
    inits = [
        numpy_helper.from_array(scale, "s"),
        numpy_helper.from_array(zp, "z"),
        numpy_helper.from_array(np.array(0.05, np.float32), "os"),
        numpy_helper.from_array(np.array(100, np.uint8), "oz"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"], axis=1),
        helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"], axis=1),
        helper.make_node("Relu", ["xd"], ["yf"]),
        helper.make_node("QuantizeLinear", ["yf", "os", "oz"], ["yq"]),
        helper.make_node("DequantizeLinear", ["yq", "os", "oz"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])],
        initializer=inits,
    )
    return _model(graph)


def onnx_multi_io() -> bytes:
    """Two inputs and two outputs of several element types, including float16."""
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["a", "b"], ["sum"]),
            helper.make_node("Cast", ["a"], ["half"], to=TensorProto.FLOAT16),
        ],
        "g",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 10]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 10]),
        ],
        [
            helper.make_tensor_value_info("sum", TensorProto.FLOAT, [1, 10]),
            helper.make_tensor_value_info("half", TensorProto.FLOAT16, [1, 10]),
        ],
    )
    return _model(graph)


def onnx_custom_domain() -> bytes:
    node = helper.make_node("Fancy", ["x"], ["y"], domain="com.example")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)]
    )
    model.ir_version = 8
    return model.SerializeToString(deterministic=True)


def onnx_external_data(folder: Path, location: str = "weights.bin", create: bool = True) -> bytes:
    """A MatMul whose weights live in an external file (listed, never read by porter)."""
    w = numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "64")):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        initializer=[w],
    )
    if create and not location.startswith(("/", "..")):
        (folder / location).write_bytes(np.ones((4, 4), np.float32).tobytes())
    return _model(graph)


def tflite_add_mul_add() -> bytes:
    """((a + b) * b) + b on float32 [1, 8]: two ADDs a stub delegate can take, a MUL it leaves."""
    spec = ModelSpec(
        tensors=[
            TensorSpec("a", [1, 8]),
            TensorSpec("b", [1, 8]),
            TensorSpec("s", [1, 8]),
            TensorSpec("p", [1, 8]),
            TensorSpec("out", [1, 8]),
        ],
        ops=[OpSpec("ADD", [0, 1], [2]), OpSpec("MUL", [2, 1], [3]), OpSpec("ADD", [3, 1], [4])],
        inputs=[0, 1],
        outputs=[4],
    )
    return build_tflite(spec)


def onnx_qdq_convnet(activation: int = TensorProto.UINT8, layers: tuple[int, ...] = (4,)) -> bytes:
    """A small QDQ conv net (uint8 weights, uint8 or uint16 activations), float in and out.

    Each layer's output channels are given by `layers`; every layer requantizes, so
    rounding differences between runtimes add up layer by layer.
    """
    rng = np.random.default_rng(7)
    act_np = helper.tensor_dtype_to_np_dtype(activation)
    act_zp = 128 if activation == TensorProto.UINT8 else 32768
    act_scale = 1 / 128 if activation == TensorProto.UINT8 else 1 / 32768
    inits = [
        numpy_helper.from_array(np.array(1 / 255, np.float32), "in_s"),
        numpy_helper.from_array(np.array(0, act_np), "in_z"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "in_s", "in_z"], ["x_q"]),
        helper.make_node("DequantizeLinear", ["x_q", "in_s", "in_z"], ["x_dq"]),
    ]
    previous, channels = "x_dq", 3
    for k, out_channels in enumerate(layers):
        w = rng.normal(0, 0.3, (out_channels, channels, 3, 3)).astype(np.float32)
        w_scale = np.abs(w).max() / 127
        w_q = np.clip(np.round(w / w_scale) + 128, 0, 255).astype(np.uint8)
        inits += [
            numpy_helper.from_array(w_q, f"w{k}_q"),
            numpy_helper.from_array(np.array(w_scale, np.float32), f"w{k}_s"),
            numpy_helper.from_array(np.array(128, np.uint8), f"w{k}_z"),
            numpy_helper.from_array(np.zeros(out_channels, np.float32), f"b{k}"),
            numpy_helper.from_array(np.array(act_scale * 8, np.float32), f"a{k}_s"),
            numpy_helper.from_array(np.array(act_zp, act_np), f"a{k}_z"),
        ]
        nodes += [
            helper.make_node("DequantizeLinear", [f"w{k}_q", f"w{k}_s", f"w{k}_z"], [f"w{k}"]),
            helper.make_node("Conv", [previous, f"w{k}", f"b{k}"], [f"c{k}"], pads=[1, 1, 1, 1]),
            helper.make_node("QuantizeLinear", [f"c{k}", f"a{k}_s", f"a{k}_z"], [f"c{k}_q"]),
            helper.make_node("DequantizeLinear", [f"c{k}_q", f"a{k}_s", f"a{k}_z"], [f"c{k}_dq"]),
        ]
        previous, channels = f"c{k}_dq", out_channels
    nodes[-1].output[0] = "y"
    graph = helper.make_graph(
        nodes,
        "qdq_convnet",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, layers[-1], 16, 16])],
        initializer=inits,
    )
    opset = 13 if activation == TensorProto.UINT8 else 21
    return _model(graph, opset=opset)


def uint8_boundary(tflite: bytes) -> bytes:
    """An int8-I/O model wrapped to uint8 I/O, as AI Hub's w8a8 exports often are.

    A QUANTIZE op requantizes the uint8 input (same scale, zero point + 128) to the
    model's int8 input, and one per output requantizes int8 back to uint8.
    """
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(tflite, 0))
    for buffer in model.buffers:  # weights stored after the flatbuffer come back inline
        if buffer.offset > 1:
            buffer.data = np.frombuffer(tflite, np.uint8, buffer.size, buffer.offset)
            buffer.offset = buffer.size = 0
    graph = model.subgraphs[0]
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.QUANTIZE
    code.version = 2
    model.operatorCodes.append(code)
    quantize = len(model.operatorCodes) - 1

    def shifted_copy(index: int, name: str) -> int:
        source = graph.tensors[index]
        tensor = schema.TensorT()
        tensor.name, tensor.shape, tensor.type = (
            name.encode(),
            list(source.shape),
            schema.TensorType.UINT8,
        )
        tensor.buffer = 0
        quant = schema.QuantizationParametersT()
        quant.scale = list(source.quantization.scale)
        quant.zeroPoint = [int(z) + 128 for z in source.quantization.zeroPoint]
        tensor.quantization = quant
        graph.tensors.append(tensor)
        return len(graph.tensors) - 1

    def op(inputs: list[int], outputs: list[int]) -> schema.OperatorT:
        operator = schema.OperatorT()
        operator.opcodeIndex, operator.inputs, operator.outputs = quantize, inputs, outputs
        return operator

    old_input = graph.inputs[0]
    new_input = shifted_copy(old_input, "input")
    graph.tensors[old_input].name = b"input_int8"
    graph.operators.insert(0, op([new_input], [old_input]))
    new_outputs = []
    for old in graph.outputs:
        name = graph.tensors[old].name.decode()
        graph.tensors[old].name = f"{name}_int8".encode()
        new = shifted_copy(old, name)
        graph.operators.append(op([old], [new]))
        new_outputs.append(new)
    graph.inputs, graph.outputs = [new_input], new_outputs
    model.signatureDefs = []
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
