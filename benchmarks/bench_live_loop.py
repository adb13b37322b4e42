"""Live input: the whole loop's rate, a generated script run as a user runs it.

The script (default: generated/face_det_lite_sample.py) reads a 640x480 H.264 video of
scikit-image's photos (made with PyAV) through its OpenCV backend, in three cases: no
output; --output an MP4 (OpenCV's mp4v writer); --serve with one client reading the MJPEG
stream from the start. Figures are the script's own summary line (frames per second over the
run, each stage's median / p90 ms), the median of --rounds runs by fps; the ratio is to the
case with no output.

Needs the test extra's opencv-python-headless and av. Run:
    python benchmarks/bench_live_loop.py [--frames 600] [--rounds 3]
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live_support import make_video, photo_arrays  # noqa: E402


def watch(stderr: Path) -> None:
    """A client reading the stream from the moment the script says where it is."""
    while not (found := re.search(r"on port (\d+)", stderr.read_text())):
        time.sleep(0.01)
    connection = http.client.HTTPConnection("127.0.0.1", int(found[1]), timeout=60)
    connection.request("GET", "/stream.mjpg")
    response = connection.getresponse()
    try:
        while response.read(1 << 16):
            pass
    except OSError:
        pass


def once(script: Path, video: Path, folder: Path, extra: list[str]) -> tuple[float, str]:
    """One run: its fps and the stages of its summary line."""
    stderr = folder / "stderr.txt"
    env = {**os.environ, "PORTER_LIVE_BACKENDS": "opencv", "PORTER_LIVE_WRITERS": "opencv"}
    with open(stderr, "w") as err:
        process = subprocess.Popen(
            [sys.executable, str(script), "--source", str(video), *extra],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
        )
        if "--serve" in extra:
            threading.Thread(target=watch, args=(stderr,), daemon=True).start()
        out, _ = process.communicate(timeout=600)
    if process.returncode != 0:
        raise SystemExit(stderr.read_text())
    summary = next(line for line in out.splitlines() if " frame(s) in " in line)
    fps = float(re.search(r"\(([\d.]+) fps\)", summary)[1])
    return fps, summary.split("; ms median/p90: ")[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", type=Path, default=ROOT / "generated/face_det_lite_sample.py")
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, Python {platform.python_version()}")
    print(
        f"reproduce: python benchmarks/bench_live_loop.py --frames {args.frames} "
        f"--rounds {args.rounds}\n"
    )
    folder = Path(tempfile.mkdtemp())
    photos = photo_arrays((640, 480))
    video = make_video(folder / "in.mp4", [photos[i % 4] for i in range(args.frames)], fps=30)
    cases = {
        "no output": [],
        "--output MP4": ["--output", str(folder / "out.mp4")],
        "--serve, one client": ["--serve", "0"],
    }
    base = None
    for name, extra in cases.items():
        runs = sorted(once(args.script, video, folder, extra) for _ in range(args.rounds))
        fps, stages = runs[len(runs) // 2]
        base = base or fps
        print(f"{name:22} {fps:7.1f} fps ({fps / base:.2f}x)  ms median/p90: {stages}")


if __name__ == "__main__":
    main()
