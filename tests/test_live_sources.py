"""Live input's sources: --source parsing, the GStreamer pipelines built for each kind (seen
by a fake gst-launch-1.0), stride unpacking, the newest frame of a live source, the
gst-launch-1.0 subprocess end to end through a generated script, and the one-line
messages when a backend is missing or fails."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.conftest import assert_one_line_error
from tests.live_support import (
    FACES,
    json_lines,
    load_script,
    photo_arrays,
    run_script,
    save_photos,
    wait_for,
)
from tests.live_support.pattern import pattern


@pytest.fixture(scope="module")
def script():
    """face_det_lite's generated script as a module: its live pieces, one by one."""
    return load_script(FACES)


def frames_of(script, text: str, count: int | None = None) -> list:
    """Frames read from a --source (all of them, or the first `count`)."""
    frames = script.open_frames(script.parse_source(text), None)
    try:
        taken = []
        while count is None or len(taken) < count:
            frame = frames.read()
            if frame is None:
                break
            taken.append(frame)
        return taken
    finally:
        frames.close()


def test_parse_source_kinds(script, tmp_path):
    photo = tmp_path / "a.JPG"
    Image.new("RGB", (8, 8)).save(photo, format="JPEG")
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\0")
    kinds = {
        str(photo): "photo",
        str(tmp_path): "folder",
        str(video): "video",
        "camera:1": "camera",
        "/dev/video2": "usb",
        "gst:videotestsrc is-live=true": "gst",
    }
    for text, kind in kinds.items():
        assert script.parse_source(text).kind == kind, text
    assert script.parse_source("camera:1").camera == 1
    assert script.parse_source("gst:videotestsrc is-live=true").description == (
        "videotestsrc is-live=true"
    )
    assert [script.parse_source(t).live for t in kinds] == [False] * 3 + [True] * 3
    for bad, said in (
        ("camera:x", "camera:N"),
        (str(tmp_path / "no.mp4"), "no such"),
        ("gst:", ""),
    ):
        with pytest.raises(script.ScriptError) as error:
            script.parse_source(bad)
        assert said in str(error.value) and "\n" not in str(error.value)


def test_unpack_rows_uses_the_stride_and_offset(script):
    frame = pattern(3, 299, 7)
    stride, offset = 1024, 64  # rows padded as a GPU converter pads them
    raw = np.full(offset + stride * 7, 0xEE, np.uint8)
    raw[offset:].reshape(7, stride)[:, : 299 * 3] = frame.reshape(7, -1)
    out = script.unpack_rows(raw.tobytes(), 299, 7, stride, offset)
    assert out.flags.c_contiguous and np.array_equal(out, frame)
    assert script.default_stride(299) == 900 and script.default_stride(640) == 1920
    with pytest.raises(script.ScriptError):
        script.unpack_rows(raw[:7000].tobytes(), 299, 7, stride, offset)


CAMERA = ["qtiqmmfsrc", "name=camsrc", "camera=0", "!"]
CAMERA_CAPS = "video/x-raw,format=NV12,width=1280,height=720,framerate=30/1"
SINK = ["!", "fdsink", "fd=1", "sync=false"]


def test_camera_pipeline_without_qtivtransform(script, fake_gst):
    """The stretch fit's frames are asked at the model's 640x480."""
    fake_gst.set(frames=3)
    frames = frames_of(script, "camera:0")
    assert fake_gst.source_call() == [
        *["-q", *CAMERA, CAMERA_CAPS, "!", "videoconvert", "!", "videoscale", "!"],
        "video/x-raw,format=RGB,width=640,height=480",
        *SINK,
    ]
    assert [f.image.size for f in frames] == [(640, 480)] * 3


def test_camera_pipeline_with_qtivtransform(script, fake_gst):
    """The GPU converts and scales; a raw pipe cannot carry its padded rows, so it scales
    in NV12 and videoconvert packs the small frame."""
    fake_gst.set(frames=2, elements="qtivtransform")
    frames_of(script, "camera:0", 1)
    assert fake_gst.source_call()[1:] == [
        *CAMERA,
        *[CAMERA_CAPS, "!", "qtivtransform", "!", "video/x-raw,format=NV12,width=640,height=480"],
        *["!", "videoconvert", "!", "video/x-raw,format=RGB,width=640,height=480", *SINK],
    ]


def test_capture_size_and_usb_webcam(script, fake_gst, monkeypatch):
    fake_gst.set(frames=2)
    monkeypatch.setattr(script, "LIVE_SIZE", None)  # a fit that keeps the stream's size
    source = script.parse_source("/dev/video2")
    frames = script.open_frames(source, (320, 240))
    try:
        frame = frames.read()
    finally:
        frames.close()
    assert fake_gst.source_call()[1:5] == [
        *["v4l2src", "device=/dev/video2", "!", "video/x-raw,width=320,height=240"]
    ]
    assert frame.image.size == (320, 240) and frames.kind == "live"


def test_file_pipeline_reads_every_frame_in_order(script, fake_gst, monkeypatch, tmp_path):
    """A video file through the pipe: every frame, in order, pixel for pixel, however slow
    the loop; 298 pixels wide, so each row of 894 bytes comes padded to 896."""
    folder = tmp_path / "my clips"
    folder.mkdir()
    video = folder / "walk.mp4"
    video.write_bytes(b"\0")
    fake_gst.set(frames=25)
    monkeypatch.setattr(script, "LIVE_SIZE", (298, 101))
    frames = script.open_frames(script.parse_source(str(video)), None)
    taken = []
    try:
        assert frames.kind == "video" and not frames.live
        wait_for(lambda: len(frames.waiting) == 2)  # read ahead, and then it waits
        while (frame := frames.read()) is not None:
            taken.append(frame)
    finally:
        frames.close()
    assert fake_gst.source_call()[1:5] == ["filesrc", f"location={video}", "!", "decodebin"]
    assert [f.number for f in taken] == list(range(25)) and frames.dropped == 0
    for frame in taken:
        assert np.array_equal(np.asarray(frame.image), pattern(frame.number, 298, 101))


def test_pipe_keeps_the_aspect_of_a_source_of_unknown_size(script, fake_gst, monkeypatch, tmp_path):
    """A fit that keeps the stream's size, on a file: the pipe cannot learn the size, so it
    asks for PIPE_SIZE in square pixels (videoscale's black borders, not a stretch), on the
    CPU even where qtivtransform is there."""
    video = tmp_path / "wide.mp4"
    video.write_bytes(b"\0")
    fake_gst.set(frames=1, elements="qtivtransform")
    monkeypatch.setattr(script, "LIVE_SIZE", None)
    frames = script.open_frames(script.parse_source(str(video)), None)
    try:
        frame = frames.read()
    finally:
        frames.close()
    assert fake_gst.source_call()[5:] == [
        *["!", "videoconvert", "!", "videoscale", "!"],
        "video/x-raw,format=RGB,width=640,height=480,pixel-aspect-ratio=1/1",
        *SINK,
    ]
    assert frame.image.size == script.PIPE_SIZE


def test_gst_description_is_split_like_a_shell(script, fake_gst):
    fake_gst.set(frames=1)
    frames_of(script, 'gst:videotestsrc pattern=ball ! textoverlay text="a b"', 1)
    args = fake_gst.source_call()
    assert args[1:7] == ["videotestsrc", "pattern=ball", "!", "textoverlay", "text=a b", "!"]
    assert script.gst_join(["textoverlay", "text=a b"]) == 'textoverlay text="a b"'


def test_live_source_gives_the_newest_frame(script, fake_gst):
    """A loop slower than the camera takes the newest frame: after a stall it gets the
    camera's last frame, every frame between was dropped, none waits in a backlog."""
    fake_gst.set(fps=100, frames=30)
    frames = script.open_frames(script.parse_source("camera:0"), None)
    try:
        first = frames.read()
        wait_for(lambda: frames.ended)  # a slow model: the camera's frames arrive meanwhile
        second = frames.read()
        assert frames.read() is None
    finally:
        frames.close()
    assert (first.number, second.number, frames.dropped) == (0, 29, 28)
    assert np.array_equal(np.asarray(second.image), pattern(29, 640, 480))


def test_gst_launch_subprocess_end_to_end(fake_gst, tmp_path):
    """The script on camera:0 through the fake gst-launch-1.0 streaming real photos: one
    JSON line per frame, each frame's detections exactly those of its own photo (as the
    script finds them in a folder of those photos)."""
    photos = photo_arrays((640, 480))
    save_photos(tmp_path / "photos", photos)
    expected = run_script(FACES, "--source", str(tmp_path / "photos"), "--json")
    assert expected.returncode == 0, expected.stderr
    by_photo = [doc["detections"] for doc in json_lines(expected.stdout)]
    assert len(by_photo) == 4 and len({str(d) for d in by_photo}) == 4

    fake_gst.set(fps=100, photos=tmp_path / "photos")
    ran = run_script(FACES, "--source", "camera:0", "--frames", "12", "--json")
    assert ran.returncode == 0, ran.stderr
    documents = json_lines(ran.stdout)
    numbers = [d["frame"] for d in documents]
    assert len(documents) == 12 and numbers == sorted(set(numbers))
    for document in documents:
        assert document["source"] == "camera:0"
        assert document["detections"] == by_photo[document["frame"] % 4]
        assert {"read", "preprocess", "inference", "postprocess"} <= set(document["timings_ms"])
    assert "12 frame(s) in " in ran.stderr  # the summary, on stderr beside JSON


def test_gst_launch_failure_is_one_line(fake_gst):
    fake_gst.set(fail="ERROR: from element /GstPipeline:pipeline0/GstQmmfSrc:camsrc: no camera")
    ran = run_script(FACES, "--source", "camera:3")
    assert_one_line_error(ran, "camera:3", "no camera", "exit 1")


def test_no_backend_says_what_to_install(script, monkeypatch, tmp_path):
    def not_installed(*_):
        raise script.BackendMissing("not installed")

    monkeypatch.setattr(script, "import_gi", not_installed)
    monkeypatch.setattr(script, "import_cv2", not_installed)
    monkeypatch.setenv("PATH", str(tmp_path))  # no gst-launch-1.0
    monkeypatch.delenv("PORTER_LIVE_BACKENDS", raising=False)
    with pytest.raises(script.ScriptError) as error:
        script.open_frames(script.parse_source("camera:0"), None)
    message = str(error.value)
    assert "\n" not in message and "no video backend" in message
    for package in ("python3-gi", "python3-gst-1.0", "python3-opencv", "gstreamer1.0-tools"):
        assert package in message


def test_a_missing_preferred_backend_is_named_once(script, fake_gst, monkeypatch, capsys):
    def not_installed(*_):
        raise script.BackendMissing("not installed")

    monkeypatch.setattr(script, "import_gi", not_installed)
    monkeypatch.setattr(script, "import_cv2", not_installed)
    monkeypatch.delenv("PORTER_LIVE_BACKENDS")
    fake_gst.set(frames=2)
    frames = script.open_frames(script.parse_source("camera:0"), None)
    frames.close()
    assert frames.backend == "gst-launch-1.0 subprocess"
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "python3-gi and python3-gst-1.0" in lines[0], lines


def test_opencv_without_gstreamer_refuses_the_camera(script, monkeypatch):
    cv2 = pytest.importorskip("cv2")
    if script.cv2_has_gstreamer(cv2):
        pytest.skip("this OpenCV has GStreamer")
    monkeypatch.setenv("PORTER_LIVE_BACKENDS", "opencv")
    with pytest.raises(script.ScriptError) as error:
        script.open_frames(script.parse_source("camera:0"), None)
    assert "python3-opencv" in str(error.value) and "\n" not in str(error.value)


def test_an_unknown_backend_name_is_one_line(fake_gst, monkeypatch):
    monkeypatch.setenv("PORTER_LIVE_BACKENDS", "gi,vlc")
    ran = run_script(FACES, "--source", "camera:0")
    assert_one_line_error(ran, "PORTER_LIVE_BACKENDS", "vlc")
