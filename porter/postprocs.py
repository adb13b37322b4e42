"""The built-in postprocessors: each is templates/postprocs/NAME.py.j2 plus NAME.json.

The JSON description says what the postprocessor needs from the model and which
options it takes; the plan reads it, the template uses it. Adding a postprocessor means
adding those two files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from porter.resources import templates_dir

OPTION_TYPES = {"float": float, "int": int, "str": str, "bool": bool}


@dataclass(frozen=True)
class OutputNeed:
    role: str  # what the template calls this output ("heatmap")
    channels: int  # its channel count, found on the layout's channel axis


@dataclass(frozen=True)
class Option:
    """One option of the script: a --flag on the command line, a prepare() keyword."""

    name: str
    type: str  # a key of OPTION_TYPES
    default: Any
    help: str


@dataclass(frozen=True)
class Postproc:
    name: str
    summary: str
    reference: str
    template: str
    draws: bool  # whether --output draws anything on the photo
    image_channels: int | None  # None: any image, or none at all
    default_channels: str | None
    allowed_channels: tuple[str, ...]
    outputs: tuple[OutputNeed, ...]
    options: tuple[Option, ...]
    constants: dict[str, Any]
    imports: tuple[str, ...]  # standard-library modules its template uses


def available() -> dict[str, Postproc]:
    """Every postprocessor shipped in templates/postprocs, by name."""
    found = {}
    for path in sorted((templates_dir() / "postprocs").glob("*.json")):
        found[path.stem] = _load(path.stem, json.loads(path.read_text(encoding="utf-8")))
    return found


def _load(name: str, doc: dict[str, Any]) -> Postproc:
    image = doc.get("image") or {}
    return Postproc(
        name=name,
        summary=doc["summary"],
        reference=doc.get("reference", ""),
        template=f"postprocs/{name}.py.j2",
        draws=bool(doc.get("draws", False)),
        image_channels=image.get("channels"),
        default_channels=image.get("default_channels"),
        allowed_channels=tuple(image.get("allowed_channels", ())),
        outputs=tuple(OutputNeed(o["role"], int(o["channels"])) for o in doc.get("outputs", [])),
        options=tuple(Option(**o) for o in doc.get("options", [])),
        constants=doc.get("constants", {}),
        imports=tuple(doc.get("imports", ())),
    )
