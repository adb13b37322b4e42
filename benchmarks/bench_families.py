"""Every generated sample script, stage by stage, on one 640x480 photo.

Each script in generated/ is imported and its own pipeline run the way a user's loop runs
it: `pipeline = prepare()` (the sample model it was made for, on the CPU), then
`pipeline.infer(photo)` and its `pipeline.timings`. The photo is scikit-image's astronaut
at 640x480, the size a board camera gives. Rounds are interleaved (every round runs each
script once, in a fresh random order, after warm-up rounds of all of them, with the garbage
collector off), so all scripts see the same machine.

Prints each stage's median / p90 in ms and the host's share: (pre + post) / inference. On
the board the NPU's inference is a few ms, so a script whose pre + post is several times
its CPU inference here is one where Python, not the model, sets the frame rate. The sample
models are small: their CPU inference is not the real models'; the pre and post are
the real scripts' (they depend on the photo and the model's input and output sizes, which
the samples share with AI Hub's exports, except where the listing says otherwise).

Run: python benchmarks/bench_families.py [--runs 30] [--warmup 3] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import io
import os
import platform
import random
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("preprocess", "inference", "postprocess")


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def family_of(module: ModuleType) -> str:
    """The first word of the script's docstring: its family ("stub" scripts say theirs)."""
    return (module.__doc__ or "?").split()[0]


def photo() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut()).resize((640, 480), Image.Resampling.BILINEAR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="script names (stems) to run")
    args = parser.parse_args()

    image = photo()
    pipelines = {}
    for path in sorted((ROOT / "generated").glob("*.py")):
        if args.only and path.stem not in args.only:
            continue
        module = load(path)
        with contextlib.redirect_stderr(io.StringIO()):  # progress lines, runtime banners
            pipelines[path.stem] = (family_of(module), module.prepare())
    times: dict[str, dict[str, list[float]]] = {
        name: {stage: [] for stage in STAGES} for name in pipelines
    }
    order = list(pipelines)
    rng = random.Random(0)
    gc.disable()
    try:
        for round_number in range(args.warmup + args.runs):
            rng.shuffle(order)
            for name in order:
                pipeline = pipelines[name][1]
                with contextlib.redirect_stderr(io.StringIO()):
                    pipeline.infer(image.copy())
                if round_number >= args.warmup:
                    for stage in STAGES:
                        times[name][stage].append(pipeline.timings[stage] * 1e3)
    finally:
        gc.enable()

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    print(
        f"reproduce: python benchmarks/bench_families.py --runs {args.runs} --warmup {args.warmup}"
    )
    print(f"astronaut 640x480, CPU; median / p90 ms over {args.runs} interleaved rounds")
    print("host = (pre + post) / inference, from the medians")
    header = f"{'script':28} {'family':17}" + "".join(f"{s:>16}" for s in STAGES)
    print(header + f"{'pre+post':>10}{'host':>7}")
    print("-" * (len(header) + 17))
    for name, (family, _) in pipelines.items():
        medians = {s: float(np.median(times[name][s])) for s in STAGES}
        cells = "".join(
            f"{medians[s]:8.2f} /{np.percentile(times[name][s], 90):6.2f}" for s in STAGES
        )
        host = medians["preprocess"] + medians["postprocess"]
        share = host / medians["inference"] if medians["inference"] else float("inf")
        print(f"{name:28} {family:17}{cells}{host:10.2f}{share:7.1f}")


if __name__ == "__main__":
    main()
