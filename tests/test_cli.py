"""The command line itself: entry points, version, help."""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

from tests.conftest import ROOT, porter, run


def test_version_reads_package_metadata():
    result = porter("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"porter {version('porter')}"


def test_console_script_and_module_agree():
    """`porter` (the installed console script) and `python -m porter` are the same app."""
    script = Path(sys.executable).with_name("porter")
    module = run([sys.executable, "-m", "porter", "--help"])
    assert module.returncode == 0
    for command in ("inspect", "scaffold", "check", "postprocs"):
        assert command in module.stdout
    if script.exists():
        console = run([str(script), "--version"])
        assert console.returncode == 0 and console.stdout.startswith("porter ")


def test_no_click_imports():
    """Typer >= 0.26 bundles its own Click; porter must not import click itself."""
    for path in (ROOT / "porter").rglob("*.py"):
        text = path.read_text()
        assert "import click" not in text and "from click" not in text, path


def test_postprocs_lists_each_family_with_a_line():
    """Every description in templates/families, the stub last."""
    result = porter("postprocs")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    described = sorted(p.stem for p in (ROOT / "templates" / "families").glob("*.json"))
    assert names == [n for n in described if n != "none"] + ["none"]
