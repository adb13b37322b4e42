"""porter inspect on .tflite files, cross-checked against LiteRT's own view."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from tests import models
from tests.conftest import ROOT, inspect_json, porter, shared_model

FIXTURES = {
    "float_conv": models.tflite_float_conv,
    "uint8_per_channel": models.tflite_uint8_per_channel,
    "int8_io": models.tflite_int8_io,
    "multi_io_dynamic": models.tflite_multi_io_dynamic,
    "all_types": models.tflite_all_types,
    "face_sample": lambda: (ROOT / "samples" / "face_det_lite_sample.tflite").read_bytes(),
    "classifier_sample": lambda: (ROOT / "samples" / "classifier_sample.tflite").read_bytes(),
}


def _runtime_view(path) -> tuple[list[dict], list[dict]]:
    interpreter = Interpreter(model_path=str(path))
    return interpreter.get_input_details(), interpreter.get_output_details()


def _matches(tensor: dict, detail: dict) -> None:
    assert tensor.get("tensor_name", tensor["name"]) == detail["name"]
    signature = detail["shape_signature"]
    expected_shape = [
        None if s < 0 else int(d) for d, s in zip(detail["shape"], signature, strict=True)
    ]
    assert tensor["shape"] == expected_shape
    assert tensor["dtype"] == np.dtype(detail["dtype"]).name
    params = detail["quantization_parameters"]
    if len(params["scales"]) == 0:
        assert tensor["quantization"] is None
    else:
        quant = tensor["quantization"]
        np.testing.assert_allclose(quant["scale"], params["scales"], rtol=1e-7)
        assert quant["zero_point"] == [int(z) for z in params["zero_points"]]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_inputs_and_outputs_agree_with_litert(name, tmp_path):
    path = models.write(tmp_path / f"{name}.tflite", FIXTURES[name]())
    doc = inspect_json(path)
    inputs, outputs = _runtime_view(path)
    assert [t.get("tensor_name", t["name"]) for t in doc["inputs"]] == [d["name"] for d in inputs]
    assert [t.get("tensor_name", t["name"]) for t in doc["outputs"]] == [d["name"] for d in outputs]
    for tensor, detail in zip(doc["inputs"] + doc["outputs"], inputs + outputs, strict=True):
        _matches(tensor, detail)


def test_document_fields_and_determinism(tmp_path):
    path = models.write(tmp_path / "m.tflite", models.tflite_uint8_per_channel())
    first = porter("inspect", str(path), "--json")
    second = porter("inspect", str(path), "--json")
    assert first.stdout == second.stdout
    assert first.stderr == ""
    doc = inspect_json(path)
    assert doc["schema_version"] == 1
    assert doc["format"] == "tflite"
    assert doc["file"] == "m.tflite"
    assert doc["size_bytes"] == path.stat().st_size
    assert doc["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert doc["operators"] == {"CONV_2D": 1, "DEQUANTIZE": 2, "QUANTIZE": 1}
    assert doc["inputs"][0]["layout"] == "NHWC"
    assert doc["inputs"][0]["quantization"] == {
        "scale": [0.5],
        "zero_point": [10],
        "axis": None,
        "boundary": "integer",
    }


def test_signature_names_and_tensor_names(tmp_path):
    doc = inspect_json(models.write(tmp_path / "s.tflite", models.tflite_int8_io()))
    assert doc["inputs"][0]["name"] == "x"
    assert doc["inputs"][0]["tensor_name"] == "serving_default_x:0"
    assert doc["outputs"][0]["name"] == "y"
    assert doc["outputs"][0]["tensor_name"] == "StatefulPartitionedCall:0"
    assert doc["metadata"]["signatures"] == ["serving_default"]


def test_dynamic_dims_and_many_types(tmp_path):
    doc = inspect_json(models.write(tmp_path / "d.tflite", models.tflite_multi_io_dynamic()))
    audio, state = doc["inputs"]
    assert audio["shape"] == [None, 16000] and audio["dims"] == ["?", 16000]
    assert state["shape"] == [1, 5, None, 3] and state["layout"] == "NHWC"
    assert [t["name"] for t in doc["outputs"]] == ["sum", "state_out"]


def test_every_tensor_type(tmp_path):
    doc = inspect_json(models.write(tmp_path / "t.tflite", models.tflite_all_types()))
    assert [t["dtype"] for t in doc["inputs"]] == models.ALL_TYPES


def test_custom_ops_metadata_subgraphs(tmp_path):
    doc = inspect_json(models.write(tmp_path / "c.tflite", models.tflite_custom_and_metadata()))
    assert doc["operators"] == {"ADD": 1, "MyCustomOp": 1}
    assert doc["custom_operators"] == ["MyCustomOp"]
    assert any("MyCustomOp" in w for w in doc["warnings"])
    meta = doc["metadata"]
    assert meta["subgraphs"] == 2
    assert meta["description"] == "custom op model"
    assert meta["min_runtime_version"] == "1.5.0"
    assert meta["tflite_metadata"] is True
    assert meta["entries"]["notes"] == "made for porter's tests"
    assert meta["entries"]["TFLITE_METADATA"].startswith("<")


def test_deprecated_opcode_field(tmp_path):
    """Old files fill only the int8 deprecated_builtin_code."""
    doc = inspect_json(
        models.write(tmp_path / "o.tflite", models.tflite_custom_and_metadata(deprecated=True))
    )
    assert doc["operators"] == {"ADD": 1, "MyCustomOp": 1}


def test_ambiguous_layout_warns(tmp_path):
    doc = inspect_json(models.write(tmp_path / "a.tflite", models.tflite_ambiguous()))
    assert doc["inputs"][0]["layout"] is None
    assert any("ambiguous" in w for w in doc["warnings"])


def test_human_output_has_tables(tmp_path):
    path = models.write(tmp_path / "h.tflite", models.tflite_custom_and_metadata())
    result = porter("inspect", str(path))
    assert result.returncode == 0, result.stderr
    for word in ("Inputs", "Outputs", "Operators", "Metadata", "MyCustomOp", "warning"):
        assert word in result.stdout


def test_string_tensor_is_named(tmp_path):
    doc = inspect_json(models.write(tmp_path / "t.tflite", models.tflite_string_input()))
    assert doc["inputs"][0]["dtype"] == "string"


@pytest.mark.parametrize("variant", ["float", "w8a8-int8"])
def test_real_face_det_lite(variant):
    path = shared_model(f"face_det_lite-{variant}.tflite")
    doc = inspect_json(path)
    inputs, outputs = _runtime_view(path)
    for tensor, detail in zip(doc["inputs"] + doc["outputs"], inputs + outputs, strict=True):
        _matches(tensor, detail)
    assert [t["name"] for t in doc["outputs"]] == ["heatmap", "bbox", "landmark"]
    assert doc["inputs"][0]["shape"] == [1, 480, 640, 1]
    assert doc["inputs"][0]["layout"] == "NHWC"
    if variant == "w8a8-int8":
        assert doc["inputs"][0]["quantization"]["zero_point"] == [-128]
        assert doc["metadata"]["signatures"] == ["serving_default"]
    else:
        assert doc["inputs"][0]["quantization"] is None
    assert doc["operators"]["CONV_2D"] > 10
