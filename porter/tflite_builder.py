"""Write small .tflite flatbuffers from a plain description.

porter builds its sample models and its test fixtures with this, so both are made by
the project's own code, byte for byte the same on every machine.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import flatbuffers
import numpy as np


def _schema(name: str) -> ModuleType:
    """The tflite package re-exports each class under its module's name; the builder
    functions live in the module itself."""
    return importlib.import_module(f"tflite.{name}")


ActivationFunctionType = _schema("ActivationFunctionType")
Buffer = _schema("Buffer")
BuiltinOperator = _schema("BuiltinOperator")
BuiltinOptions = _schema("BuiltinOptions")
Conv2DOptions = _schema("Conv2DOptions")
FullyConnectedOptions = _schema("FullyConnectedOptions")
Metadata = _schema("Metadata")
Model = _schema("Model")
Operator = _schema("Operator")
OperatorCode = _schema("OperatorCode")
Pool2DOptions = _schema("Pool2DOptions")
QuantizationParameters = _schema("QuantizationParameters")
ReshapeOptions = _schema("ReshapeOptions")
SignatureDef = _schema("SignatureDef")
SubGraph = _schema("SubGraph")
Tensor = _schema("Tensor")
TensorMap = _schema("TensorMap")
TensorType = _schema("TensorType")

_DTYPES = {
    name.lower(): value for name, value in vars(TensorType.TensorType).items() if name.isupper()
}
_DTYPES["float32"] = TensorType.TensorType.FLOAT32
_OPS = {
    name: value for name, value in vars(BuiltinOperator.BuiltinOperator).items() if name.isupper()
}
_PADDING = {"SAME": 0, "VALID": 1}
_ACTIVATIONS = {
    name: value
    for name, value in vars(ActivationFunctionType.ActivationFunctionType).items()
    if name.isupper()
}


def _activation(name: str) -> int:
    return _ACTIVATIONS[name]


def _dtype(name: str) -> int:
    return _DTYPES[name]


# Builtin options written field by field: op -> (options table, [(field, option key,
# default, converter)]). A field equal to the schema's default is left out of the file,
# as flatbuffers does; the defaults below are porter's, and differ from the schema's
# where the schema's would surprise (SOFTMAX's beta 0, ARG_MAX's float output type).
_Field = tuple[str, str, Any, Any]
_ACT: _Field = ("FusedActivationFunction", "activation", "NONE", _activation)
_GENERIC_OPTIONS: dict[str, tuple[str, list[_Field]]] = {
    "ADD": ("AddOptions", [_ACT]),
    "SUB": ("SubOptions", [_ACT]),
    "MUL": ("MulOptions", [_ACT]),
    "DIV": ("DivOptions", [_ACT]),
    "MAXIMUM": ("MaximumMinimumOptions", []),
    "MINIMUM": ("MaximumMinimumOptions", []),
    "CONCATENATION": ("ConcatenationOptions", [("Axis", "axis", 0, int), _ACT]),
    "SOFTMAX": ("SoftmaxOptions", [("Beta", "beta", 1.0, float)]),
    "ARG_MAX": ("ArgMaxOptions", [("OutputType", "output_type", "int32", _dtype)]),
    "ARG_MIN": ("ArgMinOptions", [("OutputType", "output_type", "int32", _dtype)]),
    "CAST": (
        "CastOptions",
        [("InDataType", "in_type", None, _dtype), ("OutDataType", "out_type", None, _dtype)],
    ),
    "RESIZE_BILINEAR": (
        "ResizeBilinearOptions",
        [
            ("AlignCorners", "align_corners", False, bool),
            ("HalfPixelCenters", "half_pixel_centers", False, bool),
        ],
    ),
    "RESIZE_NEAREST_NEIGHBOR": (
        "ResizeNearestNeighborOptions",
        [
            ("AlignCorners", "align_corners", False, bool),
            ("HalfPixelCenters", "half_pixel_centers", False, bool),
        ],
    ),
    "DEPTH_TO_SPACE": ("DepthToSpaceOptions", [("BlockSize", "block_size", None, int)]),
    "SPACE_TO_DEPTH": ("SpaceToDepthOptions", [("BlockSize", "block_size", None, int)]),
    "TRANSPOSE": ("TransposeOptions", []),
    "GATHER": ("GatherOptions", [("Axis", "axis", 0, int), ("BatchDims", "batch_dims", 0, int)]),
    "PAD": ("PadOptions", []),
    "PADV2": ("PadV2Options", []),
    "SLICE": ("SliceOptions", []),
    "STRIDED_SLICE": (
        "StridedSliceOptions",
        [
            ("BeginMask", "begin_mask", 0, int),
            ("EndMask", "end_mask", 0, int),
            ("EllipsisMask", "ellipsis_mask", 0, int),
            ("NewAxisMask", "new_axis_mask", 0, int),
            ("ShrinkAxisMask", "shrink_axis_mask", 0, int),
        ],
    ),
    "MEAN": ("ReducerOptions", [("KeepDims", "keep_dims", False, bool)]),
    "SUM": ("ReducerOptions", [("KeepDims", "keep_dims", False, bool)]),
    "REDUCE_MAX": ("ReducerOptions", [("KeepDims", "keep_dims", False, bool)]),
    "REDUCE_MIN": ("ReducerOptions", [("KeepDims", "keep_dims", False, bool)]),
    "DEPTHWISE_CONV_2D": (
        "DepthwiseConv2DOptions",
        [
            ("Padding", "padding", "SAME", _PADDING.__getitem__),
            ("StrideW", "stride", 1, int),
            ("StrideH", "stride", 1, int),
            ("DepthMultiplier", "depth_multiplier", 1, int),
            _ACT,
            ("DilationWFactor", "dilation", 1, int),
            ("DilationHFactor", "dilation", 1, int),
        ],
    ),
}


@dataclass
class TensorSpec:
    name: str
    shape: list[int]
    dtype: str = "float32"
    data: bytes | None = None  # constant contents, None for activations
    scale: list[float] | None = None
    zero_point: list[int] | None = None
    axis: int = 0
    shape_signature: list[int] | None = None


@dataclass
class OpSpec:
    op: str  # builtin name ("CONV_2D") or "CUSTOM:<name>"
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelSpec:
    tensors: list[TensorSpec]
    ops: list[OpSpec]
    inputs: list[int]
    outputs: list[int]
    description: str = "built by porter"
    # SignatureDef: (key, {name: tensor index} for inputs, same for outputs)
    signature: tuple[str, dict[str, int], dict[str, int]] | None = None
    metadata: dict[str, bytes] = field(default_factory=dict)
    deprecated_opcodes_only: bool = False  # old files fill only the int8 field
    extra_subgraphs: int = 0


def constant(name: str, array: np.ndarray, **quant: Any) -> TensorSpec:
    """A constant tensor holding `array` (little-endian, as TFLite stores it)."""
    array = np.ascontiguousarray(array)
    dtype = str(array.dtype)
    return TensorSpec(
        name,
        list(array.shape),
        dtype,
        array.astype(array.dtype.newbyteorder("<")).tobytes(),
        **quant,
    )


class Graph:
    """A single-subgraph model built op by op: each op's output tensor is created with it.

    >>> g = Graph()
    >>> x = g.tensor(TensorSpec("x", [1, 4], "uint8", scale=[1 / 255], zero_point=[0]))
    >>> y = g.op("DEQUANTIZE", [x], "y", [1, 4])
    """

    def __init__(self) -> None:
        self.tensors: list[TensorSpec] = []
        self.ops: list[OpSpec] = []

    def tensor(self, spec: TensorSpec) -> int:
        """Add a tensor; its index."""
        self.tensors.append(spec)
        return len(self.tensors) - 1

    def const(self, name: str, array: np.ndarray) -> int:
        """Add a constant tensor holding `array`; its index."""
        return self.tensor(constant(name, np.asarray(array)))

    def scalar(self, name: str, value: float) -> int:
        """Add a float32 constant of shape [1] (broadcasts in ADD, MUL, ...); its index."""
        return self.const(name, np.array([value], np.float32))

    def op(
        self,
        kind: str,
        inputs: list[int],
        name: str,
        shape: list[int],
        dtype: str = "float32",
        **options: Any,
    ) -> int:
        """Add an op and its (unquantized) output tensor; the output's index."""
        out = self.tensor(TensorSpec(name, shape, dtype))
        self.ops.append(OpSpec(kind, inputs, [out], options))
        return out

    def op_into(self, kind: str, inputs: list[int], output: TensorSpec, **options: Any) -> int:
        """Add an op writing into a tensor described in full (a quantized output)."""
        out = self.tensor(output)
        self.ops.append(OpSpec(kind, inputs, [out], options))
        return out

    def spec(self, inputs: list[int], outputs: list[int], **model: Any) -> ModelSpec:
        """The ModelSpec of this graph (description, signature, metadata as keywords)."""
        return ModelSpec(
            tensors=self.tensors, ops=self.ops, inputs=inputs, outputs=outputs, **model
        )


def build_tflite(spec: ModelSpec) -> bytes:
    """Serialize `spec` to .tflite bytes."""
    b = flatbuffers.Builder(1024)
    buffers = [_buffer(b, None)]
    tensor_offsets = []
    for t in spec.tensors:
        buffer_index = 0
        if t.data is not None:
            buffers.append(_buffer(b, t.data))
            buffer_index = len(buffers) - 1
        tensor_offsets.append(_tensor(b, t, buffer_index))
    metadata_offsets = []
    for name, blob in spec.metadata.items():
        buffers.append(_buffer(b, blob))
        name_off = b.CreateString(name)
        Metadata.MetadataStart(b)
        Metadata.MetadataAddName(b, name_off)
        Metadata.MetadataAddBuffer(b, len(buffers) - 1)
        metadata_offsets.append(Metadata.MetadataEnd(b))

    codes: list[str] = []
    for op in spec.ops:
        if op.op not in codes:
            codes.append(op.op)
    op_offsets = [_operator(b, op, codes.index(op.op)) for op in spec.ops]
    subgraphs = [_subgraph(b, tensor_offsets, op_offsets, spec.inputs, spec.outputs, "main")]
    for k in range(spec.extra_subgraphs):
        subgraphs.append(_subgraph(b, [], [], [], [], f"extra{k}"))
    code_offsets = [_opcode(b, code, spec.deprecated_opcodes_only) for code in codes]
    signature_offsets = [_signature(b, *spec.signature)] if spec.signature else []
    description = b.CreateString(spec.description)

    vectors = {
        "codes": _offset_vector(b, code_offsets),
        "subgraphs": _offset_vector(b, subgraphs),
        "buffers": _offset_vector(b, buffers),
        "metadata": _offset_vector(b, metadata_offsets),
        "signatures": _offset_vector(b, signature_offsets),
    }
    Model.ModelStart(b)
    Model.ModelAddVersion(b, 3)
    Model.ModelAddOperatorCodes(b, vectors["codes"])
    Model.ModelAddSubgraphs(b, vectors["subgraphs"])
    Model.ModelAddDescription(b, description)
    Model.ModelAddBuffers(b, vectors["buffers"])
    if metadata_offsets:
        Model.ModelAddMetadata(b, vectors["metadata"])
    if signature_offsets:
        Model.ModelAddSignatureDefs(b, vectors["signatures"])
    b.Finish(Model.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _offset_vector(b: flatbuffers.Builder, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()


def _int_vector(b: flatbuffers.Builder, values: list[int], width: int = 4) -> int:
    b.StartVector(width, len(values), width)
    prepend = b.PrependInt32 if width == 4 else b.PrependInt64
    for v in reversed(values):
        prepend(int(v))
    return b.EndVector()


def _float_vector(b: flatbuffers.Builder, values: list[float]) -> int:
    b.StartVector(4, len(values), 4)
    for v in reversed(values):
        b.PrependFloat32(float(v))
    return b.EndVector()


def _buffer(b: flatbuffers.Builder, data: bytes | None) -> int:
    data_off = None
    if data:
        # 16-byte alignment lets the runtime read weights in place.
        b.StartVector(1, len(data), 16)
        b.head -= len(data)
        b.Bytes[b.head : b.head + len(data)] = data
        data_off = b.EndVector()
    Buffer.BufferStart(b)
    if data_off is not None:
        Buffer.BufferAddData(b, data_off)
    return Buffer.BufferEnd(b)


def _tensor(b: flatbuffers.Builder, t: TensorSpec, buffer_index: int) -> int:
    name = b.CreateString(t.name)
    shape = _int_vector(b, t.shape)
    signature = _int_vector(b, t.shape_signature) if t.shape_signature is not None else None
    quant = None
    if t.scale is not None:
        scale = _float_vector(b, t.scale)
        zero_point = _int_vector(b, t.zero_point or [0] * len(t.scale), width=8)
        QuantizationParameters.QuantizationParametersStart(b)
        QuantizationParameters.QuantizationParametersAddScale(b, scale)
        QuantizationParameters.QuantizationParametersAddZeroPoint(b, zero_point)
        QuantizationParameters.QuantizationParametersAddQuantizedDimension(b, t.axis)
        quant = QuantizationParameters.QuantizationParametersEnd(b)
    Tensor.TensorStart(b)
    Tensor.TensorAddShape(b, shape)
    Tensor.TensorAddType(b, _DTYPES[t.dtype])
    Tensor.TensorAddBuffer(b, buffer_index)
    Tensor.TensorAddName(b, name)
    if quant is not None:
        Tensor.TensorAddQuantization(b, quant)
    if signature is not None:
        Tensor.TensorAddShapeSignature(b, signature)
    return Tensor.TensorEnd(b)


def _options(b: flatbuffers.Builder, op: OpSpec) -> tuple[int, int | None]:
    o = op.options
    if op.op == "CONV_2D":
        Conv2DOptions.Conv2DOptionsStart(b)
        Conv2DOptions.Conv2DOptionsAddPadding(b, _PADDING[o.get("padding", "SAME")])
        Conv2DOptions.Conv2DOptionsAddStrideW(b, o.get("stride", 1))
        Conv2DOptions.Conv2DOptionsAddStrideH(b, o.get("stride", 1))
        Conv2DOptions.Conv2DOptionsAddDilationWFactor(b, o.get("dilation", 1))
        Conv2DOptions.Conv2DOptionsAddDilationHFactor(b, o.get("dilation", 1))
        if "activation" in o:
            Conv2DOptions.Conv2DOptionsAddFusedActivationFunction(b, _activation(o["activation"]))
        return BuiltinOptions.BuiltinOptions.Conv2DOptions, Conv2DOptions.Conv2DOptionsEnd(b)
    if op.op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        Pool2DOptions.Pool2DOptionsStart(b)
        Pool2DOptions.Pool2DOptionsAddPadding(b, _PADDING[o.get("padding", "VALID")])
        Pool2DOptions.Pool2DOptionsAddStrideW(b, o["stride"])
        Pool2DOptions.Pool2DOptionsAddStrideH(b, o["stride"])
        Pool2DOptions.Pool2DOptionsAddFilterWidth(b, o["size"])
        Pool2DOptions.Pool2DOptionsAddFilterHeight(b, o["size"])
        if "activation" in o:
            Pool2DOptions.Pool2DOptionsAddFusedActivationFunction(b, _activation(o["activation"]))
        return BuiltinOptions.BuiltinOptions.Pool2DOptions, Pool2DOptions.Pool2DOptionsEnd(b)
    if op.op == "FULLY_CONNECTED":
        FullyConnectedOptions.FullyConnectedOptionsStart(b)
        if "activation" in o:
            FullyConnectedOptions.FullyConnectedOptionsAddFusedActivationFunction(
                b, _activation(o["activation"])
            )
        if o.get("keep_num_dims"):
            FullyConnectedOptions.FullyConnectedOptionsAddKeepNumDims(b, True)
        end = FullyConnectedOptions.FullyConnectedOptionsEnd(b)
        return BuiltinOptions.BuiltinOptions.FullyConnectedOptions, end
    if op.op == "RESHAPE":
        new_shape = _int_vector(b, o["new_shape"])
        ReshapeOptions.ReshapeOptionsStart(b)
        ReshapeOptions.ReshapeOptionsAddNewShape(b, new_shape)
        return BuiltinOptions.BuiltinOptions.ReshapeOptions, ReshapeOptions.ReshapeOptionsEnd(b)
    if op.op in _GENERIC_OPTIONS:
        return _generic_options(b, op)
    return 0, None


def _generic_options(b: flatbuffers.Builder, op: OpSpec) -> tuple[int, int]:
    table, fields = _GENERIC_OPTIONS[op.op]
    module = _schema(table)
    unknown = set(op.options) - {key for _, key, _, _ in fields}
    if unknown:
        raise ValueError(f"{op.op}: unknown options {sorted(unknown)}")
    getattr(module, f"{table}Start")(b)
    for field_name, key, default, convert in fields:
        value = op.options.get(key, default)
        if value is None:
            continue
        getattr(module, f"{table}Add{field_name}")(b, convert(value))
    return getattr(BuiltinOptions.BuiltinOptions, table), getattr(module, f"{table}End")(b)


def _operator(b: flatbuffers.Builder, op: OpSpec, code_index: int) -> int:
    options_type, options = _options(b, op)
    inputs = _int_vector(b, op.inputs)
    outputs = _int_vector(b, op.outputs)
    Operator.OperatorStart(b)
    Operator.OperatorAddOpcodeIndex(b, code_index)
    Operator.OperatorAddInputs(b, inputs)
    Operator.OperatorAddOutputs(b, outputs)
    if options is not None:
        Operator.OperatorAddBuiltinOptionsType(b, options_type)
        Operator.OperatorAddBuiltinOptions(b, options)
    return Operator.OperatorEnd(b)


def _subgraph(
    b: flatbuffers.Builder,
    tensors: list[int],
    ops: list[int],
    inputs: list[int],
    outputs: list[int],
    name: str,
) -> int:
    tensor_vec = _offset_vector(b, tensors)
    input_vec = _int_vector(b, inputs)
    output_vec = _int_vector(b, outputs)
    op_vec = _offset_vector(b, ops)
    name_off = b.CreateString(name)
    SubGraph.SubGraphStart(b)
    SubGraph.SubGraphAddTensors(b, tensor_vec)
    SubGraph.SubGraphAddInputs(b, input_vec)
    SubGraph.SubGraphAddOutputs(b, output_vec)
    SubGraph.SubGraphAddOperators(b, op_vec)
    SubGraph.SubGraphAddName(b, name_off)
    return SubGraph.SubGraphEnd(b)


def _opcode(b: flatbuffers.Builder, code: str, deprecated_only: bool) -> int:
    custom = code[len("CUSTOM:") :] if code.startswith("CUSTOM:") else None
    builtin = _OPS["CUSTOM"] if custom is not None else _OPS[code]
    custom_off = b.CreateString(custom) if custom is not None else None
    OperatorCode.OperatorCodeStart(b)
    OperatorCode.OperatorCodeAddDeprecatedBuiltinCode(b, min(builtin, 127))
    if not deprecated_only:
        OperatorCode.OperatorCodeAddBuiltinCode(b, builtin)
    if custom_off is not None:
        OperatorCode.OperatorCodeAddCustomCode(b, custom_off)
    OperatorCode.OperatorCodeAddVersion(b, 1)
    return OperatorCode.OperatorCodeEnd(b)


def _signature(
    b: flatbuffers.Builder, key: str, inputs: dict[str, int], outputs: dict[str, int]
) -> int:
    def maps(entries: dict[str, int]) -> int:
        offsets = []
        for name, index in entries.items():
            name_off = b.CreateString(name)
            TensorMap.TensorMapStart(b)
            TensorMap.TensorMapAddName(b, name_off)
            TensorMap.TensorMapAddTensorIndex(b, index)
            offsets.append(TensorMap.TensorMapEnd(b))
        return _offset_vector(b, offsets)

    in_vec = maps(inputs)
    out_vec = maps(outputs)
    key_off = b.CreateString(key)
    SignatureDef.SignatureDefStart(b)
    SignatureDef.SignatureDefAddInputs(b, in_vec)
    SignatureDef.SignatureDefAddOutputs(b, out_vec)
    SignatureDef.SignatureDefAddSignatureKey(b, key_off)
    SignatureDef.SignatureDefAddSubgraphIndex(b, 0)
    return SignatureDef.SignatureDefEnd(b)
