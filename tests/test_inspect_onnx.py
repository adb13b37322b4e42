"""porter inspect on .onnx files, cross-checked against onnxruntime's own view."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto

from tests import models
from tests.conftest import ROOT, inspect_json, porter

ORT_TYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(uint8)": "uint8",
    "tensor(int8)": "int8",
    "tensor(uint16)": "uint16",
    "tensor(int16)": "int16",
}
FIXTURES = {
    "float_dynamic": models.onnx_float_dynamic,
    "uint8_io": models.onnx_integer_io,
    "int8_io": lambda: models.onnx_integer_io(TensorProto.INT8, zp=-128),
    "uint16_io": lambda: models.onnx_integer_io(TensorProto.UINT16, zp=32768),
    "uint8_io_constant_node": lambda: models.onnx_integer_io(constant_node=True),
    "qdq": models.onnx_qdq,
    "qdq_per_channel": lambda: models.onnx_qdq(per_channel=True),
    "multi_io": models.onnx_multi_io,
    "face_sample": lambda: (ROOT / "samples" / "face_det_lite_sample.onnx").read_bytes(),
    "classifier_sample": lambda: (ROOT / "samples" / "classifier_sample_qdq.onnx").read_bytes(),
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_inputs_and_outputs_agree_with_onnxruntime(name, tmp_path):
    path = models.write(tmp_path / f"{name}.onnx", FIXTURES[name]())
    doc = inspect_json(path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for tensors, args in (
        (doc["inputs"], session.get_inputs()),
        (doc["outputs"], session.get_outputs()),
    ):
        assert [t["name"] for t in tensors] == [a.name for a in args]
        for tensor, arg in zip(tensors, args, strict=True):
            assert tensor["dtype"] == ORT_TYPES[arg.type]
            assert tensor["shape"] == [d if isinstance(d, int) else None for d in arg.shape]
            assert tensor["dims"] == [d if d is not None else "?" for d in arg.shape]


def test_integer_boundary_quantization(tmp_path):
    doc = inspect_json(models.write(tmp_path / "u.onnx", models.onnx_integer_io()))
    q_in, q_out = doc["inputs"][0]["quantization"], doc["outputs"][0]["quantization"]
    assert q_in["boundary"] == "integer" and q_in["zero_point"] == [0]
    np.testing.assert_allclose(q_in["scale"], [1 / 255], rtol=1e-6)
    assert q_out == {
        "scale": [pytest.approx(0.1)],
        "zero_point": [0],
        "axis": None,
        "boundary": "integer",
    }
    assert doc["inputs"][0]["layout"] == "NCHW"


def test_uint16_and_constant_node_parameters(tmp_path):
    doc = inspect_json(
        models.write(tmp_path / "a.onnx", models.onnx_integer_io(TensorProto.UINT16, zp=32768))
    )
    assert doc["inputs"][0]["dtype"] == "uint16"
    assert doc["inputs"][0]["quantization"]["zero_point"] == [32768]
    doc = inspect_json(
        models.write(tmp_path / "b.onnx", models.onnx_integer_io(constant_node=True))
    )
    assert doc["inputs"][0]["quantization"]["scale"] == [pytest.approx(1 / 255)]


def test_qdq_boundary_says_floats(tmp_path):
    doc = inspect_json(models.write(tmp_path / "q.onnx", models.onnx_qdq()))
    assert doc["inputs"][0]["dtype"] == "float32"
    assert doc["inputs"][0]["quantization"]["boundary"] == "qdq"
    assert doc["outputs"][0]["quantization"]["boundary"] == "qdq"
    assert doc["outputs"][0]["quantization"]["zero_point"] == [100]
    doc = inspect_json(models.write(tmp_path / "p.onnx", models.onnx_qdq(per_channel=True)))
    q = doc["inputs"][0]["quantization"]
    assert q["axis"] == 1 and len(q["scale"]) == 3 and q["zero_point"] == [128, 128, 128]


def test_dynamic_dim_names_and_metadata(tmp_path):
    doc = inspect_json(models.write(tmp_path / "d.onnx", models.onnx_float_dynamic()))
    assert doc["inputs"][0]["dims"] == ["batch", 3, 32, 32]
    assert doc["inputs"][0]["shape"] == [None, 3, 32, 32]
    meta = doc["metadata"]
    assert meta["producer_name"] == "porter-tests"
    assert meta["opset_imports"] == {"ai.onnx": 13}
    assert meta["metadata_props"]["description"] == "x" * 300  # whole in JSON


def test_long_metadata_is_cut_in_table(tmp_path):
    path = models.write(tmp_path / "d.onnx", models.onnx_float_dynamic())
    result = porter("inspect", str(path))
    assert result.returncode == 0
    assert "x" * 300 not in result.stdout
    assert "…" in result.stdout


def test_custom_domain(tmp_path):
    doc = inspect_json(models.write(tmp_path / "c.onnx", models.onnx_custom_domain()))
    assert doc["operators"] == {"com.example.Fancy": 1}
    assert doc["custom_operators"] == ["com.example.Fancy"]
    assert doc["warnings"]


def test_external_data_listed_not_read(tmp_path):
    doc = inspect_json(models.write(tmp_path / "e.onnx", models.onnx_external_data(tmp_path)))
    assert doc["metadata"]["external_data"] == [
        {"location": "weights.bin", "inside_model_folder": True, "exists": True}
    ]
    missing = tmp_path / "m"
    missing.mkdir()
    doc = inspect_json(
        models.write(
            missing / "m.onnx", models.onnx_external_data(missing, "gone.bin", create=False)
        )
    )
    assert doc["metadata"]["external_data"][0]["exists"] is False


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/passwd"])
def test_external_data_outside_folder_is_not_touched(tmp_path, location):
    doc = inspect_json(
        models.write(tmp_path / "x.onnx", models.onnx_external_data(tmp_path, location))
    )
    entry = doc["metadata"]["external_data"][0]
    assert entry == {"location": location, "inside_model_folder": False, "exists": None}
    assert any("outside" in w for w in doc["warnings"])
