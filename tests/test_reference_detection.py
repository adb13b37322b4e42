"""The detection reference (tests/reference_detection.py) on hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from tests import reference_detection as ref

F32 = np.float32


def ramp(height: int, width: int, channels: int = 1) -> np.ndarray:
    """An [H, W, C] float32 image whose pixel (y, x, c) is 100 * c + width * y + x."""
    y, x, c = np.indices((height, width, channels))
    return (100 * c + width * y + x).astype(np.float32)


def as_array(nested) -> np.ndarray:
    return np.array(nested, dtype=np.float32)


# ---- letterbox geometry ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        # (H, W) -> scale, new H, new W, left, top, right, bottom
        ((427, 640), (1.0, 427, 640, 0, 106, 0, 107)),
        ((1080, 1920), (1 / 3, 360, 640, 0, 140, 0, 140)),
        ((375, 500), (1.28, 480, 640, 0, 80, 0, 80)),
        ((300, 299), (640 / 300, 640, 637, 1, 0, 2, 0)),
        # floor(303 * (640 / 303)) is 639: one pixel of padding at the bottom.
        ((303, 200), (640 / 303, 639, 422, 109, 0, 109, 1)),
        ((1077, 500), (640 / 1077, 639, 297, 171, 0, 172, 1)),
        ((388, 640), (1.0, 388, 640, 0, 126, 0, 126)),
    ],
)
def test_letterbox(size, expected):
    assert tuple(ref.letterbox(*size)) == expected


def test_split_padding_puts_the_odd_pixel_last():
    assert ref.split_padding(0) == (0, 0)
    assert ref.split_padding(1) == (0, 1)
    assert ref.split_padding(213) == (106, 107)


# ---- bilinear ----------------------------------------------------------------------------------


def test_taps_downscale_by_two_average_pairs():
    """4 -> 2: ratio 2, sources 0.5 and 2.5, weights one half each."""
    assert ref.linear_taps(4, 2) == [(0, 1, 0.5, 0.5), (2, 3, 0.5, 0.5)]


def test_taps_upscale_clamp_at_both_ends():
    """2 -> 4: ratio 0.5, sources -0.25 (raised to 0), 0.25, 0.75, 1.25 (far edge)."""
    assert ref.linear_taps(2, 4) == [
        (0, 1, 1.0, 0.0),
        (0, 1, 0.75, 0.25),
        (0, 1, 0.25, 0.75),
        (1, 1, 0.75, 0.25),
    ]


def test_taps_integer_downscale_by_three_subsamples():
    """1080 -> 360 takes rows 1, 4, 7, ... with weight 1 (no antialiasing)."""
    taps = ref.linear_taps(1080, 360)
    assert [t.i0 for t in taps[:4]] == [1, 4, 7, 10]
    assert all(t.lambda1 == 0 for t in taps)
    assert taps[-1].i0 == 1078


def test_taps_same_size_copy_and_scale_factor():
    assert ref.linear_taps(3, 3) == [(0, 0, 1, 0), (1, 1, 1, 0), (2, 2, 1, 0)]
    # With scale_factor=1/scale the ratio is float32(1 / (1 / scale)), not in / out.
    assert ref.bilinear_ratio(10, 5) == F32(2.0)
    assert ref.bilinear_ratio(10, 7, scale_factor=0.5) == F32(2.0)


def test_values_torch_printed():
    """A 0..198 ramp widened to 423: torch 2.13 gave 63.716312 at x 136 on an AVX512 CPU and
    63.716316 with ATEN_CPU_CAPABILITY=default (one float32 step apart)."""
    ramp_row = np.tile(np.arange(199, dtype=np.float32), (2, 1))[:, :, None]
    fused = ref.interpolate_bilinear(ramp_row, 2, 423)
    plain = ref.interpolate_bilinear(ramp_row, 2, 423, fused=False)
    assert fused[0][136][0] == F32(63.716312)
    assert plain[0][136][0] == F32(63.716316)
    assert fused[0][0][0] == 0 and fused[0][422][0] == 198


def test_bilinear_4x4_to_2x2_by_hand():
    """Each output is the mean of a 2x2 block of 4 * y + x."""
    out = as_array(ref.interpolate_bilinear(ramp(4, 4), 2, 2))
    np.testing.assert_array_equal(out[:, :, 0], [[2.5, 4.5], [10.5, 12.5]])


def test_bilinear_2x2_to_4x4_by_hand():
    """Rows and columns weigh (1, 0), (.75, .25), (.25, .75), (0, 1); channel 1 is +100."""
    out = as_array(ref.interpolate_bilinear(ramp(2, 2, 2), 4, 4))
    column = [0, 0.25, 0.75, 1]
    expected = [[2 * r + c for c in column] for r in column]
    np.testing.assert_array_equal(out[:, :, 0], expected)
    np.testing.assert_array_equal(out[:, :, 1], np.array(expected) + 100)


def test_bilinear_kernels_agree_up_to_rounding():
    image = ramp(5, 7, 3) / 64
    results = [
        as_array(ref.interpolate_bilinear(image, 3, 9, kernel=kernel, fused=fused))
        for kernel in ("generic", "channels_last")
        for fused in (True, False)
    ]
    for other in results[1:]:
        np.testing.assert_allclose(other, results[0], rtol=0, atol=1e-6)


def test_torch_kernel_choice():
    assert ref.torch_kernel(360, 640, 3) == "generic"
    assert ref.torch_kernel(360, 640, 3, threads=1) == "channels_last"
    assert ref.torch_kernel(360, 640, 1, threads=1) == "generic"
    assert ref.torch_kernel(64, 64, 19) == "channels_last"
    assert ref.torch_kernel(64, 65, 1) == "generic"


def test_fma32_rounds_once():
    """1 + 2**-24 is a float32 tie: a * b + c rounds the exact value, not a rounded product."""
    a = F32(1 + 2**-12)
    exact = 1 + 2**-11 + 2**-24  # a * a, not a float32
    assert ref.fma32(a, a, F32(0)) == F32(exact)
    assert ref.fma32(a, a, F32(-1)) == F32(2**-11 + 2**-24)  # kept in full
    assert a * a - F32(1) == F32(2**-11)  # two roundings lose the last bit
    # An exact tie after the double sum still rounds to even.
    assert ref.fma32(F32(1), F32(1), F32(2**-24)) == F32(1)
    assert ref.fma32(F32(1), F32(1 + 2**-23), F32(2**-24)) == F32(1 + 2**-22)
    # 3 * (1 + 2**-23) is a float32 midpoint; a tiny negative addend must round it down,
    # although the double sum rounds back onto the midpoint (and then to even, upwards).
    a, b, c = F32(3), F32(1 + 2**-23), F32(-(2**-60))
    assert F32(float(a) * float(b) + float(c)) == F32(3 + 2**-21)
    assert ref.fma32(a, b, c) == F32(3 + 2**-22)


def test_fused_source_index_differs_where_torch_differs():
    """199 -> 423 px: output 136's source index rounds differently with one rounding."""
    fused = ref.linear_taps(199, 423)[136]
    plain = ref.linear_taps(199, 423, fused=False)[136]
    assert (fused.i0, plain.i0) == (63, 63)
    assert fused.lambda1 != plain.lambda1
    assert fused.lambda1 == ref.fma32(F32(199) / F32(423), F32(136.5), F32(-0.5)) - F32(63)


def test_resize_pad_small_image():
    """2x4 into 4x4: scale 1, two black rows split 1 / 1 above and below."""
    image = ramp(2, 4) / 8
    out, scale, pad = ref.resize_pad(image, 4, 4)
    assert (scale, pad) == (1.0, (0, 1))
    got = as_array(out)[:, :, 0]
    np.testing.assert_array_equal(got[0], 0)
    np.testing.assert_array_equal(got[1:3], image[:, :, 0])
    np.testing.assert_array_equal(got[3], 0)


def test_resize_pad_downscale_and_pad_left():
    """6x3 into 4x4: scale 2/3, new 4x2 (floor), padding 1 left and 1 right."""
    image = ramp(6, 3)
    out, scale, pad = ref.resize_pad(image, 4, 4)
    assert pad == (1, 0) and scale == 4 / 6
    got = as_array(out)[:, :, 0]
    assert np.all(got[:, 0] == 0) and np.all(got[:, 3] == 0)
    # Width 3 -> 2: ratio 1.5, sources 0.25 and 1.75; height 6 -> 4 likewise.
    rows = [0.25, 1.75, 3.25, 4.75]
    cols = [0.25, 1.75]
    np.testing.assert_allclose(got[:, 1:3], [[3 * r + c for c in cols] for r in rows])


# ---- quantization --------------------------------------------------------------------------


def test_quantize_rounds_half_to_even_and_clips():
    assert ref.quantize(0.5, 1 / 255, 0) == 128  # 127.5 -> 128 (even)
    assert ref.quantize(2.5 / 255, 1 / 255, 0) == 2  # 2.5 -> 2 (even)
    assert ref.quantize(1.0, 1 / 255, 0) == 255
    assert ref.quantize(1.2, 1 / 255, 0) == 255
    assert ref.quantize(-0.1, 1 / 255, 0) == 0
    assert ref.quantize(0.0, 0.5, 10) == 10


def test_dequantize():
    assert ref.dequantize(36, 3.265, 36) == 0
    assert ref.dequantize(255, 1 / 256, 0) == F32(255 / 256)
    assert ref.dequantize(100, 0.1709, 63) == F32(37 * 0.1709)


# ---- head decode ------------------------------------------------------------------------------


def test_decode_head_by_hand():
    """Two anchors, three classes: corners from centre and size, first maximal class."""
    output = np.array(
        [
            [320, 10],  # cx
            [240, 20],  # cy
            [100, 4],  # w
            [50, 6],  # h
            [0.1, 0.7],
            [0.9, 0.2],
            [0.9, 0.7],
        ],
        np.float32,
    )
    boxes, scores, classes = ref.decode_head(output)
    assert boxes == [(270, 215, 370, 265), (8, 17, 12, 23)]
    assert scores == [F32(0.9), F32(0.7)]
    assert classes == [1, 0]  # ties go to the first class
    assert ref.decode_head(output.T, channels_first=False) == (boxes, scores, classes)


def test_decode_head_single_class_pads_a_zero_column():
    output = np.array([[5], [5], [2], [2], [-0.25]], np.float32)
    _, scores, classes = ref.decode_head(output)
    assert (scores, classes) == ([0.0], [1])


# ---- NMS --------------------------------------------------------------------------------------


def test_iou_without_plus_one():
    assert ref.box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == F32(50) / F32(150)
    assert ref.box_iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0  # touching edges
    assert ref.box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1


def test_three_box_nms_by_hand():
    """A (0.9) suppresses B (IoU 90/110 = 0.82); C overlaps A by 50/150 and stays."""
    boxes = [(0, 0, 10, 10), (1, 0, 11, 10), (5, 0, 15, 10)]
    scores = [F32(0.9), F32(0.8), F32(0.7)]
    assert ref.nms(boxes, scores, 0.7) == [0, 2]
    assert ref.nms(boxes, scores, 0.34) == [0, 2]
    assert ref.nms(boxes, scores, 0.33) == [0]  # 1/3 > 0.33: C goes too


def test_nms_threshold_is_strict_and_compared_as_double():
    """IoU 70/100 rounds to float32 0.69999999 (kept at 0.7); 30/100 rounds to 0.30000001."""
    assert ref.nms([(0, 0, 10, 10), (0, 0, 7, 10)], [0.9, 0.8], 0.7) == [0, 1]
    assert ref.nms([(0, 0, 10, 10), (0, 0, 3, 10)], [0.9, 0.8], 0.3) == [0]


def test_nms_ties_keep_input_order_and_suppressed_boxes_do_nothing():
    boxes = [(0, 0, 10, 10), (50, 50, 60, 60), (0, 0, 10, 9), (0, 0, 10, 8)]
    scores = [F32(0.5), F32(0.5), F32(0.5), F32(0.9)]
    # Order 3, 0, 1, 2: box 3 suppresses 0 (IoU 0.8) and 2 (80/90).
    assert ref.nms(boxes, scores, 0.7) == [3, 1]
    assert ref.nms(boxes[:3], [0.5] * 3, 0.95) == [0, 1, 2]


def test_batched_nms_is_per_class():
    boxes = [(0, 0, 10, 10), (1, 0, 11, 10), (1, 0, 11, 10), (30, 30, 40, 40)]
    scores = [F32(0.9), F32(0.8), F32(0.85), F32(0.8)]
    classes = [0, 1, 0, 1]
    # Class 0: box 0 suppresses box 2. Class 1: boxes 1 and 3 do not overlap.
    # Merged by score, tie (1 and 3 at 0.8) in input order.
    assert ref.batched_nms(boxes, scores, classes, 0.7) == [0, 1, 3]


# ---- the app ---------------------------------------------------------------------------------


def test_app_detections_filter_nms_and_map_back():
    """A 1080x1920 photo: scale 1/3, padding 140 on top; boxes map back * 3."""
    box = ref.letterbox(1080, 1920)
    boxes = [
        (100, 150, 200, 250),
        (101, 150, 201, 250),  # same class, IoU 99/101: suppressed
        (100, 150, 200, 250),  # another class: kept
        (0, 0, 10, 10),  # below the threshold
        (600, 130, 660, 200),  # past the right edge and into the padding: not clipped
    ]
    scores = [F32(0.9), F32(0.8), F32(0.45), F32(0.44), F32(0.6)]
    classes = [3, 3, 7, 3, 0]
    found = ref.app_detections(boxes, scores, classes, box.scale, (box.pad_left, box.pad_top))
    assert [d.index for d in found] == [0, 4, 2]
    assert found[0].box == (300, 30, 600, 330)
    assert found[1].box == (1800, -30, 1980, 180)
    assert [d.class_id for d in found] == [3, 0, 7]


def test_score_threshold_compares_in_float32():
    """float32(0.45) = 0.44999998807907104 passes ``>= 0.45`` as torch compares it."""
    found = ref.app_detections([(0, 0, 1, 1)], [F32(0.45)], [0], 1.0, (0, 0))
    assert len(found) == 1
    below = np.nextafter(F32(0.45), F32(0))
    assert ref.app_detections([(0, 0, 1, 1)], [below], [0], 1.0, (0, 0)) == []


def test_map_back_float32_division():
    """(v - pad) / float32(scale): 1077 rows -> scale 640/1077, 1 px pad at the bottom."""
    scale = 640 / 1077
    value = ref.map_back(F32(100.7), 5, scale)
    assert value == (F32(100.7) - F32(5)) / F32(scale)
    assert isinstance(value, np.float32)
