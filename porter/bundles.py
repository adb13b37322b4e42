"""AI Hub's download bundles: a zip (`<model_id>-tflite-w8a8.zip`) or the folder it unpacks
into, holding the model, `metadata.json` (`metadata.yaml` in older releases) and, for models
with classes, `labels.txt`.

A zip is read in place, never extracted: its members are checked (no path that escapes, no
absurd sizes or counts) and only the model, the metadata and the labels are read.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from porter.errors import PorterError
from porter.labels import parse_labels

MODEL_SUFFIXES = (".tflite", ".onnx")
MAX_MEMBERS = 10_000
MAX_MODEL_BYTES = 4 * 1024**3  # the largest model member read into memory
MAX_TEXT_BYTES = 16 * 1024**2  # metadata and labels
MAX_RATIO = 1000  # a member that inflates more than this is a zip bomb


@dataclass
class Bundle:
    kind: str  # "zip" or "folder"
    path: Path  # the zip or the folder
    member: str  # the model's path inside it (POSIX)
    model_bytes: bytes | None  # a zip's model, read into memory; None for a folder
    members: set[str] = field(default_factory=set)  # every file in it (for external data)
    metadata: dict[str, Any] | None = None
    metadata_file: str | None = None
    labels: list[str] | None = None

    @property
    def model_name(self) -> str:
        return PurePosixPath(self.member).name


def open_bundle(path: Path) -> Bundle:
    """The bundle at `path` (a zip or a folder), or a one-line error saying what is wrong."""
    if path.is_dir():
        return _folder(path)
    return _zip(path)


def _folder(folder: Path) -> Bundle:
    files = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and len(p.relative_to(folder).parts) <= 2
    )
    member = _one_model(folder, files)
    base = PurePosixPath(member).parent
    bundle = Bundle("folder", folder, member, None, set(files))
    for name in files:
        if PurePosixPath(name).parent != base:
            continue
        if PurePosixPath(name).name in ("metadata.json", "metadata.yaml", "labels.txt"):
            data = (folder / name).read_bytes()[: MAX_TEXT_BYTES + 1]
            _read_text_member(bundle, folder, name, data)
    return bundle


def _zip(path: Path) -> Bundle:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise PorterError(path, f"not a readable zip ({exc})") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise PorterError(path, f"a zip of {len(infos)} files is not an AI Hub bundle")
        names = []
        for info in infos:
            _check_member(path, info)
            if not info.filename.startswith("__MACOSX/"):
                names.append(info.filename)
        member = _one_model(path, names)
        base = PurePosixPath(member).parent
        model_info = archive.getinfo(member)
        if model_info.file_size > MAX_MODEL_BYTES:
            raise PorterError(
                path, f"{member}: {model_info.file_size:,} bytes is too large to read"
            )
        bundle = Bundle("zip", path, member, _read(archive, path, member), set(names))
        for name in names:
            if PurePosixPath(name).parent == base and PurePosixPath(name).name in (
                "metadata.json",
                "metadata.yaml",
                "labels.txt",
            ):
                if archive.getinfo(name).file_size > MAX_TEXT_BYTES:
                    raise PorterError(path, f"{name}: too large for a metadata or labels file")
                _read_text_member(bundle, path, name, _read(archive, path, name))
    return bundle


def _check_member(path: Path, info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = PurePosixPath(name).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]) or "\\" in name:
        raise PorterError(path, f"member {name!r} escapes the archive; refused")
    if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
        raise PorterError(path, f"member {name!r} inflates {info.file_size:,} bytes; refused")


def _read(archive: zipfile.ZipFile, path: Path, name: str) -> bytes:
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError) as exc:
        raise PorterError(path, f"{name}: cannot be read from the zip ({exc})") from None


def _one_model(path: Path, names: list[str]) -> str:
    models = [n for n in names if n.lower().endswith(MODEL_SUFFIXES)]
    if not models:
        kind = "folder" if path.is_dir() else "zip"
        raise PorterError(path, f"a {kind} with no .tflite or .onnx model in it")
    if len(models) > 1:
        raise PorterError(path, f"{len(models)} models in it ({', '.join(models[:4])}); name one")
    return models[0]


def _read_text_member(bundle: Bundle, where: Path, name: str, data: bytes) -> None:
    leaf = PurePosixPath(name).name
    text = data.decode("utf-8", "replace")
    if leaf == "labels.txt":
        bundle.labels = parse_labels(text, f"{where}: {name}")
        return
    if bundle.metadata is not None and leaf == "metadata.yaml":
        return  # metadata.json wins
    try:
        if leaf == "metadata.json":
            document = json.loads(text)
        else:
            import yaml

            document = yaml.safe_load(text)
    except Exception as exc:  # json and yaml raise many kinds
        raise PorterError(where, f"{name}: not readable metadata ({type(exc).__name__})") from None
    if not isinstance(document, dict):
        raise PorterError(where, f"{name}: metadata is not a mapping")
    bundle.metadata, bundle.metadata_file = document, name


def input_values(bundle: Bundle) -> dict[str, dict[str, Any]]:
    """Each image input's values from metadata.json's value_range [low, high]: a pixel p
    becomes low + p / 255 * (high - low), i.e. mean -low * std and std 255 / (high - low)."""
    values: dict[str, dict[str, Any]] = {}
    for tensor in _model_files(bundle).get("inputs", {}).items():
        name, spec = tensor
        value_range = spec.get("value_range") if isinstance(spec, dict) else None
        if not (isinstance(value_range, list) and len(value_range) == 2):
            continue
        low, high = (float(v) for v in value_range)
        if not high > low or abs(low) == float("inf") or abs(high) == float("inf"):
            continue
        std = 255.0 / (high - low)
        source = f"the bundle's {bundle.metadata_file} (value_range [{low:g}, {high:g}])"
        values[name] = {"mean": [-low * std], "std": [std], "source": source}
    return values


def _model_files(bundle: Bundle) -> dict[str, Any]:
    files = (bundle.metadata or {}).get("model_files")
    if not isinstance(files, dict):
        return {}
    entry = files.get(bundle.model_name) or (next(iter(files.values())) if len(files) == 1 else {})
    return entry if isinstance(entry, dict) else {}
