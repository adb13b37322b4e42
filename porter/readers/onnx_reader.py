"""Describe a .onnx file from its protobuf, never reading external weight files."""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from porter.layout import guess_layout
from porter.model import ModelInfo, Quantization, Tensor

_DEFAULT_DOMAINS = frozenset({"", "ai.onnx"})
# Domains that a stock onnxruntime build resolves itself.
_RUNTIME_DOMAINS = _DEFAULT_DOMAINS | {"ai.onnx.ml", "com.microsoft"}
_Q_DOMAINS = frozenset({"", "ai.onnx", "com.microsoft"})
_TYPE_NAMES = {"FLOAT": "float32", "DOUBLE": "float64"}
_INTEGER_TYPES = frozenset({"uint8", "int8", "uint16", "int16", "int32", "uint32", "int4", "uint4"})
_FLOAT_TYPES = frozenset({"float32", "float16", "bfloat16", "float64"})
_MAX_NAMES_TEXT = 4 * 1024 * 1024
# Operators that pass values through: the producer of an output is looked for behind them.
_PASS_THROUGH = frozenset(
    {"QuantizeLinear", "DequantizeLinear", "Reshape", "Squeeze", "Flatten", "Cast", "Identity"}
)


class CorruptModel(Exception):
    """The protobuf parsed but is not a usable ONNX model; the caller names the file."""


def read_onnx(
    path: Path,
    info: dict[str, Any],
    data: bytes | None = None,
    member: str | None = None,
    members: set[str] | None = None,
) -> ModelInfo:
    """Build the ModelInfo of an ONNX file, or of `data` read from a zip's `member` (the
    zip's `members` stand for its folder); external data is listed, never loaded."""
    if data is not None:
        model = onnx.load_from_string(data)
    else:
        model = onnx.load(str(path), load_external_data=False)
    if model.ir_version <= 0 or not (model.graph.input or model.graph.output):
        raise CorruptModel("not an ONNX model (no IR version or no graph inputs and outputs)")
    return _Describer(model, path, member, members).describe(info)


class _Describer:
    def __init__(
        self,
        model: onnx.ModelProto,
        path: Path,
        member: str | None = None,
        members: set[str] | None = None,
    ) -> None:
        self.model = model
        self.graph = model.graph
        self.path = path
        self.member, self.members = member, members
        self.warnings: list[str] = []
        self.constants = self._constants()
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        self.producer: dict[str, onnx.NodeProto] = {}
        for node in self.graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
            for name in node.output:
                self.producer[name] = node

    def describe(self, info: dict[str, Any]) -> ModelInfo:
        initializers = {init.name for init in self.graph.initializer}
        inputs = [
            self.tensor(vi, is_input=True) for vi in self.graph.input if vi.name not in initializers
        ]
        outputs = [
            replace(self.tensor(vi, is_input=False), producer=self.producer_of(vi.name))
            for vi in self.graph.output
        ]
        operators: Counter[str] = Counter()
        custom: set[str] = set()
        for node in _all_nodes(self.graph):
            name = (
                node.op_type if node.domain in _DEFAULT_DOMAINS else f"{node.domain}.{node.op_type}"
            )
            operators[name] += 1
            if node.domain not in _RUNTIME_DOMAINS:
                custom.add(name)
        for name in sorted(custom):
            self.warnings.append(
                f"custom operator {name!r}: the stock onnxruntime cannot run this model "
                "unless a library registers its domain"
            )
        labels, labels_source = self.carried_labels()
        return ModelInfo(
            format="onnx",
            inputs=inputs,
            outputs=outputs,
            operators=dict(sorted(operators.items())),
            custom_operators=sorted(custom),
            unresolved_custom_operators=sorted(custom),
            labels=labels,
            labels_source=labels_source,
            metadata=self.metadata(),
            warnings=self.warnings,
            **info,
        )

    def tensor(self, vi: onnx.ValueInfoProto, is_input: bool) -> Tensor:
        dtype, shape, dims = _type_and_shape(vi.type)
        layout, ambiguous = guess_layout(shape)
        if ambiguous and is_input:
            # Only an input's layout is a scaffold decision worth a hint.
            self.warnings.append(
                f"tensor {vi.name!r} {list(dims)}: layout is ambiguous (NHWC or NCHW?); "
                "pass --layout to scaffold"
            )
        quant = (
            self.input_quantization(vi.name, dtype)
            if is_input
            else self.output_quantization(vi.name, dtype)
        )
        return Tensor(
            name=vi.name,
            shape=shape,
            dims=dims,
            dtype=dtype,
            layout=layout,
            quantization=quant,
        )

    def carried_labels(self) -> tuple[list[str] | None, str | None]:
        """Class names in metadata_props: Ultralytics' `names` (a Python dict literal,
        {0: 'person', ...}), or one name per line under `labels`."""
        props = {p.key: p.value for p in self.model.metadata_props}
        if "names" in props:
            try:
                names = ast.literal_eval(props["names"][:_MAX_NAMES_TEXT])
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                names = None
            if isinstance(names, dict) and names:
                keys = sorted(k for k in names if isinstance(k, int))
                if keys == list(range(len(names))):
                    return [
                        str(names[k]) for k in keys
                    ], "the model's metadata (Ultralytics' names)"
            self.warnings.append("metadata 'names' is not a {0: 'name', ...} dict; not used")
        if "labels" in props:
            found = [line.strip() for line in props["labels"].splitlines() if line.strip()]
            if found:
                return found, "the model's metadata (labels)"
        return None, None

    def producer_of(self, name: str) -> str | None:
        """The node computing `name`, looking through quantization and reshapes."""
        for _ in range(8):
            node = self.producer.get(name)
            if node is None:
                return None
            if node.op_type not in _PASS_THROUGH or not node.input:
                return node.op_type
            name = node.input[0]
        return None

    def input_quantization(self, name: str, dtype: str) -> Quantization | None:
        for node in self.consumers.get(name, []):
            if node.domain not in _Q_DOMAINS or not node.input or node.input[0] != name:
                continue
            if node.op_type == "DequantizeLinear" and dtype in _INTEGER_TYPES:
                return self.params(node, "integer")
            if node.op_type == "QuantizeLinear" and dtype in _FLOAT_TYPES:
                return self.params(node, "qdq")
        return None

    def output_quantization(self, name: str, dtype: str) -> Quantization | None:
        node = self.producer.get(name)
        if node is None or node.domain not in _Q_DOMAINS:
            return None
        if node.op_type == "QuantizeLinear" and dtype in _INTEGER_TYPES:
            return self.params(node, "integer")
        if node.op_type == "DequantizeLinear" and dtype in _FLOAT_TYPES:
            return self.params(node, "qdq")
        return None

    def params(self, node: onnx.NodeProto, boundary: str) -> Quantization | None:
        scale = self.constants.get(node.input[1]) if len(node.input) > 1 else None
        if scale is None:
            self.warnings.append(
                f"{node.op_type} {node.name!r}: its scale is not a constant; "
                "quantization not reported"
            )
            return None
        zp_name = node.input[2] if len(node.input) > 2 else ""
        zero_point = self.constants.get(zp_name) if zp_name else None
        scales = tuple(float(s) for s in np.asarray(scale, dtype=np.float64).reshape(-1))
        if zero_point is None:
            zps: tuple[int, ...] = (0,) * len(scales)
        else:
            zps = tuple(int(z) for z in np.asarray(zero_point).reshape(-1))
        axis = None
        if len(scales) > 1:
            axis = 1
            for attr in node.attribute:
                if attr.name == "axis":
                    axis = int(attr.i)
        return Quantization(scale=scales, zero_point=zps, axis=axis, boundary=boundary)

    def _constants(self) -> dict[str, np.ndarray]:
        """Small constant tensors (initializers and Constant nodes) by name."""
        found: dict[str, np.ndarray] = {}
        for init in self.graph.initializer:
            if init.data_location != onnx.TensorProto.EXTERNAL and _small(init):
                found[init.name] = numpy_helper.to_array(init)
        for node in self.graph.node:
            if node.op_type == "Constant" and node.domain in _DEFAULT_DOMAINS and node.output:
                for attr in node.attribute:
                    if (
                        attr.name == "value"
                        and attr.t.data_location != onnx.TensorProto.EXTERNAL
                        and _small(attr.t)
                    ):
                        found[node.output[0]] = numpy_helper.to_array(attr.t)
        return found

    def metadata(self) -> dict[str, Any]:
        model = self.model
        return {
            "ir_version": int(model.ir_version),
            "producer_name": model.producer_name,
            "producer_version": model.producer_version,
            "domain": model.domain,
            "model_version": int(model.model_version),
            "doc_string": model.doc_string,
            "graph_name": model.graph.name,
            "opset_imports": {
                (op.domain or "ai.onnx"): int(op.version)
                for op in sorted(model.opset_import, key=lambda o: o.domain)
            },
            "metadata_props": {p.key: p.value for p in model.metadata_props},
            "external_data": self.external_data(),
        }

    def external_data(self) -> list[dict[str, Any]]:
        """Files the model names for its weights: whether each exists, never their content."""
        folder = self.path.resolve().parent
        locations: dict[str, dict[str, Any]] = {}
        for tensor in _all_initializers(self.graph):
            if tensor.data_location != onnx.TensorProto.EXTERNAL:
                continue
            entry = {kv.key: kv.value for kv in tensor.external_data}
            location = entry.get("location", "")
            if location in locations:
                continue
            target = (folder / location).resolve()
            inside = (
                bool(location)
                and not Path(location).is_absolute()
                and target.is_relative_to(folder)
            )
            if not inside:
                self.warnings.append(
                    f"external data {location!r} is outside the model's folder; porter does not look at it"
                )
            exists = target.is_file() if inside else None
            if inside and self.members is not None:  # in a zip: the member beside the model
                beside = PurePosixPath(self.member or "").parent / location
                exists = str(beside) in self.members
            locations[location] = {
                "location": location,
                "inside_model_folder": inside,
                "exists": exists,
            }
        return [locations[k] for k in sorted(locations)]


def _small(tensor: onnx.TensorProto) -> bool:
    return int(np.prod(tensor.dims, dtype=np.float64)) <= 4096


def _type_and_shape(
    tp: onnx.TypeProto,
) -> tuple[str, tuple[int | None, ...], tuple[int | str, ...]]:
    kind = tp.WhichOneof("value")
    if kind != "tensor_type":
        return (kind or "unknown").replace("_type", ""), (), ()
    tt = tp.tensor_type
    elem_name = (
        onnx.TensorProto.DataType.Name(tt.elem_type)
        if tt.elem_type in onnx.TensorProto.DataType.values()
        else f"unknown({tt.elem_type})"
    )
    dtype = _TYPE_NAMES.get(elem_name, elem_name.lower())
    if not tt.HasField("shape"):
        return dtype, (), ()
    shape: list[int | None] = []
    dims: list[int | str] = []
    for d in tt.shape.dim:
        if d.HasField("dim_value") and d.dim_value > 0:
            shape.append(int(d.dim_value))
            dims.append(int(d.dim_value))
        else:
            shape.append(None)
            dims.append(d.dim_param or "?")
    return dtype, tuple(shape), tuple(dims)


def _all_nodes(graph: onnx.GraphProto):
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(attr.g)
            for g in attr.graphs:
                yield from _all_nodes(g)


def _all_initializers(graph: onnx.GraphProto):
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _all_initializers(attr.g)
            for g in attr.graphs:
                yield from _all_initializers(g)
