"""face_det_lite postprocess under load: 0, 5, 50 and 500 peaks above the threshold.

Synthetic float outputs on the 60x80 grid: isolated peaks on a lattice of every other
cell (so each is a strict 3x3 maximum), boxes of 4 cells each side. Generated decode vs
the tutorial-style baseline, NMS off (app.py's default) and on (IoU 0.3).

Run: python benchmarks/bench_postprocess_load.py [--runs 200]
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import baseline_tutorial_port as baseline  # noqa: E402

SCRIPT = ROOT / "generated" / "face_det_lite_sample.py"


def outputs(peaks: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    heatmap = np.full((1, 60, 80, 1), -8.0, np.float32)
    lattice = np.array([(y, x) for y in range(1, 60, 2) for x in range(1, 80, 2)])
    chosen = lattice[rng.choice(len(lattice), size=peaks, replace=False)] if peaks else lattice[:0]
    heatmap[0, chosen[:, 0], chosen[:, 1], 0] = rng.uniform(0.5, 5.0, peaks).astype(np.float32)
    bbox = np.full((1, 60, 80, 4), 4.0, np.float32)
    landmark = rng.uniform(-2, 2, (1, 60, 80, 10)).astype(np.float32)
    return {"heatmap": heatmap, "bbox": bbox, "landmark": landmark}


def timed(function, runs: int) -> tuple[float, float]:
    function()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    ms = np.asarray(samples) * 1000
    return float(np.median(ms)), float(np.percentile(ms, 90))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("generated_face_det_lite", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print(
        f"machine: {platform.platform()}, Python {platform.python_version()}, numpy {np.__version__}"
    )
    print(f"reproduce: python benchmarks/bench_postprocess_load.py --runs {args.runs}\n")
    print("median / p90 in ms; ratio = baseline / generated (medians)")
    print(
        f"{'peaks':>5} {'nms':>5} {'kept':>5} | {'generated':>15} {'baseline':>15} | {'ratio':>6} "
        f"{'gen us/peak':>11}"
    )
    no_quant = {"heatmap": (0.0, 0), "bbox": (0.0, 0), "landmark": (0.0, 0)}
    for nms in (None, 0.3):
        for peaks in (0, 5, 50, 500):
            outs = outputs(peaks)
            options = SimpleNamespace(threshold=0.55, nms_iou=nms)
            iou = -1 if nms is None else nms
            gen = timed(
                lambda outs=outs, options=options: module.postprocess(outs, (640, 480), options),
                args.runs,
            )
            base = timed(
                lambda outs=outs, iou=iou: baseline.postprocess(outs, no_quant, 0.55, iou),
                max(args.runs // 10, 10),
            )
            kept = len(module.postprocess(outs, (640, 480), options)["detections"])
            assert kept == len(
                baseline.postprocess(outs, no_quant, 0.55, -1 if nms is None else nms)
            )
            per_peak = (gen[0] * 1000 / peaks) if peaks else float("nan")
            print(
                f"{peaks:5d} {'off' if nms is None else nms:>5} {kept:5d} | {gen[0]:7.3f}/{gen[1]:7.3f} "
                f"{base[0]:7.3f}/{base[1]:7.3f} | {base[0] / gen[0]:6.1f} {per_peak:11.2f}"
            )


if __name__ == "__main__":
    main()
