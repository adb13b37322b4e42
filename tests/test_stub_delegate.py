"""Tests of the stub external delegate that stands in for libQnnTFLiteDelegate.so.

They load the compiled stub with ai_edge_litert exactly as a generated script
would, on tiny float32 models built here with the flatbuffer object API.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter, OpResolverType, load_delegate

from tests.npu.stub_delegate import (
    DEFAULT_NAME,
    ENV_VARS,
    build_stub_delegate_or_skip,
    find_c_compiler,
    read_trace,
    stub_env,
)

ADD = schema.BuiltinOperator.ADD
MUL = schema.BuiltinOperator.MUL
NO_DEFAULT_DELEGATES = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
A = np.array([[1.0, -2.0, 3.5, 4.0]], dtype=np.float32)
B = np.array([[10.0, 20.0, -30.0, 0.25]], dtype=np.float32)


def build_model(ops: list[tuple[int, int, int, int]]) -> bytes:
    """A float32 [1, 4] model; ``ops`` are (builtin code, input, input, output).

    Tensors 0 and 1 are the model inputs, the highest tensor index its output.
    """
    model = schema.ModelT()
    model.version = 3
    model.buffers = [schema.BufferT()]  # buffer 0: the required empty buffer
    codes = sorted({code for code, *_ in ops})
    model.operatorCodes = []
    for code in codes:
        op_code = schema.OperatorCodeT()
        op_code.builtinCode = code
        op_code.deprecatedBuiltinCode = code
        op_code.version = 1
        model.operatorCodes.append(op_code)

    graph = schema.SubGraphT()
    n_tensors = 1 + max(max(op[1:]) for op in ops)
    graph.tensors = []
    for index in range(n_tensors):
        tensor = schema.TensorT()
        tensor.shape = [1, 4]
        tensor.type = schema.TensorType.FLOAT32
        tensor.buffer = 0
        tensor.name = f"t{index}"
        graph.tensors.append(tensor)
    graph.operators = []
    for code, lhs, rhs, out in ops:
        op = schema.OperatorT()
        op.opcodeIndex = codes.index(code)
        op.inputs = [lhs, rhs]
        op.outputs = [out]
        if code == ADD:
            op.builtinOptionsType = schema.BuiltinOptions.AddOptions
            op.builtinOptions = schema.AddOptionsT()
        else:
            op.builtinOptionsType = schema.BuiltinOptions.MulOptions
            op.builtinOptions = schema.MulOptionsT()
        graph.operators.append(op)
    graph.inputs = [0, 1]
    graph.outputs = [n_tensors - 1]
    model.subgraphs = [graph]

    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


# (a + b) + b: both ADDs form one partition; tensor 2 lives inside it.
TWO_ADDS = build_model([(ADD, 0, 1, 2), (ADD, 2, 1, 3)])
TWO_ADDS_EXPECTED = (A + B) + B
# ((a + b) * b) + b: the MUL splits the ADDs into two partitions.
ADD_MUL_ADD = build_model([(ADD, 0, 1, 2), (MUL, 2, 1, 3), (ADD, 3, 1, 4)])
ADD_MUL_ADD_EXPECTED = ((A + B) * B) + B


@pytest.fixture(scope="session")
def stub_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_stub_delegate_or_skip(tmp_path_factory.mktemp("stub_delegate"))


@pytest.fixture(autouse=True)
def clean_stub_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def trace_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "trace.txt"
    monkeypatch.setenv("STUB_DELEGATE_RECORD", str(path))
    return path


def run(model: bytes, delegate, resolver=NO_DEFAULT_DELEGATES):
    """Run ``model`` on A and B; returns (output, op names of the final graph)."""
    interpreter = Interpreter(
        model_content=model,
        experimental_delegates=[delegate],
        experimental_op_resolver_type=resolver,
    )
    interpreter.allocate_tensors()
    first, second = interpreter.get_input_details()
    interpreter.set_tensor(first["index"], A)
    interpreter.set_tensor(second["index"], B)
    interpreter.invoke()
    output = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    names = [op["op_name"] for op in interpreter._get_ops_details()]
    return output, names


def test_build_names_the_library_like_qnn(stub_lib: Path) -> None:
    assert stub_lib.name == DEFAULT_NAME == "libQnnTFLiteDelegate.so"
    assert stub_lib.is_file()


def test_options_are_recorded_exactly(stub_lib: Path, trace_file: Path) -> None:
    options = {"backend_type": "htp", "htp_performance_mode": 2, "log_level": "1"}
    delegate = load_delegate(str(stub_lib), options=options)
    trace = read_trace(trace_file)
    assert trace.lines == [
        "@create",
        "backend_type=htp",
        "htp_performance_mode=2",
        "log_level=1",
    ]
    assert trace.options == {
        "backend_type": "htp",
        "htp_performance_mode": "2",
        "log_level": "1",
    }
    assert trace.prepares == []  # Prepare only runs once an Interpreter uses it
    run(TWO_ADDS, delegate)
    assert read_trace(trace_file).prepares == [0]


def test_newlines_in_values_are_escaped(stub_lib: Path, trace_file: Path) -> None:
    load_delegate(str(stub_lib), options={"note": "a\nb"})
    assert read_trace(trace_file).options == {"note": "a\\nb"}


def test_no_record_file_means_no_trace(stub_lib: Path, tmp_path: Path) -> None:
    output, _ = run(TWO_ADDS, load_delegate(str(stub_lib)))
    np.testing.assert_allclose(output, TWO_ADDS_EXPECTED)
    assert list(tmp_path.iterdir()) == []


def test_create_failure_raises_value_error(
    stub_lib: Path, trace_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_DELEGATE_FAIL", "create")
    with pytest.raises(ValueError, match="creation failure requested"):
        load_delegate(str(stub_lib), options={"backend_type": "htp"})
    trace = read_trace(trace_file)
    assert trace.options == {"backend_type": "htp"}
    assert trace.create_failures == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [("STUB_DELEGATE_FAIL", "sometimes"), ("STUB_DELEGATE_CLAIM", "adds")],
)
def test_bad_setting_fails_creation(
    stub_lib: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"bad {name} value"):
        load_delegate(str(stub_lib))


def test_prepare_failure_raises_runtime_error(
    stub_lib: Path, trace_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_DELEGATE_FAIL", "prepare")
    delegate = load_delegate(str(stub_lib))
    with pytest.raises(RuntimeError, match="prepare failure requested"):
        Interpreter(model_content=TWO_ADDS, experimental_delegates=[delegate])
    assert read_trace(trace_file).prepare_failures == 1


def test_invoke_failure_raises_runtime_error(
    stub_lib: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_DELEGATE_FAIL", "invoke")
    monkeypatch.setenv("STUB_DELEGATE_CLAIM", "add")
    with pytest.raises(RuntimeError, match="invoke failure requested"):
        run(TWO_ADDS, load_delegate(str(stub_lib)))


# Delegate.__del__ trips over the half-built object; harmless, but reported.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_missing_library_raises_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        load_delegate(str(tmp_path / DEFAULT_NAME))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_library_without_plugin_symbols_raises_attribute_error(
    stub_lib: Path, tmp_path: Path
) -> None:
    source = tmp_path / "empty.c"
    source.write_text("int not_a_delegate(void) { return 0; }\n")
    target = tmp_path / "libempty.so"
    compiler = find_c_compiler()
    assert compiler is not None  # stub_lib would have skipped otherwise
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(target), str(source)], check=True)
    with pytest.raises(AttributeError, match="tflite_plugin_create_delegate"):
        load_delegate(str(target))


def test_default_claims_no_node(stub_lib: Path, trace_file: Path) -> None:
    output, names = run(TWO_ADDS, load_delegate(str(stub_lib)))
    assert names == ["ADD", "ADD"]
    assert read_trace(trace_file).prepares == [0]
    np.testing.assert_allclose(output, TWO_ADDS_EXPECTED)


def test_claim_add_computes_a_partition_of_two_adds(
    stub_lib: Path, trace_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_DELEGATE_CLAIM", "add")
    output, names = run(TWO_ADDS, load_delegate(str(stub_lib)))
    # The replaced nodes stay listed; the partition is appended as DELEGATE.
    assert names == ["ADD", "ADD", "DELEGATE"]
    trace = read_trace(trace_file)
    assert trace.prepares == [2]
    assert trace.lines[-1] == "@invoke nodes=2"
    np.testing.assert_allclose(output, TWO_ADDS_EXPECTED)


def test_claim_add_takes_exactly_the_add_nodes(
    stub_lib: Path, trace_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_DELEGATE_CLAIM", "add")
    output, names = run(ADD_MUL_ADD, load_delegate(str(stub_lib)))
    assert names == ["ADD", "MUL", "ADD", "DELEGATE", "DELEGATE"]
    trace = read_trace(trace_file)
    assert trace.prepares == [2]
    assert trace.invokes == 2  # one per partition; the MUL ran on the CPU
    np.testing.assert_allclose(output, ADD_MUL_ADD_EXPECTED)


def test_claim_add_runs_before_default_xnnpack(
    stub_lib: Path, trace_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_DELEGATE_CLAIM", "add")
    output, names = run(ADD_MUL_ADD, load_delegate(str(stub_lib)), OpResolverType.AUTO)
    # Our two partitions plus XNNPACK's, which only got the MUL.
    assert names.count("DELEGATE") == 3
    assert read_trace(trace_file).prepares == [2]
    np.testing.assert_allclose(output, ADD_MUL_ADD_EXPECTED)


def test_claim_by_op_code_uses_a_pass_through_kernel(
    stub_lib: Path, trace_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_DELEGATE_CLAIM", str(MUL))
    output, names = run(ADD_MUL_ADD, load_delegate(str(stub_lib)))
    assert names.count("DELEGATE") == 1
    assert read_trace(trace_file).prepares == [1]
    np.testing.assert_allclose(output, (A + B) + B)  # the "MUL" copied its input


def test_claim_all(stub_lib: Path, trace_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUB_DELEGATE_CLAIM", "all")
    _, names = run(ADD_MUL_ADD, load_delegate(str(stub_lib)))
    assert names.count("DELEGATE") == 1
    assert read_trace(trace_file).prepares == [3]


def test_option_overrides_environment(
    stub_lib: Path, trace_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_DELEGATE_CLAIM", "none")
    delegate = load_delegate(str(stub_lib), options={"stub_claim": "add"})
    output, _ = run(TWO_ADDS, delegate)
    assert read_trace(trace_file).prepares == [2]
    np.testing.assert_allclose(output, TWO_ADDS_EXPECTED)


def test_read_trace_of_missing_file(tmp_path: Path) -> None:
    trace = read_trace(tmp_path / "never-written.txt")
    assert trace.creates == 0
    assert trace.options == {}


def test_stub_env_rejects_unknown_fail_mode() -> None:
    with pytest.raises(ValueError, match="fail must be one of"):
        stub_env(fail="later")


SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter, load_delegate

    delegate = load_delegate(sys.argv[1], options={"backend_type": "htp"})
    interpreter = Interpreter(model_path=sys.argv[2], experimental_delegates=[delegate])
    interpreter.allocate_tensors()
    first, second = interpreter.get_input_details()
    interpreter.set_tensor(first["index"], np.array([[1, 2, 3, 4]], np.float32))
    interpreter.set_tensor(second["index"], np.array([[1, 1, 1, 1]], np.float32))
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    print(out.tolist())
    """
)


def test_subprocess_sees_settings_through_environment(stub_lib: Path, tmp_path: Path) -> None:
    model_path = tmp_path / "two_adds.tflite"
    model_path.write_bytes(TWO_ADDS)
    trace_path = tmp_path / "trace.txt"
    env = os.environ | stub_env(record=trace_path, claim="add")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(stub_lib), str(model_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[[3.0, 4.0, 5.0, 6.0]]"
    trace = read_trace(trace_path)
    assert trace.options == {"backend_type": "htp"}
    assert trace.prepares == [2]
    assert trace.invokes == 1
