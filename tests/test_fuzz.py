"""Broken model files: inspect and scaffold succeed or raise PorterError; never anything else.

A few hundred cases run in the normal suite; `pytest -m fuzz` runs thousands.
"""

from __future__ import annotations

import signal
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from porter.describe import describe_model
from porter.errors import PorterError
from porter.families import available
from porter.plan import ScaffoldOptions
from porter.render import render_script
from porter.scaffold import generate
from porter.tflite_builder import ModelSpec, OpSpec, TensorSpec, build_tflite
from tests import models
from tests.conftest import ROOT, assert_one_line_error, porter

# Every sample model (one per family, at least) and a few odd fixtures.
SEEDS = {
    **{path.name: path.read_bytes() for path in sorted((ROOT / "samples").iterdir())},
    "custom.tflite": models.tflite_custom_and_metadata(),
    "int8.tflite": models.tflite_int8_io(),
    "qdq.onnx": models.onnx_qdq(),
    "dynamic.onnx": models.onnx_float_dynamic(),
}
# Through the command line (a subprocess each): a few of them.
CLI_SEEDS = [
    "face_det_lite_sample.tflite",
    "classifier_sample.tflite",
    "custom.tflite",
    "int8.tflite",
    "face_det_lite_sample.onnx",
    "qdq.onnx",
    "dynamic.onnx",
]
SECONDS_PER_CASE = 5
PEAK_BYTES = 64 * 1024 * 1024
FAST = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
MANY = settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
assert render_script  # scaffold renders through it: generate() covers the whole path


@contextmanager
def bounded():
    """Fail a case that hangs or allocates without bound (a 2^31 dim must not allocate)."""

    def timeout(signum, frame):
        raise AssertionError(f"case took over {SECONDS_PER_CASE} s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(SECONDS_PER_CASE)
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
        assert peak < PEAK_BYTES, f"peak Python allocation {peak} bytes"
    finally:
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def exercise(path: Path, tmp_path: Path, family: str | None = None) -> None:
    """inspect, then scaffold as detected, as the stub and as `family`: success or
    PorterError only."""
    with bounded():
        try:
            describe_model(path)
        except PorterError as exc:
            assert "\n" not in exc.line()
            return
        for postproc in dict.fromkeys((None, "none", family)):
            options = ScaffoldOptions(str(path), str(tmp_path / "out.py"), postproc)
            try:
                text, _ = generate(options)
            except PorterError as exc:
                assert "\n" not in exc.line()
                continue
            compile(text, "generated.py", "exec")


def mutate(
    data: bytes, flips: list[int], cut: int | None, splice: tuple[int, bytes] | None
) -> bytes:
    buf = bytearray(data)
    for bit in flips:
        index = bit % (len(buf) * 8)
        buf[index // 8] ^= 1 << (index % 8)
    if splice is not None:
        at, blob = splice
        at %= len(buf) + 1
        buf[at : at + len(blob)] = blob
    if cut is not None:
        buf = buf[: cut % (len(buf) + 1)]
    return bytes(buf)


mutations = st.tuples(
    st.sampled_from(sorted(SEEDS)),
    st.sampled_from(sorted(available())),
    st.lists(st.integers(min_value=0, max_value=10**7), max_size=12),
    st.none() | st.integers(min_value=0, max_value=10**6),
    st.none()
    | st.tuples(st.integers(min_value=0, max_value=10**6), st.binary(min_size=1, max_size=16)),
)


def _mutation_case(tmp_path_factory, case) -> None:
    name, family, flips, cut, splice = case
    folder = tmp_path_factory.mktemp("fz")
    path = folder / name
    path.write_bytes(mutate(SEEDS[name], flips, cut, splice))
    exercise(path, folder, family)


@FAST
@given(case=mutations)
def test_mutated_files(tmp_path_factory, case):
    _mutation_case(tmp_path_factory, case)


@pytest.mark.fuzz
@MANY
@given(case=mutations)
def test_mutated_files_many(tmp_path_factory, case):
    _mutation_case(tmp_path_factory, case)


absurd_dims = st.lists(
    st.sampled_from([0, 1, 3, 480, 2**31 - 1, 2**30, 65535]), min_size=0, max_size=6
)


def _absurd_tflite(dims: list[int], dtype: str) -> bytes:
    return build_tflite(
        ModelSpec(
            tensors=[TensorSpec("x", dims, dtype), TensorSpec("y", dims, dtype)],
            ops=[OpSpec("ADD", [0, 0], [1])],
            inputs=[0],
            outputs=[1],
        )
    )


def _absurd_onnx(dims: list[int]) -> bytes:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.UINT8, dims)],
        [helper.make_tensor_value_info("y", TensorProto.UINT8, dims)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def _absurd_case(tmp_path_factory, dims, dtype, fmt, family) -> None:
    folder = tmp_path_factory.mktemp("abs")
    path = folder / f"m.{fmt}"
    path.write_bytes(_absurd_tflite(dims, dtype) if fmt == "tflite" else _absurd_onnx(dims))
    exercise(path, folder, family)


@FAST
@given(
    dims=absurd_dims,
    dtype=st.sampled_from(["uint8", "int8", "float32", "int16"]),
    fmt=st.sampled_from(["tflite", "onnx"]),
    family=st.sampled_from(sorted(available())),
)
def test_absurd_dims(tmp_path_factory, dims, dtype, fmt, family):
    _absurd_case(tmp_path_factory, dims, dtype, fmt, family)


@pytest.mark.fuzz
@MANY
@given(
    dims=absurd_dims,
    dtype=st.sampled_from(["uint8", "int8", "float32", "int16"]),
    fmt=st.sampled_from(["tflite", "onnx"]),
    family=st.sampled_from(sorted(available())),
)
def test_absurd_dims_many(tmp_path_factory, dims, dtype, fmt, family):
    _absurd_case(tmp_path_factory, dims, dtype, fmt, family)


def _set_uint32(data: bytes, offset: int, value: int) -> bytes:
    buf = bytearray(data)
    buf[offset : offset + 4] = int(value).to_bytes(4, "little")
    return bytes(buf)


ABSURD_WORDS = [0, 1, 2**31 - 1, 2**32 - 1, 0x7FFFFFF0]


def _absurd_words(tmp_path: Path, value: int, offsets: range | list[int]) -> None:
    data = SEEDS["classifier_sample.tflite"]
    families = sorted(available())
    for number, offset in enumerate(offsets):
        path = tmp_path / "m.tflite"
        path.write_bytes(_set_uint32(data, offset, value))
        exercise(path, tmp_path, families[number % len(families)])


@pytest.mark.parametrize("value", [0, 0x7FFFFFF0])
def test_absurd_offsets_and_counts(tmp_path, value):
    """4-byte words of a model set to absurd values (root offset, vtable, vector lengths):
    never a crash, a hang or a huge allocation. The header and a spread of words here;
    every word with every value under -m fuzz."""
    size = len(SEEDS["classifier_sample.tflite"])
    offsets = sorted({*range(0, 96, 4), *range(96, size - 4, 104)})
    _absurd_words(tmp_path, value, offsets)


@pytest.mark.fuzz
@pytest.mark.parametrize("value", ABSURD_WORDS)
def test_absurd_offsets_and_counts_every_word(tmp_path, value):
    _absurd_words(tmp_path, value, range(0, len(SEEDS["classifier_sample.tflite"]) - 4, 4))


@pytest.mark.parametrize("seed", CLI_SEEDS)
def test_cli_one_line_on_broken_files(tmp_path, seed):
    """Through the real command line: exit 0, or one line and exit 2, never a traceback."""
    # A seed from the name's bytes: hash() of a str changes from process to process.
    rng = np.random.default_rng(list(seed.encode()))
    data = SEEDS[seed]
    for case in range(3):
        broken = mutate(
            data, list(rng.integers(0, len(data) * 8, 8)), int(rng.integers(len(data))), None
        )
        path = tmp_path / f"{case}-{seed}"
        path.write_bytes(broken)
        for args in (
            ["inspect", str(path)],
            ["scaffold", str(path), "-o", str(tmp_path / "o.py"), "--force"],
        ):
            result = porter(*args)
            if result.returncode != 0:
                assert_one_line_error(result)
