"""A fake gst-launch-1.0 / gst-inspect-1.0, put first on PATH by the tests' fake_gst fixture.

gst-launch-1.0 appends its arguments (a JSON list) to $FAKE_GST_LOG and its process id to
$FAKE_GST_LOG.pids, then:
  * with fdsink: streams $FAKE_GST_FRAMES (default: endless) raw RGB frames of the size in
    the last RGB caps, rows padded to 4 bytes with 0xEE as GStreamer lays them out, at
    $FAKE_GST_FPS (0: as fast as the pipe takes them), the first after $FAKE_GST_DELAY
    seconds (default 0: a camera that starts at once). Frame k is photo k % n of the PNGs
    in $FAKE_GST_PHOTOS (name order, resized to the caps' size when they differ), else
    pattern.pattern(k);
  * with fdsrc: counts the frames rawvideoparse would cut from stdin and, at its end,
    writes {"frames": N, "bytes": B} to the filesink location;
  * with $FAKE_GST_FAIL set: prints it on stderr and exits 1.
gst-inspect-1.0 --exists NAME exits 0 when NAME is in $FAKE_GST_ELEMENTS (commas).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def inspect(argv: list[str]) -> int:
    elements = [e for e in os.environ.get("FAKE_GST_ELEMENTS", "").split(",") if e]
    names = [a for a in argv if not a.startswith("-")]
    return 0 if names and names[-1] in elements else 1


def frames(width: int, height: int):
    """Frame k as (H, W, 3) uint8, for k = 0, 1, ..."""
    import numpy as np

    folder = os.environ.get("FAKE_GST_PHOTOS")
    if folder:
        from PIL import Image

        photos = []
        for path in sorted(Path(folder).glob("*.png")):
            image = Image.open(path).convert("RGB")
            if image.size != (width, height):
                image = image.resize((width, height), Image.Resampling.BILINEAR)
            photos.append(np.asarray(image))
        k = 0
        while True:
            yield photos[k % len(photos)]
            k += 1
    from pattern import pattern

    k = 0
    while True:
        yield pattern(k, width, height)
        k += 1


def launch(argv: list[str]) -> int:
    log = os.environ.get("FAKE_GST_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write(json.dumps(argv) + "\n")
        with open(log + ".pids", "a") as handle:
            handle.write(f"{os.getpid()}\n")
    if os.environ.get("FAKE_GST_FAIL"):
        print(os.environ["FAKE_GST_FAIL"], file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if "fdsink" in argv:
        import numpy as np

        caps = [t for t in argv if t.startswith("video/x-raw") and "format=RGB" in t][-1]
        width = int(re.search(r"width=(\d+)", caps)[1])
        height = int(re.search(r"height=(\d+)", caps)[1])
        stride = (width * 3 + 3) & ~3
        count = int(os.environ.get("FAKE_GST_FRAMES", "0")) or 10**9
        fps = float(os.environ.get("FAKE_GST_FPS", "0"))
        out = sys.stdout.buffer
        time.sleep(float(os.environ.get("FAKE_GST_DELAY", "0")))
        start = time.monotonic()
        for k, frame in zip(range(count), frames(width, height), strict=False):
            rows = np.full((height, stride), 0xEE, np.uint8)
            rows[:, : width * 3] = frame.reshape(height, -1)
            try:
                out.write(rows.tobytes())
                out.flush()
            except (BrokenPipeError, OSError):
                return 0
            if fps:
                time.sleep(max(0.0, start + (k + 1) / fps - time.monotonic()))
        return 0
    if "fdsrc" in argv:
        width = int(next(a for a in argv if a.startswith("width=")).split("=")[1])
        height = int(next(a for a in argv if a.startswith("height=")).split("=")[1])
        location = next(a for a in argv if a.startswith("location=")).split("=", 1)[1]
        total = 0
        while block := sys.stdin.buffer.read(1 << 16):
            total += len(block)
        frame = ((width * 3 + 3) & ~3) * height
        with open(location, "w") as handle:
            json.dump({"frames": total // frame, "bytes": total}, handle)
        return 0
    print("fake gst-launch-1.0: neither fdsink nor fdsrc", file=sys.stderr)
    return 1


if __name__ == "__main__":
    tool = os.path.basename(sys.argv[0])
    sys.exit(inspect(sys.argv[1:]) if tool.startswith("gst-inspect") else launch(sys.argv[1:]))
