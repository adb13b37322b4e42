"""Bad input to inspect: one line naming the file and the problem, exit code 2."""

from __future__ import annotations

import pytest

from tests import models
from tests.conftest import assert_one_line_error, porter


def test_missing_path(tmp_path):
    assert_one_line_error(
        porter("inspect", str(tmp_path / "nope.tflite")), "nope.tflite", "no such file"
    )


def test_directory(tmp_path):
    assert_one_line_error(porter("inspect", str(tmp_path)), "folder")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    assert_one_line_error(porter("inspect", str(path)), "empty.onnx", "empty")


def test_html_saved_as_onnx(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_text("<!DOCTYPE html><html><body>Sign in</body></html>")
    assert_one_line_error(porter("inspect", str(path)), "model.onnx", "HTML")


def test_unknown_format(tmp_path):
    path = tmp_path / "blob.tflite"
    path.write_bytes(b"\x00\x01\x02\x03not a model at all" * 4)
    assert_one_line_error(porter("inspect", str(path)), "blob.tflite", "unknown format")


@pytest.mark.parametrize("cut", [9, 40, 200, 1000])
def test_truncated_tflite(tmp_path, cut):
    data = models.tflite_uint8_per_channel()
    path = tmp_path / "cut.tflite"
    path.write_bytes(data[:cut])
    assert_one_line_error(porter("inspect", str(path)), "cut.tflite")


@pytest.mark.parametrize("cut", [1, 20, 100])
def test_truncated_onnx(tmp_path, cut):
    data = models.onnx_integer_io()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[:cut])
    assert_one_line_error(porter("inspect", str(path)), "cut.onnx")


def test_format_from_content_not_extension(tmp_path):
    path = tmp_path / "really_tflite.onnx"
    path.write_bytes(models.tflite_float_conv())
    result = porter("inspect", str(path), "--json")
    assert result.returncode == 0 and '"format": "tflite"' in result.stdout


def test_unreadable_file(tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads every file; permission errors cannot be produced")
    path = tmp_path / "locked.tflite"
    path.write_bytes(models.tflite_float_conv())
    path.chmod(0)
    assert_one_line_error(porter("inspect", str(path)), "locked.tflite", "cannot be read")
