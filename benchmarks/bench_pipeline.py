"""face_det_lite stage by stage: the generated script against the tutorial's code and the floor.

For each model (the repo's sample, and AI Hub's int8 and the tutorial's uint8 exports when
../shared/models/ has them) a script is generated into a temporary folder with
`porter scaffold MODEL --postproc face_det_lite` and imported. On each photo (scikit-image's
astronaut, coffee and chelsea at 640x480, and two that need resizing) these are timed,
interleaved call by call: every round calls each function once in a fresh random order,
after warm-up rounds of all of them, with the garbage collector off as timeit does. So both
sides run with the same mix of cache and heap states (the tutorial's float64 temporaries
page-fault when the heap is cold, and its time then swings several-fold).

- pre gen / pre base: the generated `preprocess(image, "gray", ...)` (see script_api()) and the
  tutorial's `rgb_numpy_arr_to_input_tensor(..., "grayscale")` (baseline_tutorial_port.py):
  "gray" is the generated default and "grayscale" the tutorial's matching setting (Pillow's
  convert("L"): other weights, the same kind of work). The tutorial gets its RGB frame from
  GStreamer at the input's size: at 640x480 that frame is made untimed; on photos that need
  resizing the baseline's time includes Pillow's bilinear resize of the RGB photo, standing
  in for GStreamer. Also "blue" against the tutorial's "blue" (what its demo.py passes).
- post gen / post gen -1 / post base: `pipeline.decoder(raw, geometry)` with the default
  options (NMS at IoU 0.2) and with nms_iou=-1 (exactly the tutorial's work), and the
  tutorial's `face_det_lite_postprocessing` (dequantize, decode, app.py's boxes), all on the
  same raw outputs of one inference. nms_iou=-1 must find as many faces as the tutorial.
- the floor of preprocessing, each part bare: Pillow's `image.convert("L", GRAY_MATRIX)` on
  the RGB photo, and the input table lookup as the script applies it (`pixel_table(pixels)`,
  later `input_values(pixels)`) and as a plain `np.take(table, pixels)`; also `np.asarray` of
  the converted plane (the copy out of Pillow, which the floor leaves out).
- where the generated time goes: its functions' time inside real calls (breakdown()).
- whole frames: `pipeline.infer(image)` and its `pipeline.timings` against the tutorial's
  loop on the same interpreter, alternating (postprocessing then starts with the caches
  inference left).

Prints median / p90, ratios baseline / generated from the same run's medians, and pre + post
against the floor. --json FILE also writes every figure, to compare runs. --porter DIR
generates the scripts with the porter source in DIR (e.g. `git archive COMMIT | tar -x -C
DIR`) instead of this Python's porter.

Run: python benchmarks/bench_pipeline.py [--runs 300] [--warmup 30] [--json FILE] [--porter DIR]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import baseline_tutorial_port as baseline  # noqa: E402

SHARED = ROOT.parent / "shared" / "models"
MODELS = {
    "sample uint8": ROOT / "samples" / "face_det_lite_sample.tflite",
    "AI Hub int8": SHARED / "face_det_lite-w8a8-int8.tflite",
    "tutorial uint8": SHARED / "face_det_lite-lightweight-face-detection-w8a8.tflite",
}


def machine() -> str:
    import PIL

    try:
        import ai_edge_litert

        litert = f", ai-edge-litert {ai_edge_litert.__version__}"
    except ImportError:
        litert = ""
    return (
        f"machine: {platform.platform()}, {platform.machine()}, {_cores()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}, Pillow {PIL.__version__}"
        f"{litert}"
    )


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def porter_version(root: str | None) -> str:
    """Which porter writes the scripts: a folder given with --porter, or this checkout."""
    folder = Path(root) if root else ROOT
    described = subprocess.run(
        ["git", "-C", str(folder), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    )
    commit = described.stdout.strip() if described.returncode == 0 else "not a git checkout"
    return f"porter: {folder} ({commit})"


def generated_module(model: Path, folder: Path, porter: str | None = None):
    """`porter scaffold MODEL --postproc face_det_lite` into `folder`, imported.

    `porter` is another porter source folder to generate with (e.g. a `git archive` of one
    commit while the checkout is being edited); by default this Python's porter.
    """
    script = folder / (model.stem.replace("-", "_") + ".py")
    env = dict(os.environ)
    if porter:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [porter, env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "porter", "scaffold", str(Path(model).resolve())]
    command += ["--postproc", "face_det_lite", "-o", str(script), "--force"]
    # Run from `folder`: `python -m` puts the working directory first on sys.path.
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=folder)
    spec = importlib.util.spec_from_file_location(f"bench_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def interleaved(
    functions: dict[str, Callable[[], object]], runs: int, warmup: int, seed: int = 0
) -> dict[str, np.ndarray]:
    """Each function once per round in a fresh random order; ms per call after warm-up.

    A random order (not a rotation, which keeps every function after the same neighbour)
    gives every function the same mix of cache and heap states left by the others. Also
    returns "NAME faults": the minor page faults of each call (read outside the timing).
    """
    names = list(functions)
    samples: dict[str, list[float]] = {name: [] for name in names}
    faults: dict[str, list[float]] = {name: [] for name in names}
    clock = time.perf_counter
    order = random.Random(seed)
    enabled = gc.isenabled()
    gc.disable()
    try:
        for number in range(warmup + runs):
            for name in order.sample(names, len(names)):
                function = functions[name]
                before = minor_faults()
                start = clock()
                function()
                elapsed = clock() - start
                if number >= warmup:
                    samples[name].append(elapsed)
                    faults[name].append(minor_faults() - before)
    finally:
        if enabled:
            gc.enable()
    times = {name: np.asarray(values) * 1000.0 for name, values in samples.items()}
    return times | {f"{name} faults": np.asarray(values) for name, values in faults.items()}


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def warm_heap() -> str:
    """Keep glibc's heap from handing big blocks back to the kernel between calls.

    By default glibc serves a large block (the tutorial's 2.4 MB float64 temporaries) by
    mmap, or trims the heap's top after freeing it, so each call can page-fault its
    memory afresh: ~1,150 minor faults and 3-5x the time of the same call on a warm heap,
    depending on what else is allocated. Fixed thresholds (mallopt) remove that for both
    sides alike; the tutorial gains the most.
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return "heap: default (no glibc mallopt here)"
    m_trim_threshold, m_mmap_threshold = -1, -3
    done = mallopt(m_mmap_threshold, 32 << 20) and mallopt(m_trim_threshold, 512 << 20)
    return (
        "heap: warm (mallopt: mmap threshold 32 MB, trim threshold 512 MB)"
        if done
        else ("heap: default (mallopt refused)")
    )


def stats(values: np.ndarray) -> tuple[float, float]:
    return float(np.median(values)), float(np.percentile(values, 90))


def photo(name: str) -> Image.Image:
    """One of PHOTOS."""
    from skimage import data

    source, size = PHOTOS[name]
    image = Image.fromarray(getattr(data, source)())
    if size == (640, 480):
        return image.resize(size, Image.Resampling.BILINEAR)
    return image if image.size == size else image.resize(size, Image.Resampling.BICUBIC)


# scikit-image's photos: three at the input's size (resized beforehand, not timed), two
# that the pipeline must resize.
PHOTOS = {
    "astronaut 640x480": ("astronaut", (640, 480)),
    "coffee 640x480": ("coffee", (640, 480)),
    "chelsea 640x480": ("chelsea", (640, 480)),
    "astronaut 512x512": ("astronaut", (512, 512)),
    "chelsea 1920x1440": ("chelsea", (1920, 1440)),
}


def script_api(module, pipeline):
    """preprocess(image, channels), pixels_of(image, channels) (the uint8 pixels before the
    input's values) and lookup(pixels) (the call applying the table to them, or with None
    the 256-entry table itself), for the generated script as of 2bad059 (image_pixels,
    pipeline.pixel_table) or later (photo_channels / fit_photo / to_layout,
    pipeline.input_values)."""
    if hasattr(module, "image_pixels"):
        table = pipeline.pixel_table

        def preprocess(image, channels):
            return module.preprocess(image, channels, table)

        def pixels_of(image, channels):
            return module.image_pixels(image, channels)[0]

        def lookup(pixels):
            return table.table if pixels is None else (lambda: table(pixels))

        return preprocess, pixels_of, lookup
    values, options = pipeline.input_values, pipeline.options

    def preprocess(image, channels):
        return module.preprocess(image, channels, values, options)

    def pixels_of(image, channels):
        pixels, _ = module.fit_photo(module.photo_channels(image, channels), options)
        return module.to_layout(pixels, channels)

    def lookup(pixels):
        return values.tables[0].table if pixels is None else (lambda: values(pixels))

    return preprocess, pixels_of, lookup


def rgb_frame(image: Image.Image) -> np.ndarray:
    """The RGB frame the tutorial's preprocessing receives (its copy, made once)."""
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


class Case:
    """One model and photo: the raw outputs of one inference and every timed callable."""

    def __init__(self, module, pipelines, image: Image.Image) -> None:
        pipeline, pipeline_all = pipelines
        self.module, self.pipeline, self.pipeline_all, self.image = module, *pipelines, image
        interpreter = pipeline.runner.interpreter
        self.detail = interpreter.get_input_details()[0]
        self.output_details = interpreter.get_output_details()
        height, width = int(self.detail["shape"][1]), int(self.detail["shape"][2])
        self.resized = image.size != (width, height)
        gray_matrix = module.GRAY_MATRIX
        preprocess, pixels_of, lookup_table = script_api(module, pipeline)

        tensor, geometry = preprocess(image, "gray")
        raw = pipeline.runner.run({module.IMAGE_INPUT: tensor})
        raw = {name: values.copy() for name, values in raw.items()}
        by_position = [(raw[d["name"]], d["quantization"]) for d in self.output_details]
        self.raw, self.geometry, self.by_position = raw, geometry, by_position
        pixels = pixels_of(image, "gray")
        plane = image.convert("L", gray_matrix)
        detail = self.detail

        if not self.resized:
            frame = rgb_frame(image)  # GStreamer's frame, not timed

            def base_frame():
                return frame
        else:

            def base_frame():
                return baseline.resize_like_gstreamer(image, width, height)

        self.base_frame = base_frame
        self.functions = {
            "pre gen": lambda: preprocess(image, "gray"),
            "pre base": lambda: baseline.frame_to_input(base_frame(), detail, "grayscale"),
            "pre gen blue": lambda: preprocess(image, "blue"),
            "pre base blue": lambda: baseline.frame_to_input(base_frame(), detail, "blue"),
            "post gen": lambda: pipeline.decoder(raw, geometry),
            "post gen -1": lambda: pipeline_all.decoder(raw, geometry),
            "post base": lambda: baseline.postprocess(by_position),
            "pillow gray": lambda: image.convert("L", gray_matrix),
            "pillow asarray": lambda: np.asarray(plane),
            "lookup script": lookup_table(pixels),
        }
        table = lookup_table(None)
        if table is not None:
            self.functions["lookup take"] = lambda: np.take(table, pixels)


def bench_photo(module, pipelines, image: Image.Image, runs: int, warmup: int) -> dict:
    case = Case(module, pipelines, image)
    times = interleaved(case.functions, runs, warmup)
    times |= in_pipeline(case, runs // 5, 5)
    if not case.resized:
        times |= breakdown(case, runs, warmup)
    found = {
        "gen": len(case.functions["post gen"]()["detections"]),
        "gen -1": len(case.functions["post gen -1"]()["detections"]),
        "base": len(case.functions["post base"]()),
    }
    # nms_iou=-1 is the tutorial's own work: it must find exactly what the tutorial finds.
    assert found["gen -1"] == found["base"], found
    figures = {name: stats(values) for name, values in times.items()}
    return {"found": found, "figures": figures, "resized": case.resized}


# The generated functions whose time `breakdown` records inside the real calls.
PIECES = ("image_pixels", "photo_channels", "fit_photo", "candidates", "detect", "nms", "app_boxes")
# The pieces of preprocess() before the input's values (2bad059: one function; later: two).
PIXEL_PIECES = ("image_pixels", "photo_channels", "fit_photo")


def breakdown(case: Case, runs: int, warmup: int):
    """Where the generated preprocess and postprocess spend their time.

    The module's own functions in PIECES are replaced, in this imported copy only, by
    wrappers that add their time to the current call's record; preprocess() and the
    decoder look them up by name when called, so their real calls are timed in place.
    Interleaved with the tutorial's postprocessing, as in the main table. What is left of
    a call after its pieces is its own code (for the decoder: mapping to the photo and
    building the result). Median ms per call; a piece not called counts 0.
    """
    module = case.module
    clock = time.perf_counter
    record: dict[str, float] = {}
    originals = {name: getattr(module, name) for name in PIECES if hasattr(module, name)}

    def wrap(name, function):
        def timed(*args, **kwargs):
            start = clock()
            try:
                return function(*args, **kwargs)
            finally:
                record[name] = record.get(name, 0.0) + clock() - start

        return timed

    samples: dict[str, list[float]] = {}

    def call(stage: str, function) -> Callable[[], None]:
        def run() -> None:
            record.clear()
            start = clock()
            function()
            total = clock() - start
            samples.setdefault(f"{stage} total", []).append(total)
            for name in originals:
                samples.setdefault(f"{stage} {name}", []).append(record.get(name, 0.0))

        return run

    functions = {
        "pre": call("pre", case.functions["pre gen"]),
        "post": call("post", case.functions["post gen"]),
        "base": case.functions["post base"],
    }
    for name, function in originals.items():
        setattr(module, name, wrap(name, function))
    try:
        interleaved(functions, runs, warmup)
    finally:
        for name, function in originals.items():
            setattr(module, name, function)
    keep = slice(-runs, None)  # after the warm-up rounds
    return {f"pieces {k}": np.asarray(v[keep]) * 1000.0 for k, v in samples.items()}


def in_pipeline(case: Case, runs: int, warmup: int):
    """Whole frames, as each side runs them, alternating: `pipeline.infer(image)` with its own
    `pipeline.timings`, and the tutorial's loop (preprocess, set_tensor + invoke + get_tensor,
    postprocess) on the same interpreter. Each stage here follows the one before it, so
    postprocessing starts with the caches inference left behind."""
    pipeline, image, detail = case.pipeline, case.image, case.detail
    output_details, base_frame = case.output_details, case.base_frame
    interpreter = pipeline.runner.interpreter
    clock = time.perf_counter

    def tutorial() -> dict[str, float]:
        start = clock()
        tensor = baseline.frame_to_input(base_frame(), detail, "grayscale")
        prepared = clock()
        interpreter.set_tensor(detail["index"], tensor)
        interpreter.invoke()
        outputs = [(interpreter.get_tensor(d["index"]), d["quantization"]) for d in output_details]
        inferred = clock()
        baseline.postprocess(outputs)
        done = clock()
        return {
            "preprocess": prepared - start,
            "inference": inferred - prepared,
            "postprocess": done - inferred,
        }

    def generated() -> dict[str, float]:
        pipeline.infer(image)
        return pipeline.timings

    sides = {"gen": generated, "base": tutorial}
    samples: dict[str, list[float]] = {}
    order = random.Random(1)
    enabled = gc.isenabled()
    gc.disable()
    try:
        for number in range(warmup + runs):
            for side in order.sample(list(sides), 2):
                stages = sides[side]()
                if number >= warmup:
                    for stage, seconds in stages.items():
                        samples.setdefault(f"frame {side} {stage[:4]}", []).append(seconds)
    finally:
        if enabled:
            gc.enable()
    return {name: np.asarray(values) * 1000.0 for name, values in samples.items()}


def derived(result: dict) -> dict[str, float]:
    f = {name: value[0] for name, value in result["figures"].items()}
    lookup = min(f["lookup script"], f.get("lookup take", np.inf))
    floor = f["pillow gray"] + lookup
    both = f["pre gen"] + f["post gen"]
    return {
        "pre": f["pre base"] / f["pre gen"],
        "pre blue": f["pre base blue"] / f["pre gen blue"],
        "post": f["post base"] / f["post gen"],
        "post -1": f["post base"] / f["post gen -1"],
        "floor": floor,
        "pre+post": both,
        "pre+post -1": f["pre gen"] + f["post gen -1"],
        "over floor": both / floor,
        "over floor -1": (f["pre gen"] + f["post gen -1"]) / floor,
        "pre over floor": f["pre gen"] / floor,
        "frame pre": f["frame base prep"] / f["frame gen prep"],
        "frame post": f["frame base post"] / f["frame gen post"],
        "frame pre+post": (f["frame base prep"] + f["frame base post"])
        / (f["frame gen prep"] + f["frame gen post"]),
        "frame over floor": (f["frame gen prep"] + f["frame gen post"]) / floor,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--porter", help="generate with the porter source in this folder")
    parser.add_argument(
        "--heap",
        choices=["warm", "default"],
        default="warm",
        help="warm: fixed malloc thresholds, no page faults from trimming (default); "
        "default: glibc's own, and the tutorial's time swings with the heap's state",
    )
    args = parser.parse_args()
    heap = warm_heap() if args.heap == "warm" else "heap: default (glibc's own thresholds)"
    print(machine())
    print(porter_version(args.porter))
    print(heap)
    command = f"python benchmarks/bench_pipeline.py --runs {args.runs} --warmup {args.warmup}"
    command += f" --porter {args.porter}" if args.porter else ""
    command += " --heap default" if args.heap == "default" else ""
    print(f"reproduce: {command}\n")

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, model in MODELS.items():
            if not model.is_file():
                print(f"{label}: skipped, {model} is not present")
                continue
            module = generated_module(model, Path(folder), args.porter)
            pipelines = (module.prepare(model), module.prepare(model, nms_iou=-1))
            for name in PHOTOS:
                results[f"{label} | {name}"] = bench_photo(
                    module, pipelines, photo(name), args.runs, args.warmup
                )
    print_tables(results, args.runs)
    if args.json:
        for result in results.values():
            result["derived"] = derived(result)
        document = {
            "machine": machine(),
            "porter": porter_version(args.porter),
            "heap": heap,
            "command": command,
            "results": results,
        }
        Path(args.json).write_text(json.dumps(document, indent=1))


def print_tables(results: dict[str, dict], runs: int) -> None:
    def cell(result: dict, key: str) -> str:
        median, p90 = result["figures"][key]
        return f"{median:6.3f}/{p90:6.3f}"

    def faults(result: dict) -> str:
        names = ("pre gen", "pre base", "post gen", "post base")
        return "/".join(f"{result['figures'][f'{n} faults'][0]:.0f}" for n in names)

    print(f"median/p90 in ms over {runs} interleaved runs; x = baseline / generated (medians)")
    print("faces: generated (default, NMS 0.2) / generated nms_iou=-1 / tutorial")
    print("page faults: median minor page faults per call, pre gen/pre base/post gen/post base\n")
    head = (
        f"{'model | photo':34} {'faces':>8} | {'pre gen':>13} {'pre base':>13} {'x':>5} | "
        f"{'post gen':>13} {'post gen -1':>13} {'post base':>13} {'x':>5} {'x -1':>5} | "
        f"{'pre blue gen':>13} {'pre blue base':>13} {'x':>5} | {'page faults':>15}"
    )
    print(head)
    print("-" * len(head))
    for key, result in results.items():
        d, n = derived(result), result["found"]
        print(
            f"{key:34} {n['gen']:>2}/{n['gen -1']:>2}/{n['base']:>2} | "
            f"{cell(result, 'pre gen')} {cell(result, 'pre base')} {d['pre']:5.1f} | "
            f"{cell(result, 'post gen')} {cell(result, 'post gen -1')} "
            f"{cell(result, 'post base')} {d['post']:5.1f} {d['post -1']:5.1f} | "
            f"{cell(result, 'pre gen blue')} {cell(result, 'pre base blue')} {d['pre blue']:5.1f} | "
            f"{faults(result)}"
        )

    print(
        "\nAgainst the floor: Pillow's convert('L', GRAY_MATRIX) on the RGB photo plus the "
        "input table lookup (the faster of the script's pixel_table(pixels) and np.take).\n"
        "asarray: np.asarray() of the converted plane, the copy out of Pillow (not in the floor)"
    )
    head = (
        f"{'model | photo':34} | {'pillow gray':>13} {'asarray':>13} {'lookup script':>13} "
        f"{'np.take':>13} {'floor':>6} | {'pre':>6} {'post':>6} {'pre+post':>8} {'/floor':>6} | "
        f"{'post -1':>7} {'pre+post -1':>11} {'/floor':>6}"
    )
    print(head)
    print("-" * len(head))
    for key, result in results.items():
        if result["resized"]:
            continue
        d, f = derived(result), result["figures"]
        take = cell(result, "lookup take") if "lookup take" in f else f"{'-':>13}"
        print(
            f"{key:34} | {cell(result, 'pillow gray')} {cell(result, 'pillow asarray')} "
            f"{cell(result, 'lookup script')} {take} "
            f"{d['floor']:6.3f} | {f['pre gen'][0]:6.3f} {f['post gen'][0]:6.3f} "
            f"{d['pre+post']:8.3f} {d['over floor']:6.2f} | {f['post gen -1'][0]:7.3f} "
            f"{d['pre+post -1']:11.3f} {d['over floor -1']:6.2f}"
        )

    print(
        "\nWhere the generated time goes (default options; each piece's median ms inside the "
        "real calls, see breakdown()):\npre = pixels (image_pixels, or photo_channels + fit_photo: Pillow convert + asarray + "
        "Geometry) + own (the table lookup); post = detect (of which candidates) + nms + "
        "app_boxes + own (mapping to the photo, the result list)"
    )
    head = (
        f"{'model | photo':34} | {'pre':>6} {'pixels':>6} {'own':>6} | {'post':>6} "
        f"{'detect':>6} {'cands':>6} {'nms':>6} {'app':>6} {'own':>6}"
    )
    print(head)
    print("-" * len(head))
    for key, result in results.items():
        if result["resized"]:
            continue
        f = {k: v[0] for k, v in result["figures"].items()}
        pre = f["pieces pre total"]
        pixels = sum(f.get(f"pieces pre {name}", 0.0) for name in PIXEL_PIECES)
        post = f["pieces post total"]
        parts = [f["pieces post detect"], f["pieces post nms"], f["pieces post app_boxes"]]
        print(
            f"{key:34} | {pre:6.3f} {pixels:6.3f} "
            f"{pre - pixels:6.3f} | {post:6.3f} {parts[0]:6.3f} "
            f"{f['pieces post candidates']:6.3f} {parts[1]:6.3f} {parts[2]:6.3f} "
            f"{post - sum(parts):6.3f}"
        )

    print(
        f"\nWhole frames ({runs // 5} each, alternating): generated pipeline.infer() and its "
        "timings, the tutorial's loop; median ms. Post here starts right after inference."
    )
    head = (
        f"{'model | photo':34} | {'gen pre':>7} {'infer':>7} {'post':>7} | {'base pre':>8} "
        f"{'infer':>7} {'post':>7} | {'x pre':>5} {'x post':>6} {'x both':>6} | "
        f"{'gen pre+post / floor':>20}"
    )
    print(head)
    print("-" * len(head))
    for key, result in results.items():
        d, f = derived(result), {k: v[0] for k, v in result["figures"].items()}
        over_floor = f"{d['frame over floor']:20.2f}" if not result["resized"] else f"{'-':>20}"
        print(
            f"{key:34} | {f['frame gen prep']:7.3f} {f['frame gen infe']:7.3f} "
            f"{f['frame gen post']:7.3f} | {f['frame base prep']:8.3f} "
            f"{f['frame base infe']:7.3f} {f['frame base post']:7.3f} | {d['frame pre']:5.1f} "
            f"{d['frame post']:6.1f} {d['frame pre+post']:6.1f} | {over_floor}"
        )


if __name__ == "__main__":
    main()
