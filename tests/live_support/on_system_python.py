"""Run by Debian's /usr/bin/python3, whose apt packages give gi (python3-gi,
python3-gst-1.0) and an OpenCV built with GStreamer, for tests/test_live_gstreamer.py. It
imports a generated script as a module, reads frames with one of the script's backends (or
unpacks one padded buffer), and saves what it got in FOLDER (frame_N.npy and info.json) for
the test to check:

    on_system_python.py SCRIPT FOLDER read BACKEND SOURCE WxH|- COUNT PAUSE
    on_system_python.py SCRIPT FOLDER meta

read: LIVE_SIZE set to WxH (- for None); the first frame, then a stall of PAUSE seconds
(a slow model; a live source's, until it has dropped 3 frames at least), then frames up to
COUNT in all (0: to the end).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def load(path: str):
    spec = importlib.util.spec_from_file_location("script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read(script, folder: Path, backend: str, text: str, size: str, count: int, pause: float):
    os.environ["PORTER_LIVE_BACKENDS"] = backend
    script.LIVE_SIZE = None if size == "-" else tuple(int(v) for v in size.split("x"))
    frames = script.open_frames(script.parse_source(text), None)
    taken = []
    try:
        while count == 0 or len(taken) < count:
            frame = frames.read()
            if frame is None:
                break
            taken.append(frame)
            if len(taken) == 1:
                time.sleep(pause)
                deadline = time.monotonic() + 30
                while frames.live and frames.dropped < 3 and time.monotonic() < deadline:
                    time.sleep(0.01)
    finally:
        frames.close()
    for frame in taken:
        np.save(folder / f"frame_{frame.number}.npy", np.asarray(frame.image))
    return {
        "backend": frames.backend,
        "kind": frames.kind,
        "fps": frames.fps,
        "dropped": frames.dropped,
        "numbers": [frame.number for frame in taken],
    }


def meta(script, folder: Path):
    """A buffer laid out as qtivtransform lays it out: 300x20 RGB in rows of 1024 bytes,
    said by a GstVideoMeta (the caps alone would say 900), unpacked by GiReader."""
    from pattern import pattern

    Gst, GstVideo = script.import_gi()
    width, height, stride = 300, 20, 1024
    rows = np.full((height, stride), 0xEE, np.uint8)
    rows[:, : width * 3] = pattern(5, width, height).reshape(height, -1)
    buffer = Gst.Buffer.new_wrapped(rows.tobytes())
    GstVideo.buffer_add_video_meta_full(
        buffer,
        GstVideo.VideoFrameFlags.NONE,
        GstVideo.VideoFormat.RGB,
        width,
        height,
        1,
        [0, 0, 0, 0],
        [stride, 0, 0, 0],
    )
    caps = Gst.Caps.from_string(f"video/x-raw,format=RGB,width={width},height={height}")
    reader = script.GiReader.__new__(script.GiReader)
    reader.Gst, reader.GstVideo, reader.fps = Gst, GstVideo, None
    np.save(folder / "frame_0.npy", reader.unpack(Gst.Sample.new(buffer, caps, None, None)))
    return {"video_meta": GstVideo is not None}


if __name__ == "__main__":
    script_path, folder, action, *rest = sys.argv[1:]
    script = load(script_path)
    if action == "read":
        backend, text, size, count, pause = rest
        info = read(script, Path(folder), backend, text, size, int(count), float(pause))
    else:
        info = meta(script, Path(folder))
    (Path(folder) / "info.json").write_text(json.dumps(info))
