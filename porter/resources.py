"""Where the Jinja templates are: the checkout's templates/ or the wheel's copy."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def templates_dir() -> Path:
    """templates/ inside the installed package (wheel) or beside it (source checkout)."""
    for candidate in (_PACKAGE_DIR / "templates", _PACKAGE_DIR.parent / "templates"):
        if (candidate / "script.py.j2").is_file():
            return candidate
    raise FileNotFoundError("porter's templates are missing from this installation")
