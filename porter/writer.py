"""Writing generated files: never over a file without --force, never half a file."""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path

from porter.errors import PorterError


def write_atomic(path: Path, text: str, force: bool) -> None:
    """Write `text` to `path` through a temporary file in the same folder and os.replace.

    An interrupted write leaves the old file (or no file) whole, never a truncated one.
    """
    if path.is_dir():
        raise PorterError(path, "is a folder; give a file name with -o")
    if path.exists() and not force:
        raise PorterError(path, "already exists; pass --force to overwrite it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise PorterError(path, f"folder {str(folder)!r} does not exist")
    data = text.encode("utf-8")
    try:
        handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise PorterError(
            path, f"cannot write in {str(folder)!r} ({exc.strerror or exc})"
        ) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o755 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PorterError(path, f"cannot write ({exc.strerror or exc})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def diff_against(path: Path, text: str) -> str:
    """A unified diff from the file on disk to `text`; empty when they are the same."""
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise PorterError(path, f"cannot read ({exc})") from None
    if current == text:
        return ""
    return "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{path} (committed)",
            tofile=f"{path} (porter would write)",
        )
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
