"""The format-neutral description of a model that every reader produces.

Everything after the readers (the inspect report, the scaffold plan) works from these
plain dataclasses only, so a new format needs a reader and nothing else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Quantization:
    """Affine quantization: real = (q - zero_point) * scale, per tensor or per channel."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int | None = None
    # "integer": the tensor itself holds integers (TFLite, ONNX integer I/O).
    # "qdq": the tensor holds floats and the model quantizes it right at its boundary.
    boundary: str = "integer"

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass(frozen=True)
class Tensor:
    """One model input or output as the runtime will present it."""

    name: str
    shape: tuple[int | None, ...]  # None marks a dynamic dimension
    dims: tuple[int | str, ...]  # dynamic dimensions keep their symbolic name, or "?"
    dtype: str
    layout: str | None = None  # "NHWC", "NCHW" or None
    quantization: Quantization | None = None
    # The tensor's name inside the graph when the model exposes another name
    # (TFLite SignatureDef keys); None when they are the same.
    tensor_name: str | None = None
    # For an output: the operator that computes it, looking through quantization and
    # reshapes (e.g. "SOFTMAX", "Softmax"), when the reader can tell.
    producer: str | None = None

    @property
    def runtime_name(self) -> str:
        """The name the runtime reports and scripts look tensors up by."""
        return self.tensor_name or self.name


@dataclass
class ModelInfo:
    """What porter knows about one model file."""

    format: str  # "tflite" or "onnx"
    file: str
    sha256: str
    size_bytes: int
    inputs: list[Tensor]
    outputs: list[Tensor]
    operators: dict[str, int]
    custom_operators: list[str] = field(default_factory=list)
    # The custom operators a stock runtime does not register: the model fails to load.
    unresolved_custom_operators: list[str] = field(default_factory=list)
    # Class names the model carries (TFLite metadata's label file, ONNX metadata_props, an
    # AI Hub bundle's labels.txt), and where they come from.
    labels: list[str] | None = None
    labels_source: str | None = None
    # How an input's pixels become its values, when the model says so itself:
    # {input name: {"mean": [...], "std": [...], "source": "..."}}, pixels in 0..255.
    input_values: dict[str, dict[str, Any]] = field(default_factory=dict)
    # An AI Hub bundle's kind ("zip" / "folder"), the model's path in it and its metadata.
    bundle: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        """The stable JSON document of `porter inspect --json` (schema_version 1)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "format": self.format,
            "file": self.file,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "inputs": [_tensor_json(t) for t in self.inputs],
            "outputs": [_tensor_json(t) for t in self.outputs],
            "operators": dict(sorted(self.operators.items())),
            "custom_operators": sorted(self.custom_operators),
            "metadata": self.metadata,
            "bundle": self.bundle,
            "warnings": list(self.warnings),
        }


def _tensor_json(tensor: Tensor) -> dict[str, Any]:
    quant = None
    if tensor.quantization is not None:
        quant = asdict(tensor.quantization)
        quant["scale"] = list(quant["scale"])
        quant["zero_point"] = list(quant["zero_point"])
    doc: dict[str, Any] = {
        "name": tensor.name,
        "shape": list(tensor.shape),
        "dims": list(tensor.dims),
        "dtype": tensor.dtype,
        "layout": tensor.layout,
        "quantization": quant,
    }
    if tensor.tensor_name is not None:
        doc["tensor_name"] = tensor.tensor_name
    if tensor.producer is not None:
        doc["producer"] = tensor.producer
    return doc
