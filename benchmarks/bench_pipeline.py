"""face_det_lite end to end: the generated script's stages against the tutorial's hand port.

Images are decoded once; each stage is timed on its own over --runs runs (after one
warm-up): preprocess, inference (the same interpreter for both) and postprocess
(dequantize + decode + app.py boxes). Prints median / p90 per stage and the ratios
baseline / generated.

Run: python benchmarks/bench_pipeline.py [--runs 200]
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
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import baseline_tutorial_port as baseline  # noqa: E402

SCRIPT = ROOT / "generated" / "face_det_lite_sample.py"
MODELS = {
    "sample uint8": ROOT / "samples" / "face_det_lite_sample.tflite",
    "AI Hub int8": ROOT.parent / "shared" / "models" / "face_det_lite-w8a8-int8.tflite",
}


def load_generated():
    spec = importlib.util.spec_from_file_location("generated_face_det_lite", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(function, runs: int) -> tuple[float, float, object]:
    result = function()  # warm-up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - start)
    ms = np.asarray(samples) * 1000
    return float(np.median(ms)), float(np.percentile(ms, 90)), result


def photos() -> dict[str, Image.Image]:
    from skimage import data

    astronaut = Image.fromarray(data.astronaut())
    return {
        "640x480 (no resize)": astronaut.resize((640, 480), Image.Resampling.BILINEAR),
        "512x512 astronaut": astronaut,
        "1920x1440": Image.fromarray(data.chelsea()).resize((1920, 1440), Image.Resampling.BICUBIC),
    }


def bench(module, model: Path, image: Image.Image, runs: int) -> dict[str, tuple[float, float]]:
    args = SimpleNamespace(
        model=str(model),
        delegate="cpu",
        threads=None,
        delegate_lib=None,
        delegate_option=[],
        fallback_cpu=False,
        threshold=0.55,
        nms_iou=None,
    )
    runner = module.Runner(args)
    spec = runner.inputs[0]
    outs = {s["name"]: s for s in runner.outputs}
    interpreter = runner.interpreter
    detail = interpreter.get_input_details()[0]
    scale, zero_point = detail["quantization"]
    quant = {d["name"]: d["quantization"] for d in interpreter.get_output_details()}
    size = image.size

    def gen_pre():
        return module.preprocess(image, "gray", spec)

    def base_pre():
        return baseline.load_image_litert(
            image, list(detail["shape"]), detail["dtype"], scale, zero_point
        )

    figures = {}
    figures["pre gen"] = timed(gen_pre, runs)
    figures["pre blue"] = timed(lambda: module.preprocess(image, "blue", spec), runs)
    figures["pre base"] = timed(base_pre, runs)
    tensor = figures["pre gen"][2]
    figures["infer"] = timed(lambda: runner.run({spec["name"]: tensor}), max(runs // 4, 20))
    raw = figures["infer"][2]

    def gen_post():
        outputs = {name: module.dequantize(values, outs[name]) for name, values in raw.items()}
        return module.postprocess(outputs, size, args)

    figures["post gen"] = timed(gen_post, runs)
    figures["post base"] = timed(lambda: baseline.postprocess(raw, quant), runs)
    found_gen = len(figures["post gen"][2]["detections"])
    found_base = len(figures["post base"][2])
    assert found_gen == found_base, (found_gen, found_base)
    return {k: v[:2] for k, v in figures.items()} | {"faces": (found_gen, 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    import ai_edge_litert
    import PIL

    print(
        f"machine: {platform.platform()}, {platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, Pillow {PIL.__version__}, ai-edge-litert {ai_edge_litert.__version__}"
    )
    print(f"reproduce: python benchmarks/bench_pipeline.py --runs {args.runs}\n")
    module = load_generated()
    header = (
        f"{'model':13} {'photo':20} {'faces':>5} | {'pre gen':>13} {'pre base':>13} | "
        f"{'infer':>13} | {'post gen':>13} {'post base':>13} | {'pre':>6} {'post':>6} "
        f"{'pre+post':>8} | {'pre gen blue':>13} {'ratio':>6}"
    )
    print("median / p90 in ms; ratios are baseline / generated (medians)")
    print(header)
    print("-" * len(header))
    for label, model in MODELS.items():
        if not model.is_file():
            print(f"{label:13} skipped: {model} not present")
            continue
        for name, image in photos().items():
            f = bench(module, model, image, args.runs)

            def cell(key: str, f: dict = f) -> str:
                return f"{f[key][0]:6.3f}/{f[key][1]:6.3f}"

            pre = f["pre base"][0] / f["pre gen"][0]
            post = f["post base"][0] / f["post gen"][0]
            both = (f["pre base"][0] + f["post base"][0]) / (f["pre gen"][0] + f["post gen"][0])
            print(
                f"{label:13} {name:20} {f['faces'][0]:5d} | {cell('pre gen')} {cell('pre base')} | "
                f"{cell('infer')} | {cell('post gen')} {cell('post base')} | "
                f"{pre:6.1f} {post:6.1f} {both:8.1f} | {cell('pre blue')} "
                f"{(f['pre base'][0] + f['post base'][0]) / (f['pre blue'][0] + f['post gen'][0]):6.1f}"
            )


if __name__ == "__main__":
    main()
