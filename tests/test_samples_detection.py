"""detection_sample.tflite (AI Hub head) and detection_raw_sample.onnx (Ultralytics raw
head), run with LiteRT and onnxruntime directly: signatures, metadata, reproducibility,
and the blob detector finding every coin of scikit-image's `coins` once."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from PIL import Image

from porter.samples import detection
from tests.conftest import ROOT

LITERT = pytest.importorskip("ai_edge_litert.interpreter")
ORT = pytest.importorskip("onnxruntime")

# The 24 coins of skimage.data.coins() (303x384): centre row, centre column, diameter in
# photo pixels, measured by thresholding the photo against its opened background.
COINS = [
    (46, 335, 53), (51, 156, 46), (52, 216, 44), (53, 274, 38), (55, 41, 37), (56, 100, 37),
    (119, 271, 50), (124, 45, 41), (124, 205, 40), (125, 337, 39), (126, 102, 38),
    (127, 154, 38), (186, 347, 64), (193, 212, 48), (194, 277, 40), (196, 102, 44),
    (197, 44, 38), (198, 154, 39), (260, 46, 56), (261, 172, 55), (263, 301, 51),
    (263, 244, 48), (265, 114, 43), (268, 358, 45),
]  # fmt: skip
THRESHOLD = 0.45  # AI Hub's yolov8 app


def letterbox(photo: np.ndarray, size: int) -> tuple[np.ndarray, float, int, int]:
    """AI Hub's resize_pad: scale to fit, black padding split pad//2 left/top (bilinear;
    Pillow here, torch there: the same on this upscale to within a level)."""
    if photo.ndim == 2:
        photo = np.repeat(photo[:, :, None], 3, axis=2)
    h, w = photo.shape[:2]
    scale = min(size / h, size / w)
    nh, nw = int(h * scale), int(w * scale)
    resized = np.asarray(Image.fromarray(photo).resize((nw, nh), Image.BILINEAR))
    out = np.zeros((size, size, 3), np.uint8)
    top, left = (size - nh) // 2, (size - nw) // 2
    out[top : top + nh, left : left + nw] = resized
    return out, scale, left, top


def coins_image() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The coins letterboxed to 640, and the coins' centres (x, y) and radii there."""
    from skimage import data

    image, scale, left, top = letterbox(np.asarray(data.coins()), detection.SIZE)
    coins = np.array(COINS, np.float64)
    centres = np.stack([left + coins[:, 1] * scale, top + coins[:, 0] * scale], 1)
    return image, centres, coins[:, 2] * scale / 2


def disc(colour, cx: int, cy: int, radius: int = 40) -> np.ndarray:
    image = np.zeros((640, 640, 3), np.uint8)
    yy, xx = np.mgrid[:640, :640]
    image[np.hypot(xx - cx, yy - cy) <= radius] = colour
    return image


def assert_one_detection_per_coin(centres_xy: np.ndarray, coins: np.ndarray, radii):
    d = np.hypot(*(centres_xy[:, None, :] - coins[None, :, :]).transpose(2, 0, 1))
    on_coin = d < 0.6 * radii[None, :]
    assert on_coin.any(axis=1).all(), "a detection off every coin"
    assert (on_coin.sum(axis=0) == 1).all(), "a coin missed or found twice"


# -- AI Hub head (TFLite) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tflite_model() -> bytes:
    return detection.detection_sample_tflite()


@pytest.fixture(scope="module")
def interpreter(tflite_model):
    it = LITERT.Interpreter(model_content=tflite_model)
    it.allocate_tensors()
    return it


def run_tflite(interpreter, image: np.ndarray) -> dict[str, np.ndarray]:
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image[None])
    interpreter.invoke()
    return {
        d["name"]: interpreter.get_tensor(d["index"])[0] for d in interpreter.get_output_details()
    }


def decode_tflite(out: dict[str, np.ndarray]):
    boxes = (out["boxes"].astype(np.float64) - 36) * 3.265
    scores = out["scores"].astype(np.float64) / 256
    return boxes, scores, out["class_idx"]


def test_tflite_signature(interpreter):
    (inp,) = interpreter.get_input_details()
    assert inp["name"] == "image" and inp["shape"].tolist() == [1, 640, 640, 3]
    assert inp["dtype"] == np.uint8 and inp["quantization"] == pytest.approx((1 / 255, 0))
    outs = {d["name"]: d for d in interpreter.get_output_details()}
    assert [d["name"] for d in interpreter.get_output_details()] == ["boxes", "scores", "class_idx"]
    assert outs["boxes"]["shape"].tolist() == [1, 8400, 4]
    assert outs["boxes"]["quantization"] == pytest.approx((3.265, 36))
    assert outs["scores"]["shape"].tolist() == [1, 8400]
    assert outs["scores"]["quantization"] == pytest.approx((1 / 256, 0))
    assert outs["class_idx"]["shape"].tolist() == [1, 8400]
    assert outs["class_idx"]["quantization"] == (0.0, 0)  # no quantization: raw ids
    assert outs["class_idx"]["quantization_parameters"]["scales"].size == 0
    assert all(d["dtype"] == np.uint8 for d in outs.values())
    sig = interpreter.get_signature_list()["serving_default"]
    assert sig["inputs"] == ["image"] and sorted(sig["outputs"]) == ["boxes", "class_idx", "scores"]


def test_tflite_reproducible(tflite_model):
    assert detection.detection_sample_tflite() == tflite_model
    assert (ROOT / "samples" / "detection_sample.tflite").read_bytes() == tflite_model
    assert len(tflite_model) < 100_000


def test_tflite_finds_every_coin_once(interpreter):
    image, coins, radii = coins_image()
    boxes, scores, classes = decode_tflite(run_tflite(interpreter, image))
    keep = np.nonzero(scores >= THRESHOLD)[0]
    assert len(keep) == len(COINS)
    assert (keep < 6400).all()  # all on the stride-8 grid
    assert (classes[keep] == detection.SPORTS_BALL).all()
    centres = (boxes[keep, :2] + boxes[keep, 2:]) / 2
    assert_one_detection_per_coin(centres, coins, radii)
    sides = boxes[keep, 2:] - boxes[keep, :2]
    assert np.abs(sides - 80).max() <= 3.265
    # The best of the rest (a bright patch at the photo's top edge) is well below.
    assert np.sort(scores)[-len(COINS) - 1] < THRESHOLD - 0.05


@pytest.mark.parametrize(
    ("colour", "cx", "cy", "cls"),
    [
        ((255, 140, 20), 300, 204, detection.ORANGE),
        ((230, 230, 230), 420, 500, detection.SPORTS_BALL),
    ],
)
def test_tflite_one_disc_one_box(interpreter, colour, cx, cy, cls):
    boxes, scores, classes = decode_tflite(run_tflite(interpreter, disc(colour, cx, cy)))
    (keep,) = np.nonzero(scores >= THRESHOLD)
    assert keep.tolist() == [(cy // 8) * 80 + cx // 8]  # anchor order: stride 8, row-major
    assert classes[keep[0]] == cls
    assert np.abs((boxes[keep[0], :2] + boxes[keep[0], 2:]) / 2 - (cx, cy)).max() <= 4


def test_tflite_anchor_layout(interpreter):
    """Boxes of every anchor sit on its cell centre, level by level; only stride 8 scores."""
    boxes, scores, _ = decode_tflite(run_tflite(interpreter, np.zeros((640, 640, 3), np.uint8)))
    centres = detection.anchor_centres()
    assert np.abs((boxes[:, :2] + boxes[:, 2:]) / 2 - centres).max() <= 3.265
    assert (scores[6400:] == 0).all() and (scores == 0).all()
    sides = np.repeat([80.0, 120.0, 160.0], [6400, 1600, 400])
    assert np.abs(boxes[:, 2] - boxes[:, 0] - sides).max() <= 3.265


# -- Ultralytics raw head (ONNX) --------------------------------------------------------


@pytest.fixture(scope="module")
def onnx_model() -> bytes:
    return detection.detection_raw_sample_onnx()


@pytest.fixture(scope="module")
def session(onnx_model):
    return ORT.InferenceSession(onnx_model, providers=["CPUExecutionProvider"])


def run_onnx(session, image: np.ndarray) -> np.ndarray:
    x = (image.astype(np.float32) / 255).transpose(2, 0, 1)[None]
    return session.run(None, {"images": x})[0][0]


def test_onnx_signature_and_metadata(session, onnx_model):
    import onnx

    (inp,) = session.get_inputs()
    (out,) = session.get_outputs()
    assert (inp.name, inp.shape, inp.type) == ("images", [1, 3, 640, 640], "tensor(float)")
    assert (out.name, out.shape, out.type) == ("output0", [1, 84, 8400], "tensor(float)")
    props = {p.key: p.value for p in onnx.load_from_string(onnx_model).metadata_props}
    assert props["imgsz"] == "[640, 640]" and props["stride"] == "32"
    assert props["task"] == "detect" and props["batch"] == "1"
    names = ast.literal_eval(props["names"])
    assert names == dict(enumerate(detection.COCO_NAMES)) and len(names) == 80
    assert props["names"].startswith("{0: 'person', 1: 'bicycle', ")
    assert list(props)[:6] == ["description", "author", "date", "version", "license", "docs"]
    labels = ROOT.parent / "ref" / "qhm" / "qai_hub_models" / "labels" / "coco_labels.txt"
    if labels.is_file():
        assert list(names.values()) == labels.read_text().splitlines()


def test_onnx_reproducible(onnx_model):
    assert detection.detection_raw_sample_onnx() == onnx_model
    assert (ROOT / "samples" / "detection_raw_sample.onnx").read_bytes() == onnx_model
    assert len(onnx_model) < 100_000


def test_onnx_finds_every_coin_once_like_the_tflite_head(session, interpreter):
    image, coins, radii = coins_image()
    out = run_onnx(session, image)
    scores, classes = out[4:].max(axis=0), out[4:].argmax(axis=0)
    keep = np.nonzero(scores >= THRESHOLD)[0]
    assert len(keep) == len(COINS)
    assert (classes[keep] == detection.SPORTS_BALL).all()
    assert_one_detection_per_coin(out[:2, keep].T, coins, radii)
    assert (out[2:4, keep] == 80).all()
    assert (out[4:] >= 0).all() and (out[4:] <= 1).all()
    # The AI Hub head is this head's max/argmax, boxes as corners, quantized.
    boxes, q_scores, q_classes = decode_tflite(run_tflite(interpreter, image))
    assert np.abs(q_scores - scores).max() <= 1 / 256
    assert (q_classes[keep] == classes[keep]).all()
    corners = np.concatenate([out[:2] - out[2:4] / 2, out[:2] + out[2:4] / 2]).T
    assert np.abs(boxes - corners).max() <= 3.265 / 2 + 1e-3


def test_onnx_orange_disc(session):
    out = run_onnx(session, disc((255, 150, 30), 148, 468))
    keep = np.nonzero(out[4:].max(axis=0) >= THRESHOLD)[0]
    assert keep.tolist() == [(468 // 8) * 80 + 148 // 8]
    assert out[4:, keep[0]].argmax() == detection.ORANGE
    assert np.abs(out[:2, keep[0]] - (148, 468)).max() <= 4
