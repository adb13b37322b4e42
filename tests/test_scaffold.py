"""porter scaffold: generated scripts are deterministic, lint-clean, current, and safe to write."""

from __future__ import annotations

import os
import py_compile
import shutil
import sys
from pathlib import Path

import pytest
from onnx import TensorProto

from porter.samples import SAMPLES
from tests import models
from tests.conftest import ROOT, assert_one_line_error, porter, run

GENERATED = sorted((ROOT / "generated").glob("*.py"))
RUFF = [sys.executable, "-m", "ruff"]

# Every fixture porter can script, with the postprocessor to use.
SCRIPTABLE = {
    "float_conv.tflite": (models.tflite_float_conv, "none"),
    "uint8_per_channel.tflite": (models.tflite_uint8_per_channel, "none"),
    "int8_io.tflite": (models.tflite_int8_io, "none"),
    "multi_io_dynamic.tflite": (models.tflite_multi_io_dynamic, "none", "state=1,5,8,3"),
    "custom.tflite": (models.tflite_custom_and_metadata, "none"),
    "float_dynamic.onnx": (models.onnx_float_dynamic, "none"),
    "uint8_io.onnx": (models.onnx_integer_io, "none"),
    "uint16_io.onnx": (lambda: models.onnx_integer_io(TensorProto.UINT16, zp=32768), "none"),
    "qdq.onnx": (models.onnx_qdq, "none"),
    "multi_io.onnx": (models.onnx_multi_io, "none"),
}


def scaffold(model: Path, out: Path, *flags: str, env: dict | None = None):
    return porter("scaffold", str(model), "-o", str(out), *flags, env=env)


def test_generated_scripts_are_current():
    """CI fails when generated/ is stale: `porter check` regenerates and compares."""
    assert len(GENERATED) >= 4
    result = porter("check", *(str(p.relative_to(ROOT)) for p in GENERATED))
    assert result.returncode == 0, result.stdout + result.stderr


def test_samples_are_reproducible(tmp_path):
    """The committed sample models are exactly what porter's code builds."""
    for name, build in SAMPLES.items():
        assert (ROOT / "samples" / name).read_bytes() == build(), f"samples/{name} is stale"


def test_check_reports_a_stale_script_with_a_diff(tmp_path):
    model = tmp_path / "m.tflite"
    models.write(model, models.tflite_float_conv())
    out = tmp_path / "m.py"
    assert scaffold(model, out).returncode == 0
    assert scaffold(model, out, "--check").returncode == 0
    out.write_text(out.read_text().replace("def dequantize", "def dequantise"))
    result = scaffold(model, out, "--check")
    assert result.returncode == 1
    assert "-def dequantise" in result.stdout and "+def dequantize" in result.stdout
    checked = porter("check", str(out), cwd=Path("/"))
    assert checked.returncode == 1 and "+def dequantize" in checked.stdout


def test_output_is_deterministic_across_hash_seeds(tmp_path):
    model = ROOT / "samples" / "face_det_lite_sample.tflite"
    texts = []
    for seed in ("0", "1", "12345"):
        out = tmp_path / f"s{seed}.py"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = scaffold(model, out, "--postproc", "face_det_lite", env=env)
        assert result.returncode == 0, result.stderr
        texts.append(out.read_text().replace(str(out), "OUT"))
    assert texts[0] == texts[1] == texts[2]


@pytest.fixture(scope="module")
def scripted(tmp_path_factory) -> list[Path]:
    """Scripts generated from every fixture model, beside their models."""
    folder = tmp_path_factory.mktemp("scripted")
    scripts = []
    for name, (build, postproc, *shape) in SCRIPTABLE.items():
        model = models.write(folder / name, build())
        out = folder / (name.replace(".", "_") + ".py")
        flags = ["--input-shape", shape[0]] if shape else []
        result = scaffold(model, out, "--postproc", postproc, *flags)
        if name == "custom.tflite":
            assert "MyCustomOp" in result.stderr  # warned: the stock runtime will refuse it
        assert result.returncode == 0, (name, result.stderr)
        scripts.append(out)
    return scripts


def test_every_generated_script_compiles_and_passes_ruff(scripted):
    paths = [str(p) for p in [*GENERATED, *scripted]]
    for path in paths:
        py_compile.compile(path, doraise=True)
    config = ["--config", str(ROOT / "pyproject.toml")]
    lint = run([*RUFF, "check", *config, *paths])
    assert lint.returncode == 0, lint.stdout
    fmt = run([*RUFF, "format", "--check", *config, *paths])
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_generated_scripts_import_only_numpy_pillow_and_runtime(scripted):
    import ast

    allowed = {
        "argparse",
        "contextlib",
        "functools",
        "hashlib",
        "tempfile",
        "math",
        "mmap",
        "os",
        "re",
        "json",
        "sys",
        "time",
        "pathlib",
        "typing",
        "__future__",
        "numpy",
        "PIL",
        "ai_edge_litert",
        "tflite_runtime",
        "onnxruntime",
        "onnxruntime_qnn",
        "ctypes",
        # live input (--source, --serve)
        "shutil",
        "signal",
        "threading",
        "shlex",
        "subprocess",
        "socket",
        "html",
        "http",
        "io",
    }
    # Live input's backends, from the boards' apt packages: imported only when a stream
    # asks for them, inside a function.
    lazy = {"gi", "cv2"}
    for path in [*GENERATED, *scripted]:
        tree = ast.parse(path.read_text())
        top_level = set(tree.body)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                assert root in allowed or (root in lazy and node not in top_level), (
                    path.name,
                    name,
                )


def test_header_names_model_hash_and_command(tmp_path):
    text = (ROOT / "generated" / "face_det_lite_sample.py").read_text()
    head = text[:800]
    assert "face_det_lite_sample.tflite" in head
    sample = (ROOT / "samples" / "face_det_lite_sample.tflite").read_bytes()
    import hashlib

    assert hashlib.sha256(sample).hexdigest() in head
    assert (
        "porter scaffold samples/face_det_lite_sample.tflite --postproc face_det_lite "
        "-o generated/face_det_lite_sample.py" in head
    )
    assert "0.1.0" not in head and "20" + "26" not in head  # no version, no date


def test_never_overwrites_without_force(tmp_path):
    model = models.write(tmp_path / "m.tflite", models.tflite_float_conv())
    out = tmp_path / "m.py"
    out.write_text("# my own work\n")
    assert_one_line_error(scaffold(model, out), "m.py", "--force")
    assert out.read_text() == "# my own work\n"
    assert scaffold(model, out, "--force").returncode == 0
    assert "Generated by porter" in out.read_text()


def test_default_output_name(tmp_path):
    model = models.write(tmp_path / "net.tflite", models.tflite_float_conv())
    result = porter("scaffold", str(model), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "net.py").is_file()


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--postproc", "nope"], "unknown postprocessor"),
        (["--channels", "purple"], "--channels"),
        (["--layout", "HWCN"], "--layout"),
        (["--postproc", "face_det_lite"], "face_det_lite"),
        (["--channels", "gray"], "--channels gray"),
    ],
)
def test_bad_flags_are_one_line_errors(tmp_path, flags, fragment):
    model = models.write(tmp_path / "m.tflite", models.tflite_float_conv())
    assert_one_line_error(scaffold(model, tmp_path / "o.py", *flags), fragment)
    assert not (tmp_path / "o.py").exists()


def test_string_tensors_are_refused(tmp_path):
    model = models.write(tmp_path / "s.tflite", models.tflite_string_input())
    assert_one_line_error(scaffold(model, tmp_path / "o.py"), "s.tflite", "string")


def test_wheel_install_scaffolds(tmp_path):
    """A non-editable `pip install .` in a fresh virtualenv ships the templates."""
    venv = tmp_path / "venv"
    made = run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    # Dependencies come from the test environment; porter itself from the wheel build.
    deps = [p for p in sys.path if p.endswith("site-packages")]
    site = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    Path(site.stdout.strip(), "test-deps.pth").write_text("\n".join(deps) + "\n")
    source = tmp_path / "src"
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "*.egg-info", "build")
    )
    install = run(
        [str(python), "-m", "pip", "install", "--no-deps", "-q", str(source)],
        timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    shutil.rmtree(source)
    where = run([str(python), "-c", "import porter; print(porter.__file__)"], cwd=tmp_path)
    assert str(venv) in where.stdout, where.stdout + where.stderr
    model = ROOT / "samples" / "face_det_lite_sample.tflite"
    out = tmp_path / "fd.py"
    made = run(
        [
            str(python),
            "-m",
            "porter",
            "scaffold",
            str(model),
            "--postproc",
            "face_det_lite",
            "-o",
            str(out),
        ],
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    assert "def detect(" in out.read_text()
