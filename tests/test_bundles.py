"""AI Hub's download bundles: the zip read in place and the folder it unpacks into."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, assert_one_line_error, porter, run

SHARED_METADATA = (
    ROOT.parent / "shared" / "aihub-metadata" / "gear_guard_net-tflite-w8a8.metadata.json"
)
SAMPLE = ROOT / "samples" / "detection_sample.tflite"


def metadata(value_range=(0.0, 1.0)) -> dict:
    """A metadata.json as AI Hub writes it (the shape of gear_guard_net's), for the sample."""
    return {
        "model_id": "detection_sample",
        "model_name": "Detection sample",
        "runtime": "tflite",
        "precision": "w8a8",
        "model_files": {
            "detection_sample.tflite": {
                "inputs": {
                    "image": {
                        "shape": [1, 640, 640, 3],
                        "dtype": "uint8",
                        "quantization_parameters": {"scale": 1 / 255, "zero_point": 0},
                        "io_type": "image",
                        "image_metadata": {},
                        "value_range": list(value_range),
                    }
                },
                "outputs": {
                    "boxes": {"shape": [1, 8400, 4], "dtype": "uint8"},
                    "scores": {"shape": [1, 8400], "dtype": "uint8"},
                    "class_idx": {"shape": [1, 8400], "dtype": "uint8"},
                },
            }
        },
        "supplementary_files": {
            "labels.txt": "Mapping of model prediction indices -> string labels."
        },
    }


def make_bundle(folder: Path, members: dict[str, bytes]) -> Path:
    path = folder / "detection_sample-tflite-w8a8.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def standard_members() -> dict[str, bytes]:
    base = "detection_sample-tflite-w8a8/"
    return {
        base + "detection_sample.tflite": SAMPLE.read_bytes(),
        base + "metadata.json": json.dumps(metadata(), indent=4).encode(),
        base + "labels.txt": "".join(f"ppe {i}\n" for i in range(80)).encode(),
    }


def test_the_shared_metadata_example_has_the_fields_porter_reads():
    if not SHARED_METADATA.is_file():
        pytest.skip(f"{SHARED_METADATA} is not present")
    doc = json.loads(SHARED_METADATA.read_text())
    image = doc["model_files"]["gear_guard_net.tflite"]["inputs"]["image"]
    assert image["value_range"] == [0.0, 1.0] and doc["supplementary_files"]["labels.txt"]


def test_zip_is_inspected_and_scripted_in_place(tmp_path, photos):
    bundle = make_bundle(tmp_path, standard_members())
    doc = json.loads(porter("inspect", str(bundle), "--json").stdout)
    assert doc["bundle"]["kind"] == "zip"
    assert doc["bundle"]["member"] == "detection_sample-tflite-w8a8/detection_sample.tflite"
    assert doc["bundle"]["metadata"]["precision"] == "w8a8"
    script = tmp_path / "det.py"
    made = porter("scaffold", str(bundle), "-o", str(script))
    assert made.returncode == 0, made.stderr
    assert "the bundle's labels.txt" in made.stderr and "value_range [0, 1]" in made.stderr
    assert not list(tmp_path.glob("detection_sample-tflite-w8a8/*"))  # nothing extracted
    ran = run([sys.executable, str(script), "--image", str(photos["coins"]), "--json"])
    assert ran.returncode == 0, ran.stderr
    detections = json.loads(ran.stdout)["detections"]
    assert len(detections) == 24 and {d["label"] for d in detections} == {"ppe 32"}


def test_unpacked_folder(tmp_path, photos):
    folder = tmp_path / "detection_sample-tflite-w8a8"
    folder.mkdir()
    for name, data in standard_members().items():
        (tmp_path / name).write_bytes(data)
    script = tmp_path / "det.py"
    made = porter("scaffold", str(folder), "-o", str(script))
    assert made.returncode == 0, made.stderr
    assert (
        'MODEL_PATH = "detection_sample-tflite-w8a8/detection_sample.tflite"' in script.read_text()
    )
    ran = run([sys.executable, str(script), "--image", str(photos["coins"]), "--json"])
    assert ran.returncode == 0 and json.loads(ran.stdout)["detections"][0]["label"] == "ppe 32"


def test_labels_txt_beside_a_bare_model(tmp_path):
    model = tmp_path / "det.tflite"
    model.write_bytes(SAMPLE.read_bytes())
    (tmp_path / "labels.txt").write_text("".join(f"mine {i}\n" for i in range(80)))
    made = porter("scaffold", str(model), "-o", str(tmp_path / "d.py"))
    assert "labels.txt beside the model" in made.stderr


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ({"readme.txt": b"hi"}, "no .tflite or .onnx model"),
        ({"a.tflite": b"x", "b/c.onnx": b"y"}, "2 models"),
        ({"../evil.tflite": b"x"}, "escapes the archive"),
        ({"/abs/m.tflite": b"x"}, "escapes the archive"),
        ({"m.tflite": b"\0" * 20_000_000}, "inflates"),
        ({"m.tflite": b"<html>not a model</html>"}, "HTML"),
        (
            {"m.tflite": SAMPLE.read_bytes(), "metadata.json": b"{not json"},
            "metadata.json: not readable metadata",
        ),
    ],
)
def test_bad_bundles_are_one_line_errors(tmp_path, members, problem):
    bundle = make_bundle(tmp_path, members)
    assert_one_line_error(porter("inspect", str(bundle)), bundle.name, problem)


def test_a_zip_that_is_not_one(tmp_path):
    broken = tmp_path / "m.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 30)
    assert_one_line_error(porter("inspect", str(broken)), "m.zip", "zip")
