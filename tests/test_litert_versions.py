"""Generated LiteRT scripts also run on ai-edge-litert 1.3.0, the version Qualcomm's tutorial pins."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from tests import models
from tests.conftest import ROOT, porter, run
from tests.npu.stub_delegate import build_stub_delegate_or_skip

PINNED = "ai-edge-litert==1.3.0"
pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def old_litert(tmp_path_factory) -> Path:
    """A fresh virtualenv with ai-edge-litert 1.3.0, numpy and Pillow (nothing of porter)."""
    venv = tmp_path_factory.mktemp("litert13") / "venv"
    made = run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    installed = run(
        [str(python), "-m", "pip", "install", "-q", PINNED, "numpy", "pillow"], timeout=900
    )
    if installed.returncode != 0:
        why = installed.stderr.strip()[-300:]
        pytest.skip(f"needs the package registry to install {PINNED}, which failed: {why}")
    return python


def test_sample_script_on_litert_1_3(old_litert, photos):
    result = run(
        [
            str(old_litert),
            str(ROOT / "generated" / "face_det_lite_sample.py"),
            "--model",
            str(ROOT / "samples" / "face_det_lite_sample.tflite"),
            "--image",
            str(photos["coins"]),
            "--runs",
            "1",
            "--json",
        ]
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["detections"]) >= 21


def test_delegate_count_on_litert_1_3(old_litert, tmp_path):
    stub = build_stub_delegate_or_skip(tmp_path / "qnn").parent
    model = models.write(tmp_path / "addmul.tflite", models.tflite_add_mul_add())
    script = tmp_path / "addmul.py"
    assert porter("scaffold", str(model), "-o", str(script)).returncode == 0
    np.save(tmp_path / "a.npy", np.ones((1, 8), np.float32))
    np.save(tmp_path / "b.npy", np.full((1, 8), 2, np.float32))
    env = {**os.environ, "LD_LIBRARY_PATH": str(stub), "STUB_DELEGATE_CLAIM": "add"}
    result = run(
        [
            str(old_litert),
            str(script),
            "--input",
            f"a={tmp_path / 'a.npy'}",
            "--input",
            f"b={tmp_path / 'b.npy'}",
            "--use-qnn",
            "--runs",
            "1",
            "--json",
        ],
        env=env,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["delegate"]["delegated_nodes"] == 2 and doc["delegate"]["cpu_nodes"] == 1
    assert doc["outputs"]["out"]["min"] == doc["outputs"]["out"]["max"] == 8.0  # ((1+2)*2)+2
