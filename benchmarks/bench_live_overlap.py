"""Live input: would preprocessing frame n+1 in a thread while frame n is inferred pay?

Measured, and not kept in the scripts (RESULTS.md, section 5). It uses a generated script
(default: generated/face_det_lite_sample.py) through its own pieces: preprocess(), the
Runner, the Decoder. Serial: pre, infer, post per frame. Overlapped: a worker thread
preprocesses frame n+1 while the main thread runs inference and postprocessing of frame n.
Figures are frames per second over --frames frames, the median of --rounds rounds, serial and
overlapped interleaved so that drift hits both alike.

Cases: frames at the model's size (what the live pipeline delivers to a stretch fit) and at
1280x720 (a resize in preprocessing); LiteRT on 1 thread, 2 threads and its default; and a
simulated NPU: inference replaced by a sleep of the measured CPU inference time (waiting for
the NPU leaves the CPU free, as a sleep does). On a board, --delegate qnn-htp answers for real.

Run: python benchmarks/bench_live_overlap.py [--frames 300] [--rounds 7] [--delegate qnn-htp]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import json
import platform
import statistics
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def load(path: Path):
    spec = importlib.util.spec_from_file_location("bench_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def frames_at(size: tuple[int, int], count: int) -> list[Image.Image]:
    from skimage import data

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    return [Image.fromarray(photos[i % 4]).resize(size) for i in range(count)]


def prepare(script, pipeline, image):
    """One frame's feeds and geometry, as Pipeline.infer makes them."""
    pixels, geometry = script.preprocess(
        script.as_image(image), pipeline.channels, pipeline.input_values, pipeline.options
    )
    return {script.IMAGE_INPUT: pixels}, geometry


def serial(script, pipeline, frames, infer) -> float:
    start = time.perf_counter()
    for image in frames:
        feeds, geometry = prepare(script, pipeline, image)
        pipeline.decoder(infer(feeds), geometry)
    return len(frames) / (time.perf_counter() - start)


def overlapped(script, pipeline, frames, infer, pool) -> float:
    start = time.perf_counter()
    future = pool.submit(prepare, script, pipeline, frames[0])
    for index in range(len(frames)):
        feeds, geometry = future.result()
        if index + 1 < len(frames):
            future = pool.submit(prepare, script, pipeline, frames[index + 1])
        pipeline.decoder(infer(feeds), geometry)
    return len(frames) / (time.perf_counter() - start)


def stage_ms(pipeline, frames) -> dict[str, float]:
    times: dict[str, list[float]] = {}
    for image in frames:
        pipeline.infer(image)
        for stage, seconds in pipeline.timings.items():
            times.setdefault(stage, []).append(seconds)
    return {k: round(statistics.median(v) * 1000, 3) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", type=Path, default=ROOT / "generated/face_det_lite_sample.py")
    parser.add_argument("--model", help="the model (default: the script's own)")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--big",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also 1280x720 frames (default: yes)",
    )
    parser.add_argument("--threads", default="1,2,default", help="LiteRT thread counts")
    parser.add_argument("--delegate", default="cpu", help="cpu, or qnn-htp on a board")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, Python {platform.python_version()}")
    print(
        f"reproduce: python benchmarks/bench_live_overlap.py --frames {args.frames} "
        f"--rounds {args.rounds} --delegate {args.delegate}\n"
    )
    script = load(args.script)
    model_size = (script.INPUT_WIDTH, script.INPUT_HEIGHT)
    pool = concurrent.futures.ThreadPoolExecutor(1)
    thread_counts = [None if t == "default" else int(t) for t in args.threads.split(",")]
    for threads in thread_counts:
        pipeline = script.prepare(args.model, args.delegate, threads=threads)
        for size in (model_size, (1280, 720)) if args.big else (model_size,):
            frames = frames_at(size, args.frames)
            for image in frames[:20]:
                pipeline.infer(image)  # warm up
            stages = stage_ms(pipeline, frames[:100])
            cases = [("runtime", pipeline.runner.run)]
            if threads is None and args.delegate == "cpu":
                seconds = stages["inference"] / 1000
                outputs = pipeline.runner.run(prepare(script, pipeline, frames[0])[0])
                cases.append(("npu-sim", lambda _, s=seconds, o=outputs: (time.sleep(s), o)[1]))
            for kind, infer in cases:
                plain, both = [], []
                for _ in range(args.rounds):
                    plain.append(serial(script, pipeline, frames, infer))
                    both.append(overlapped(script, pipeline, frames, infer, pool))
                row = {
                    "threads": threads or "default",
                    "frame": f"{size[0]}x{size[1]}",
                    "inference": kind,
                    "stage_ms": stages,
                    "serial_fps": round(statistics.median(plain), 1),
                    "overlap_fps": round(statistics.median(both), 1),
                }
                row["gain_pct"] = round(100 * (row["overlap_fps"] / row["serial_fps"] - 1), 1)
                print(json.dumps(row), flush=True)
    pool.shutdown()


if __name__ == "__main__":
    main()
