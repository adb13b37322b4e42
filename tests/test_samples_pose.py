"""pose_sample.tflite, run with LiteRT directly: signature, reproducibility, and the
known stick figure one bright dot gives."""

from __future__ import annotations

import numpy as np
import pytest

from porter.samples import pose
from tests.conftest import ROOT

LITERT = pytest.importorskip("ai_edge_litert.interpreter")


@pytest.fixture(scope="module")
def model() -> bytes:
    return pose.pose_sample_tflite()


@pytest.fixture(scope="module")
def interpreter(model):
    it = LITERT.Interpreter(model_content=model)
    it.allocate_tensors()
    return it


def heatmaps(interpreter, image: np.ndarray) -> np.ndarray:
    """Dequantized heatmaps [17, 64, 48] (transposed from the model's channels-last)."""
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image[None])
    interpreter.invoke()
    raw = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
    return raw.transpose(2, 0, 1).astype(np.float64) / 255


def dot_image(row: int, col: int) -> np.ndarray:
    """A white dot of radius 4 px on the centre of heatmap cell (row, col)."""
    yy, xx = np.mgrid[:256, :192]
    image = np.zeros((256, 192, 3), np.uint8)
    image[np.hypot(xx - (4 * col + 1.5), yy - (4 * row + 1.5)) <= 4] = 255
    return image


def peaks(maps: np.ndarray) -> np.ndarray:
    """[17, 2] (row, column) of each keypoint's maximum (first one, row-major)."""
    flat = maps.reshape(len(maps), -1).argmax(axis=1)
    return np.stack(np.unravel_index(flat, maps.shape[1:]), axis=1)


def test_signature(interpreter):
    (inp,) = interpreter.get_input_details()
    (out,) = interpreter.get_output_details()
    assert inp["name"] == "image" and inp["shape"].tolist() == [1, 256, 192, 3]
    assert inp["dtype"] == np.uint8 and inp["quantization"] == pytest.approx((1 / 255, 0))
    assert out["name"] == "heatmaps" and out["shape"].tolist() == [1, 64, 48, 17]
    assert out["dtype"] == np.uint8 and out["quantization"] == pytest.approx((1 / 255, 0))
    assert interpreter.get_signature_list() == {
        "serving_default": {"inputs": ["image"], "outputs": ["heatmaps"]}
    }


def test_reproducible(model):
    assert pose.pose_sample_tflite() == model
    assert (ROOT / "samples" / "pose_sample.tflite").read_bytes() == model
    assert len(model) < 100_000


@pytest.mark.parametrize(("row", "col"), [(32, 24), (30, 20)])
def test_one_dot_gives_the_known_skeleton(interpreter, row, col):
    maps = heatmaps(interpreter, dot_image(row, col))
    expected = np.array(pose.JOINT_OFFSETS) + np.array([row, col])
    assert (peaks(maps) == expected).all()
    tops = maps.reshape(17, -1).max(axis=1)
    assert np.abs(tops - 0.9).max() <= 2 / 255
    # Each peak is a clean blob: its 4-neighbours are equal (no quarter-pixel shift in
    # HRNet's decode) and lower.
    for j, (y, x) in enumerate(expected):
        m = maps[j]
        assert m[y - 1, x] == m[y + 1, x] < m[y, x]
        assert m[y, x - 1] == m[y, x + 1] < m[y, x]


def test_skeleton_reads_as_a_standing_person(interpreter):
    rows, cols = peaks(heatmaps(interpreter, dot_image(32, 24))).T
    k = {name: i for i, name in enumerate(pose.KEYPOINTS)}
    assert rows[k["left_eye"]] < rows[k["nose"]] < rows[k["left_shoulder"]]
    assert rows[k["left_shoulder"]] < rows[k["left_hip"]] < rows[k["left_knee"]]
    assert rows[k["left_knee"]] < rows[k["left_ankle"]]
    for part in ("eye", "ear", "shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
        # Facing the camera: the subject's left is on the image's right.
        assert cols[k[f"left_{part}"]] > cols[k[f"right_{part}"]]
        assert rows[k[f"left_{part}"]] == rows[k[f"right_{part}"]]


def test_black_and_flat_interiors_give_nothing(interpreter):
    assert (heatmaps(interpreter, np.zeros((256, 192, 3), np.uint8)) == 0).all()
    maps = heatmaps(interpreter, np.full((256, 192, 3), 200, np.uint8))
    # The spot filter sums to zero: a flat image responds only near its border, which
    # the shifts move around; far from every border nothing responds.
    interior = maps[:, 28:36, 20:28]
    assert interior.max() == 0
