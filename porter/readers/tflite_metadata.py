"""TFLite metadata (the TFLITE_METADATA buffer, metadata_schema.fbs, identifier M001).

Only what a script needs: each input's NormalizationOptions (mean / std) and the names of
the label files the model carries (packed in a zip appended to the .tflite). Read with the
flatbuffers runtime's Table and the schema's vtable slots, so no generated code (that
lives in tflite-support, a heavy package) is needed.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

import flatbuffers
from flatbuffers.table import Table

_IDENTIFIER = b"M001"
_NORMALIZATION_OPTIONS = 1  # ProcessUnitOptions
_TENSOR_AXIS_LABELS = 2  # AssociatedFileType
_TENSOR_VALUE_LABELS = 3
_MAX_ITEMS = 10_000


@dataclass
class TensorMetadata:
    name: str
    mean: list[float] | None = None
    std: list[float] | None = None
    label_files: list[str] = field(default_factory=list)


@dataclass
class Metadata:
    name: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


def read_metadata(data: bytes) -> Metadata | None:
    """The metadata flatbuffer's inputs and outputs; None when it is not one."""
    if len(data) < 8 or data[4:8] != _IDENTIFIER:
        return None
    root = Table(data, flatbuffers.encode.Get(flatbuffers.packer.uoffset, data, 0))
    subgraphs = _tables(root, 10)
    if not subgraphs:
        return Metadata(_string(root, 4), [], [])
    subgraph = subgraphs[0]
    return Metadata(
        name=_string(root, 4),
        inputs=[_tensor(t) for t in _tables(subgraph, 8)],
        outputs=[_tensor(t) for t in _tables(subgraph, 10)],
    )


def read_label_file(buf: Any, name: str, limit: int) -> list[str] | None:
    """A label file from the zip appended to the model; None when it is not there."""
    try:
        with zipfile.ZipFile(_Seekable(buf)) as archive:
            info = archive.getinfo(name)
            if info.file_size > limit:
                return None
            text = archive.read(info).decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    names = [line.strip() for line in text.splitlines()]
    while names and not names[-1]:
        names.pop()
    return names or None


class _Seekable(io.RawIOBase):
    """A read-only file over bytes or a memory map, so zipfile reads it in place."""

    def __init__(self, data: Any) -> None:
        self.data, self.position = data, 0

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self.position, len(self.data))[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size is None or size < 0 else self.position + size
        chunk = bytes(self.data[self.position : end])
        self.position += len(chunk)
        return chunk


def _tensor(table: Table) -> TensorMetadata:
    tensor = TensorMetadata(name=_string(table, 4))
    for unit in _tables(table, 12):  # process_units
        if _scalar(unit, 4, flatbuffers.number_types.Uint8Flags) != _NORMALIZATION_OPTIONS:
            continue
        options = _union(unit, 6)
        if options is not None:
            tensor.mean = _floats(options, 4)
            tensor.std = _floats(options, 6)
    for file in _tables(table, 16):  # associated_files
        kind = _scalar(file, 8, flatbuffers.number_types.Int8Flags)
        if kind in (_TENSOR_AXIS_LABELS, _TENSOR_VALUE_LABELS):
            tensor.label_files.append(_string(file, 4))
    return tensor


def _field(table: Table, slot: int) -> int:
    return table.Offset(slot)


def _string(table: Table, slot: int) -> str:
    offset = _field(table, slot)
    if not offset:
        return ""
    return table.String(offset + table.Pos).decode("utf-8", "replace")


def _scalar(table: Table, slot: int, flags: Any) -> int:
    offset = _field(table, slot)
    return table.Get(flags, offset + table.Pos) if offset else 0


def _tables(table: Table, slot: int) -> list[Table]:
    offset = _field(table, slot)
    if not offset:
        return []
    count = min(table.VectorLen(offset), _MAX_ITEMS)
    start = table.Vector(offset)
    return [Table(table.Bytes, table.Indirect(start + 4 * i)) for i in range(count)]


def _union(table: Table, slot: int) -> Table | None:
    offset = _field(table, slot)
    if not offset:
        return None
    union = Table(table.Bytes, 0)
    table.Union(union, offset)
    return union


def _floats(table: Table, slot: int) -> list[float] | None:
    offset = _field(table, slot)
    if not offset:
        return None
    count = min(table.VectorLen(offset), _MAX_ITEMS)
    start = table.Vector(offset)
    return [table.Get(flatbuffers.number_types.Float32Flags, start + 4 * i) for i in range(count)]
