"""`porter doctor`: what a generated script will find on this machine (run it on the board)."""

from __future__ import annotations

import ctypes
import importlib.util
import os
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

DELEGATE_LIB = "libQnnTFLiteDelegate.so"
QNN_LIBS = ("libQnnHtp.so", "libQnnSystem.so")
NPU_LITERT = "NPU with LiteRT"
NPU_ONNX = "NPU with ONNX Runtime"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""  # what to install or set when not ok
    required: bool = False  # needed even to run on the CPU


def diagnose() -> list[Check]:
    """Every check, in the order a script meets them."""
    return [
        _package("numpy", "numpy", "pip install numpy", required=True),
        _package("Pillow", "PIL", "pip install pillow", required=True),
        _litert(),
        _library(
            DELEGATE_LIB,
            "the QNN TFLite delegate (LiteRT on the NPU)",
            "install Qualcomm's QNN TFLite delegate (on Qualcomm Linux images it ships with the "
            "QNN runtime packages) or add its folder to LD_LIBRARY_PATH",
            symbol="tflite_plugin_create_delegate",
        ),
        *(
            _library(
                name,
                "a QNN runtime library",
                "install the QNN runtime (Qualcomm AI Engine Direct) or add its lib folder to "
                "LD_LIBRARY_PATH",
            )
            for name in QNN_LIBS
        ),
        _adsp_path(),
        _onnxruntime(),
        _onnxruntime_qnn(),
    ]


def diagnose_npu(checks: list[Check]) -> list[Check]:
    """The NPU verdicts: a tiny model run on QNN by a script porter generates, per runtime,
    where the pieces that run needs are present."""
    from porter.npu_trial import run_trial

    by_name = {c.name: c for c in checks}
    verdicts = []
    if by_name["LiteRT"].ok and by_name[DELEGATE_LIB].ok:
        trial = run_trial("tflite")
        fix = "see the checks above: the QNN runtime libraries and ADSP_LIBRARY_PATH"
        verdicts.append(Check(NPU_LITERT, trial.ok, trial.detail, fix))
    else:
        why = "needs LiteRT and the QNN TFLite delegate (above)"
        verdicts.append(
            Check(NPU_LITERT, False, f"not tried: {why}", "install what is missing above")
        )
    if by_name["onnxruntime-qnn"].ok:
        trial = run_trial("onnx")
        fix = "reinstall onnxruntime-qnn, or check its HTP libraries (above)"
        verdicts.append(Check(NPU_ONNX, trial.ok, trial.detail, fix))
    else:
        why = "needs onnxruntime-qnn (above)"
        verdicts.append(
            Check(NPU_ONNX, False, f"not tried: {why}", "install what is missing above")
        )
    return verdicts


def _package(label: str, module: str, fix: str, required: bool = False) -> Check:
    if importlib.util.find_spec(module) is None:
        return Check(label, False, "not installed", fix, required)
    return Check(label, True, _version(label) or "installed", required=required)


def _version(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def _litert() -> Check:
    for module, dist in (
        ("ai_edge_litert", "ai-edge-litert"),
        ("tflite_runtime", "tflite-runtime"),
    ):
        if importlib.util.find_spec(module) is not None:
            return Check("LiteRT", True, f"{dist} {_version(dist) or '(version unknown)'}")
    return Check(
        "LiteRT",
        False,
        "neither ai-edge-litert nor tflite-runtime is installed",
        "pip install ai-edge-litert (1.3.0 is what Qualcomm's tutorial pins)",
    )


def _library(name: str, what: str, fix: str, symbol: str | None = None) -> Check:
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        return Check(name, False, f"{what}: cannot be loaded ({' '.join(str(exc).split())})", fix)
    if symbol is not None and not hasattr(lib, symbol):
        return Check(name, False, f"{what}: loads, but has no {symbol}", fix)
    return Check(name, True, f"{what}: loads")


def _adsp_path() -> Check:
    value = os.environ.get("ADSP_LIBRARY_PATH")
    hint = (
        "set ADSP_LIBRARY_PATH to the folder(s) holding the HTP skeleton libraries "
        "(libQnnHtpV*Skel.so), separated by ';'"
    )
    if not value:
        return Check("ADSP_LIBRARY_PATH", False, "not set", hint)
    folders = [Path(p) for p in value.replace(";", ":").split(":") if p]
    skels = sorted({s.name for f in folders if f.is_dir() for s in f.glob("libQnnHtpV*Skel.so")})
    if not skels:
        return Check("ADSP_LIBRARY_PATH", False, f"{value} (no libQnnHtpV*Skel.so there)", hint)
    return Check("ADSP_LIBRARY_PATH", True, f"{value} ({', '.join(skels)})")


def _onnxruntime() -> Check:
    if importlib.util.find_spec("onnxruntime") is None:
        return Check("onnxruntime", False, "not installed", "pip install onnxruntime (ONNX models)")
    import onnxruntime

    providers = ", ".join(onnxruntime.get_available_providers())
    return Check("onnxruntime", True, f"{onnxruntime.__version__}; providers: {providers}")


def _onnxruntime_qnn() -> Check:
    if importlib.util.find_spec("onnxruntime_qnn") is None:
        return Check(
            "onnxruntime-qnn",
            False,
            "not installed (ONNX models on the NPU)",
            "pip install onnxruntime-qnn, or use an onnxruntime build with QNNExecutionProvider",
        )
    import onnxruntime_qnn

    library = Path(onnxruntime_qnn.get_library_path())
    detail = f"{_version('onnxruntime-qnn')}; provider library {library}"
    if not library.is_file():
        return Check("onnxruntime-qnn", False, detail + " is missing", "reinstall onnxruntime-qnn")
    htp = sorted(p.name for p in library.parent.glob("libQnnHtp*.so"))
    if not htp:
        return Check(
            "onnxruntime-qnn",
            False,
            detail + "; no HTP library beside it",
            "reinstall onnxruntime-qnn",
        )
    return Check("onnxruntime-qnn", True, f"{detail}; {len(htp)} HTP libraries ({', '.join(htp)})")


def as_json(checks: list[Check]) -> dict[str, Any]:
    by_name = {c.name: c for c in checks}
    return {
        "checks": [asdict(c) for c in checks],
        "cpu_ready": cpu_ready(checks),
        "npu_ready": {
            "litert": by_name[NPU_LITERT].ok if NPU_LITERT in by_name else None,
            "onnxruntime": by_name[NPU_ONNX].ok if NPU_ONNX in by_name else None,
        },
    }


def cpu_ready(checks: list[Check]) -> bool:
    """numpy, Pillow and at least one runtime: enough to run a script on the CPU."""
    by_name = {c.name: c for c in checks}
    runtime = by_name["LiteRT"].ok or by_name["onnxruntime"].ok
    return runtime and all(c.ok for c in checks if c.required)


def print_human(checks: list[Check]) -> None:
    """One line per check, and the fix under each missing piece."""
    for c in checks:
        print(f"{'ok' if c.ok else 'MISSING':8} {c.name}: {c.detail}")
        if not c.ok:
            print(f"{'':8} to fix: {c.fix}")
    verdict = "can" if cpu_ready(checks) else "cannot"
    print(f"generated scripts {verdict} run on the CPU here")
    by_name = {c.name: c for c in checks}
    for name, runtime in ((NPU_LITERT, ".tflite"), (NPU_ONNX, ".onnx")):
        if name in by_name:
            verdict = "can" if by_name[name].ok else "cannot"
            print(f"{runtime} scripts {verdict} run on the NPU here ({by_name[name].detail})")
