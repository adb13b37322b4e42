"""Compile and drive ``stub_delegate.c``, a stand-in for ``libQnnTFLiteDelegate.so``.

The stub is a real LiteRT/TFLite external delegate plugin. Tests steer it with
environment variables (read when the delegate is created, so they also reach a
generated script run in a subprocess) and read back what it saw from a trace file:

    lib = build_stub_delegate(tmp_path)               # tmp_path/libQnnTFLiteDelegate.so
    env = stub_env(record=tmp_path / "trace.txt", claim="add")
    ... run the code under test with os.environ updated by env ...
    trace = read_trace(tmp_path / "trace.txt")
    assert trace.options == {"backend_type": "htp"}

See the header comment of ``stub_delegate.c`` for the trace format.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SOURCE = Path(__file__).with_name("stub_delegate.c")
DEFAULT_NAME = "libQnnTFLiteDelegate.so"

ENV_RECORD = "STUB_DELEGATE_RECORD"
ENV_FAIL = "STUB_DELEGATE_FAIL"
ENV_CLAIM = "STUB_DELEGATE_CLAIM"
ENV_VARS = (ENV_RECORD, ENV_FAIL, ENV_CLAIM)

FAIL_MODES = ("none", "create", "prepare", "invoke")


class StubBuildError(RuntimeError):
    """The stub delegate could not be built (no C compiler, or it failed)."""


def find_c_compiler() -> str | None:
    """Path of the C compiler to use: ``$CC`` if set and found, else cc, gcc, clang."""
    candidates = [os.environ.get("CC", ""), "cc", "gcc", "clang"]
    for name in candidates:
        if name and (path := shutil.which(name)):
            return path
    return None


def build_stub_delegate(dest_dir: Path, name: str = DEFAULT_NAME) -> Path:
    """Compile the stub into ``dest_dir / name`` and return that path.

    Raises StubBuildError when no C compiler is found or compilation fails.
    """
    compiler = find_c_compiler()
    if compiler is None:
        raise StubBuildError("no C compiler (cc, gcc or clang) on PATH")
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / name
    cmd = [
        compiler,
        "-std=c11",
        "-O1",
        "-Wall",
        "-Wextra",
        "-shared",
        "-fPIC",
        "-o",
        str(target),
        str(SOURCE),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StubBuildError(f"running {compiler} failed: {exc}") from exc
    if done.returncode != 0:
        raise StubBuildError(f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stderr}")
    return target


def build_stub_delegate_or_skip(dest_dir: Path, name: str = DEFAULT_NAME) -> Path:
    """``build_stub_delegate`` for fixtures: skips the test when no compiler exists.

    A compiler that exists but fails is a real error and still raises.
    """
    import pytest

    if find_c_compiler() is None:
        pytest.skip("stub delegate needs a C compiler (cc, gcc or clang); none found")
    return build_stub_delegate(dest_dir, name)


def stub_env(
    record: Path | str | None = None,
    fail: str | None = None,
    claim: str | int | None = None,
) -> dict[str, str]:
    """Environment entries that configure the stub; ``None`` leaves a variable out.

    ``fail``: "none", "create", "prepare" or "invoke".
    ``claim``: "none", "add", "all" or a builtin op code (int).
    """
    if fail is not None and fail not in FAIL_MODES:
        raise ValueError(f"fail must be one of {FAIL_MODES}, not {fail!r}")
    env = {}
    if record is not None:
        env[ENV_RECORD] = str(record)
    if fail is not None:
        env[ENV_FAIL] = fail
    if claim is not None:
        env[ENV_CLAIM] = str(claim)
    return env


@dataclass
class StubTrace:
    """What the stub wrote to its trace file, parsed.

    ``options`` holds the options of the *last* delegate created (as strings, in
    the order received); ``all_options`` has one dict per creation.
    ``prepares`` lists how many nodes each successful Prepare claimed.
    """

    creates: int = 0
    all_options: list[dict[str, str]] = field(default_factory=list)
    prepares: list[int] = field(default_factory=list)
    prepare_failures: int = 0
    create_failures: int = 0
    invokes: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def options(self) -> dict[str, str]:
        return self.all_options[-1] if self.all_options else {}


def read_trace(path: Path | str) -> StubTrace:
    """Parse a trace file; a missing file means the stub was never created."""
    trace = StubTrace()
    path = Path(path)
    if not path.exists():
        return trace
    for line in path.read_text(encoding="utf-8").splitlines():
        trace.lines.append(line)
        if line == "@create":
            trace.creates += 1
            trace.all_options.append({})
        elif line == "@fail create":
            trace.create_failures += 1
        elif line.startswith("@prepare claimed="):
            trace.prepares.append(int(line.partition("=")[2]))
        elif line.startswith("@prepare failed"):
            trace.prepare_failures += 1
        elif line.startswith("@invoke"):
            trace.invokes += 1
        elif trace.all_options:
            key, _, value = line.partition("=")
            trace.all_options[-1][key] = value
    return trace
