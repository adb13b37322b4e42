"""porter doctor, with the stub QNN delegate on the library path and without it."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import porter
from tests.npu.stub_delegate import build_stub_delegate_or_skip


def doctor(env: dict) -> dict:
    result = porter("doctor", "--json", env=env)
    assert result.returncode == 0, result.stderr  # numpy, Pillow and a runtime are here
    return {c["name"]: c for c in json.loads(result.stdout)["checks"]}


def test_delegate_found_when_installed(tmp_path):
    build_stub_delegate_or_skip(tmp_path)
    checks = doctor({**os.environ, "LD_LIBRARY_PATH": str(tmp_path)})
    assert checks["libQnnTFLiteDelegate.so"]["ok"] is True
    assert checks["LiteRT"]["ok"] is True and "ai-edge-litert" in checks["LiteRT"]["detail"]
    assert checks["onnxruntime"]["ok"] is True


def test_missing_pieces_say_what_to_install(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ADSP_LIBRARY_PATH"}
    env["LD_LIBRARY_PATH"] = str(tmp_path)
    checks = doctor(env)
    delegate = checks["libQnnTFLiteDelegate.so"]
    assert delegate["ok"] is False and "LD_LIBRARY_PATH" in delegate["fix"]
    assert checks["ADSP_LIBRARY_PATH"]["ok"] is False and checks["ADSP_LIBRARY_PATH"]["fix"]


def test_adsp_library_path_with_skeletons(tmp_path):
    (tmp_path / "libQnnHtpV68Skel.so").write_bytes(b"")
    checks = doctor({**os.environ, "ADSP_LIBRARY_PATH": f"{tmp_path};/nonexistent"})
    assert checks["ADSP_LIBRARY_PATH"]["ok"] is True
    assert "libQnnHtpV68Skel.so" in checks["ADSP_LIBRARY_PATH"]["detail"]


def test_library_without_plugin_symbols(tmp_path):
    """A file named like the delegate that is not one (libm here) is reported, not trusted."""
    target = tmp_path / "libQnnTFLiteDelegate.so"
    libm = next(
        (
            p
            for p in (
                "/lib/x86_64-linux-gnu/libm.so.6",
                "/lib/aarch64-linux-gnu/libm.so.6",
                "/usr/lib/libm.so.6",
            )
            if os.path.exists(p)
        ),
        None,
    )
    if libm is None:
        pytest.skip("no libm.so.6 at a known path")
    target.symlink_to(libm)
    checks = doctor({**os.environ, "LD_LIBRARY_PATH": str(tmp_path)})
    assert checks["libQnnTFLiteDelegate.so"]["ok"] is False
    assert "tflite_plugin_create_delegate" in checks["libQnnTFLiteDelegate.so"]["detail"]


def test_human_output():
    result = porter("doctor")
    assert result.returncode == 0
    assert "libQnnTFLiteDelegate.so" in result.stdout and "LiteRT" in result.stdout


def verdicts(env: dict) -> tuple[dict, dict]:
    result = porter("doctor", "--json", env=env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    return doc["npu_ready"], {c["name"]: c for c in doc["checks"]}


@pytest.mark.parametrize(
    ("claim", "fail", "ready", "fragment"),
    [
        ("all", "none", True, "took 3 of the trial model's 3 operators"),
        ("none", "none", False, "took 0 of the trial model's 3 operators"),
        ("all", "create", False, "failed on QNN"),
    ],
)
def test_npu_verdict_runs_a_model_on_the_delegate(tmp_path, claim, fail, ready, fragment):
    """The verdict comes from a generated script run with the delegate, not from a file check."""
    build_stub_delegate_or_skip(tmp_path)
    env = {
        **os.environ,
        "LD_LIBRARY_PATH": str(tmp_path),
        "STUB_DELEGATE_CLAIM": claim,
        "STUB_DELEGATE_FAIL": fail,
    }
    npu, checks = verdicts(env)
    assert npu["litert"] is ready
    assert fragment in checks["NPU with LiteRT"]["detail"]


def test_npu_verdict_without_the_delegate(tmp_path):
    npu, checks = verdicts({**os.environ, "LD_LIBRARY_PATH": str(tmp_path)})
    assert npu["litert"] is False
    assert "not tried" in checks["NPU with LiteRT"]["detail"]


def test_onnxruntime_qnn_verdict_and_htp_libraries():
    """onnxruntime-qnn's simulated HTP on x86-64 runs the trial's convolution."""
    pytest.importorskip("onnxruntime_qnn", reason="onnxruntime-qnn is not installed here")
    npu, checks = verdicts(dict(os.environ))
    assert "HTP libraries (libQnnHtp.so" in checks["onnxruntime-qnn"]["detail"]
    assert npu["onnxruntime"] is True, checks["NPU with ONNX Runtime"]["detail"]
