"""Describe a .tflite file from its flatbuffer, on a memory map, without the interpreter.

Only the tables that describe the graph are touched; weight buffers are never read, so
a model of any size costs a few page faults, not its size in memory.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, replace
from typing import Any

from tflite.BuiltinOperator import BuiltinOperator
from tflite.Model import Model
from tflite.TensorType import TensorType

from porter.layout import guess_layout
from porter.model import ModelInfo, Quantization, Tensor
from porter.readers.tflite_metadata import read_label_file, read_metadata

_BUILTIN_NAMES = {value: name for name, value in vars(BuiltinOperator).items() if name.isupper()}
_TYPE_NAMES = {value: name.lower() for name, value in vars(TensorType).items() if name.isupper()}
_CUSTOM_CODE = BuiltinOperator.CUSTOM
# Custom ops that the stock LiteRT op resolver registers itself (checked on ai-edge-litert
# 2.3: MediaPipe's three run there, a model with any other custom op fails to load).
_RESOLVED_CUSTOM_OPS = frozenset(
    {
        "TFLite_Detection_PostProcess",
        "Mfcc",
        "AudioSpectrogram",
        "Convolution2DTransposeBias",
        "MaxPoolingWithArgmax2D",
        "MaxUnpooling2D",
    }
)
_BINARY_METADATA = frozenset({"TFLITE_METADATA", "CONVERSION_METADATA"})
_MAX_TEXT_METADATA = 64 * 1024
_MAX_FLATBUFFER_METADATA = 1024 * 1024
_MAX_LABEL_FILE = 4 * 1024 * 1024


class CorruptModel(Exception):
    """The flatbuffer does not hold together; the caller names the file."""


def read_tflite(buf: Any, info: dict[str, Any]) -> ModelInfo:
    """Build the ModelInfo of a TFLite flatbuffer held in `buf` (bytes or mmap)."""
    reader = _Reader(buf)
    return reader.describe(info)


class _Reader:
    def __init__(self, buf: Any) -> None:
        self.buf = buf
        self.size = len(buf)
        self.model = Model.GetRootAs(buf, 0)
        self.warnings: list[str] = []

    def count(self, length: int, element_size: int = 4) -> int:
        """A vector length that the file is big enough to hold, or CorruptModel.

        Without this a flipped bit in a length makes a loop of four billion steps.
        """
        if length < 0 or length * element_size > self.size:
            raise CorruptModel(f"a table claims {length} entries, more than the file holds")
        return length

    def describe(self, info: dict[str, Any]) -> ModelInfo:
        model = self.model
        n_subgraphs = self.count(model.SubgraphsLength())
        if n_subgraphs == 0:
            raise CorruptModel("the model has no subgraph")
        signature = self.main_signature()
        sub_index = signature["subgraph"] if signature else 0
        if sub_index >= n_subgraphs:
            raise CorruptModel(f"the signature names subgraph {sub_index}, which does not exist")
        subgraph = model.Subgraphs(sub_index)
        n_tensors = self.count(subgraph.TensorsLength())
        in_names = signature["inputs"] if signature else {}
        out_names = signature["outputs"] if signature else {}
        inputs = [
            self.tensor(subgraph, i, n_tensors, in_names, is_input=True)
            for i in self.indices(subgraph.InputsLength(), subgraph.Inputs)
        ]
        outputs = [
            self.tensor(subgraph, i, n_tensors, out_names, is_input=False)
            for i in self.indices(subgraph.OutputsLength(), subgraph.Outputs)
        ]
        operators, custom, producers = self.operators(n_subgraphs, sub_index)
        outputs = [
            replace(t, producer=_producer(index, producers))
            for t, index in zip(
                outputs, self.indices(subgraph.OutputsLength(), subgraph.Outputs), strict=True
            )
        ]
        unresolved = sorted(set(custom) - _RESOLVED_CUSTOM_OPS)
        for name in unresolved:
            self.warnings.append(
                f"custom operator {name!r}: the stock LiteRT runtime cannot run "
                "this model unless a library registers it"
            )
        metadata = self.metadata(n_subgraphs, signature)
        labels, labels_source, input_values = self.carried(inputs, metadata)
        return ModelInfo(
            format="tflite",
            inputs=inputs,
            outputs=outputs,
            operators=operators,
            custom_operators=sorted(set(custom)),
            unresolved_custom_operators=unresolved,
            labels=labels,
            labels_source=labels_source,
            input_values=input_values,
            metadata=metadata,
            warnings=self.warnings,
            **info,
        )

    def indices(self, length: int, getter: Any) -> list[int]:
        return [int(getter(j)) for j in range(self.count(length))]

    def main_signature(self) -> dict[str, Any] | None:
        """The SignatureDef the runtime uses by default: serving_default, else the first."""
        n = self.count(self.model.SignatureDefsLength())
        if n == 0:
            return None
        sigs = [self.model.SignatureDefs(j) for j in range(n)]
        keys = [_text(s.SignatureKey()) for s in sigs]
        chosen = sigs[keys.index("serving_default")] if "serving_default" in keys else sigs[0]

        def names(length: int, getter: Any) -> dict[int, str]:
            mapping = {}
            for j in range(self.count(length)):
                tmap = getter(j)
                mapping[int(tmap.TensorIndex())] = _text(tmap.Name())
            return mapping

        return {
            "keys": keys,
            "subgraph": int(chosen.SubgraphIndex()),
            "inputs": names(chosen.InputsLength(), chosen.Inputs),
            "outputs": names(chosen.OutputsLength(), chosen.Outputs),
        }

    def tensor(
        self,
        subgraph: Any,
        index: int,
        n_tensors: int,
        signature_names: dict[int, str],
        is_input: bool,
    ) -> Tensor:
        if not 0 <= index < n_tensors:
            raise CorruptModel(f"an input or output names tensor {index}, which does not exist")
        t = subgraph.Tensors(index)
        full_name = _text(t.Name())
        # LiteRT hands names to Python as C strings: a NUL ends the name it reports.
        tensor_name = full_name.split("\0", 1)[0]
        name = signature_names.get(index, full_name)
        shape = [int(d) for d in self.dims(t.ShapeLength(), t.Shape)]
        signature_dims = self.dims(t.ShapeSignatureLength(), t.ShapeSignature)
        if signature_dims and len(signature_dims) == len(shape):
            shape_or_none = tuple(
                None if sig < 0 else dim for dim, sig in zip(shape, signature_dims, strict=True)
            )
        else:
            shape_or_none = tuple(shape)
        dims = tuple("?" if d is None else d for d in shape_or_none)
        layout, ambiguous = guess_layout(shape_or_none)
        if ambiguous and is_input:
            # Only an input's layout is a scaffold decision worth a hint.
            self.warnings.append(
                f"tensor {name!r} {list(dims)}: layout is ambiguous (NHWC or NCHW?); "
                "pass --layout to scaffold"
            )
        dtype = _TYPE_NAMES.get(t.Type(), f"unknown({t.Type()})")
        return Tensor(
            name=name,
            shape=shape_or_none,
            dims=dims,
            dtype=dtype,
            layout=layout,
            quantization=self.quantization(t),
            tensor_name=tensor_name if tensor_name != name else None,
        )

    def dims(self, length: int, getter: Any) -> list[int]:
        return [int(getter(j)) for j in range(self.count(length))]

    def quantization(self, t: Any) -> Quantization | None:
        q = t.Quantization()
        if q is None:
            return None
        n_scale = self.count(q.ScaleLength())
        if n_scale == 0:
            return None
        scales = tuple(float(q.Scale(j)) for j in range(n_scale))
        n_zp = self.count(q.ZeroPointLength(), 8)
        zero_points = tuple(int(q.ZeroPoint(j)) for j in range(n_zp)) or (0,) * n_scale
        axis = int(q.QuantizedDimension()) if n_scale > 1 else None
        return Quantization(scale=scales, zero_point=zero_points, axis=axis)

    def operators(
        self, n_subgraphs: int, main: int
    ) -> tuple[dict[str, int], list[str], dict[int, tuple[str, list[int]]]]:
        model = self.model
        codes = []
        for j in range(self.count(model.OperatorCodesLength())):
            code = model.OperatorCodes(j)
            # Old files only fill the deprecated int8 field; new ones put 127 there.
            builtin = max(int(code.BuiltinCode()), int(code.DeprecatedBuiltinCode()))
            if builtin == _CUSTOM_CODE:
                codes.append((_text(code.CustomCode()) or "<unnamed custom op>", True))
            else:
                codes.append((_BUILTIN_NAMES.get(builtin, f"BUILTIN_{builtin}"), False))
        histogram: Counter[str] = Counter()
        custom: list[str] = []
        producers: dict[int, tuple[str, list[int]]] = {}  # main subgraph: tensor -> op, inputs
        for s in range(n_subgraphs):
            subgraph = model.Subgraphs(s)
            for j in range(self.count(subgraph.OperatorsLength())):
                operator = subgraph.Operators(j)
                index = int(operator.OpcodeIndex())
                if not 0 <= index < len(codes):
                    raise CorruptModel(f"an operator names opcode {index}, which does not exist")
                name, is_custom = codes[index]
                histogram[name] += 1
                if is_custom:
                    custom.append(name)
                if s == main:
                    inputs = self.indices(operator.InputsLength(), operator.Inputs)
                    for out in self.indices(operator.OutputsLength(), operator.Outputs):
                        producers[out] = (name, inputs)
        return dict(sorted(histogram.items())), custom, producers

    def metadata(self, n_subgraphs: int, signature: dict[str, Any] | None) -> dict[str, Any]:
        model = self.model
        entries: dict[str, str] = {}
        min_runtime = None
        n_buffers = self.count(model.BuffersLength())
        self.raw_entries: dict[str, bytes] = {}
        for j in range(self.count(model.MetadataLength())):
            entry = model.Metadata(j)
            name = _text(entry.Name())
            index = int(entry.Buffer())
            limit = _MAX_FLATBUFFER_METADATA if name == "TFLITE_METADATA" else _MAX_TEXT_METADATA
            data = self.buffer_bytes(index, n_buffers, limit + 1)
            if data is not None and len(data) <= limit:
                self.raw_entries[name] = data
            if name == "min_runtime_version" and data is not None:
                min_runtime = data.split(b"\0", 1)[0].decode("utf-8", "backslashreplace")
            entries[name] = _describe_blob(name, data, self.buffer_size(index, n_buffers))
        return {
            "description": _text(model.Description()) if model.Description() else None,
            "schema_version": int(model.Version()),
            "subgraphs": n_subgraphs,
            "signatures": signature["keys"] if signature else [],
            "min_runtime_version": min_runtime,
            "tflite_metadata": "TFLITE_METADATA" in entries,
            "entries": entries,
        }

    def carried(
        self, inputs: list[Tensor], metadata: dict[str, Any]
    ) -> tuple[list[str] | None, str | None, dict[str, dict[str, Any]]]:
        """Labels and input normalisation the model carries: TFLite metadata (its label file
        in the zip appended to the model, NormalizationOptions), or a plain "labels" entry."""
        labels: list[str] | None = None
        source: str | None = None
        values: dict[str, dict[str, Any]] = {}
        described = read_metadata(self.raw_entries.get("TFLITE_METADATA", b""))
        if described is not None:
            metadata["tflite_metadata"] = {
                "name": described.name,
                "inputs": [asdict(t) for t in described.inputs],
                "outputs": [asdict(t) for t in described.outputs],
            }
            for tensor, meta in zip(inputs, described.inputs, strict=False):
                if meta.mean and meta.std and all(s != 0 for s in meta.std):
                    values[tensor.name] = {
                        "mean": meta.mean,
                        "std": meta.std,
                        "source": "the model's TFLite metadata (NormalizationOptions)",
                    }
            for meta in described.outputs:
                for name in meta.label_files:
                    found = read_label_file(self.buf, name, _MAX_LABEL_FILE)
                    if found and labels is None:
                        labels, source = found, f"the model's TFLite metadata ({name})"
        if labels is None and "labels" in self.raw_entries:
            text = self.raw_entries["labels"].decode("utf-8", "replace")
            found = [line.strip() for line in text.splitlines() if line.strip()]
            if found:
                labels, source = found, "the model's metadata (labels)"
        return labels, source, values

    def buffer_size(self, index: int, n_buffers: int) -> int:
        if not 0 <= index < n_buffers:
            return 0
        buffer = self.model.Buffers(index)
        if buffer.Offset() > 1:
            return int(buffer.Size())
        return int(buffer.DataLength())

    def buffer_bytes(self, index: int, n_buffers: int, limit: int) -> bytes | None:
        """At most `limit` bytes of a (metadata) buffer; weights are never read."""
        if not 0 <= index < n_buffers:
            return None
        buffer = self.model.Buffers(index)
        offset, size = int(buffer.Offset()), int(buffer.Size())
        if offset > 1:  # stored after the flatbuffer (models over 2 GB)
            if offset + size > self.size:
                raise CorruptModel(f"buffer {index} lies beyond the end of the file")
            return bytes(self.buf[offset : offset + min(size, limit)])
        length = self.count(buffer.DataLength(), 1)
        if length == 0:
            return b""
        start = buffer._tab.Vector(buffer._tab.Offset(4))
        return bytes(self.buf[start : start + min(length, limit)])


# Operators that pass values through: the producer of an output is looked for behind them.
_PASS_THROUGH = frozenset({"QUANTIZE", "DEQUANTIZE", "RESHAPE", "SQUEEZE", "CAST"})


def _producer(tensor: int, producers: dict[int, tuple[str, list[int]]]) -> str | None:
    for _ in range(8):
        if tensor not in producers:
            return None
        name, inputs = producers[tensor]
        if name not in _PASS_THROUGH or not inputs:
            return name
        tensor = inputs[0]
    return None


def _text(raw: bytes | None) -> str:
    if raw is None:
        return ""
    return raw.decode("utf-8", "backslashreplace")


def _describe_blob(name: str, data: bytes | None, size: int) -> str:
    if data is None:
        return "<missing buffer>"
    if name in _BINARY_METADATA or len(data) > _MAX_TEXT_METADATA:
        return f"<{size} bytes>"
    text = data.rstrip(b"\0")
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{size} bytes>"
    if decoded and all(c.isprintable() or c in "\n\t\r" for c in decoded):
        return decoded
    return f"<{size} bytes>"
