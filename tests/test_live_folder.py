"""Live input from photos and folders, and the options around --source: a folder's
unreadable file is skipped with a warning and the rest processed; a photo or a folder gives
the results --image gives, for every generated image script; --save-* options, --output
and --serve where they do not fit are refused in one line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import assert_one_line_error
from tests.live_support import (
    FACES,
    GENERATED,
    ROOT,
    json_lines,
    make_video,
    photo_arrays,
    run_script,
)

SEGMENTATION = GENERATED / "segmentation_sample.py"
STUB = GENERATED / "classifier_sample_stub.py"


def make_folder(folder: Path) -> list[str]:
    """Four readable photos (png, jpg, a gray png, bmp), an unreadable .jpg and a note."""
    folder.mkdir()
    photos = photo_arrays((160, 120))
    Image.fromarray(photos[0]).save(folder / "a.png")
    Image.fromarray(photos[1]).save(folder / "b.jpg")
    (folder / "c.jpg").write_text("not a picture")
    Image.fromarray(photos[2]).convert("L").save(folder / "d.png")
    (folder / "notes.txt").write_text("no image suffix: left alone")
    Image.fromarray(photos[3]).save(folder / "e.bmp")
    return ["a.png", "b.jpg", "d.png", "e.bmp"]


def test_folder_skips_an_unreadable_file(tmp_path):
    readable = make_folder(tmp_path / "in")
    out = tmp_path / "out"
    ran = run_script(FACES, "--source", str(tmp_path / "in"), "--output", str(out), "--json")
    assert ran.returncode == 0, ran.stderr
    warnings = [line for line in ran.stderr.splitlines() if line.startswith("warning")]
    assert len(warnings) == 1 and "c.jpg" in warnings[0], ran.stderr
    documents = json_lines(ran.stdout)
    assert [Path(d["source"]).name for d in documents] == readable
    assert [d["frame"] for d in documents] == [0, 1, 3, 4]  # positions in name order
    assert sorted(p.name for p in out.iterdir()) == readable
    gray = Image.open(out / "d.png")
    assert gray.mode == "RGB" and gray.size == (160, 120)  # drawn in colour


def test_folder_prints_each_result_without_json(tmp_path):
    make_folder(tmp_path / "in")
    ran = run_script(FACES, "--source", str(tmp_path / "in"))
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert [Path(line[:-1]).name for line in lines if line.endswith(":")] == [
        "a.png",
        "b.jpg",
        "d.png",
        "e.bmp",
    ]
    assert any(line.startswith("face 1: score") for line in lines)
    assert lines[-2].startswith("4 frame(s) in ") and "inference" in lines[-2]
    assert lines[-1].startswith("ran on the CPU")


def test_photo_source_draws_as_image_does(photos, tmp_path):
    one = run_script(FACES, "--source", str(photos["coins"]), "--output", str(tmp_path / "a.png"))
    two = run_script(FACES, "--image", str(photos["coins"]), "--output", str(tmp_path / "b.png"))
    assert one.returncode == two.returncode == 0, one.stderr + two.stderr
    assert one.stdout.splitlines()[0] == two.stdout.splitlines()[0]  # the first face
    drawn = np.asarray(Image.open(tmp_path / "a.png"))
    assert np.array_equal(drawn, np.asarray(Image.open(tmp_path / "b.png")))
    assert drawn.shape[:2] == Image.open(photos["coins"]).size[::-1]


def test_save_options_take_one_photo(photos, tmp_path):
    """--save-mask with a --source photo writes --image's mask; with a folder or a video,
    whose frames would overwrite one another's, it is refused before the model loads."""
    for flag, path in (("--image", "image.png"), ("--source", "source.png")):
        ran = run_script(
            SEGMENTATION, flag, str(photos["chelsea"]), "--save-mask", str(tmp_path / path)
        )
        assert ran.returncode == 0, ran.stderr
    mask = np.asarray(Image.open(tmp_path / "source.png"))
    assert np.array_equal(mask, np.asarray(Image.open(tmp_path / "image.png")))

    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(photos["chelsea"], folder)
    refused = run_script(SEGMENTATION, "--source", str(folder), "--save-mask", "m.png")
    assert_one_line_error(refused, "--save-mask", str(folder), "a folder", "--image")
    video = make_video(tmp_path / "clip.mp4", photo_arrays((64, 48))[:2])
    refused = run_script(FACES, "--source", str(video), "--save-outputs", str(tmp_path / "o"))
    assert_one_line_error(refused, "--save-outputs", "clip.mp4", "a stream")
    assert not (tmp_path / "o").exists()


def test_options_that_do_not_fit_are_refused(photos, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    assert_one_line_error(run_script(FACES, "--source", str(folder)), "empty", "no images")
    assert_one_line_error(run_script(FACES, "--source", "camera:one"), "camera:N")
    photo = str(photos["coins"])
    assert_one_line_error(run_script(FACES, "--image", photo, "--frames", "3"), "--frames")
    assert_one_line_error(
        run_script(FACES, "--source", "camera:0", "--capture", "big"), "--capture 'big'"
    )
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\0")
    assert_one_line_error(
        run_script(FACES, "--source", str(video), "--output", str(tmp_path / "x.avi")),
        "--output",
        ".mp4",
    )
    both = run_script(FACES, "--image", photo, "--source", photo)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    assert run_script(FACES, "--source", photo, "--frames", "0").returncode == 2
    # A script that draws nothing has neither --output nor --serve, as with --image.
    for flag in ("--output", "--serve"):
        ran = run_script(STUB, "--source", photo, flag, "8080")
        assert ran.returncode == 2 and flag in ran.stderr and "Traceback" not in ran.stderr


def test_photos_and_folders_import_no_video_backend(tmp_path):
    """A folder run takes no video backend and no HTTP server: those come with a stream,
    an MP4 or --serve. (Not subprocess: Pillow's JPEG plugin imports it.)"""
    make_folder(tmp_path / "in")
    watched = ("gi", "cv2", "http.server", "socket")
    program = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('script', {str(FACES)!r})\n"
        "script = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(script)\n"
        f"code = script.main(['--source', {str(tmp_path / 'in')!r}, '--json',\n"
        f"                    '--output', {str(tmp_path / 'out')!r}])\n"
        f"print(code, sorted(m for m in {watched!r} if m in sys.modules), file=sys.stderr)\n"
    )
    ran = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert ran.stderr.splitlines()[-1] == "0 []", ran.stderr


def image_scripts() -> list[Path]:
    return [s for s in sorted(GENERATED.glob("*.py")) if "IMAGE_INPUT = " in s.read_text()]


@pytest.mark.parametrize("script", image_scripts(), ids=lambda p: p.stem)
def test_every_image_script_runs_on_a_folder(script, photos, tmp_path):
    """Each generated image script with --source FOLDER --json: one JSON line per photo,
    with the frame's number, its photo and its timings, and exactly the results --image
    gives for that photo (a gray one and an RGB one)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    names = [shutil.copy(photos[name], folder) for name in ("chelsea", "coins")]
    # One process: the two --image runs, then the folder's (JSON documents one after another).
    program = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('script', {str(script)!r})\n"
        "script = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(script)\n"
        f"for path in {[str(n) for n in names]!r}:\n"
        "    assert script.main(['--image', path, '--json']) == 0\n"
        f"sys.exit(script.main(['--source', {str(folder)!r}, '--json']))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert ran.returncode == 0, ran.stderr
    decoder, text, documents = json.JSONDecoder(), ran.stdout, []
    while text.strip():
        document, end = decoder.raw_decode(text.lstrip())
        documents.append(document)
        text = text.lstrip()[end:]
    assert len(documents) == 4, ran.stdout
    images, lines = documents[:2], documents[2:]
    assert [line["frame"] for line in lines] == [0, 1]
    assert [Path(line["source"]).name for line in lines] == ["chelsea.png", "coins.png"]
    for image, line in zip(images, lines, strict=True):
        results = {k: v for k, v in image.items() if k not in ("model", "delegate", "runs")}
        assert set(line) == {"frame", "source", *results}
        assert {k: line[k] for k in results if k != "timings_ms"} == {
            k: v for k, v in results.items() if k != "timings_ms"
        }
        assert set(line["timings_ms"]) >= {"read", "preprocess", "inference", "postprocess"}
