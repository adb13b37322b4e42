"""porter inspect on big models: wall time and peak RSS against model size and runtime load.

Builds (once, in a temporary folder) a .tflite with >= 500 MB of weights and an ONNX
model with >= 500 MB of external data, then measures, each in a fresh process:
`porter inspect --json`, and the runtime loading the same model (LiteRT Interpreter +
allocate_tensors; onnxruntime InferenceSession).

Run: python benchmarks/bench_inspect.py [--mb 512] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# Peak RSS from /proc/self/status VmHWM: getrusage's ru_maxrss carries the parent's
# peak across fork and exec, which here would be the model builder's.
PEAK = r"""
def vm_hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
"""

MEASURE = (
    PEAK
    + r"""
import sys, time, runpy
start = time.perf_counter()
sys.argv = sys.argv[1:]
try:
    runpy.run_module(sys.argv[0], run_name="__main__") if not sys.argv[0].endswith(".py") else None
except SystemExit:
    pass
wall = time.perf_counter() - start
print(f"\nMEASURED {wall:.4f} {vm_hwm()}", file=sys.stderr)
"""
)

RUNTIME_TFLITE = """
import sys
from ai_edge_litert.interpreter import Interpreter
interpreter = Interpreter(model_path=sys.argv[1])
interpreter.allocate_tensors()
"""

RUNTIME_ONNX = """
import sys
import onnxruntime
onnxruntime.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
"""


def build_tflite(path: Path, megabytes: int) -> None:
    from porter.tflite_builder import ModelSpec, OpSpec, TensorSpec, build_tflite

    columns = 4096
    rows = megabytes * 1024 * 1024 // (4 * columns)
    weights = np.ones((rows, columns), np.float32).tobytes()
    spec = ModelSpec(
        tensors=[
            TensorSpec("x", [1, columns]),
            TensorSpec("w", [rows, columns], data=weights),
            TensorSpec("y", [1, rows]),
        ],
        ops=[OpSpec("FULLY_CONNECTED", [0, 1, -1], [2])],
        inputs=[0],
        outputs=[2],
    )
    path.write_bytes(build_tflite(spec))


def build_onnx(path: Path, megabytes: int) -> None:
    import onnx
    from onnx import TensorProto, helper

    columns = 4096
    rows = megabytes * 1024 * 1024 // (4 * columns)
    weights = path.with_suffix(".weights")
    np.ones((columns, rows), np.float32).tofile(weights)
    w = onnx.TensorProto()
    w.name, w.data_type = "w", TensorProto.FLOAT
    w.dims.extend([columns, rows])
    w.data_location = TensorProto.EXTERNAL
    for key, value in (
        ("location", weights.name),
        ("offset", "0"),
        ("length", str(weights.stat().st_size)),
    ):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "big",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, columns])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, rows])],
        initializer=[w],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def measure(argv: list[str]) -> tuple[float, int]:
    """Wall time and peak RSS of one fresh Python process running `argv`."""
    if argv[0] == "-c":
        code = PEAK + argv[1] + "\nimport sys\nprint(f'MEASURED 0 {vm_hwm()}', file=sys.stderr)\n"
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", code, *argv[2:]], capture_output=True, text=True
        )
        wall = time.perf_counter() - start
    else:
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True
        )
        wall = time.perf_counter() - start
    line = [x for x in result.stderr.splitlines() if x.startswith("MEASURED")]
    if result.returncode != 0 or not line:
        raise SystemExit(f"failed: {argv}\n{result.stderr[-2000:]}")
    return wall, int(line[-1].split()[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=512, help="weights size in MB (default 512)")
    parser.add_argument("--keep", help="build the models in this folder and keep them")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="porter-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    tflite, onnx_model = folder / "big.tflite", folder / "big.onnx"
    if not tflite.exists():
        build_tflite(tflite, args.mb)
    if not onnx_model.exists():
        build_onnx(onnx_model, args.mb)
    print(
        f"machine: {platform.platform()}, {platform.machine()}, Python {platform.python_version()}"
    )
    print(f"reproduce: python benchmarks/bench_inspect.py --mb {args.mb}\n")
    rows = []
    for label, model, size, runtime in (
        ("tflite", tflite, tflite.stat().st_size, RUNTIME_TFLITE),
        (
            "onnx + external",
            onnx_model,
            onnx_model.with_suffix(".weights").stat().st_size,
            RUNTIME_ONNX,
        ),
    ):
        # Warm the page cache once so both sides read the same way.
        measure(["porter", "inspect", str(model), "--json"])
        best = min(
            (measure(["porter", "inspect", str(model), "--json"]) for _ in range(3)),
            key=lambda m: m[0],
        )
        load = min((measure(["-c", runtime, str(model)]) for _ in range(2)), key=lambda m: m[0])
        rows.append((label, size, best, load))
    print(
        f"{'model':16} {'size MB':>8} {'inspect s':>10} {'RSS MB':>8} {'RSS/size':>9} "
        f"{'runtime load s':>15} {'runtime RSS MB':>15}"
    )
    for label, size, (wall, rss), (load_wall, load_rss) in rows:
        print(
            f"{label:16} {size / 2**20:8.0f} {wall:10.3f} {rss / 2**20:8.1f} {rss / size:9.1%} "
            f"{load_wall:15.3f} {load_rss / 2**20:15.1f}"
        )
    print("\ntargets: inspect under 1 s, peak RSS under 20% of the model size")
    print(
        json.dumps(
            {
                label: {"size": size, "inspect_s": w, "rss": r, "load_s": lw, "load_rss": lr}
                for label, size, (w, r), (lw, lr) in rows
            }
        )
    )


if __name__ == "__main__":
    main()
