"""The super_resolution family: generated/super_resolution_sample.py against
tests/reference_super_resolution.py (AI Hub's app restated with loops) for one tile, and
porter's own tiling of larger photos against a plain bilinear x4 resize (the sample model
is a bilinear x4 upscaler, so a seamless tiling gives that resize back)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from porter.plan import ScaffoldOptions
from porter.scaffold import generate
from tests import reference_super_resolution as ref
from tests.conftest import ROOT, import_script, run

LITERT = pytest.importorskip("ai_edge_litert.interpreter")
SCRIPT = ROOT / "generated" / "super_resolution_sample.py"
MODEL = ROOT / "samples" / "super_resolution_sample.tflite"
SAMPLE_Q = (1 / 255, 0)  # the sample's output, as QuickSRNet-small w8a8's
ESRGAN_Q = (0.00497, 25)  # Real-ESRGAN-general-x4v3 w8a8's output


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return import_script(SCRIPT, "generated_super_resolution_sample")


@pytest.fixture(scope="module")
def pipeline(script):
    return script.prepare()


def photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A natural photo (skimage's coffee) resized to width x height, RGB uint8."""
    from skimage import data

    return np.asarray(Image.fromarray(data.coffee()).resize((width, height), Image.BILINEAR))


def bilinear(image: np.ndarray, factor: int) -> np.ndarray:
    """A plain bilinear resize in float64 (half-pixel centres, edges clamped)."""

    def axis(n: int):
        src = np.maximum((np.arange(n * factor) + 0.5) / factor - 0.5, 0)
        i0 = np.minimum(np.floor(src).astype(int), n - 1)
        return i0, np.minimum(i0 + 1, n - 1), src - i0

    y0, y1, wy = axis(image.shape[0])
    x0, x1, wx = axis(image.shape[1])
    f = image.astype(np.float64)
    rows = f[y0] * (1 - wy)[:, None, None] + f[y1] * wy[:, None, None]
    return rows[:, x0] * (1 - wx)[None, :, None] + rows[:, x1] * wx[None, :, None]


def output_spec(script, scale: float, zero_point: int, dtype: str = "uint8") -> dict:
    spec = dict(script.EXPECTED_OUTPUTS[0])
    return {**spec, "dtype": dtype, "quantization": {"scale": [scale], "zero_point": [zero_point]}}


def decoder(script, quantization=SAMPLE_Q, dtype: str = "uint8"):
    spec = output_spec(script, *quantization, dtype)
    return script.Decoder({spec["name"]: spec}, dict(script.OPTIONS), [])


def one_tile(script) -> object:
    return script.Tiles(128, 128, (0,), (0,))


def reference_pixels(codes: np.ndarray, quantization) -> np.ndarray:
    """AI Hub's app on raw output codes, value by value: the reference's own loops."""
    scale, zero_point = quantization
    upscaled = np.array(
        [ref.dequantize(c, scale, zero_point) for c in codes.reshape(-1)], np.float32
    ).reshape(codes.shape)
    return np.array(ref.output_image(upscaled), np.uint8)


# ---- one tile: AI Hub's app exactly ---------------------------------------------------


@pytest.mark.parametrize("quantization", [SAMPLE_Q, ESRGAN_Q])
def test_single_tile_decoding_is_the_reference(script, quantization):
    """Every code, through the Decoder and through the reference, in a 512x512x3 output."""
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 256, (1, 512, 512, 3), dtype=np.uint8)
    codes.reshape(-1)[:256] = np.arange(256)  # every code at least once
    result = decoder(script, quantization)([{"upscaled_image": codes}], one_tile(script))
    image = result["_image"]
    assert image.shape == (512, 512, 3) and image.dtype == np.uint8
    # The reference's loops on every code, then on a patch of the image itself.
    table = reference_pixels(np.arange(256).reshape(1, 16, 16), quantization).reshape(-1)
    assert np.array_equal(image, table[codes[0]])
    assert np.array_equal(image[:16, :24], reference_pixels(codes[0, :16, :24], quantization))
    assert result["output"] == {"width": 512, "height": 512}
    assert result["scale"] == 4 and result["tiles"] == 1


def test_real_esrgan_values_outside_0_1_are_clipped_and_truncated(script):
    """Real-ESRGAN's zero point 25 and scale 0.00497: codes below 25 are negative (0),
    codes from 227 up are above 1 (255); between, x255 truncated, not rounded."""
    codes = np.zeros((1, 512, 512, 3), np.uint8)
    codes[0, 0, :256, 0] = np.arange(256)
    row = decoder(script, ESRGAN_Q)([{"upscaled_image": codes}], one_tile(script))["_image"]
    pixels = row[0, :256, 0].astype(int)
    assert (pixels[:26] == 0).all()
    assert (pixels[227:] == 255).all()
    values = (np.arange(256) - 25) * np.float64(0.00497)
    inside = slice(26, 227)
    assert (pixels[inside] == np.floor(values[inside].astype(np.float32) * 255)).all()
    assert pixels[100] == 95  # 75 x 0.00497 x 255 = 95.05, truncated
    assert pixels[202] == 224  # 177 x 0.00497 x 255 = 224.32


def test_float_and_int8_outputs(script):
    """A float output goes through the same clip and truncation; NaN becomes 0; an int8
    output is looked up by its codes."""
    values = np.full((1, 512, 512, 3), 0.5, np.float32)
    values[0, 0, :4, 0] = [-0.2, 1.7, np.nan, 0.999]
    spec = {**script.EXPECTED_OUTPUTS[0], "dtype": "float32", "quantization": None}
    image = script.Decoder({spec["name"]: spec}, dict(script.OPTIONS), [])(
        [{"upscaled_image": values}], one_tile(script)
    )["_image"]
    assert image[0, :4, 0].tolist() == [0, 255, 0, 254]
    assert image[5, 5, 1] == 127
    codes = np.arange(-128, 128, dtype=np.int8)
    raw = np.zeros((1, 512, 512, 3), np.int8)
    raw[0, 0, :256, 2] = codes
    image = decoder(script, (1 / 255, -128), "int8")([{"upscaled_image": raw}], one_tile(script))
    assert image["_image"][0, :256, 2].tolist() == [ref.to_uint8(v / 255) for v in range(256)]


def test_channels_first_output(script, monkeypatch):
    """An ONNX export's NCHW output [1, 3, H, W] gives the same image."""
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 256, (1, 512, 512, 3), dtype=np.uint8)
    nhwc = decoder(script, ESRGAN_Q)([{"upscaled_image": codes}], one_tile(script))["_image"]
    monkeypatch.setattr(script, "CHANNELS_FIRST", True)
    nchw = np.ascontiguousarray(codes.transpose(0, 3, 1, 2))
    image = decoder(script, ESRGAN_Q)([{"upscaled_image": nchw}], one_tile(script))["_image"]
    assert np.array_equal(image, nhwc)


def test_photo_of_the_input_size_is_ais_hub_single_run(pipeline):
    """A 128x128 photo: one tile, and exactly the app's image of the model's output, the
    input quantized as AI Hub's runtime wrapper does."""
    image = photo(128, 128)
    table = np.array([ref.quantize(ref.input_value(p), 1 / 255, 0) for p in range(256)], np.uint8)
    interpreter = LITERT.Interpreter(model_path=str(MODEL))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], table[image][None])
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
    # The reference's loops on every code, then on a patch of the output itself.
    codes = reference_pixels(np.arange(256).reshape(1, 16, 16), SAMPLE_Q).reshape(-1)
    result = pipeline.infer(image)
    assert result["tiles"] == 1
    assert np.array_equal(result["_image"], codes[out])
    assert np.array_equal(
        result["_image"][100:120, 40:80], reference_pixels(out[100:120, 40:80], SAMPLE_Q)
    )


# ---- tiling ------------------------------------------------------------------------------


def test_tile_starts_cover_with_the_overlap(script):
    for size in [*range(1, 400), 640, 1919, 4032]:
        for overlap in (0, 1, 16, 64):
            starts = script.tile_starts(size, 128, overlap)
            assert starts[0] == 0 and starts[-1] + 128 == max(size, 128)
            steps = np.diff(starts)
            assert (steps > 0).all() and (128 - steps >= overlap).all()
            # As few as can be: one fewer would leave a smaller overlap somewhere.
            if len(starts) > 1:
                assert (len(starts) - 2) * (128 - overlap) + 128 < size


@pytest.mark.parametrize("starts", [(0,), (0, 112), (0, 56, 113), (0, 100, 200, 201), (0, 64)])
def test_feathering_weights_sum_to_one(script, starts):
    """Weights add up to 1 at every pixel; a tile's edge inside the photo has weight 0
    (the outer third of the overlap is the neighbour's); a lone tile's weights are 1."""
    weights = script.feather(starts, 128, 4)
    total = np.zeros((starts[-1] + 128) * 4)
    for index, (start, weight) in enumerate(zip(starts, weights, strict=True)):
        assert weight.shape == (512,) and (weight >= 0).all() and (weight <= 1).all()
        total[start * 4 : start * 4 + 512] += weight
        if index > 0:
            third = (starts[index - 1] + 128 - start) * 4 // 3
            assert (weight[:third] == 0).all() and weight[third + 1] > 0
        if index + 1 < len(starts):
            assert weight[-1] == 0
    assert np.abs(total - 1).max() < 1e-6
    if len(starts) == 1:
        assert (weights[0] == 1).all()


def blend_everywhere(script, layout, tiles, scale: int) -> np.ndarray:
    """Every tile weighted over all of its pixels and added into one float image, in the
    layout's order, then rounded: what stitch() must give, though it copies where one
    tile alone has weight and blends only the overlaps."""
    rows = script.feather(layout.rows, 128, scale)
    columns = script.feather(layout.columns, 128, scale)
    span = 128 * scale
    total = np.zeros(((layout.rows[-1] + 128) * scale, (layout.columns[-1] + 128) * scale, 3))
    total = total.astype(np.float32)
    tiles = iter(tiles)
    for top, row_weight in zip(layout.rows, rows, strict=True):
        for left, column_weight in zip(layout.columns, columns, strict=True):
            weighted = next(tiles) * row_weight[:, None, None]
            weighted *= column_weight[:, None]
            total[top * scale : top * scale + span, left * scale : left * scale + span] += weighted
    total = total[: layout.height * scale, : layout.width * scale]
    return np.clip(np.rint(total), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("width", "height", "overlap"),
    [(300, 170, 24), (240, 240, 64), (129, 500, 8), (128, 128, 24), (1000, 131, 0), (90, 50, 24)],
)
def test_stitch_copies_alone_and_blends_overlaps_exactly(script, width, height, overlap):
    """Random tiles on layouts with overlaps (240 px at overlap 64: tiles at 0, 56 and 112,
    each overlapping both others), a lone tile, no overlap and a padded photo: stitch() equals
    blending every tile everywhere, value for value; a table given as `pixels` is applied
    to the codes as a lookup would be."""
    image = Image.new("RGB", (width, height))
    _, layout = script.fit_photo(image, {"overlap": overlap})
    count = len(layout.rows) * len(layout.columns)
    rng = np.random.default_rng(width * height + overlap)
    tiles = [rng.integers(0, 256, (512, 512, 3), dtype=np.uint8) for _ in range(count)]
    expected = blend_everywhere(script, layout, tiles, 4)
    np.testing.assert_array_equal(script.stitch(layout, tiles, 4), expected)
    table = rng.permutation(256).astype(np.uint8)
    looked_up = [table[tile] for tile in tiles]
    got = script.stitch(layout, tiles, 4, lambda codes: np.take(table, codes))
    np.testing.assert_array_equal(got, blend_everywhere(script, layout, looked_up, 4))


def seam_mask(layout, scale: int, margin: int = 2) -> np.ndarray:
    """True near every tile edge inside the photo (where a hard cut would show)."""
    height, width = layout.height * scale, layout.width * scale
    mask = np.zeros((height, width), bool)
    for top in layout.rows:
        for edge in (top * scale, (top + 128) * scale):
            if 0 < edge < height:
                mask[max(edge - margin, 0) : edge + margin] = True
    for left in layout.columns:
        for edge in (left * scale, (left + 128) * scale):
            if 0 < edge < width:
                mask[:, max(edge - margin, 0) : edge + margin] = True
    return mask


def noise(width: int, height: int) -> np.ndarray:
    """Random pixels: the worst case for a seam (every pixel differs from its neighbours)."""
    return np.random.default_rng(3).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize("kind", ["photo", "noise"])
def test_odd_sized_photo_is_a_seamless_bilinear_upscale(script, pipeline, kind):
    """300x170: 2 x 3 overlapping tiles. The stitched x4 image is the plain bilinear x4
    resize of the whole photo to within half a level (the sample's own rounding)
    everywhere: no worse near the tiles' edges than elsewhere."""
    image = photo(300, 170) if kind == "photo" else noise(300, 170)
    result = pipeline.infer(image)
    upscaled = result["_image"]
    assert upscaled.shape == (680, 1200, 3) and result["output"] == {"width": 1200, "height": 680}
    _, layout = script.fit_photo(Image.fromarray(image), pipeline.options)
    assert (len(layout.rows), len(layout.columns)) == (2, 3) and result["tiles"] == 6
    error = np.abs(upscaled - bilinear(image, 4)).max(axis=2)
    seams = seam_mask(layout, 4)
    assert error.max() <= 0.5
    assert error[seams].max() == error[~seams].max()
    assert error[seams].mean() <= error[~seams].mean() * 1.1


def test_a_hard_cut_would_show(script, pipeline):
    """The seam test has teeth: tiles pasted without blending leave the model's edges
    (the sample clamps at its input's edge, as at a photo's)."""
    image = noise(300, 170)
    pipeline.infer(image)
    _, layout = script.fit_photo(Image.fromarray(image), pipeline.options)
    pasted = np.zeros((680, 1200, 3), np.uint8)
    tiles = iter(pipeline.raw_outputs)
    for top in layout.rows:
        for left in layout.columns:
            tile = next(tiles)["upscaled_image"][0]
            pasted[top * 4 : top * 4 + 512, left * 4 : left * 4 + 512] = tile
    error = np.abs(pasted - bilinear(image, 4)).max(axis=2)
    seams = seam_mask(layout, 4)
    assert error[~seams].max() <= 0.5 and error[seams].max() > 10


def test_photo_smaller_than_the_input_is_padded_by_mirroring(pipeline):
    """90x50: one tile, the photo mirrored past its right and bottom edges; the crop is a
    bilinear upscale of the photo with its own edges clamped."""
    image = photo(90, 50)
    result = pipeline.infer(image)
    assert result["_image"].shape == (200, 360, 3) and result["tiles"] == 1
    assert np.abs(result["_image"] - bilinear(image, 4)).max() <= 1.0


def test_gray_photo_is_upscaled_as_rgb(pipeline):
    gray = photo(140, 130)[:, :, 1]
    result = pipeline.infer(gray)
    assert result["_image"].shape == (520, 560, 3)
    channels = result["_image"].astype(int)
    assert np.abs(channels[:, :, 0] - channels[:, :, 2]).max() == 0


def test_progress_on_stderr_for_many_tiles(script, capsys, monkeypatch):
    """A slow model (each run takes 40 ms here) and 36 tiles: progress every second."""
    import time

    pipeline = script.prepare(overlap=8)
    run_once = pipeline.runner.run

    def slow(feeds):
        time.sleep(0.04)
        return run_once(feeds)

    monkeypatch.setattr(pipeline.runner, "run", slow)
    result = pipeline.infer(photo(720, 700))  # 6 x 6 tiles at overlap 8
    assert result["tiles"] == 36
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(line.startswith("tile ") and line.endswith(" of 36") for line in lines)
    monkeypatch.setattr(pipeline.runner, "run", run_once)
    pipeline.infer(photo(128, 128))
    assert capsys.readouterr().err == ""


def test_overlap_option(script):
    assert script.prepare(overlap=0).infer(photo(300, 170))["tiles"] == 6
    assert script.prepare(overlap=64).infer(photo(300, 170))["tiles"] == 4 * 2
    with pytest.raises(script.ScriptError, match=r"overlap must be 0\.\.64"):
        script.prepare(overlap=65)


# ---- the command line ----------------------------------------------------------------


def test_command_line_json_and_output(tmp_path, pipeline):
    image = photo(300, 170)
    path = tmp_path / "photo.png"
    Image.fromarray(image).save(path)
    out = tmp_path / "big.png"
    done = run([sys.executable, str(SCRIPT), "--image", str(path), "--json", "--output", str(out)])
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["output"] == {"width": 1200, "height": 680}
    assert document["scale"] == 4 and document["tiles"] == 6
    assert "_image" not in document
    with Image.open(out) as written:
        assert written.size == (1200, 680) and written.mode == "RGB"
        assert np.array_equal(np.asarray(written), pipeline.infer(image)["_image"])
    text = run([sys.executable, str(SCRIPT), "--image", str(path)])
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("upscaled x4 to 1200x680 (6 tiles)\n")
    saved = tmp_path / "raw"
    done = run([sys.executable, str(SCRIPT), "--image", str(path), "--save-outputs", str(saved)])
    assert done.returncode == 0, done.stderr
    assert np.load(saved / "upscaled_image.npy").shape == (6, 1, 512, 512, 3)  # tile by tile
    bad = run([sys.executable, str(SCRIPT), "--image", str(path), "--overlap", "99"])
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: overlap must be")


# ---- detection ---------------------------------------------------------------------------


def family_of(model: Path, tmp_path: Path) -> str:
    options = ScaffoldOptions(model_arg=str(model), output_arg=str(tmp_path / "x.py"))
    _, said = generate(options)
    note = next(line for line in said if line.startswith("family: "))
    return note.split()[1].rstrip(",")


def test_detected_for_the_sample_and_no_other(tmp_path):
    for model in sorted((ROOT / "samples").iterdir()):
        family = family_of(model, tmp_path)
        assert (family == "super_resolution") == (model == MODEL), (model.name, family)


def nchw_upscaler(path: Path) -> None:
    """An ONNX x4 bilinear upscaler with AI Hub's ONNX signature: NCHW float in and out."""
    import onnx
    from onnx import TensorProto, helper

    scales = helper.make_tensor("scales", TensorProto.FLOAT, [4], [1, 1, 4, 4])
    node = helper.make_node(
        "Resize",
        ["image", "", "scales"],
        ["upscaled_image"],
        mode="linear",
        coordinate_transformation_mode="half_pixel",
    )
    graph = helper.make_graph(
        [node],
        "upscaler",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 128, 128])],
        [helper.make_tensor_value_info("upscaled_image", TensorProto.FLOAT, [1, 3, 512, 512])],
        [scales],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)


def test_onnx_nchw_export(tmp_path):
    pytest.importorskip("onnxruntime")
    model = tmp_path / "upscaler.onnx"
    nchw_upscaler(model)
    script_path = tmp_path / "upscaler.py"
    options = ScaffoldOptions(model_arg=str(model), output_arg=str(script_path))
    text, said = generate(options)
    assert "family: super_resolution" in said[0] and "[1, 3, 512, 512]" in said[0]
    script_path.write_text(text)
    module = import_script(script_path, "generated_upscaler_onnx")
    image = photo(300, 170)
    upscaled = module.prepare(model).infer(image)["_image"]
    assert upscaled.shape == (680, 1200, 3)
    # Float output: clip, x255, truncated: within a level of the bilinear resize, below it.
    error = upscaled - bilinear(image, 4)
    assert error.max() <= 0.01 and error.min() > -1.01
