"""Helpers for the live-input tests (tests/test_live_*.py): generated scripts run in a
subprocess or imported as modules, a fake gst-launch-1.0 on PATH (fake_gst.py), videos made
with PyAV from scikit-image's photos, and readers for what the scripts write."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import import_script

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
GENERATED = ROOT / "generated"
# The script most live tests run: face_det_lite's stretch fit has stream frames delivered
# at the model's 640x480, and the sample model takes a few ms a frame on the CPU.
FACES = GENERATED / "face_det_lite_sample.py"
PHOTO_NAMES = ("astronaut", "coffee", "chelsea", "rocket")


def load_script(path: Path = FACES):
    """A generated script imported as a module, to test its live pieces one by one."""
    return import_script(path, f"live_{path.stem}")


def run_script(script: Path, *args: str, env: dict | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_script(script: Path, *args: str, stdout, stderr, env: dict | None = None):
    """The script in a session of its own, as a terminal's foreground job: then
    os.killpg(process.pid, SIGINT) is a Ctrl-C."""
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        env=env,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
    )


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


class FakeGst:
    """The fake gst-launch-1.0 and gst-inspect-1.0, first on PATH (here and in the scripts
    the test starts), each call's arguments logged."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bin = folder / "fakebin"
        self.bin.mkdir()
        self.log_path = folder / "gst-args.jsonl"
        for tool in ("gst-launch-1.0", "gst-inspect-1.0"):
            script = self.bin / tool
            script.write_text(f"#!{sys.executable}\n" + (HERE / "fake_gst.py").read_text())
            script.chmod(0o755)
        shutil.copy(HERE / "pattern.py", self.bin / "pattern.py")
        self.monkeypatch = monkeypatch
        monkeypatch.setenv("PATH", f"{self.bin}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv("FAKE_GST_LOG", str(self.log_path))
        monkeypatch.setenv("PORTER_LIVE_BACKENDS", "gst-launch")
        for name in ("FRAMES", "FPS", "DELAY", "ELEMENTS", "FAIL", "PHOTOS"):
            monkeypatch.delenv(f"FAKE_GST_{name}", raising=False)

    def set(self, **values: object) -> None:
        for key, value in values.items():
            self.monkeypatch.setenv(f"FAKE_GST_{key.upper()}", str(value))

    def calls(self) -> list[list[str]]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]

    def pids(self) -> list[int]:
        """The process ids of the gst-launch-1.0 calls, in order."""
        path = self.log_path.with_name(self.log_path.name + ".pids")
        return [int(line) for line in path.read_text().split()] if path.exists() else []

    def source_call(self) -> list[str]:
        """The arguments of the one gst-launch-1.0 that read a source."""
        calls = [c for c in self.calls() if "fdsink" in c]
        assert len(calls) == 1, calls
        return calls[0]


def photo_arrays(size: tuple[int, int] = (640, 480), names=PHOTO_NAMES) -> list[np.ndarray]:
    """Real photos shipped inside scikit-image, as RGB arrays of `size`."""
    from PIL import Image
    from skimage import data

    photos = [Image.fromarray(getattr(data, name)()).convert("RGB") for name in names]
    return [np.asarray(p.resize(size, Image.Resampling.BILINEAR)) for p in photos]


def save_photos(folder: Path, arrays: list[np.ndarray]) -> list[Path]:
    """The arrays as PNGs whose names sort in their order."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{number:02d}.png" for number in range(len(arrays))]
    for path, array in zip(paths, arrays, strict=True):
        Image.fromarray(array).save(path)
    return paths


def make_video(path: Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    """A video written with PyAV (FFmpeg's libraries, from PyPI): H.264 for an .mp4;
    lossless FFV1 for an .mkv, whose frames decode to exactly the arrays given."""
    av = pytest.importorskip("av")
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        if path.suffix == ".mkv":
            stream = container.add_stream("ffv1", rate=fps)
            stream.pix_fmt = "bgr0"
        else:
            codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
            stream = container.add_stream(codec, rate=fps)
            stream.pix_fmt = "yuv420p"
        stream.width, stream.height = width, height
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def decode_video(path: Path) -> tuple[list[np.ndarray], float]:
    """Every frame of a video, decoded with PyAV, and its average frame rate."""
    av = pytest.importorskip("av")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        rate = float(stream.average_rate or 0)
    return frames, rate


def green_pixels(image: np.ndarray) -> int:
    """Pixels of the green (0, 255, 0) the detection families draw boxes in, give or take
    a JPEG's or a video codec's changes."""
    rgb = image.astype(int)
    return int(((rgb[..., 1] > 200) & (rgb[..., 0] < 100) & (rgb[..., 2] < 100)).sum())
