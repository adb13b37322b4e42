"""The sample models porter ships in samples/, built byte for byte reproducibly.

Each module in this package builds the samples of one family of models and lists them
in its SAMPLES (file name: builder); adding a module adds its samples, nothing else
changes. `python -m porter.samples [FOLDER]` rebuilds them all (default: samples).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path


def _discover() -> dict[str, Callable[[], bytes]]:
    found: dict[str, Callable[[], bytes]] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        samples = importlib.import_module(f"{__name__}.{module.name}").SAMPLES
        clash = set(samples) & set(found)
        if clash:
            raise RuntimeError(f"sample file names defined twice: {sorted(clash)}")
        found.update(samples)
    return dict(sorted(found.items()))


SAMPLES: dict[str, Callable[[], bytes]] = _discover()


def write_samples(folder: Path) -> list[Path]:
    """(Re)build every sample model into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in SAMPLES.items():
        path = folder / name
        path.write_bytes(build())
        written.append(path)
    return written
