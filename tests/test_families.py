"""Every family, with no test naming one: each has a sample and a committed script; every
script is deterministic, runs for real on a photo, and no model string reaches its code
other than as a literal. A new family is covered by adding its files, nothing here."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import flatbuffers
import onnx
import pytest
from ai_edge_litert import schema_py_generated as schema

from porter.errors import PorterError
from porter.families import STUB, available
from porter.plan import ScaffoldOptions
from porter.scaffold import _recorded_options, generate
from tests.conftest import ROOT, assert_one_line_error, porter, run
from tests.test_hostile import PAYLOADS, ast_shape

GENERATED = sorted((ROOT / "generated").glob("*.py"))
FAMILIES = sorted(available())


def recorded(script: Path) -> ScaffoldOptions:
    return _recorded_options(script)


def _decodes(text: str, name: str) -> bool:
    first = ast.get_docstring(ast.parse(text)).splitlines()[0]
    return first.startswith(f"{name} inference") or (name == STUB and first.startswith("Inference"))


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_has_a_sample_and_a_committed_script(family):
    scripts = [s for s in GENERATED if _decodes(s.read_text(), family)]
    assert scripts, f"no script in generated/ decodes {family}"
    for script in scripts:
        model = ROOT / recorded(script).model_arg
        assert model.parent == ROOT / "samples" and model.is_file(), script.name


def test_every_sample_has_a_committed_script():
    scripted = {Path(recorded(s).model_arg).name for s in GENERATED}
    assert {p.name for p in (ROOT / "samples").iterdir()} <= scripted


def test_scripts_are_the_same_across_hash_seeds(tmp_path):
    """Every committed script, generated again in processes with other hash seeds."""
    program = (
        "import sys, hashlib\n"
        "from pathlib import Path\n"
        "from porter.scaffold import _recorded_options, generate\n"
        "for path in sorted(Path('generated').glob('*.py')):\n"
        "    text, _ = generate(_recorded_options(path))\n"
        "    print(path.name, hashlib.sha256(text.encode()).hexdigest())\n"
    )
    outputs = set()
    for seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1


def image_scripts() -> list[Path]:
    return [s for s in GENERATED if "IMAGE_INPUT = " in s.read_text()]


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    from PIL import Image
    from skimage import data

    path = tmp_path_factory.mktemp("photo") / "astronaut.jpg"
    Image.fromarray(data.astronaut()).resize((320, 240)).save(path)
    return path


def run_json(script: Path, *args: str, cwd: Path | None = None) -> dict:
    ran = run([sys.executable, str(script), *args, "--json"], cwd=cwd)
    assert ran.returncode == 0, ran.stderr
    assert "NaN" not in ran.stdout and "Infinity" not in ran.stdout
    return json.loads(ran.stdout)


@pytest.mark.parametrize("script", image_scripts(), ids=lambda p: p.stem)
def test_every_script_runs_on_a_photo(script, photo, tmp_path):
    """On a real photo, with its model found from where the script is: JSON on stdout and,
    where it draws, an image written."""
    draws = "--output" in run([sys.executable, str(script), "--help"]).stdout
    output = ["--output", str(tmp_path / "out.png")] if draws else []
    doc = run_json(script, "--image", str(photo), *output, cwd=tmp_path)
    assert doc["model"] == Path(recorded(script).model_arg).name
    assert set(doc["timings_ms"]) >= {"preprocess", "inference", "postprocess"}
    assert not draws or (tmp_path / "out.png").stat().st_size > 0


# ---- no model string becomes code ------------------------------------------------------------


HARMLESS = [f"p{index}" for index in range(len(PAYLOADS))]


def hostile_tflite(data: bytes, strings: list[str] = PAYLOADS) -> bytes:
    """Every tensor, signature key and name, metadata name and the description carry a
    payload (a different one for each, in turn). With HARMLESS strings the same renaming
    gives the plain twin, of the same structure."""
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))
    payloads = iter(strings * 100)
    renamed = {}
    for tensor in model.subgraphs[0].tensors:
        old = tensor.name.decode()
        renamed[old] = f"{old} {next(payloads)}"
        tensor.name = renamed[old].encode()
    for signature in model.signatureDefs or []:
        for tmap in [*signature.inputs, *signature.outputs]:
            tmap.name = f"{tmap.name.decode()} {next(payloads)}".encode()
    model.description = "\n".join(strings).encode()
    for entry in model.metadata or []:
        if entry.name.decode() not in ("TFLITE_METADATA", "labels", "min_runtime_version"):
            entry.name = f"{entry.name.decode()} {next(payloads)}".encode()
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def hostile_onnx(data: bytes, strings: list[str] = PAYLOADS) -> bytes:
    """Every value name, node name, the doc string and an extra metadata entry carry one."""
    model = onnx.load_from_string(data)
    graph = model.graph
    payloads = iter(strings * 100)
    names: dict[str, str] = {}

    def rename(name: str) -> str:
        if name and name not in names:
            names[name] = f"{name} {next(payloads)}"
        return names.get(name, name)

    for index, node in enumerate(graph.node):
        node.input[:] = [rename(v) for v in node.input]
        node.output[:] = [rename(v) for v in node.output]
        node.name = f"{node.name} {index} {next(payloads)}"  # node names must stay unique
    for value in [*graph.input, *graph.output, *graph.value_info]:
        value.name = rename(value.name)
    for initializer in graph.initializer:
        initializer.name = rename(initializer.name)
    model.doc_string = "\n".join(strings)
    model.metadata_props.add(key="\n".join(strings), value="\n".join(strings))
    return model.SerializeToString()


@pytest.fixture(scope="module")
def hostile_scripts(tmp_path_factory) -> dict[str, tuple[Path, Path, Path, Path]]:
    """Per committed script: (plain script, plain model, hostile script, hostile model),
    generated in this process; the hostile ones in a folder with a hostile name."""
    made = {}
    for script in GENERATED:
        options = recorded(script)
        source = ROOT / options.model_arg
        folder = tmp_path_factory.mktemp("h") / f'it\'s a "dir" {script.stem}'
        folder.mkdir()
        rename = hostile_tflite if source.suffix == ".tflite" else hostile_onnx
        data = source.read_bytes()
        plain_model = folder.parent / source.name
        plain_model.write_bytes(rename(data, HARMLESS))
        model = folder / f"model 'x' \"y\"{source.suffix}"
        model.write_bytes(rename(data))
        pair = []
        for m, out in ((plain_model, folder.parent / "plain.py"), (model, folder / "script.py")):
            text, _ = generate(
                ScaffoldOptions(
                    str(m), str(out), options.postproc, options.channels, options.layout
                )
            )
            out.write_text(text, encoding="utf-8")
            pair += [out, m]
        made[script.stem] = tuple(pair)
    return made


def test_hostile_scripts_are_lint_clean(hostile_scripts):
    scripts = [str(paths[2]) for paths in hostile_scripts.values()]
    config = ["--config", str(ROOT / "pyproject.toml")]
    for check in (["check"], ["format", "--check"]):
        linted = run([sys.executable, "-m", "ruff", *check, *config, *scripts])
        assert linted.returncode == 0, linted.stdout + linted.stderr


@pytest.mark.parametrize("name", [s.stem for s in GENERATED])
def test_hostile_names_stay_literals(hostile_scripts, name, photo):
    """Same syntax tree as with plain names; runs, and gives the same results."""
    plain, plain_model, script, model = hostile_scripts[name]
    assert ast_shape(script.read_text()) == ast_shape(plain.read_text())
    if "IMAGE_INPUT = " not in plain.read_text():
        return
    folder = script.parent
    before = set(os.listdir(folder))
    hostile = run_json(script, "--model", str(model), "--image", str(photo), cwd=folder)
    expected = run_json(plain, "--model", str(plain_model), "--image", str(photo))
    strip = ("model", "timings_ms", "outputs")  # outputs: the stub keys them by (hostile) name
    assert {k: v for k, v in hostile.items() if k not in strip} == {
        k: v for k, v in expected.items() if k not in strip
    }
    assert set(os.listdir(folder)) == before
    assert not (folder / "pwned").exists() and not (folder.parent / "pwned").exists()


# ---- forcing a family -------------------------------------------------------------------


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != STUB])
def test_a_family_that_does_not_fit_is_refused_with_the_reason(family, tmp_path):
    """Each family forced on every sample: it fits (its own), or one line saying what it
    needed and what the model has; once through the command line."""
    refused = []
    for script in GENERATED:
        model = ROOT / recorded(script).model_arg
        try:
            generate(ScaffoldOptions(str(model), str(tmp_path / "x.py"), family))
        except PorterError as exc:
            line = exc.line()
            assert "\n" not in line and family in line and model.name in line
            assert any(word in line for word in ("needs", "must", "takes", "channel")), line
            refused.append(model)
    assert refused, f"{family} fits every sample"
    result = porter("scaffold", str(refused[0]), "--postproc", family, "-o", str(tmp_path / "y.py"))
    assert_one_line_error(result, refused[0].name, family)
    assert not (tmp_path / "y.py").exists()
