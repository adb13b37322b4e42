"""Hostile input: model strings never become code; broken files never crash; nothing is lost."""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path

import flatbuffers
import numpy as np
import onnx
import pytest
from ai_edge_litert import schema_py_generated as schema
from PIL import Image

from porter.describe import describe_model
from porter.errors import PorterError
from porter.plan import ScaffoldOptions
from porter.report import to_json
from porter.scaffold import generate
from tests import models
from tests.conftest import ROOT, assert_one_line_error, porter, run

SAMPLES = ROOT / "samples"
PAYLOADS = [
    'x"""; __import__("os").system("touch pwned") #',
    "a'b\"c\\d",
    "line1\nline2\r\n__import__('os').system('touch pwned')",
    "nul\0byte",
    "sep\u2028arator\u2029here",
    "{{ 7 * 7 }}{% raw %}{% endraw %}",
    "'''; import os; os.system('touch pwned'); '''",
    "\\N{BULLET} \\x00 \\u0000",
    "tab\tand\x0bvt\x1b[31m",
]


def hostile_tflite(names: dict[str, str], description: str) -> bytes:
    """The face sample with its tensor names, signature keys and description replaced."""
    data = (SAMPLES / "face_det_lite_sample.tflite").read_bytes()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))
    tensors = model.subgraphs[0].tensors
    for tensor in tensors:
        tensor.name = names.get(tensor.name.decode(), tensor.name.decode()).encode()
    signature = model.signatureDefs[0]
    for tmap in [*signature.inputs, *signature.outputs]:
        tmap.name = ("sig " + names.get(tmap.name.decode(), tmap.name.decode())).encode()
    signature.signatureKey = names["input"].encode()
    model.description = description.encode()
    metadata = schema.MetadataT()
    metadata.name = names["heatmap"].encode()
    blob = schema.BufferT()
    blob.data = list(description.encode())
    model.buffers.append(blob)
    metadata.buffer = len(model.buffers) - 1
    model.metadata = [metadata]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def hostile_onnx(names: dict[str, str], description: str) -> bytes:
    model = onnx.load_from_string((SAMPLES / "face_det_lite_sample.onnx").read_bytes())
    graph = model.graph

    def rename(value: str) -> str:
        return names.get(value, value)

    for node in graph.node:
        node.input[:] = [rename(v) for v in node.input]
        node.output[:] = [rename(v) for v in node.output]
    for value in [*graph.input, *graph.output]:
        value.name = rename(value.name)
    model.doc_string = description
    model.metadata_props.add(key=description, value=description)
    return model.SerializeToString()


def ast_shape(source: str) -> list[str]:
    """The script's syntax tree without its constants' values: what code it runs."""
    return [type(node).__name__ for node in ast.walk(ast.parse(source))]


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    from skimage import data

    path = tmp_path_factory.mktemp("photo") / "coins.png"
    Image.fromarray(data.coins()).save(path)
    return path


POSTPROCS = ["face_det_lite", "none"]
FORMATS = ["tflite", "onnx"]


def write_script(model: Path, out: Path, postproc: str) -> Path:
    """What `porter scaffold` writes, generated in this process (a subprocess adds nothing)."""
    text, _ = generate(ScaffoldOptions(str(model), str(out), postproc))
    out.write_text(text, encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def hostile_scripts(tmp_path_factory) -> dict[tuple[int, str, str], tuple[Path, Path, Path]]:
    """Per payload, format and postprocessor: (plain script, hostile script, hostile model).

    Every file name on the way is hostile too: a folder and a model named with quotes.
    """
    made = {}
    roles = ("input", "heatmap", "bbox", "landmark")
    for fmt in FORMATS:
        build = hostile_tflite if fmt == "tflite" else hostile_onnx
        base = tmp_path_factory.mktemp(f"hostile-{fmt}")
        plain_model = base / f"plain.{fmt}"
        plain_model.write_bytes(build({r: r for r in roles}, "plain"))
        for index, payload in enumerate(PAYLOADS):
            folder = base / f'it\'s a "dir" {index}'
            folder.mkdir()
            model = folder / f"model 'x' \"y\".{fmt}"
            model.write_bytes(build({r: f"{r} {payload}" for r in roles}, payload))
            for postproc in POSTPROCS:
                plain = write_script(plain_model, base / f"plain-{index}-{postproc}.py", postproc)
                script = write_script(model, folder / f"{postproc}.py", postproc)
                made[index, fmt, postproc] = (plain, script, model)
    return made


def test_hostile_scripts_are_lint_clean(hostile_scripts):
    scripts = [str(script) for _, script, _ in hostile_scripts.values()]
    config = ["--config", str(ROOT / "pyproject.toml")]
    for check in (["check"], ["format", "--check"]):
        linted = run([sys.executable, "-m", "ruff", *check, *config, *scripts])
        assert linted.returncode == 0, linted.stdout + linted.stderr


@pytest.mark.parametrize("postproc", POSTPROCS)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_model_strings_stay_literals(hostile_scripts, photo, fmt, payload, postproc):
    """Hostile names reach the script (constants, the stub's docstring, the header) only as
    literals: same syntax tree as with plain names, and it runs."""
    plain, script, model = hostile_scripts[PAYLOADS.index(payload), fmt, postproc]
    source = script.read_text()
    assert ast_shape(source) == ast_shape(plain.read_text())
    folder = script.parent
    before = set(os.listdir(folder))
    draws = postproc != "none"  # the stub draws nothing, so it takes no --output
    output = ["--output", str(folder / f"annotated-{postproc}.png")] if draws else []
    ran = run(
        [
            sys.executable,
            str(script),
            "--model",
            str(model),
            "--image",
            str(photo),
            *output,
            "--json",
        ],
        cwd=folder,
    )
    assert ran.returncode == 0, ran.stderr
    doc = json.loads(ran.stdout)
    if postproc == "face_det_lite":
        assert len(doc["detections"]) >= 20
    else:
        assert len(doc["outputs"]) == 3
    expected = {f"annotated-{postproc}.png"} if draws else set()
    assert set(os.listdir(folder)) - before == expected
    assert not (folder / "pwned").exists() and not (folder.parent / "pwned").exists()
    inspected = to_json(describe_model(model))
    assert payload in inspected or json.dumps(payload)[1:-1] in inspected


# ---- nothing lost ------------------------------------------------------------------------


def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    from porter import writer

    target = tmp_path / "script.py"
    target.write_text("old, whole\n")
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    with pytest.raises(PorterError, match="No space left"):
        writer.write_atomic(target, "new content " * 1000, force=True)
    assert target.read_text() == "old, whole\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["script.py"]  # no temporary left


def test_output_path_is_a_folder(tmp_path):
    model = models.write(tmp_path / "m.tflite", models.tflite_float_conv())
    folder = tmp_path / "out"
    folder.mkdir()
    assert_one_line_error(porter("scaffold", str(model), "-o", str(folder), "--force"), "folder")


@pytest.mark.parametrize("target", ["/proc/porter_test.py", "/nonexistent-dir/x.py"])
def test_unwritable_folder(tmp_path, target):
    model = models.write(tmp_path / "m.tflite", models.tflite_float_conv())
    assert_one_line_error(porter("scaffold", str(model), "-o", target), target)


# ---- models porter cannot fully plan ---------------------------------------------------


def test_dynamic_spatial_dims_message_names_the_flag(tmp_path):
    model = models.write(tmp_path / "d.tflite", models.tflite_multi_io_dynamic())
    result = porter("scaffold", str(model), "-o", str(tmp_path / "d.py"))
    assert_one_line_error(result, "--input-shape state=1,5,N,3")


def test_bad_input_shape_values(tmp_path):
    model = models.write(tmp_path / "d.tflite", models.tflite_multi_io_dynamic())
    for flag, fragment in (
        ("state=1,5", "does not fit"),
        ("nope=1", "no such input"),
        ("state=1,6,8,3", "does not fit"),
        ("state", "NAME=D0"),
    ):
        result = porter("scaffold", str(model), "-o", str(tmp_path / "d.py"), "--input-shape", flag)
        assert_one_line_error(result, fragment)


def test_custom_operator_warns_but_scaffolds(tmp_path):
    model = models.write(tmp_path / "c.tflite", models.tflite_custom_and_metadata())
    result = porter("scaffold", str(model), "-o", str(tmp_path / "c.py"))
    assert result.returncode == 0
    assert "MyCustomOp" in result.stderr and "refuse" in result.stderr


# ---- the generated script's own bad input -------------------------------------------------


SCRIPT = ROOT / "generated" / "face_det_lite_sample.py"
MODEL = SAMPLES / "face_det_lite_sample.tflite"


def detect(image: Path, *extra: str):
    return run(
        [
            sys.executable,
            str(SCRIPT),
            "--model",
            str(MODEL),
            "--image",
            str(image),
            "--runs",
            "1",
            "--json",
            *extra,
        ]
    )


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "I;16", "CMYK", "I", "F", "1"])
def test_every_pillow_mode(tmp_path, photo, mode):
    """Each mode gives the coins found on the RGB photo (same pixels, another mode)."""
    rgb = Image.open(photo).convert("RGB")
    if mode == "I;16":
        converted = Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.uint16) * 257)
    elif mode in ("I", "F"):
        converted = rgb.convert("L").convert(mode)
    else:
        converted = rgb.convert(mode)
    path = tmp_path / f"coins.{'tiff' if mode in ('I;16', 'CMYK', 'I', 'F') else 'png'}"
    converted.save(path)
    result = detect(path)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)["detections"]
    if mode == "1":  # a 1-bit photo is another picture: it runs, that is all
        return
    reference = json.loads(detect(photo).stdout)["detections"]
    assert abs(len(found) - len(reference)) <= 2


def test_exif_rotation_is_applied(tmp_path, photo):
    upright = Image.open(photo).convert("RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a rotated camera writes
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    path = tmp_path / "rotated.jpg"
    stored.save(path, exif=exif, quality=95)
    same = tmp_path / "upright.jpg"
    upright.save(same, quality=95)
    rotated = json.loads(detect(path).stdout)["detections"]
    reference = json.loads(detect(same).stdout)["detections"]
    assert abs(len(rotated) - len(reference)) <= 1
    centres = np.array(
        [[(d["box"][0] + d["box"][2]) / 2, (d["box"][1] + d["box"][3]) / 2] for d in rotated]
    )
    assert centres[:, 0].max() <= upright.size[0] and centres[:, 1].max() <= upright.size[1]
    ref = np.array(
        [[(d["box"][0] + d["box"][2]) / 2, (d["box"][1] + d["box"][3]) / 2] for d in reference]
    )
    nearest = np.linalg.norm(centres[:, None] - ref[None], axis=2).min(axis=1)
    assert np.median(nearest) < 5


@pytest.mark.parametrize("size", [(1, 1), (8000, 6000)])
def test_tiny_and_huge_images(tmp_path, size):
    path = tmp_path / "img.png"
    Image.new("RGB", size, (90, 90, 90)).save(path)
    result = detect(path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["detections"] == []


def test_unreadable_image_is_one_line(tmp_path):
    path = tmp_path / "fake.png"
    path.write_text("not an image")
    result = detect(path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "cannot read the image" in result.stderr


def test_npy_of_wrong_dtype(tmp_path):
    model = models.write(tmp_path / "m.onnx", models.onnx_multi_io())
    script = tmp_path / "m.py"
    assert porter("scaffold", str(model), "-o", str(script)).returncode == 0
    np.save(tmp_path / "a.npy", np.zeros((1, 10), np.float64))
    np.save(tmp_path / "b.npy", np.zeros((1, 10), np.float32))
    result = run(
        [
            sys.executable,
            str(script),
            "--input",
            f"a={tmp_path / 'a.npy'}",
            "--input",
            f"b={tmp_path / 'b.npy'}",
        ]
    )
    assert result.returncode == 2 and "float64" in result.stderr and result.stderr.count("\n") == 1
    (tmp_path / "junk.npy").write_text("junk")
    result = run(
        [
            sys.executable,
            str(script),
            "--input",
            f"a={tmp_path / 'junk.npy'}",
            "--input",
            f"b={tmp_path / 'b.npy'}",
        ]
    )
    assert result.returncode == 2 and "cannot read" in result.stderr
