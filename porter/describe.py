"""Read any model file into a ModelInfo: find the format from the content, then the reader."""

from __future__ import annotations

import hashlib
import mmap
from pathlib import Path
from typing import BinaryIO

from porter.errors import PorterError
from porter.model import ModelInfo

_TFLITE_ID = b"TFL3"
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
    """The one entry point from a path to a ModelInfo; every failure is a PorterError."""
    path = Path(path)
    _check_readable(path)
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


def _read_onnx(path: Path, info: dict) -> ModelInfo:
    from porter.readers.onnx_reader import CorruptModel, read_onnx

    try:
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
    if head.startswith(b"PK\x03\x04"):
        return "not a model: this is a zip archive (unpack it first)"
    if head.startswith(b"version https://git-lfs"):
        return "not a model: this is a Git LFS pointer (run git lfs pull)"
    return "unknown format: neither a TFLite flatbuffer (no TFL3 identifier) nor an ONNX protobuf"


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:200]
