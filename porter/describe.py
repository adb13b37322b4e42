"""Read any model file into a ModelInfo: find the format from the content, then the reader."""

from __future__ import annotations

import hashlib
import mmap
from pathlib import Path
from typing import BinaryIO

from porter.bundles import Bundle, input_values, open_bundle
from porter.errors import PorterError
from porter.labels import parse_labels
from porter.model import ModelInfo

_TFLITE_ID = b"TFL3"
_ZIP_MAGIC = b"PK\x03\x04"
_HASH_CHUNK = 1024 * 1024
# Protobuf tags of ModelProto's fields 1-8 and 14 (ir_version, producer, graph, ...).
_ONNX_FIRST_TAGS = frozenset(
    bytes([t]) for t in (0x08, 0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72)
)


def sniff_format(head: bytes) -> str | None:
    """'tflite', 'onnx' or None, from the first bytes of a file.

    A TFLite flatbuffer carries the identifier TFL3 at offset 4. ONNX has no magic
    number, but a serialized ModelProto starts with the tag of one of its fields;
    the ONNX reader then checks that what parsed is really a model.
    """
    if len(head) >= 8 and head[4:8] == _TFLITE_ID:
        return "tflite"
    if head[:1] in _ONNX_FIRST_TAGS:
        return "onnx"
    return None


def describe_model(path: str | Path) -> ModelInfo:
    """The one entry point from a path to a ModelInfo; every failure is a PorterError.

    `path` is a model file, or an AI Hub bundle: its zip, or the folder it unpacks into.
    """
    path = Path(path)
    if path.is_dir():
        return _describe_folder(path)
    _check_readable(path)
    with path.open("rb") as handle:
        if handle.read(4) == _ZIP_MAGIC:
            return _describe_zip(path)
    info = _describe_file(path)
    return _with_bundle(info, path.parent, None)


def _describe_file(path: Path) -> ModelInfo:
    with path.open("rb") as handle:
        size = path.stat().st_size
        if size == 0:
            raise PorterError(path, "empty file, not a model")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            head = bytes(buf[:64])
            fmt = sniff_format(head)
            if fmt is None:
                raise PorterError(path, _unknown_format(head))
            info = {"file": path.name, "sha256": _sha256(handle), "size_bytes": size}
            if fmt == "tflite":
                return _read_tflite(path, buf, info)
    return _read_onnx(path, info)


def _describe_folder(folder: Path) -> ModelInfo:
    """An unpacked bundle: its one model, described as a file, with the bundle's metadata."""
    bundle = open_bundle(folder)
    model = folder / bundle.member
    _check_readable(model)
    return _with_bundle(_describe_file(model), folder, bundle)


def _describe_zip(path: Path) -> ModelInfo:
    """A bundle's zip, read in place: the model's bytes, the zip's sha256 and size."""
    bundle = open_bundle(path)
    data = bundle.model_bytes or b""
    fmt = sniff_format(data[:64])
    if fmt is None:
        raise PorterError(path, f"{bundle.member}: {_unknown_format(data[:64])}")
    with path.open("rb") as handle:
        info = {"file": path.name, "sha256": _sha256(handle), "size_bytes": path.stat().st_size}
    if fmt == "tflite":
        described = _read_tflite(path, data, info)
    else:
        described = _read_onnx(path, info, data, bundle)
    return _with_bundle(described, path.parent, bundle)


def _with_bundle(info: ModelInfo, folder: Path, bundle: Bundle | None) -> ModelInfo:
    """The bundle's metadata, labels and input values (a model's own come first); for a bare
    model file, a labels.txt beside it."""
    if bundle is None:
        beside = folder / "labels.txt"
        if info.labels is None and beside.is_file() and beside.stat().st_size < 16 * 1024**2:
            info.labels = parse_labels(beside.read_text("utf-8", "replace"), beside)
            info.labels_source = f"{beside.name} beside the model"
        return info
    info.bundle = {
        "kind": bundle.kind,
        "member": bundle.member,
        "metadata_file": bundle.metadata_file,
        "metadata": bundle.metadata,
    }
    if info.labels is None and bundle.labels is not None:
        info.labels = bundle.labels
        info.labels_source = f"the bundle's labels.txt ({bundle.path.name})"
    for name, values in input_values(bundle).items():
        info.input_values.setdefault(name, values)
    return info


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise PorterError(path, "no such file")
    if path.is_dir():
        raise PorterError(path, "is a folder, not a model file")
    if not path.is_file():
        raise PorterError(path, "not a regular file")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise PorterError(path, f"cannot be read ({exc.strerror or exc})") from None


def _sha256(handle: BinaryIO) -> str:
    """Hash by reading into one reused buffer: a memory map would leave the whole file
    resident (and counted in our RSS) once every page has been touched."""
    digest = hashlib.sha256()
    buffer = bytearray(_HASH_CHUNK)
    view = memoryview(buffer)
    handle.seek(0)
    while True:
        count = handle.readinto(buffer)
        if not count:
            break
        digest.update(view[:count])
    return digest.hexdigest()


def _read_tflite(path: Path, buf: mmap.mmap, info: dict) -> ModelInfo:
    from porter.readers.tflite_reader import CorruptModel, read_tflite

    try:
        return read_tflite(buf, info)
    except CorruptModel as exc:
        raise PorterError(path, f"corrupt TFLite model: {exc}") from None
    except Exception as exc:  # any flatbuffer fault means a broken file
        raise PorterError(
            path, f"corrupt or truncated TFLite model ({type(exc).__name__}: {exc})"
        ) from None


def _read_onnx(
    path: Path, info: dict, data: bytes | None = None, bundle: Bundle | None = None
) -> ModelInfo:
    from porter.readers.onnx_reader import CorruptModel, read_onnx

    try:
        if bundle is not None:
            return read_onnx(path, info, data, bundle.member, bundle.members)
        return read_onnx(path, info)
    except CorruptModel as exc:
        raise PorterError(path, f"corrupt ONNX model: {exc}") from None
    except Exception as exc:  # protobuf and onnx raise many kinds
        raise PorterError(
            path, f"corrupt or truncated ONNX model ({type(exc).__name__}: {_short(exc)})"
        ) from None


def _unknown_format(head: bytes) -> str:
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<")):
        return "not a model: this is an HTML/XML page (a download that saved a web page?)"
    if text.startswith((b"{", b"[")):
        return "not a model: this looks like JSON text"
    if head.startswith(b"version https://git-lfs"):
        return "not a model: this is a Git LFS pointer (run git lfs pull)"
    return "unknown format: neither a TFLite flatbuffer (no TFL3 identifier) nor an ONNX protobuf"


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:200]
