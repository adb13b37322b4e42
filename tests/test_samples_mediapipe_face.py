"""mediapipe_face_sample.tflite, run with LiteRT directly: signature, reproducibility,
anchor layout, and AI Hub's decode finding every coin of scikit-image's `coins` once."""

from __future__ import annotations

import numpy as np
import pytest

from porter.samples import mediapipe_face
from tests.conftest import ROOT
from tests.test_samples_detection import COINS, letterbox

LITERT = pytest.importorskip("ai_edge_litert.interpreter")


@pytest.fixture(scope="module")
def model() -> bytes:
    return mediapipe_face.mediapipe_face_sample_tflite()


@pytest.fixture(scope="module")
def interpreter(model):
    it = LITERT.Interpreter(model_content=model)
    it.allocate_tensors()
    return it


def run(interpreter, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw box_coords [896, 16] and logits [896] for one uint8 RGB image."""
    interpreter.set_tensor(
        interpreter.get_input_details()[0]["index"], (image.astype(np.float32) / 255)[None]
    )
    interpreter.invoke()
    out = {
        d["name"]: interpreter.get_tensor(d["index"])[0] for d in interpreter.get_output_details()
    }
    return out["box_coords"], out["box_scores"][:, 0]


def decode(raw: np.ndarray, logits: np.ndarray):
    """AI Hub's decode: centre and keypoints offset by anchor * 256, sigmoid scores."""
    anchors = mediapipe_face.anchors().astype(np.float64) * 256
    points = raw.reshape(-1, 8, 2).astype(np.float64)
    points[:, [0, 2, 3, 4, 5, 6, 7]] += anchors[:, None, :]  # not w, h
    centre, size, keypoints = points[:, 0], points[:, 1], points[:, 2:]
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    scores = 1 / (1 + np.exp(-np.clip(logits.astype(np.float64), -100, 100)))
    return boxes, keypoints, scores


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    order, keep = list(np.argsort(-scores, kind="stable")), []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order:
        i = order.pop(0)
        keep.append(i)
        rest = np.array(order, int)
        if not len(rest):
            break
        w = np.maximum(
            0, np.minimum(boxes[i, 2], boxes[rest, 2]) - np.maximum(boxes[i, 0], boxes[rest, 0])
        )
        h = np.maximum(
            0, np.minimum(boxes[i, 3], boxes[rest, 3]) - np.maximum(boxes[i, 1], boxes[rest, 1])
        )
        inter = w * h
        overlap = inter / (area[i] + area[rest] - inter)
        order = rest[overlap <= iou].tolist()
    return keep


def detect(interpreter, image: np.ndarray):
    """AI Hub's app: score >= 0.8, class-agnostic NMS at IoU 0.3."""
    boxes, keypoints, scores = decode(*run(interpreter, image))
    candidates = np.nonzero(scores >= 0.8)[0]
    keep = candidates[nms(boxes[candidates], scores[candidates], 0.3)]
    return keep, boxes, keypoints, scores


def test_signature(interpreter):
    (inp,) = interpreter.get_input_details()
    assert inp["name"] == "image" and inp["shape"].tolist() == [1, 256, 256, 3]
    assert inp["dtype"] == np.float32 and inp["quantization"] == (0.0, 0)
    outs = interpreter.get_output_details()
    assert [d["name"] for d in outs] == ["box_coords", "box_scores"]
    assert outs[0]["shape"].tolist() == [1, 896, 16] and outs[1]["shape"].tolist() == [1, 896, 1]
    for d in [inp, *outs]:
        assert d["dtype"] == np.float32
        assert d["quantization_parameters"]["scales"].size == 0
    sig = interpreter.get_signature_list()["serving_default"]
    assert sig["inputs"] == ["image"] and sorted(sig["outputs"]) == ["box_coords", "box_scores"]


def test_reproducible(model):
    assert mediapipe_face.mediapipe_face_sample_tflite() == model
    assert (ROOT / "samples" / "mediapipe_face_sample.tflite").read_bytes() == model
    assert len(model) < 100_000


def test_anchors_match_ai_hub():
    a = mediapipe_face.anchors()
    assert a.shape == (896, 2)
    assert a[0].tolist() == a[1].tolist() == [0.03125, 0.03125]
    assert a[2].tolist() == [0.09375, 0.03125]
    assert a[512].tolist() == [0.0625, 0.0625] and (a[512:518] == a[512]).all()


def test_coins_one_detection_each_with_box_and_keypoints(interpreter):
    from skimage import data

    image, scale, left, top = letterbox(np.asarray(data.coins()), 256)
    keep, boxes, keypoints, scores = detect(interpreter, image)
    assert len(keep) == len(COINS)
    assert (keep < 512).all() and (keep % 2 == 0).all()  # 16x16 grid, first anchor
    coins = np.array([(left + c * scale, top + r * scale) for r, c, _ in COINS])
    radii = np.array([d * scale / 2 for *_, d in COINS])
    centres = (boxes[keep, :2] + boxes[keep, 2:]) / 2
    d = np.hypot(*(centres[:, None, :] - coins[None, :, :]).transpose(2, 0, 1))
    assert (d.min(axis=1) < 0.5 * radii[d.argmin(axis=1)]).all()
    assert ((d < 0.5 * radii[None, :]).sum(axis=0) == 1).all()
    assert np.median(d.min(axis=1)) < 4  # centroid-refined, not snapped to the grid
    assert np.allclose(boxes[keep, 2:] - boxes[keep, :2], mediapipe_face.BOX, atol=1e-4)
    offsets = keypoints[keep] - centres[:, None, :]
    assert np.allclose(offsets, mediapipe_face.KEYPOINT_OFFSETS, atol=1e-3)
    assert np.sort(scores)[-len(COINS) - 1] < 0.1  # nothing else comes close


@pytest.mark.parametrize(("cx", "cy"), [(100, 60), (203, 181), (37, 222)])
def test_one_disc_lands_on_its_anchor(interpreter, cx, cy):
    yy, xx = np.mgrid[:256, :256]
    image = np.full((256, 256, 3), 30, np.uint8)
    image[np.hypot(xx - cx, yy - cy) <= 15] = 220
    keep, boxes, keypoints, _ = detect(interpreter, image)
    assert keep.tolist() == [((cy // 16) * 16 + cx // 16) * 2]  # rows: y, x, anchor
    centre = (boxes[keep[0], :2] + boxes[keep[0], 2:]) / 2
    assert np.abs(centre - (cx, cy)).max() < 1.5
    eyes = keypoints[keep[0], :2]
    assert eyes[0, 0] < eyes[1, 0]  # keypoint 0 is the image-left eye


def test_black_image_scores_nothing(interpreter):
    raw, logits = run(interpreter, np.zeros((256, 256, 3), np.uint8))
    # No blob: evidence -0.95 everywhere, logit ln 4 - 12 * 0.95 = -10 on the first
    # anchors, -30 on the others.
    assert logits.max() < -10 and (logits[1::2] == mediapipe_face.OFF_LOGIT).all()
    assert np.isfinite(raw).all() and np.abs(raw[:512, :2]).max() < 1e-3  # anchor centres
