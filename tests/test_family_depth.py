"""The depth family against AI Hub's depth_estimation app, restated in
tests/reference_depth.py (the truncated letterbox, undo_resize_pad back to the photo,
matplotlib's plasma of x / x.max()), its script run for real on photos, and
auto-detection of depth outputs."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from PIL import Image

from porter.model import ModelInfo, Quantization, Tensor
from porter.plan import ScaffoldOptions, make_plan
from tests import reference_depth as ref
from tests import reference_detection as letterbox_ref
from tests import reference_segmentation as seg_ref
from tests.conftest import ROOT, run
from tests.test_face_det_lite_decode import load_script

F32 = np.float32
SMALL_INPUT = (16, 24)  # the input size the geometry tests patch in (height, width)
# Photo sizes (width, height): wide, tall, the input's own, tiny, large, and two that
# undo_resize_pad leaves a pixel short (in height, then in width).
PHOTO_SIZES = [(50, 20), (15, 60), (24, 16), (5, 4), (300, 130), (13, 8), (59, 9)]
FLOAT = {"dtype": "float32", "quantization": None}


@pytest.fixture(scope="module")
def script():
    return load_script("depth_sample.py")


@pytest.fixture
def small_input(monkeypatch, script):
    monkeypatch.setattr(script, "INPUT_HEIGHT", SMALL_INPUT[0])
    monkeypatch.setattr(script, "INPUT_WIDTH", SMALL_INPUT[1])


def app_size_and_crop(width: int, height: int):
    box = letterbox_ref.letterbox(height, width, *SMALL_INPUT)
    out_height, out_width = seg_ref.undo_size(*SMALL_INPUT, box.scale)
    left, top = seg_ref.undo_crop((box.pad_left, box.pad_top), box.scale)
    return box, (out_height - top, out_width - left)


def test_sizes_cover_the_short_cases():
    """Two of the photo sizes are ones where the app's map comes out a pixel short."""
    short = []
    for width, height in PHOTO_SIZES:
        _, (rows, cols) = app_size_and_crop(width, height)
        if rows < height or cols < width:
            short.append((width, height))
    assert short == [(13, 8), (59, 9)]


@pytest.mark.parametrize(("width", "height"), PHOTO_SIZES)
@pytest.mark.usefixtures("small_input")
def test_letterbox_truncates_as_pil_resize_pad(script, width, height):
    photo = np.random.default_rng(width + 7 * height).integers(0, 256, (height, width, 3))
    photo = photo.astype(np.uint8)
    canvas, geometry = script.fit_photo(Image.fromarray(photo), {})
    expected, scale, (left, top) = seg_ref.pil_resize_pad(
        photo, *SMALL_INPUT, kernel="generic", fused=False
    )
    assert canvas.dtype == np.uint8
    np.testing.assert_array_equal(canvas, np.array(expected, np.uint8))
    assert (geometry.scale_x, geometry.pad_x, geometry.pad_y) == (scale, left, top)


@pytest.mark.parametrize(("width", "height"), PHOTO_SIZES)
@pytest.mark.usefixtures("small_input")
def test_depth_comes_back_as_undo_resize_pad(script, width, height):
    """The map at the photo's size: undo_resize_pad's values exactly (against the
    reference's plain float32: torch's generic kernel without fused multiply-adds), and
    within float32 rounding of torch's own kernels; where the app's map is a pixel short,
    porter's last row / column follows the same formula, within the input's values."""
    rng = np.random.default_rng(width * height)
    values = rng.uniform(0, 10, SMALL_INPUT).astype(F32)
    box, (rows, cols) = app_size_and_crop(width, height)
    geometry = script.Geometry(width, height, box.scale, box.scale, box.pad_left, box.pad_top)
    decoder = script.Decoder({script.DEPTH_OUTPUT: FLOAT}, {}, [])
    result = decoder({script.DEPTH_OUTPUT: values[np.newaxis, :, :, np.newaxis]}, geometry)
    depth = result["_depth"]
    assert depth.shape == (height, width) and depth.dtype == np.float32
    out_height, out_width = seg_ref.undo_size(*SMALL_INPUT, box.scale)
    plain = seg_ref.bilinear.interpolate_bilinear(
        values[:, :, np.newaxis], out_height, out_width, 1 / box.scale, "generic", False
    )
    left, top = seg_ref.undo_crop((box.pad_left, box.pad_top), box.scale)
    expected = np.array(plain, F32)[top : top + height, left : left + width, 0]
    np.testing.assert_array_equal(depth[:rows, :cols], expected)
    torch_like = np.array(
        ref.depth_to_photo(values, width, height, box.scale, (box.pad_left, box.pad_top)), F32
    )
    np.testing.assert_allclose(depth[:rows, :cols], torch_like, rtol=1e-5, atol=1e-5)
    assert values.min() <= depth.min() and depth.max() <= values.max()
    assert result["depth"] == {
        "min": float(f"{depth.min():.7g}"),
        "max": float(f"{depth.max():.7g}"),
    }


@pytest.mark.parametrize(
    ("shape", "spec"),
    [
        ((1, 16, 24, 1), FLOAT),
        ((1, 1, 16, 24), FLOAT),
        ((1, 16, 24), FLOAT),
        ((1, 16, 24, 1), {"dtype": "float16", "quantization": None}),
        ((1, 16, 24, 1), {"dtype": "uint8", "quantization": {"scale": [0.04], "zero_point": [3]}}),
    ],
)
@pytest.mark.usefixtures("small_input")
def test_every_layout_and_type(script, shape, spec):
    """[1, H, W, 1], [1, 1, H, W] and [1, H, W]; float16; uint8 codes dequantized."""
    codes = np.random.default_rng(0).integers(0, 256, SMALL_INPUT)
    raw = codes.astype(np.dtype(spec["dtype"])).reshape(shape)
    geometry = script.Geometry(24, 16, 1.0, 1.0, 0, 0)
    decoder = script.Decoder({script.DEPTH_OUTPUT: spec}, {}, [])
    depth = decoder({script.DEPTH_OUTPUT: raw}, geometry)["_depth"]
    quantization = spec["quantization"]
    expected = codes.astype(F32)
    if quantization:
        expected = (expected - F32(3)) * F32(0.04)
    np.testing.assert_array_equal(depth, expected)


# ---- the colour map ----------------------------------------------------------------------------


def test_plasma_table_pins():
    """matplotlib's plasma, truncated to uint8 as the app: entries 0, 128 and 255."""
    table = load_script("depth_sample.py").PLASMA
    assert table.shape == (256, 3) and table.dtype == np.uint8
    assert [tuple(table[i].tolist()) for i in (0, 128, 255)] == [
        (12, 7, 134),
        (203, 71, 119),
        (239, 248, 33),
    ]
    # From dark blue to bright yellow, brighter every 32 entries.
    brightness = table.astype(int).sum(axis=1)
    assert (np.diff(brightness[::32]) > 0).all()


EDGE_VALUES = [
    0.0,
    1 / 256,
    np.nextafter(F32(1 / 256), F32(0)),
    0.5,
    255 / 256,
    np.nextafter(F32(1), F32(0)),
    1.0,
    -0.25,
    1e-30,
]


@pytest.mark.parametrize("top", [1.0, 7.3, 1e-3])
def test_colour_map_entries_as_matplotlib(script, top):
    """x / x.max() then matplotlib's entry: x * 256 truncated, 1.0 the last, below 0 the
    first; the table's colours."""
    depth = (np.array(EDGE_VALUES, F32) * F32(top)).reshape(3, 3)
    depth[0, 0] = F32(top)  # the maximum
    colours = script.colour_map(depth)
    entries = ref.heatmap_indices(depth)
    expected = [[ref.colour(e, script.PLASMA.tolist()) for e in row] for row in entries]
    np.testing.assert_array_equal(colours, np.array(expected, np.uint8))


def test_colour_map_of_a_map_without_a_positive_maximum(script):
    """Maximum 0: 0 / 0 is NaN, black ("bad"); below 0 / 0 is -inf, the first entry. A
    NaN anywhere makes the maximum NaN: black everywhere. The app does not guard these."""
    depth = np.array([[0.0, -1.0], [0.0, -2.0]], F32)
    expected = [
        [ref.colour(e, script.PLASMA.tolist()) for e in row] for row in ref.heatmap_indices(depth)
    ]
    np.testing.assert_array_equal(script.colour_map(depth), np.array(expected, np.uint8))
    assert script.colour_map(depth)[0, 0].tolist() == [0, 0, 0]
    nan = np.array([[1.0, np.nan]], F32)
    assert not script.colour_map(nan).any()


# ---- the sample on photos ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pipeline(script):
    return script.prepare()


@pytest.mark.parametrize(("width", "height"), [(640, 480), (300, 700), (256, 256)])
def test_sample_puts_a_bright_disc_near(pipeline, width, height):
    """The sample's inverse depth is brightness: a bright disc on a dark photo is the
    nearest thing, at the disc's place in the photo, whatever the photo's shape."""
    y, x = np.mgrid[:height, :width]
    cx, cy, radius = width * 0.3, height * 0.6, min(width, height) * 0.15
    photo = np.full((height, width, 3), 30, np.uint8)
    photo[(x - cx) ** 2 + (y - cy) ** 2 <= radius**2] = 230
    result = pipeline.infer(photo)
    depth = result["_depth"]
    assert depth.shape == (height, width)
    peak_y, peak_x = np.unravel_index(np.argmax(depth), depth.shape)
    assert np.hypot(peak_x - cx, peak_y - cy) < radius
    assert depth[int(cy), int(cx)] > 3 * depth[5, width - 5]
    assert result["depth"]["max"] == pytest.approx(float(depth.max()), rel=1e-6)


def test_sample_on_a_real_photo(pipeline, photos):
    """scikit-image's coins (bright coins on a dark ground): nearer than the ground."""
    from skimage import data, filters

    gray = data.coins()
    result = pipeline.infer(Image.open(photos["coins"]))
    depth = result["_depth"]
    assert depth.shape == gray.shape
    coins = gray > filters.threshold_otsu(gray)
    assert np.median(depth[coins]) > 1.3 * np.median(depth[~coins])


def test_script_json_output_and_npy(tmp_path, photos):
    """The script: JSON with depth min / max only, --output the colour map at the photo's
    size, --save-depth the float32 map whose range is the JSON's."""
    out, npy = tmp_path / "depth.png", tmp_path / "depth.npy"
    ran = run(
        [
            sys.executable,
            str(ROOT / "generated" / "depth_sample.py"),
            "--image",
            str(photos["astronaut"]),
            "--output",
            str(out),
            "--save-depth",
            str(npy),
            "--json",
        ]
    )
    assert ran.returncode == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert set(doc) == {"model", "delegate", "runs", "timings_ms", "depth"}
    saved = np.load(npy)
    assert saved.shape == (512, 512) and saved.dtype == np.float32
    assert doc["depth"] == {
        "min": float(f"{saved.min():.7g}"),
        "max": float(f"{saved.max():.7g}"),
    }
    coloured = Image.open(out)
    assert (coloured.size, coloured.mode) == ((512, 512), "RGB")
    script = load_script("depth_sample.py")
    np.testing.assert_array_equal(np.asarray(coloured), script.colour_map(saved))


# ---- which family porter picks ----------------------------------------------------------------


def model_with(input_shape, out: Tensor) -> ModelInfo:
    layout = "NHWC" if input_shape[-1] == 3 else "NCHW"
    image = Tensor("image", tuple(input_shape), tuple(input_shape), "float32", layout)
    return ModelInfo("tflite", "m.tflite", "0" * 64, 1, [image], [out], {})


def tensor(name, shape, dtype="float32", quantized=False) -> Tensor:
    quantization = Quantization((0.04,), (0,)) if quantized else None
    return Tensor(name, tuple(shape), tuple(shape), dtype, None, quantization)


def family(info: ModelInfo) -> dict:
    return make_plan(info, ScaffoldOptions("m.tflite", "out.py")).family


@pytest.mark.parametrize(
    ("input_shape", "out", "form"),
    [
        ([1, 256, 256, 3], tensor("depth_estimates", [1, 256, 256, 1]), "nhwc"),
        ([1, 256, 256, 3], tensor("depth_estimates", [1, 256, 256, 1], "uint8", True), "nhwc"),
        ([1, 3, 256, 256], tensor("depth_estimates", [1, 1, 256, 256]), "nchw"),
        ([1, 518, 518, 3], tensor("depth_estimates", [1, 518, 518, 1]), "nhwc"),
        ([1, 3, 518, 518], tensor("predicted_depth", [1, 518, 518]), "squeezed"),
        # Not square, and named like a YOLO output: detection's raw head needs YOLO's
        # anchor count (N * 1024 == IH * IW * 21), which 384 x 512 cells are not.
        ([1, 3, 384, 512], tensor("predicted_depth", [1, 384, 512]), "squeezed"),
        ([1, 384, 672, 3], tensor("output", [1, 384, 672, 1], "float16"), "nhwc"),
    ],
)
def test_depth_outputs_are_detected(input_shape, out, form):
    found = family(model_with(input_shape, out))
    assert (found["name"], found["roles"]["depth"]["form"]) == ("depth", form)


@pytest.mark.parametrize(
    ("input_shape", "out"),
    [
        ([1, 256, 256, 3], tensor("depth", [1, 128, 128, 1])),  # not at the input's size
        ([1, 520, 520, 3], tensor("mask", [1, 520, 520], "uint8")),  # class ids
        ([1, 256, 256, 3], tensor("mask", [1, 256, 256, 2])),  # two channels: classes
        ([1, 128, 128, 3], tensor("upscaled", [1, 512, 512, 3])),  # super-resolution
    ],
)
def test_other_outputs_are_not_depth(input_shape, out):
    assert family(model_with(input_shape, out))["name"] != "depth"
