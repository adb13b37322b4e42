"""Shared fixtures: running porter and generated scripts for real, photos, shared models."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_MODELS = ROOT.parent / "shared" / "models"


def run(args: list[str], cwd: Path | None = None, env: dict | None = None, timeout: float = 120):
    """Run a command, capturing text output."""
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def porter(*args: str, cwd: Path | None = None, env: dict | None = None):
    """`python -m porter ARGS` in a subprocess, as a user would run it."""
    return run([sys.executable, "-m", "porter", *args], cwd=cwd or ROOT, env=env)


def inspect_json(path: Path) -> dict:
    result = porter("inspect", str(path), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_one_line_error(result, *fragments: str) -> None:
    """Exit code 2, one line on stderr naming the problem, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def shared_model(name: str) -> Path:
    path = SHARED_MODELS / name
    if not path.is_file():
        pytest.skip(f"{path} is not present (the real AI Hub model lives in ../shared)")
    return path


@pytest.fixture(scope="session")
def photos(tmp_path_factory) -> dict[str, Path]:
    """Real photos from scikit-image's wheel, saved as files the scripts open."""
    from PIL import Image
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    found = {}
    for name in ("astronaut", "coffee", "coins", "chelsea"):
        path = folder / f"{name}.png"
        Image.fromarray(np.asarray(getattr(data, name)())).save(path)
        found[name] = path
    return found


@pytest.fixture(scope="session")
def wheel_cache(request, tmp_path_factory) -> Path:
    """Where downloaded wheels and sdists stay: pytest's cache (kept between runs) when it
    is on, else a folder for this run."""
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("porter-downloads"))
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture
def fake_gst(tmp_path, monkeypatch):
    """A fake gst-launch-1.0 first on PATH, the only backend scripts try (live tests)."""
    from tests.live_support import FakeGst

    return FakeGst(tmp_path, monkeypatch)


def import_script(path: Path, name: str | None = None) -> ModuleType:
    """A generated script imported as a module (numpy and PIL at import, the runtime when
    prepare() runs), registered in sys.modules so its dataclasses resolve."""
    name = name or f"generated_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
