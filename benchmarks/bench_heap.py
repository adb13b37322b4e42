"""Each image script alone in its own process, as a user's loop runs it: page faults and
stage times per frame with prepare()'s keep_memory (glibc keeps freed memory) and without.

For every script in generated/ with an image input, two fresh processes each import it,
call `prepare(keep_memory=...)`, run scikit-image's astronaut at 640x480 through
`pipeline.infer()` for --warmup frames, then time --frames frames: the minor page faults
per frame (getrusage) and each stage's median in ms. The ratio is without / with, per
stage. glibc only (elsewhere keep_memory does nothing).

Run: python benchmarks/bench_heap.py [--frames 100] [--warmup 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("preprocess", "inference", "postprocess")

ONE_PROCESS = """
import contextlib, importlib.util, io, json, resource, sys
import numpy as np
from PIL import Image
from skimage import data
path, keep, warmup, frames = sys.argv[1], sys.argv[2] == "keep", int(sys.argv[3]), int(sys.argv[4])
spec = importlib.util.spec_from_file_location("script", path)
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)
pipeline = script.prepare(keep_memory=keep)
photo = Image.fromarray(data.astronaut()).resize((640, 480), Image.Resampling.BILINEAR)
times = {stage: [] for stage in ("preprocess", "inference", "postprocess")}
with contextlib.redirect_stderr(io.StringIO()):
    for _ in range(warmup):
        pipeline.infer(photo)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(frames):
        pipeline.infer(photo)
        for stage in times:
            times[stage].append(pipeline.timings[stage] * 1e3)
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / frames
medians = {stage: float(np.median(values)) for stage, values in times.items()}
print(json.dumps({"faults": faults, **medians}))
"""


def measure(script: Path, memory: str, warmup: int, frames: int) -> dict:
    ran = subprocess.run(
        [sys.executable, "-c", ONE_PROCESS, str(script), memory, str(warmup), str(frames)],
        capture_output=True,
        text=True,
        check=False,
    )
    if ran.returncode != 0:
        raise SystemExit(f"{script.name}: {ran.stderr.strip().splitlines()[-1]}")
    return json.loads(ran.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    print(
        f"reproduce: python benchmarks/bench_heap.py --frames {args.frames} --warmup {args.warmup}"
    )
    print("per frame: minor page faults, stage medians in ms; x = without / with keep_memory")
    print(f"{'script':26} {'faults':>13} {'pre':>17} {'inference':>17} {'post':>17}")
    for script in sorted((ROOT / "generated").glob("*.py")):
        if "IMAGE_INPUT =" not in script.read_text():
            continue
        kept = measure(script, "keep", args.warmup, args.frames)
        returned = measure(script, "return", args.warmup, args.frames)
        cells = [f"{returned['faults']:6.0f} ->{kept['faults']:4.0f}"]
        for stage in STAGES:
            ratio = returned[stage] / kept[stage] if kept[stage] else float("nan")
            cells.append(f"{returned[stage]:5.2f}->{kept[stage]:5.2f} {ratio:3.1f}x")
        print(f"{script.stem:26} {cells[0]:>13} {cells[1]:>17} {cells[2]:>17} {cells[3]:>17}")


if __name__ == "__main__":
    main()
