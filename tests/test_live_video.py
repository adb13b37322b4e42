"""Live input from video files (made with PyAV from scikit-image's photos) and cameras (the
fake gst-launch-1.0), with the drawn frames written as an MP4: one result per frame, in
order and of its own frame; each MP4 writer makes a file that plays with every frame; and
the MP4 is finalised when Ctrl-C or SIGTERM stops the script."""

from __future__ import annotations

import os
import re
import shutil
import signal

import numpy as np
import pytest

from tests.conftest import assert_one_line_error
from tests.live_support import (
    FACES,
    GENERATED,
    decode_video,
    green_pixels,
    json_lines,
    load_script,
    make_video,
    photo_arrays,
    run_script,
    save_photos,
    start_script,
    wait_for,
)

FRAMES = 12
LETTERBOX = GENERATED / "mediapipe_face_sample.py"  # keeps the stream's size; fast


@pytest.fixture(autouse=True)
def opencv_reads(monkeypatch):
    """Videos are read through OpenCV (pip's, with FFmpeg); gi is not in this venv."""
    pytest.importorskip("cv2")
    monkeypatch.setenv("PORTER_LIVE_BACKENDS", "opencv")


@pytest.fixture(scope="module")
def faces_by_photo(tmp_path_factory) -> list:
    """The face script's detections on the four photos at 640x480, read from a folder."""
    folder = tmp_path_factory.mktemp("photos")
    save_photos(folder, photo_arrays((640, 480)))
    ran = run_script(FACES, "--source", str(folder), "--json")
    assert ran.returncode == 0, ran.stderr
    return [document["detections"] for document in json_lines(ran.stdout)]


def test_video_gives_one_result_per_frame(faces_by_photo, tmp_path):
    """A lossless video of the photos: each frame's results are exactly its own photo's,
    in order, none dropped; the MP4 written plays with every frame, drawn on."""
    photos = photo_arrays((640, 480))
    video = make_video(tmp_path / "photos.mkv", [photos[k % 4] for k in range(FRAMES)])
    output = tmp_path / "drawn.mp4"
    ran = run_script(FACES, "--source", str(video), "--output", str(output), "--json")
    assert ran.returncode == 0, ran.stderr
    documents = json_lines(ran.stdout)
    assert [d["frame"] for d in documents] == list(range(FRAMES))
    for document in documents:
        assert document["detections"] == faces_by_photo[document["frame"] % 4]
        assert {"read", "inference", "draw", "output"} <= set(document["timings_ms"])
    decoded, rate = decode_video(output)
    assert len(decoded) == FRAMES and rate == pytest.approx(10)
    assert decoded[0].shape == (480, 640, 3)
    box = next(d["box"] for d in documents[0]["detections"] if d["box"][0] >= 2)
    x1, y1, _, y2 = (round(v) for v in box)
    edge = decoded[0][y1 + 4 : y2 - 4, x1 - 1 : x1 + 2]  # the box's left side
    assert green_pixels(edge) >= edge.shape[0] * edge.shape[1] // 2
    assert f"wrote {FRAMES} frames to {output} at 10.00 fps" in ran.stderr


def test_frame_sizes_follow_the_fit(tmp_path):
    """A stretch fit has frames delivered at the model's size (the face model's 640x480);
    a letterbox fit keeps the stream's own (here 320x240)."""
    video = make_video(tmp_path / "small.mp4", photo_arrays((320, 240))[:3])
    for script, size in ((FACES, (640, 480)), (LETTERBOX, (320, 240))):
        output = tmp_path / f"{script.stem}.mp4"
        ran = run_script(script, "--source", str(video), "--output", str(output), "--json")
        assert ran.returncode == 0, ran.stderr
        decoded, _ = decode_video(output)
        assert len(decoded) == 3 and decoded[0].shape == (size[1], size[0], 3)


def test_frames_stops_early(tmp_path):
    video = make_video(tmp_path / "clip.mp4", photo_arrays((64, 48)) * 3)
    ran = run_script(FACES, "--source", str(video), "--frames", "5", "--json")
    assert ran.returncode == 0, ran.stderr
    assert [d["frame"] for d in json_lines(ran.stdout)] == [0, 1, 2, 3, 4]
    assert "5 frame(s) in " in ran.stderr


def test_tile_fit_upscales_each_frame(tmp_path):
    """super_resolution's tile pipeline on every frame, whole: the MP4 is 4x the video."""
    video = make_video(tmp_path / "small.mp4", photo_arrays((96, 72))[:3])
    output = tmp_path / "big.mp4"
    script = GENERATED / "super_resolution_sample.py"
    ran = run_script(script, "--source", str(video), "--output", str(output), "--json")
    assert ran.returncode == 0, ran.stderr
    documents = json_lines(ran.stdout)
    assert [d["output"] for d in documents] == [{"width": 384, "height": 288}] * 3
    decoded, _ = decode_video(output)
    assert len(decoded) == 3 and decoded[0].shape == (288, 384, 3)


def test_status_lines_without_json(fake_gst):
    """A camera at 30 fps for 45 frames: a status line about each second (fps, frames
    dropped, each stage's median and p90), then the summary."""
    fake_gst.set(fps=30)
    ran = run_script(FACES, "--source", "camera:0", "--frames", "45")
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    status = [line for line in lines if re.match(r" *[\d.]+ fps, frame \d+, dropped \d+; ", line)]
    assert status and "read " in status[0] and "inference " in status[0], lines
    assert re.match(r"45 frame\(s\) in [\d.]+ s \([\d.]+ fps\), \d+ dropped", lines[-2])
    assert lines[-1].startswith("ran on the CPU")


def gst_writer_here() -> bool:
    """A real gst-launch-1.0 with mp4mux and an H.264 encoder."""
    script = load_script(FACES)
    return shutil.which("gst-launch-1.0") is not None and all(
        map(script.gst_element_exists, ("rawvideoparse", "mp4mux", "x264enc"))
    )


@pytest.fixture
def ffmpeg_on_path(tmp_path, monkeypatch) -> None:
    """imageio-ffmpeg's ffmpeg binary (from PyPI) as `ffmpeg`, when none is installed."""
    if shutil.which("ffmpeg"):
        return
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    folder = tmp_path / "ffmpeg-bin"
    folder.mkdir()
    (folder / "ffmpeg").symlink_to(imageio_ffmpeg.get_ffmpeg_exe())
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.parametrize("writer", ["opencv", "gst-launch", "ffmpeg"])
def test_each_writer_makes_a_playable_mp4(writer, tmp_path, monkeypatch, request):
    """322 pixels wide: 966-byte rows, which GStreamer's rawvideoparse expects padded to
    968. The picture must come through unsheared: frame by frame, the MP4 matches the
    video read (the drawn boxes aside)."""
    if writer == "ffmpeg":
        request.getfixturevalue("ffmpeg_on_path")
    if writer == "gst-launch" and not gst_writer_here():
        pytest.skip("no gst-launch-1.0 with rawvideoparse, x264enc and mp4mux")
    monkeypatch.setenv("PORTER_LIVE_WRITERS", writer)
    photos = photo_arrays((322, 240))
    video = make_video(tmp_path / "photos.mp4", [photos[k % 4] for k in range(FRAMES)])
    output = tmp_path / f"{writer}.mp4"
    ran = run_script(LETTERBOX, "--source", str(video), "--output", str(output), "--json")
    assert ran.returncode == 0, ran.stderr
    decoded, rate = decode_video(output)
    read, _ = decode_video(video)
    assert len(decoded) == len(json_lines(ran.stdout)) == FRAMES and rate == pytest.approx(10)
    for sent, got in zip(read, decoded, strict=True):
        assert got.shape == (240, 322, 3)
        assert np.median(np.abs(got.astype(int) - sent).mean(axis=2)) < 6


def test_no_writer_is_one_line(monkeypatch, tmp_path):
    script = load_script(FACES)

    def not_installed(*_):
        raise script.BackendMissing("not installed")

    monkeypatch.setattr(script, "import_cv2", not_installed)
    monkeypatch.setenv("PATH", str(tmp_path))  # no gst-launch-1.0, no ffmpeg
    output = script.VideoOutput(str(tmp_path / "x.mp4"), fps=10.0)
    frame = script.Frame(script.Image.new("RGB", (64, 48)), 0, "x", 0.0)
    with pytest.raises(script.ScriptError) as error:
        output.write(frame.image, frame)
    message = str(error.value)
    assert "\n" not in message and "python3-opencv" in message and "ffmpeg" in message


@pytest.mark.parametrize(
    ("how", "writer"), [("SIGINT", "opencv"), ("SIGINT", "ffmpeg"), ("SIGTERM", "opencv")]
)
def test_stopping_finalises_the_mp4(how, writer, fake_gst, monkeypatch, tmp_path, request):
    """A camera (the fake gst-launch-1.0) to an MP4, stopped by Ctrl-C (SIGINT to the whole
    process group, as a terminal sends it, encoder included) or SIGTERM: exit 0, and the
    file plays with every frame the script says it wrote."""
    if writer == "ffmpeg":
        request.getfixturevalue("ffmpeg_on_path")
    monkeypatch.setenv("PORTER_LIVE_WRITERS", writer)
    fake_gst.set(fps=30)
    output = tmp_path / "live.mp4"
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with open(stdout, "w") as out, open(stderr, "w") as err:
        process = start_script(
            FACES, "--source", "camera:0", "--output", str(output), stdout=out, stderr=err
        )
        try:
            wait_for(lambda: " fps, frame " in stdout.read_text())  # a second of frames
            if how == "SIGINT":
                os.killpg(process.pid, signal.SIGINT)
            else:
                process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    said = stderr.read_text()
    assert code == 0, said
    assert f"stopped by {'Ctrl-C' if how == 'SIGINT' else 'SIGTERM'}" in said
    written = int(re.search(r"wrote (\d+) frames", said)[1])
    decoded, rate = decode_video(output)
    assert written >= 10 and len(decoded) == written
    assert 1 <= rate <= 60


def test_stopping_while_the_camera_starts(fake_gst, tmp_path):
    """SIGTERM while the script waits for a camera's first frame: a clean stop, and the
    gst-launch-1.0 it started (in a session of its own) is not left running."""
    fake_gst.set(delay=600)
    with open(tmp_path / "stdout.txt", "w") as out, open(tmp_path / "stderr.txt", "w") as err:
        process = start_script(FACES, "--source", "camera:0", stdout=out, stderr=err)
        try:
            wait_for(lambda: fake_gst.pids())
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert code == 0 and "stopped by SIGTERM" in (tmp_path / "stderr.txt").read_text()
    with pytest.raises(ProcessLookupError):
        os.kill(fake_gst.pids()[0], 0)


def test_a_broken_video_is_one_line(tmp_path):
    video = tmp_path / "broken.mp4"
    video.write_bytes(b"not a video at all")
    ran = run_script(FACES, "--source", str(video))
    assert_one_line_error(ran, f"cannot open {video}: OpenCV (FFmpeg) cannot open it")


def test_gi_is_not_needed_for_a_file(monkeypatch, tmp_path):
    """With every backend allowed, a file is read by the first that can: here OpenCV (this
    venv has no gi), said on stderr."""
    monkeypatch.delenv("PORTER_LIVE_BACKENDS")
    video = make_video(tmp_path / "clip.mp4", photo_arrays((64, 48))[:2])
    ran = run_script(FACES, "--source", str(video), "--json")
    assert ran.returncode == 0, ran.stderr
    assert f"reading {video} with OpenCV (FFmpeg)" in ran.stderr
    assert len(json_lines(ran.stdout)) == 2


def test_encoders_run_in_their_own_session():
    """The reason Ctrl-C leaves the MP4 whole: the encoder is not in the terminal's
    process group, so only the script sees the signal, and it closes the encoder."""
    script = load_script(FACES)
    process, errors = script.start_tool(["sleep", "5"])
    try:
        assert os.getpgid(process.pid) != os.getpgid(0)
    finally:
        process.kill()
        process.wait()
        process.stdin.close()
        errors.close()
