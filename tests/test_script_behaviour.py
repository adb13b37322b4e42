"""What a generated script does with models that are not images, names, quantization and
defaults: each case runs a real script in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests import models
from tests.conftest import ROOT, assert_one_line_error, import_script, porter, run
from tests.npu.stub_delegate import build_stub_delegate_or_skip


def scaffold(model: Path, out: Path, *flags: str, cwd: Path | None = None) -> Path:
    made = porter("scaffold", str(model), "-o", str(out), *flags, cwd=cwd)
    assert made.returncode == 0, made.stderr
    return out


def script_run(script: Path, *args: str, cwd: Path | None = None, env: dict | None = None):
    return run([sys.executable, str(script), *args], cwd=cwd, env=env)


def json_run(script: Path, *args: str, **kwargs) -> dict:
    ran = script_run(script, *args, "--json", **kwargs)
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


# ---- models that are not images ----------------------------------------------------------


@pytest.fixture(scope="module")
def audio_script(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("audio")
    model = models.write(folder / "audio.tflite", models.tflite_dynamic_audio())
    return scaffold(model, folder / "audio.py")


def test_dynamic_tflite_input_takes_the_size_fed(audio_script, tmp_path):
    """Allocated at size 1 this model fails to load (XNNPACK); sized by the array it runs."""
    audio = tmp_path / "audio.npy"
    np.save(audio, np.ones((1, 16000), np.float32))
    doc = json_run(audio_script, "--input", f"audio={audio}")
    # Outputs are reported by the names inspect shows (the SignatureDef's), not tensor names.
    assert doc["outputs"]["smoothed"]["shape"] == [1, 15998, 1, 1]
    assert doc["outputs"]["smoothed"]["min"] == pytest.approx(1.0)
    # The runtime's own tensor name is accepted too.
    again = json_run(audio_script, "--input", f"serving_default_audio:0={audio}")
    assert again["outputs"] == doc["outputs"]


def test_inspect_shows_both_names(audio_script):
    shown = porter("inspect", str(audio_script.with_name("audio.tflite")))
    assert "audio" in shown.stdout and "serving_default_audio:0" in shown.stdout
    doc = json.loads(
        porter("inspect", str(audio_script.with_name("audio.tflite")), "--json").stdout
    )
    assert doc["inputs"][0]["name"] == "audio"
    assert doc["inputs"][0]["tensor_name"] == "serving_default_audio:0"


def test_input_shape_accepts_either_name(tmp_path):
    model = models.write(tmp_path / "audio.tflite", models.tflite_dynamic_audio())
    for name in ("audio", "serving_default_audio:0"):
        out = scaffold(model, tmp_path / "a.py", "--input-shape", f"{name}=1,400", "--force")
        doc = json_run(out, "--random-input")
        assert doc["outputs"]["smoothed"]["shape"] == [1, 398, 1, 1]


def test_inference_errors_are_one_line(audio_script, tmp_path):
    """A size the model cannot run ends in one line and exit code 2 (LiteRT)."""
    short = tmp_path / "short.npy"
    np.save(short, np.ones((1, 1), np.float32))
    assert_one_line_error(script_run(audio_script, "--input", f"audio={short}"), "error:")


def test_onnxruntime_errors_during_inference_are_one_line(tmp_path):
    """Pad reflect on a length-1 signal fails inside ONNX Runtime: one line, no log spam."""
    model = models.write(tmp_path / "pad.onnx", models.onnx_reflect_pad())
    script = scaffold(model, tmp_path / "pad.py")
    signal = tmp_path / "signal.npy"
    np.save(signal, np.ones((1, 1), np.float32))
    ran = script_run(script, "--input", f"signal={signal}")
    assert_one_line_error(ran, "inference failed", "reflect")
    np.save(signal, np.ones((1, 5), np.float32))
    assert json_run(script, "--input", f"signal={signal}")["outputs"]["padded"]["shape"] == [1, 9]


def test_random_input_is_readable_and_overridable(tmp_path):
    """An int64 sample-rate scalar gets a small value said on stderr; NAME=NUMBER sets it."""
    model = models.write(tmp_path / "sr.onnx", models.onnx_sample_rate())
    script = scaffold(model, tmp_path / "sr.py")
    ran = script_run(script, "--random-input", "--json")
    assert ran.returncode == 0, ran.stderr
    said = [line for line in ran.stderr.splitlines() if "sr int64" in line]
    assert len(said) == 1 and "--input sr=NUMBER" in said[0]
    value = re.search(r"= \[?(-?\d+)\]? ", said[0])
    assert value is not None and 0 <= int(value.group(1)) <= 9, said
    doc = json_run(script, "--random-input", "--input", "sr=16000")
    scaled = doc["outputs"]["scaled"]
    assert 0 <= scaled["min"] <= scaled["max"] <= 1  # audio in 0..1 times 16000 / 16000


def test_json_is_valid_when_outputs_are_nan(tmp_path):
    model = models.write(tmp_path / "nan.onnx", models.onnx_nan_output())
    script = scaffold(model, tmp_path / "nan.py")
    ran = script_run(script, "--random-input", "--json")
    assert ran.returncode == 0, ran.stderr
    assert "NaN" not in ran.stdout
    doc = json.loads(ran.stdout)
    assert doc["outputs"]["root"]["min"] is None and doc["outputs"]["root"]["mean"] is None


# ---- quantization and the model file -------------------------------------------------------


def test_onnx_script_reads_quantization_from_the_model(tmp_path):
    """A script made for a zero point 0 model, run on a zero point 100 copy, dequantizes with
    100 (read from the file) and says so; before, it printed 10.0-10.6 instead of 0.3-1.0."""
    made_for = models.write(tmp_path / "zp0.onnx", models.onnx_integer_io(zp=0))
    other = models.write(tmp_path / "zp100.onnx", models.onnx_integer_io(zp=100))
    # The stub prints each output's values (a 3-class segmentation would print classes).
    script = scaffold(made_for, tmp_path / "zp0.py", "--postproc", "none")
    reference = scaffold(other, tmp_path / "zp100.py", "--postproc", "none")
    photo = tmp_path / "grey.png"
    Image.new("RGB", (16, 16), (90, 160, 250)).save(photo)
    ran = script_run(script, "--model", str(other), "--image", str(photo), "--json")
    assert ran.returncode == 0, ran.stderr
    assert "sha256 differs" in ran.stderr and "zero_point': [100]" in ran.stderr
    expected = json_run(reference, "--image", str(photo))
    assert json.loads(ran.stdout)["outputs"] == expected["outputs"]
    assert 0.3 <= expected["outputs"]["y"]["min"] <= expected["outputs"]["y"]["max"] <= 1.0


def test_a_different_model_is_refused_with_the_reason(tmp_path):
    made_for = models.write(tmp_path / "u8.onnx", models.onnx_integer_io())
    other = models.write(tmp_path / "f.onnx", models.onnx_float_dynamic())
    script = scaffold(made_for, tmp_path / "u8.py")
    photo = tmp_path / "p.png"
    Image.new("RGB", (16, 16)).save(photo)
    ran = script_run(script, "--model", str(other), "--image", str(photo))
    assert_one_line_error(ran, "does not match the script", "regenerate it with")


# ---- defaults ------------------------------------------------------------------------------


def test_default_model_is_found_wherever_the_script_was_written(tmp_path):
    """scaffold models/m.tflite -o out/m.py: the script finds ../models/m.tflite from any
    folder; copied beside the model (as on the board), it finds it by name."""
    (tmp_path / "models").mkdir()
    (tmp_path / "out").mkdir()
    models.write(tmp_path / "models" / "m.tflite", models.tflite_dynamic_audio())
    scaffold(Path("models/m.tflite"), Path("out/m.py"), "--input-shape", "audio=1,50", cwd=tmp_path)
    script = tmp_path / "out" / "m.py"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert json_run(script, "--random-input", cwd=elsewhere)["model"] == "m.tflite"
    board = tmp_path / "on" / "the" / "board"  # where ../models/m.tflite is not
    board.mkdir(parents=True)
    shutil.copy(script, board / "m.py")
    shutil.copy(tmp_path / "models" / "m.tflite", board / "m.tflite")
    assert json_run(board / "m.py", "--random-input", cwd=elsewhere)["model"] == "m.tflite"
    os.remove(board / "m.tflite")
    assert_one_line_error(script_run(board / "m.py", "--random-input", cwd=elsewhere), "--model")


def test_one_run_by_default_timing_on_request(audio_script, tmp_path):
    audio = tmp_path / "a.npy"
    np.save(audio, np.ones((1, 100), np.float32))
    once = script_run(audio_script, "--input", f"audio={audio}")
    assert "one cold run" in once.stdout
    doc = json_run(audio_script, "--input", f"audio={audio}", "--runs", "3")
    assert doc["runs"] == 3 and set(doc["timings_ms"]["inference"]) == {"median", "p90"}


def test_check_finds_the_model_from_the_scripts_folder(tmp_path):
    """porter check generated/x.py works from any folder: paths are the recorded ones."""
    result = porter("check", str(ROOT / "generated" / "face_det_lite_sample.py"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    moved = tmp_path / "x.py"
    shutil.copy(ROOT / "generated" / "face_det_lite_sample.py", moved)
    assert_one_line_error(porter("check", str(moved), cwd=tmp_path), "its model is not at")


def test_flags_take_any_case(tmp_path):
    model = ROOT / "samples" / "face_det_lite_sample.tflite"
    script = scaffold(model, tmp_path / "f.py", "--postproc", "face_det_lite", "--channels", "BLUE")
    assert 'DEFAULT_CHANNELS = "blue"' in script.read_text()
    assert scaffold(model, tmp_path / "g.py", "--postproc", "face_det_lite", "--layout", "nhwc")
    photo = tmp_path / "p.png"
    Image.new("RGB", (64, 48)).save(photo)
    ran = script_run(script, "--image", str(photo), "--channels", "Gray", "--delegate", "CPU")
    assert ran.returncode == 0, ran.stderr


def test_layout_contradicting_the_model_is_refused(tmp_path):
    model = ROOT / "samples" / "face_det_lite_sample.tflite"
    result = porter("scaffold", str(model), "--layout", "NCHW", "-o", str(tmp_path / "x.py"))
    assert_one_line_error(result, "--layout NCHW contradicts input 'input'", "NHWC")
    assert not (tmp_path / "x.py").exists()


def test_no_output_option_where_nothing_is_drawn(tmp_path):
    script = ROOT / "generated" / "classifier_sample_stub.py"
    photo = tmp_path / "p.png"
    Image.new("RGB", (64, 64)).save(photo)
    ran = script_run(script, "--image", str(photo), "--output", str(tmp_path / "o.png"))
    assert ran.returncode == 2 and "--output" in ran.stderr
    assert not (tmp_path / "o.png").exists()


def test_no_color_means_no_escape_codes():
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "1"}
    for args in (["inspect", str(ROOT / "samples" / "classifier_sample.tflite")], ["--help"]):
        result = porter(*args, env=env)
        assert result.returncode == 0 and "\x1b[" not in result.stdout
    styled = porter(
        "inspect",
        str(ROOT / "samples" / "classifier_sample.tflite"),
        env={**os.environ, "FORCE_COLOR": "1"},
    )
    assert "\x1b[" in styled.stdout  # the check above can fail


def test_custom_op_warning_only_for_ops_the_runtime_lacks(tmp_path):
    """MediaPipe's Convolution2DTransposeBias runs on ai-edge-litert 2.x: no warning."""
    for name, warned in (("Convolution2DTransposeBias", False), ("MyCustomOp", True)):
        model = models.write(tmp_path / f"{name}.tflite", models.tflite_custom_op(name))
        made = porter("scaffold", str(model), "-o", str(tmp_path / f"{name}.py"))
        assert made.returncode == 0, made.stderr
        warnings = [line for line in made.stderr.splitlines() if line.startswith("porter: warning")]
        assert any(name in line for line in warnings) is warned
        inspected = porter("inspect", str(model), "--json")
        assert any(name in w for w in json.loads(inspected.stdout)["warnings"]) is warned


def test_delegate_that_takes_few_operators_is_reported(tmp_path):
    """A stub delegate taking 2 of 3 operators: the script says most of the run is on the CPU."""
    build_stub_delegate_or_skip(tmp_path)
    model = models.write(tmp_path / "amu.tflite", models.tflite_add_mul_add())
    script = scaffold(model, tmp_path / "amu.py")
    env = {**os.environ, "LD_LIBRARY_PATH": str(tmp_path), "STUB_DELEGATE_CLAIM": "add"}
    ran = script_run(script, "--random-input", "--delegate", "qnn-htp", env=env)
    assert ran.returncode == 0, ran.stderr
    assert "took only 2 of the model's 3 operators" in ran.stderr
    env["STUB_DELEGATE_CLAIM"] = "all"
    ran = script_run(script, "--random-input", "--delegate", "qnn-htp", env=env)
    assert ran.returncode == 0 and "took only" not in ran.stderr


def test_ctrl_c_outside_the_live_loop_is_one_line(monkeypatch, capsys):
    """Ctrl-C while the model loads or a photo runs: one line and exit 130, no traceback."""
    script = import_script(ROOT / "generated" / "face_det_lite_sample.py")

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(script, "run", interrupted)
    assert script.main(["--image", "photo.png"]) == 130
    assert capsys.readouterr().err == "stopped by Ctrl-C\n"


FAULTS_PER_FRAME = """
import importlib.util, resource, sys
import numpy as np
spec = importlib.util.spec_from_file_location("script", sys.argv[1])
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)
pipeline = script.prepare(keep_memory=sys.argv[2] == "keep")
photo = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
for _ in range(5):
    pipeline.infer(photo)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    pipeline.infer(photo)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def faults_per_frame(script: Path, memory: str) -> float:
    ran = run([sys.executable, "-c", FAULTS_PER_FRAME, str(script), memory])
    assert ran.returncode == 0, ran.stderr
    return float(ran.stdout)


@pytest.mark.skipif(
    not (getattr(os, "confstr", None) and (os.confstr("CS_GNU_LIBC_VERSION") or "")[:5] == "glibc"),
    reason="keep_freed_memory() acts on glibc's malloc only",
)
def test_frames_reuse_freed_memory():
    """A script's own process, frame after frame (the depth sample: its letterbox and
    undo_resize_pad use temporaries over glibc's 128 KB mmap threshold): prepare() keeps
    freed memory, so a frame costs no page faults; without it, glibc hands the temporaries
    back to the kernel and faults them in again on every frame."""
    script = ROOT / "generated" / "depth_sample.py"
    assert faults_per_frame(script, "keep") < 5
    assert faults_per_frame(script, "return") > 100  # the test can fail: glibc's default


def test_keep_freed_memory_leaves_other_c_libraries_alone(monkeypatch):
    script = import_script(ROOT / "generated" / "depth_sample.py")

    def not_glibc(name):
        raise ValueError("unrecognized configuration name")

    monkeypatch.setattr(script.os, "confstr", not_glibc)
    monkeypatch.setitem(sys.modules, "ctypes", None)  # importing it now would fail
    script.keep_freed_memory()
