"""face_det_lite postprocessing under load: 0, 5, 50 and 500 faces above the threshold.

Synthetic raw outputs in each model's own quantization (its output types, scales and zero
points): a background heatmap at the lowest code, isolated peaks on a lattice of every other
cell (each a strict 3x3 maximum) with scores between 0.62 and the highest the model's
heatmap can express, boxes of 4 cells each side, random landmarks. The generated script's
`pipeline.decoder(raw, geometry)` against the tutorial's `face_det_lite_postprocessing`
(baseline_tutorial_port.py), interleaved call by call with warm-up rounds, both with
nms_iou=-1 (app.py's and the tutorial's call) and with NMS at IoU 0.2 (the generated default;
the baseline then runs utils.nms, which the tutorial's code has but does not call). The heap
is kept warm as in bench_pipeline.py (--heap default: glibc's own thresholds).

Run: python benchmarks/bench_postprocess_load.py [--runs 100] [--warmup 10] [--porter DIR]
     [--heap warm|default]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import baseline_tutorial_port as baseline
from bench_pipeline import (
    MODELS,
    generated_module,
    interleaved,
    machine,
    porter_version,
    stats,
    warm_heap,
)

PEAKS = (0, 5, 50, 500)


def quantize(values: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero_point = detail["quantization"]
    limits = np.iinfo(detail["dtype"])
    codes = np.rint(values / scale + zero_point)
    return np.clip(codes, limits.min, limits.max).astype(detail["dtype"])


def synthetic(output_details: list[dict], peaks: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Raw outputs by name with `peaks` isolated peaks above the 0.55 threshold."""
    rng = np.random.default_rng(seed)
    details = {d["name"]: d for d in output_details}
    heatmap_detail = details["heatmap"]
    scale, zero_point = heatmap_detail["quantization"]
    highest = (np.iinfo(heatmap_detail["dtype"]).max - zero_point) * scale  # top logit
    heatmap = np.full((1, 60, 80, 1), -8.0, np.float32)
    lattice = np.array([(y, x) for y in range(1, 60, 2) for x in range(1, 80, 2)])
    chosen = lattice[rng.choice(len(lattice), size=peaks, replace=False)]
    logits = rng.uniform(0.5, max(highest, 0.6), peaks)
    heatmap[0, chosen[:, 0], chosen[:, 1], 0] = logits
    bbox = np.full((1, 60, 80, 4), 4.0, np.float32)
    landmark = rng.uniform(-2, 2, (1, 60, 80, 10)).astype(np.float32)
    floats = {"heatmap": heatmap, "bbox": bbox, "landmark": landmark}
    return {name: quantize(values, details[name]) for name, values in floats.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--porter", help="generate with the porter source in this folder")
    parser.add_argument(
        "--heap",
        choices=["warm", "default"],
        default="warm",
        help="as bench_pipeline.py: fixed malloc thresholds (default) or glibc's own",
    )
    args = parser.parse_args()
    heap = warm_heap() if args.heap == "warm" else "heap: default (glibc's own thresholds)"
    print(machine())
    print(porter_version(args.porter))
    print(heap)
    command = (
        f"python benchmarks/bench_postprocess_load.py --runs {args.runs} --warmup {args.warmup}"
    )
    command += f" --porter {args.porter}" if args.porter else ""
    command += " --heap default" if args.heap == "default" else ""
    print(f"reproduce: {command}\n")
    print(f"median/p90 in ms over {args.runs} interleaved runs; x = baseline / generated")
    print("kept: generated / tutorial; us/face: generated time above its 0-face time, per face\n")
    head = (
        f"{'model':15} {'faces':>5} {'nms':>4} {'kept':>7} | {'generated':>15} "
        f"{'tutorial':>15} | {'x':>6} {'us/face':>7}"
    )
    print(head)
    print("-" * len(head))
    with tempfile.TemporaryDirectory() as folder:
        for label, model in MODELS.items():
            if not model.is_file():
                print(f"{label}: skipped, {model} is not present")
                continue
            module = generated_module(model, Path(folder), args.porter)
            geometry = module.Geometry(640, 480, 1.0, 1.0)
            for nms in (-1, 0.2):
                pipeline = module.prepare(model, nms_iou=nms)
                details = pipeline.runner.interpreter.get_output_details()
                base_zero = None
                for peaks in PEAKS:
                    raw = synthetic(details, peaks)
                    kept, gen, base = measure(pipeline, raw, geometry, nms, args)
                    if peaks == 0:
                        base_zero = gen[0]
                    per_face = (gen[0] - base_zero) * 1000 / peaks if peaks else float("nan")
                    print(
                        f"{label:15} {peaks:5d} {'off' if nms == -1 else nms:>4} {kept:>7} | "
                        f"{gen[0]:7.3f}/{gen[1]:7.3f} {base[0]:7.3f}/{base[1]:7.3f} | "
                        f"{base[0] / gen[0]:6.1f} {per_face:7.2f}"
                    )


def measure(pipeline, raw: dict, geometry, nms: float, args) -> tuple:
    """Faces kept, and generated and tutorial (median, p90) on the same raw outputs."""
    details = pipeline.runner.interpreter.get_output_details()
    by_position = [(raw[d["name"]], d["quantization"]) for d in details]
    kept = len(pipeline.decoder(raw, geometry)["detections"])
    kept_base = len(baseline.postprocess(by_position, 0.55, nms))
    # Without NMS both keep every peak. With it they can differ: the tutorial's boxes are
    # truncated to integers before the IoU test, and ties between saturated scores are
    # visited in another order (its unstable argsort).
    assert nms != -1 or kept == kept_base, (kept, kept_base)
    times = interleaved(
        {
            "gen": lambda: pipeline.decoder(raw, geometry),
            "base": lambda: baseline.postprocess(by_position, 0.55, nms),
        },
        args.runs,
        args.warmup,
    )
    return f"{kept}/{kept_base}", stats(times["gen"]), stats(times["base"])


if __name__ == "__main__":
    main()
