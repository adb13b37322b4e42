"""Class names for a generated script: from --labels, the model, or a dataset porter ships."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from porter.errors import PorterError
from porter.model import ModelInfo

if TYPE_CHECKING:
    from porter.families import Family
    from porter.plan import ScaffoldOptions

DATASETS_DIR = Path(__file__).resolve().parent / "datasets"
DATASET_NAMES = {
    "imagenet": "ImageNet's 1000 class names",
    "coco": "COCO's 80 class names",
    "voc": "Pascal VOC's 21 class names",
    "cityscapes": "Cityscapes' 19 class names",
}
MAX_LABELS = 100_000


@dataclass
class Labels:
    names: list[str] | None
    source: str | None  # said by scaffold and written in the script


def resolve_labels(
    info: ModelInfo, family: Family, dims: dict[str, int], options: ScaffoldOptions
) -> Labels:
    """--labels FILE, else the model's own, else the family's dataset for its class count."""
    if options.labels_arg is not None:
        return Labels(read_labels(Path(options.labels_arg)), f"--labels {options.labels_arg}")
    if family.labels is None:
        return Labels(None, None)
    count = class_count(family.labels.get("count"), dims)
    if info.labels is not None:
        source = info.labels_source or "the model"
        if count is not None and len(info.labels) != count:
            source += f" ({len(info.labels)} names for {count} classes)"
        return Labels(info.labels, source)
    datasets = family.labels.get("datasets", {})
    # The default is for a match that binds no class count (e.g. a model that gives class
    # ids); a known count without a dataset of that size gets no names.
    dataset = datasets.get(str(count)) if count is not None else family.labels.get("default")
    if dataset is None:
        return Labels(None, f"none for {count} classes: classes print as numbers (--labels FILE)")
    shipped = DATASET_NAMES.get(dataset.partition("+")[0], dataset)
    return Labels(dataset_labels(dataset), f"{shipped}, shipped with porter")


def class_count(expression: str | None, dims: dict[str, int]) -> int | None:
    """The number of classes, an expression over the matched dims ("C", "F - 4")."""
    if not expression:
        return None
    from porter.families import evaluate

    return evaluate(expression, dims)


@cache
def _dataset(name: str) -> tuple[str, ...]:
    return tuple(_lines((DATASETS_DIR / f"{name}.txt").read_text(encoding="utf-8")))


def dataset_labels(name: str) -> list[str]:
    """A dataset's class names; "NAME+background" puts "background" first (1001 classes)."""
    base, _, extra = name.partition("+")
    names = list(_dataset(base))
    return [extra, *names] if extra else names


def read_labels(path: Path) -> list[str]:
    """One class name per line (labels.txt); surrounding blank lines dropped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PorterError(path, "no such labels file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PorterError(path, f"cannot read the labels ({exc})") from None
    return parse_labels(text, path)


def parse_labels(text: str, where: Any = None) -> list[str]:
    names = _lines(text)
    if not names:
        raise PorterError(where, "no class names in the labels")
    if len(names) > MAX_LABELS:
        raise PorterError(where, f"{len(names)} class names; more than {MAX_LABELS} is not labels")
    return names


def _lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return lines
