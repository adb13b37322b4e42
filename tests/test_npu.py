"""The NPU paths, for real: a stub QNN TFLite delegate, and onnxruntime-qnn's simulated HTP."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto
from PIL import Image

from tests import models
from tests.conftest import ROOT, porter, run
from tests.npu.stub_delegate import build_stub_delegate_or_skip, read_trace, stub_env

SAMPLE = ROOT / "samples" / "face_det_lite_sample.tflite"
SCRIPT = ROOT / "generated" / "face_det_lite_sample.py"


@pytest.fixture(scope="module")
def stub_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("qnn")
    build_stub_delegate_or_skip(folder)
    return folder


def with_stub(stub_dir: Path, trace: Path, **stub) -> dict:
    """The environment of a board with the stub installed as libQnnTFLiteDelegate.so."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUB_DELEGATE_")}
    env["LD_LIBRARY_PATH"] = f"{stub_dir}:{env.get('LD_LIBRARY_PATH', '')}"
    env.update(stub_env(record=trace, **stub))
    return env


def sample_args(photos: dict) -> list[str]:
    """The face sample on the coins photo, one timed run."""
    return ["--model", str(SAMPLE), "--image", str(photos["coins"]), "--runs", "1"]


def run_script(script: Path, *args: str, env: dict | None = None):
    return run([sys.executable, str(script), *args], env=env)


def test_options_reach_the_delegate(stub_dir, tmp_path, photos):
    trace = tmp_path / "trace.txt"
    result = run_script(
        SCRIPT,
        *sample_args(photos),
        "--delegate",
        "qnn-htp",
        "--delegate-option",
        "htp_performance_mode=2",
        "--delegate-option",
        "log_level=1",
        "--json",
        env=with_stub(stub_dir, trace),
    )
    assert result.returncode == 0, result.stderr
    assert read_trace(trace).options == {
        "backend_type": "htp",
        "htp_performance_mode": "2",
        "log_level": "1",
    }
    doc = json.loads(result.stdout)
    assert doc["delegate"]["active"] == "qnn-htp"
    assert doc["delegate"]["delegated_nodes"] == 0  # the stub claims nothing by default
    assert doc["delegate"]["total_nodes"] == 8


@pytest.mark.parametrize(("flag", "backend"), [("--use-qnn", "htp"), ("--delegate=qnn-gpu", "gpu")])
def test_use_qnn_alias_and_gpu_backend(stub_dir, tmp_path, photos, flag, backend):
    trace = tmp_path / "trace.txt"
    result = run_script(
        SCRIPT,
        *sample_args(photos),
        flag,
        env=with_stub(stub_dir, trace),
    )
    assert result.returncode == 0, result.stderr
    assert read_trace(trace).options == {"backend_type": backend}


@pytest.fixture(scope="module")
def add_script(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("addmul")
    model = models.write(folder / "addmul.tflite", models.tflite_add_mul_add())
    script = folder / "addmul.py"
    assert porter("scaffold", str(model), "-o", str(script)).returncode == 0
    a = np.linspace(-1, 1, 8, dtype=np.float32).reshape(1, 8)
    b = np.full((1, 8), 0.5, np.float32)
    np.save(folder / "a.npy", a)
    np.save(folder / "b.npy", b)
    return script, folder


def test_delegated_node_count_is_true(stub_dir, add_script, tmp_path):
    """The stub takes both ADDs (and computes them); the script's count matches its trace."""
    script, folder = add_script
    inputs = ["--input", f"a={folder / 'a.npy'}", "--input", f"b={folder / 'b.npy'}", "--runs", "1"]
    trace = tmp_path / "trace.txt"
    delegated = run_script(
        script,
        *inputs,
        "--delegate",
        "qnn-htp",
        "--json",
        "--save-outputs",
        str(tmp_path / "npu"),
        env=with_stub(stub_dir, trace, claim="add"),
    )
    assert delegated.returncode == 0, delegated.stderr
    info = json.loads(delegated.stdout)["delegate"]
    assert read_trace(trace).prepares[-1] == 2
    assert info["delegated_nodes"] == 2 and info["partitions"] == 2
    assert info["cpu_nodes"] == 1 and info["total_nodes"] == 3
    assert (
        "took 2 of 3 operators"
        in run_script(
            script, *inputs, "--delegate", "qnn-htp", env=with_stub(stub_dir, trace, claim="add")
        ).stdout
    )
    cpu = run_script(script, *inputs, "--save-outputs", str(tmp_path / "cpu"))
    assert cpu.returncode == 0, cpu.stderr
    np.testing.assert_allclose(
        np.load(tmp_path / "npu" / "out.npy"), np.load(tmp_path / "cpu" / "out.npy")
    )


@pytest.mark.parametrize(
    ("stub", "message"),
    [
        ({"fail": "create"}, "did not create a delegate"),
        ({"fail": "prepare"}, "failed to prepare"),
    ],
)
def test_delegate_failures_are_one_line(stub_dir, tmp_path, photos, stub, message):
    trace = tmp_path / "trace.txt"
    args = [*sample_args(photos), "--delegate", "qnn-htp"]
    failed = run_script(SCRIPT, *args, env=with_stub(stub_dir, trace, **stub))
    assert failed.returncode == 2
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("error: qnn-htp")
    fallback = run_script(
        SCRIPT, *args, "--fallback-cpu", "--json", env=with_stub(stub_dir, trace, **stub)
    )
    assert fallback.returncode == 0, fallback.stderr
    assert "warning: qnn-htp" in fallback.stderr and message in fallback.stderr
    doc = json.loads(fallback.stdout)
    assert doc["delegate"]["active"] == "cpu" and len(doc["detections"]) >= 20


def test_missing_delegate_library(tmp_path, photos):
    env = {**os.environ, "LD_LIBRARY_PATH": str(tmp_path)}
    args = [*sample_args(photos), "--use-qnn"]
    failed = run_script(SCRIPT, *args, env=env)
    assert failed.returncode == 2
    assert failed.stderr.count("\n") == 1 and "libQnnTFLiteDelegate.so" in failed.stderr
    assert "Traceback" not in failed.stderr and "Exception ignored" not in failed.stderr
    fallback = run_script(SCRIPT, *args, "--fallback-cpu", env=env)
    assert fallback.returncode == 0 and "ran on the CPU" in fallback.stdout


def test_not_a_delegate_library(tmp_path, photos):
    """A library without the plugin symbols (here libc's math library) is refused clearly."""
    args = [*sample_args(photos), "--use-qnn", "--delegate-lib", "libm.so.6"]
    failed = run_script(SCRIPT, *args)
    assert failed.returncode == 2 and "did not create a delegate" in failed.stderr


# ---- ONNX Runtime + QNN execution provider (onnxruntime-qnn's simulated HTP) ----------------


def _qnn_available() -> bool:
    try:
        import onnxruntime_qnn  # noqa: F401
    except ImportError:
        return False
    return True


needs_qnn = pytest.mark.skipif(not _qnn_available(), reason="onnxruntime-qnn is not installed")


@needs_qnn
@pytest.mark.parametrize("activation", [TensorProto.UINT8, TensorProto.UINT16], ids=["u8", "u16"])
def test_onnx_qdq_runs_on_qnn(tmp_path, activation):
    model = models.write(tmp_path / "qdq.onnx", models.onnx_qdq_convnet(activation))
    script = tmp_path / "qdq.py"
    assert porter("scaffold", str(model), "-o", str(script)).returncode == 0
    image = tmp_path / "photo.png"
    from skimage import data

    Image.fromarray(data.astronaut()).save(image)
    common = ["--image", str(image), "--runs", "1", "--json"]
    qnn = run_script(
        script, *common, "--delegate", "qnn-htp", "--save-outputs", str(tmp_path / "qnn")
    )
    assert qnn.returncode == 0, qnn.stderr
    where = json.loads(qnn.stdout)["delegate"]
    assert where["active"] == "qnn-htp"
    nodes = where["nodes_by_provider"]
    # Every compute node runs on QNN; only the float<->integer conversions at the model's
    # own boundary (its first QuantizeLinear and last DequantizeLinear) stay on the CPU.
    assert set(where["cpu_ops"]) <= {"QuantizeLinear", "DequantizeLinear"}, where
    assert nodes.get("CPUExecutionProvider", 0) <= 2
    assert nodes["QNNExecutionProvider"] >= 4
    cpu = run_script(script, *common, "--save-outputs", str(tmp_path / "cpu"))
    assert cpu.returncode == 0, cpu.stderr
    got, want = np.load(tmp_path / "qnn" / "y.npy"), np.load(tmp_path / "cpu" / "y.npy")
    step = 8 / (128 if activation == TensorProto.UINT8 else 32768)
    # uint8: within one output quantization step. uint16: the simulated HTP's arithmetic
    # is not exact to 1/65536 of the range (measured: up to 28 uint16 steps, 0.2% of the
    # output range), so the bound is one step of the same range at 8 bits (256 steps).
    allowed = step if activation == TensorProto.UINT8 else step * 256
    assert np.abs(got - want).max() <= allowed * 1.001, np.abs(got - want).max() / step


@needs_qnn
def test_onnx_integer_io_sample_on_qnn(tmp_path, photos):
    script = ROOT / "generated" / "face_det_lite_sample_onnx.py"
    model = ROOT / "samples" / "face_det_lite_sample.onnx"
    common = ["--model", str(model), "--image", str(photos["coins"]), "--runs", "1", "--json"]
    qnn = run_script(script, *common, "--use-qnn", "--save-outputs", str(tmp_path / "qnn"))
    assert qnn.returncode == 0, qnn.stderr
    doc = json.loads(qnn.stdout)
    assert set(doc["delegate"]["nodes_by_provider"]) == {"QNNExecutionProvider"}
    cpu = run_script(script, *common, "--save-outputs", str(tmp_path / "cpu"))
    for name in ("heatmap", "bbox", "landmark"):
        a = np.load(tmp_path / "qnn" / f"{name}.npy").astype(int)
        b = np.load(tmp_path / "cpu" / f"{name}.npy").astype(int)
        assert np.abs(a - b).max() <= 1, name
    assert len(doc["detections"]) == len(json.loads(cpu.stdout)["detections"])


def test_onnx_qnn_missing_provider_is_one_line(tmp_path, photos):
    """Without onnxruntime-qnn (hidden here), --delegate qnn-htp stops with one clear line."""
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "onnxruntime_qnn.py").write_text("raise ImportError('hidden for this test')\n")
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    script = ROOT / "generated" / "face_det_lite_sample_onnx.py"
    args = [
        "--model",
        str(ROOT / "samples" / "face_det_lite_sample.onnx"),
        "--image",
        str(photos["coins"]),
        "--runs",
        "1",
        "--delegate",
        "qnn-htp",
    ]
    failed = run_script(script, *args, env=env)
    assert failed.returncode == 2
    assert failed.stderr.strip().count("\n") == 0 and "QNN" in failed.stderr
    fallback = run_script(script, *args, "--fallback-cpu", env=env)
    assert fallback.returncode == 0 and "ran on the CPU" in fallback.stdout
