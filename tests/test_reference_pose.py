"""The HRNet pose reference (tests/reference_pose.py) on hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from tests import reference_pose as ref

F32 = np.float32
H, W = 64, 48


def empty_maps(joints: int = 1) -> np.ndarray:
    return np.zeros((joints, H, W), np.float32)


# ---- the person box ---------------------------------------------------------------------------


def test_tall_box_is_widened_then_padded():
    """30x80 at (10, 20): 30 < 0.75 * 80, so width 60; times 1.25: (75, 100)."""
    center, scale = ref.box_to_center_scale(10, 20, 30, 80)
    assert center == (25, 60)
    assert scale == (75, 100)


def test_wide_box_is_heightened_then_padded():
    """200x100: 200 > 75, so height 200 / 0.75 = 266.67; times 1.25."""
    center, scale = ref.box_to_center_scale(0, 0, 200, 100)
    assert center == (100, 50)
    assert scale == (F32(250), F32(F32(200 / 0.75) * F32(1.25)))


def test_whole_image_box():
    """A 640x480 photo: centre (320, 240), scale (800, 1066.67)."""
    center, scale = ref.whole_image(640, 480)
    assert center == (320, 240)
    assert scale[0] == 800
    assert scale[1] == pytest.approx(1066.6667, abs=1e-3)


# ---- the affine mappings ------------------------------------------------------------------------


def test_heatmap_to_image_closed_form():
    """Centre (100, 200), width 96: heatmap 48 wide, so 2 photo pixels per heatmap pixel."""
    matrix = ref.affine_to_image((100, 200), (96, 128), (W, H))
    assert ref.apply_affine(matrix, 24, 32) == pytest.approx((100, 200))
    assert ref.apply_affine(matrix, 0, 0) == pytest.approx((52, 136))
    assert ref.apply_affine(matrix, 47, 63) == pytest.approx((146, 262))


def test_only_the_scale_width_matters():
    a = ref.affine_to_image((50, 60), (150, 300), (W, H))
    b = ref.affine_to_image((50, 60), (150, 200), (W, H))
    assert a == b


def test_input_pixel_source():
    """The 192x256 crop: pixel (96, 128) samples the centre; one pixel is s / 192."""
    center, scale = (F32(320), F32(240)), (F32(384), F32(512))
    assert ref.input_pixel_source(96, 128, center, scale) == pytest.approx((320, 240))
    assert ref.input_pixel_source(0, 0, center, scale) == pytest.approx((128, -16))


# ---- get_final_preds ----------------------------------------------------------------------------


def test_peak_and_quarter_shift_by_hand():
    """Peak at (x 10, y 20); right neighbour > left, lower > upper: +0.25 on both axes."""
    maps = empty_maps()
    maps[0, 20, 10] = 1.0
    maps[0, 20, 11], maps[0, 20, 9] = 0.5, 0.2
    maps[0, 19, 10], maps[0, 21, 10] = 0.1, 0.3
    (kp,) = ref.final_preds(maps, (100, 200), (96, 128))
    assert kp.heatmap_xy == (10.25, 20.25)
    assert kp.score == 1.0
    # X = 100 + (10.25 - 24) * 2, Y = 200 + (20.25 - 32) * 2
    assert kp.xy == (72.5, 176.5)
    assert ref.app_keypoints([kp]) == [(72, 176)]  # 72.5 and 176.5 round half to even


def test_shift_towards_left_and_up_and_none_when_equal():
    maps = empty_maps()
    maps[0, 30, 20] = 0.9
    maps[0, 30, 19] = 0.4  # left larger: -0.25 in x
    maps[0, 29, 20] = maps[0, 31, 20] = 0.3  # equal: no shift in y
    (kp,) = ref.final_preds(maps, (0, 0), (48, 64))
    assert kp.heatmap_xy == (19.75, 30)


@pytest.mark.parametrize(
    ("x", "y", "shifted"),
    [
        (1, 20, False),  # px must be > 1
        (2, 20, True),
        (46, 20, True),  # px < W - 1 = 47
        (47, 20, False),
        (10, 1, False),
        (10, 2, True),
        (10, 62, True),  # py < H - 1 = 63
        (10, 63, False),
        (0, 0, False),
    ],
)
def test_shift_border_conditions(x, y, shifted):
    maps = empty_maps()
    maps[0, y, x] = 1.0
    if x + 1 < W:
        maps[0, y, x + 1] = 0.5
    if y + 1 < H:
        maps[0, y + 1, x] = 0.5
    (kp,) = ref.final_preds(maps, (0, 0), (48, 64))
    step = 0.25 if shifted else 0.0
    assert kp.heatmap_xy == (x + step, y + step)


def test_first_maximum_wins():
    maps = empty_maps()
    maps[0, 40, 5] = maps[0, 10, 30] = maps[0, 10, 40] = 0.7
    x, y, value = ref.joint_peak(maps[0])
    assert (x, y, value) == (30, 10, F32(0.7))


def test_non_positive_peak_is_zeroed():
    """All values <= 0: the joint sits at heatmap (0, 0), the crop's top-left corner."""
    maps = np.full((1, H, W), -0.5, np.float32)
    maps[0, 30, 30] = -0.1
    (kp,) = ref.final_preds(maps, (100, 200), (96, 128))
    assert kp.heatmap_xy == (0, 0)
    assert kp.score == F32(-0.1)
    assert kp.xy == (52, 136)
    # A peak of exactly 0 is zeroed too (maxval > 0 is required).
    (kp,) = ref.final_preds(empty_maps(), (100, 200), (96, 128))
    assert kp.heatmap_xy == (0, 0)


def test_channels_last_heatmaps():
    maps = empty_maps(3)
    maps[0, 5, 6] = maps[1, 7, 8] = maps[2, 50, 40] = 1.0
    nchw = ref.final_preds(maps, (100, 200), (96, 128))
    nhwc = ref.final_preds(np.transpose(maps, (1, 2, 0)), (100, 200), (96, 128), True)
    assert nchw == nhwc
    assert [k.heatmap_xy for k in nchw] == [(6, 5), (8, 7), (40, 50)]
