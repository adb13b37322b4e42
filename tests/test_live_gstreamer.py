"""Real GStreamer, where it is installed (each test skips, saying what is missing): the
gst-launch-1.0 subprocess backend in this venv; the gi backend (its appsink, strides from
the video meta, a file read whole) and OpenCV's CAP_GSTREAMER under Debian's
/usr/bin/python3, whose apt packages give them (python3-gi, python3-gst-1.0,
gir1.2-gst-plugins-base-1.0, python3-opencv; and gstreamer1.0-tools,
gstreamer1.0-plugins-base/-good/-ugly, gstreamer1.0-libav for the pipelines)."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from tests.live_support import FACES, HERE, load_script
from tests.live_support.pattern import pattern

SMPTE = "gst:videotestsrc is-live=true pattern=smpte"
SYSTEM_PYTHON = "/usr/bin/python3"


def real_gst_launch() -> None:
    path = shutil.which("gst-launch-1.0")
    if path is None:
        pytest.skip("no gst-launch-1.0 (apt: gstreamer1.0-tools)")
    with open(path, "rb") as handle:
        if handle.read(2) == b"#!":
            pytest.skip("gst-launch-1.0 is a script (a fake)")


def assert_smpte_bars(image: np.ndarray, width: int) -> None:
    """The top of SMPTE bars is vertical bars: every row equals the first, and a row has
    seven colours. A wrong row stride would shift each row and slant them."""
    assert image.shape == (61, width, 3)
    top = image[:30]
    assert (top == top[:1]).all()
    assert len({tuple(p) for p in top[0]}) >= 7


@pytest.mark.parametrize("width", [299, 320])  # 299: rows of 897 bytes padded to 900
def test_gst_launch_subprocess_on_videotestsrc(width, monkeypatch):
    real_gst_launch()
    script = load_script(FACES)
    monkeypatch.setenv("PORTER_LIVE_BACKENDS", "gst-launch")
    monkeypatch.setattr(script, "LIVE_SIZE", (width, 61))
    frames = script.open_frames(script.parse_source(SMPTE), None)
    try:
        images = [np.asarray(frames.read().image) for _ in range(3)]
    finally:
        frames.close()
    assert frames.backend == "gst-launch-1.0 subprocess"
    for image in images:
        assert_smpte_bars(image, width)


def test_gst_launch_subprocess_keeps_a_wide_picture_wide(monkeypatch):
    """A source whose size the pipe does not know, 320x90, comes as PIPE_SIZE (640x480)
    with the picture 640x180 between black borders, not stretched to 640x480."""
    real_gst_launch()
    script = load_script(FACES)
    monkeypatch.setenv("PORTER_LIVE_BACKENDS", "gst-launch")
    monkeypatch.setattr(script, "LIVE_SIZE", None)
    wide = "gst:videotestsrc is-live=true pattern=white ! video/x-raw,width=320,height=90"
    frames = script.open_frames(script.parse_source(wide), None)
    try:
        image = np.asarray(frames.read().image)
    finally:
        frames.close()
    assert image.shape == (480, 640, 3)
    lit = np.flatnonzero(image.max(axis=(1, 2)) > 0)
    assert (lit[0], lit[-1]) == (150, 329) and (image[150:330] == 255).all()


@cache
def system_python_lacks(modules: str) -> str | None:
    """Why Debian's python3 cannot run a test (None when it can)."""
    probe = f"import numpy, PIL\n{modules}"
    try:
        done = subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, timeout=60)
    except OSError:
        return f"no {SYSTEM_PYTHON}"
    if done.returncode != 0:
        return f"{SYSTEM_PYTHON} lacks what the test needs: {done.stderr.decode().strip()[-200:]}"
    return None


GI = "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstVideo', '1.0')"
CV2_GST = "import cv2, re\nassert re.search(r'GStreamer:\\s*YES', cv2.getBuildInformation())"


def on_system_python(tmp_path: Path, needs: str, *args: str) -> tuple[dict, dict[int, np.ndarray]]:
    """live_support/on_system_python.py's findings: its info and the frames by number."""
    reason = system_python_lacks(needs)
    if reason:
        pytest.skip(reason)
    helper = HERE / "on_system_python.py"
    done = subprocess.run(
        [SYSTEM_PYTHON, str(helper), str(FACES), str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    info = json.loads((tmp_path / "info.json").read_text())
    frames = {int(p.stem.split("_")[1]): np.load(p) for p in tmp_path.glob("frame_*.npy")}
    return info, frames


@pytest.mark.parametrize("width", [299, 320])
def test_gi_live_source(width, tmp_path):
    """The newest frame after a stall, the rate from the caps, rows unpacked right."""
    info, frames = on_system_python(tmp_path, GI, "read", "gi", SMPTE, f"{width}x61", "3", "0.3")
    assert (info["backend"], info["kind"], info["fps"]) == ("GStreamer (gi)", "live", 30)
    first, second, _ = info["numbers"]
    assert second - first > 3 and info["dropped"] >= second - first - 1  # all those between
    for image in frames.values():
        assert_smpte_bars(image, width)


def test_gi_unpacks_padded_rows_by_the_video_meta(tmp_path):
    info, frames = on_system_python(tmp_path, GI, "meta")
    assert info["video_meta"]
    assert np.array_equal(frames[0], pattern(5, 300, 20))


def encoded_clip(tmp_path: Path, count: int = 15) -> Path:
    """An H.264 MP4 made by GStreamer itself (videotestsrc, x264enc or openh264enc)."""
    real_gst_launch()
    script = load_script(FACES)
    encoder = next((e for e in ("x264enc", "openh264enc") if script.gst_element_exists(e)), None)
    if encoder is None:
        pytest.skip("no H.264 encoder in GStreamer (gstreamer1.0-plugins-ugly or -bad)")
    path = tmp_path / "clip.mp4"
    subprocess.run(
        [
            *["gst-launch-1.0", "-q", "-e", "videotestsrc", f"num-buffers={count}"],
            *["pattern=ball", "!", "video/x-raw,width=320,height=240,framerate=15/1", "!"],
            *["videoconvert", "!", "video/x-raw,format=I420", "!", encoder, "!", "h264parse"],
            *["!", "mp4mux", "!", "filesink", f"location={path}"],
        ],
        check=True,
        timeout=60,
    )
    return path


def test_gi_file_source_reads_every_frame(tmp_path):
    """A file through decodebin, slower than decoding (a 0.3 s stall): none dropped."""
    clip = encoded_clip(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    info, frames = on_system_python(out, GI, "read", "gi", str(clip), "160x120", "0", "0.3")
    assert (info["backend"], info["kind"], info["fps"]) == ("GStreamer (gi)", "video", 15)
    assert info["numbers"] == list(range(15)) and info["dropped"] == 0
    assert frames[0].shape == (120, 160, 3)


def test_opencv_with_gstreamer(tmp_path):
    """apt's OpenCV reads a GStreamer source (BGR caps, turned RGB) and a file, whole."""
    live = tmp_path / "live"
    live.mkdir()
    info, frames = on_system_python(live, CV2_GST, "read", "opencv", SMPTE, "299x61", "2", "0")
    assert info["backend"] == "OpenCV (GStreamer)"
    for image in frames.values():
        assert_smpte_bars(image, 299)
    clip = encoded_clip(tmp_path)
    info, frames = on_system_python(tmp_path, CV2_GST, "read", "opencv", str(clip), "-", "0", "0")
    assert info["numbers"] == list(range(15)) and frames[0].shape == (240, 320, 3)
