"""`porter doctor`'s NPU verdict: a tiny model, a script porter generates for it, run on QNN.

The trial goes through exactly what a user's script does on the board (it is one): the
QNN TFLite delegate with backend htp for LiteRT, the QNN execution provider for ONNX
Runtime. The script runs in a subprocess, so a delegate that crashes the process gives
a verdict, not a crash of porter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TIMEOUT_SECONDS = 120


@dataclass
class Trial:
    ok: bool  # the model ran with every operator on the NPU
    detail: str


def trial_tflite_model() -> bytes:
    """uint8 [1, 16] -> (x + c) * c + c -> uint8: three quantized operators."""
    from porter.tflite_builder import ModelSpec, OpSpec, TensorSpec, build_tflite, constant

    quant = {"scale": [1 / 255], "zero_point": [0]}
    const = constant("c", np.full((1, 16), 128, np.uint8), **quant)
    spec = ModelSpec(
        tensors=[
            TensorSpec("x", [1, 16], "uint8", **quant),
            const,
            TensorSpec("s", [1, 16], "uint8", scale=[2 / 255], zero_point=[0]),
            TensorSpec("p", [1, 16], "uint8", scale=[2 / 255], zero_point=[0]),
            TensorSpec("y", [1, 16], "uint8", scale=[3 / 255], zero_point=[0]),
        ],
        ops=[OpSpec("ADD", [0, 1], [2]), OpSpec("MUL", [2, 1], [3]), OpSpec("ADD", [3, 1], [4])],
        inputs=[0],
        outputs=[4],
        description="porter doctor's NPU trial",
    )
    return build_tflite(spec)


def trial_onnx_model() -> bytes:
    """A QDQ 1x1 convolution, float in and out, uint8 inside: what QNN's HTP runs."""
    from onnx import TensorProto, helper, numpy_helper

    # Four input channels: not an image, so the script takes --random-input.
    weights = np.linspace(-1, 1, 4 * 4, dtype=np.float32).reshape(4, 4, 1, 1)
    inits = [
        numpy_helper.from_array(np.array(1 / 255, np.float32), "x_scale"),
        numpy_helper.from_array(np.array(0, np.uint8), "x_zero"),
        numpy_helper.from_array(np.round(weights * 127).astype(np.int8), "w_q"),
        numpy_helper.from_array(np.array(1 / 127, np.float32), "w_scale"),
        numpy_helper.from_array(np.array(0, np.int8), "w_zero"),
        numpy_helper.from_array(np.array(4 / 255, np.float32), "y_scale"),
        numpy_helper.from_array(np.array(128, np.uint8), "y_zero"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zero"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "x_scale", "x_zero"], ["xd"]),
        helper.make_node("DequantizeLinear", ["w_q", "w_scale", "w_zero"], ["w"]),
        helper.make_node("Conv", ["xd", "w"], ["yf"]),
        helper.make_node("QuantizeLinear", ["yf", "y_scale", "y_zero"], ["yq"]),
        helper.make_node("DequantizeLinear", ["yq", "y_scale", "y_zero"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "porter_doctor_trial",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString(deterministic=True)


def run_trial(fmt: str) -> Trial:
    """Generate a script for the trial model and run it with --delegate qnn-htp."""
    from porter.plan import ScaffoldOptions
    from porter.scaffold import generate

    build = trial_tflite_model if fmt == "tflite" else trial_onnx_model
    with tempfile.TemporaryDirectory(prefix="porter-doctor-") as folder:
        model = Path(folder) / f"trial.{fmt}"
        model.write_bytes(build())
        script = Path(folder) / "trial.py"
        text, _ = generate(ScaffoldOptions(str(model), str(script)))
        script.write_text(text, encoding="utf-8")
        command = [sys.executable, str(script), "--random-input", "--delegate", "qnn-htp"]
        try:
            ran = subprocess.run(
                [*command, "--json"],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Trial(False, f"a trial model did not finish in {TIMEOUT_SECONDS} s")
    if ran.returncode != 0:
        lines = [line for line in ran.stderr.splitlines() if line.strip()]
        why = lines[-1] if lines else f"exit code {ran.returncode}"
        return Trial(False, f"a trial model failed on QNN: {why.removeprefix('error: ')}")
    return _verdict(json.loads(ran.stdout)["delegate"])


def _verdict(delegate: dict) -> Trial:
    if "delegated_nodes" in delegate:  # LiteRT
        taken, total = delegate["delegated_nodes"], delegate["total_nodes"]
        what = f"the QNN delegate took {taken} of the trial model's {total} operators"
        return Trial(total > 0 and taken == total, what)
    nodes = delegate.get("nodes_by_provider", {})
    total = sum(nodes.values())
    taken = nodes.get("QNNExecutionProvider", 0)
    what = f"the QNN execution provider took {taken} of the trial model's {total} nodes"
    # The float input's QuantizeLinear and the output's DequantizeLinear stay on the CPU.
    boundary = {"QuantizeLinear", "DequantizeLinear"}
    on_cpu = set(delegate.get("cpu_ops", []))
    if on_cpu:
        what += f" (on the CPU: {', '.join(sorted(on_cpu))})"
    return Trial(taken > 0 and on_cpu <= boundary, what)
