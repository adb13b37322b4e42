"""The MediaPipe face reference (tests/reference_mediapipe_face.py) on hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests import reference_detection as detection
from tests import reference_mediapipe_face as ref

F32 = np.float32


# ---- anchors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("options", [ref.AIHUB_256, ref.SHORT_RANGE_128])
def test_896_anchors_first_and_last_values(options):
    anchors = ref.ssd_anchors(options)
    assert len(anchors) == 896
    # 16x16 grid, two anchors per cell, then 8x8 with six.
    assert anchors[0] == anchors[1] == (0.03125, 0.03125, 1, 1)
    assert anchors[2] == (0.09375, 0.03125, 1, 1)
    assert anchors[32] == (0.03125, 0.09375, 1, 1)  # row 1 of the 16x16 grid (y, then x)
    assert anchors[511] == (0.96875, 0.96875, 1, 1)
    assert anchors[512] == anchors[517] == (0.0625, 0.0625, 1, 1)
    assert anchors[518] == (0.1875, 0.0625, 1, 1)
    assert anchors[895] == (0.9375, 0.9375, 1, 1)


def test_256_and_128_anchors_are_identical():
    assert ref.ssd_anchors(ref.AIHUB_256) == ref.ssd_anchors(ref.SHORT_RANGE_128)


def test_full_range_2304_anchors():
    anchors = ref.ssd_anchors(ref.FULL_RANGE_192)
    assert len(anchors) == 2304
    assert anchors[0] == (F32(0.5) / F32(48), F32(0.5) / F32(48), 1, 1)
    assert anchors[1] == (F32(1.5) / F32(48), F32(0.5) / F32(48), 1, 1)
    assert anchors[48] == (F32(0.5) / F32(48), F32(1.5) / F32(48), 1, 1)
    assert anchors[-1] == (F32(47.5) / F32(48), F32(47.5) / F32(48), 1, 1)


def test_anchor_sizes_without_fixed_size():
    """Layer scales 0.1484375 (stride 8), then the interpolated sqrt(s0 * s1)."""
    options = ref.SHORT_RANGE_128._replace(fixed_anchor_size=False)
    anchors = ref.ssd_anchors(options)
    s0, s1 = F32(0.1484375), ref.calculate_scale(0.1484375, 0.75, 1, 4)
    assert anchors[0][2:] == (s0, s0)
    assert anchors[1][2:] == (F32(math.sqrt(s0 * s1)),) * 2
    assert s1 == F32(0.1484375 + (0.75 - 0.1484375) / 3)


# ---- scores and decode ---------------------------------------------------------------------------


def test_scores_clamped_sigmoid():
    assert ref.score(0.0) == 0.5
    assert ref.score(1000.0) == ref.score(100.0) == 1.0
    assert ref.score(-1000.0) == ref.score(-100.0) == 0.0
    assert ref.score(math.log(4.0)) == pytest.approx(0.8, abs=1e-7)
    assert isinstance(ref.score(2.0), np.float32)


def test_decode_by_hand():
    """Anchor centre (0.5, 0.25): offsets 128 and 64 px; the (w, h) pair gets none."""
    raw = [10, -5, 40, 20, 1, 2] + [0] * 10
    out = ref.decode(raw, (0.5, 0.25, 1.0, 1.0))
    assert out[:4] == [118, 49, 158, 69]  # centre (138, 59), size 40 x 20
    assert out[4:6] == [129, 66]
    assert out[6:] == [128, 64] * 5


def test_decode_other_input_sizes():
    """Google's 128 model decodes with 128 (raw / 128 * aw + ax, times 128, is the same)."""
    out = ref.decode([0, 0, 16, 8] + [0] * 12, (0.25, 0.75, 1, 1), 128, 128)
    assert out[:4] == [24, 92, 40, 100]


# ---- the app -----------------------------------------------------------------------------------


def face_raw(cx, cy, w, h, keypoint=(0.0, 0.0)):
    """Raw values for an anchor at (0, 0): input-pixel centre and size, keypoints at one spot."""
    return [cx, cy, w, h] + list(keypoint) * 6


ZERO_ANCHOR = (0.0, 0.0, 1.0, 1.0)


def test_mapping_back_truncates_toward_zero():
    """640x480 photo into 256: scale 0.4, pad top 32."""
    box = detection.letterbox(480, 640, 256, 256)
    assert (box.scale, box.pad_left, box.pad_top) == (0.4, 0, 32)
    assert ref.to_photo(100, 0, 0.4) == 250
    assert ref.to_photo(52, 32, 0.4) == 50
    assert ref.to_photo(31.8, 32, 0.4) == 0  # -0.5 truncates to 0
    assert ref.to_photo(31.5, 32, 0.4) == -1


def test_every_face_reported_in_score_order():
    """Three faces: two apart (kept), one overlapping the best (IoU > 0.3, dropped)."""
    coords = [
        face_raw(60, 100, 40, 40, (60, 100)),
        face_raw(200, 100, 40, 40, (200, 100)),
        face_raw(65, 100, 40, 40, (65, 100)),  # IoU with face 0: 1400 / 1800
        face_raw(128, 128, 10, 10),  # below the threshold
    ]
    logits = [2.0, 3.0, 1.5, 1.0]  # scores 0.881, 0.953, 0.818, 0.731
    anchors = [ZERO_ANCHOR] * 4
    faces = ref.detect_faces(coords, logits, anchors, 640, 480, 0.4, (0, 32))
    assert [f.index for f in faces] == [1, 0]
    assert faces[0].box == ((450, 120), (550, 220))  # (180 / .4, (80 - 32) / .4), ...
    assert faces[0].keypoints == [(500, 170)] * 6
    assert faces[1].box == ((100, 120), (200, 220))


def test_nms_at_exactly_three_tenths_suppresses():
    """IoU 30 / 100 is float32 0.30000001 > 0.3: the weaker face goes."""
    coords = [face_raw(105, 105, 10, 10), face_raw(101.5, 105, 3, 10)]
    faces = ref.detect_faces(coords, [3.0, 2.0], [ZERO_ANCHOR] * 2, 640, 480, 1.0, (0, 0))
    assert [f.index for f in faces] == [0]


def test_faces_outside_the_photo_are_dropped():
    """A keypoint past the right edge drops a face whose box is inside; x == width stays."""
    photo_w, photo_h = 256, 200
    coords = [
        face_raw(100, 100, 20, 20, (257, 100)),  # keypoint x 257 > 256
        face_raw(30, 30, 20, 20, (256, 200)),  # keypoint exactly on the corner: kept
        face_raw(200, 150, 20, 20, (200, -0.5)),  # y -0.5 truncates to 0: kept
        face_raw(5, 150, 20, 20),  # box x0 = -5: dropped
    ]
    faces = ref.detect_faces(
        coords, [4.0, 3.0, 2.0, 1.5], [ZERO_ANCHOR] * 4, photo_w, photo_h, 1.0, (0, 0)
    )
    assert [f.index for f in faces] == [1, 2]


def test_threshold_is_inclusive_in_float32():
    """float32(log 4) scores exactly float32(0.8) and passes ``>= 0.8``; three float32 steps
    lower the score is 0.79999995 and fails."""
    logit = F32(math.log(4.0))
    low = logit
    for _ in range(3):
        low = np.nextafter(low, F32(0))
    assert ref.score(logit) == F32(0.8)
    assert ref.score(low) == np.nextafter(F32(0.8), F32(0))
    coords = [face_raw(100, 100, 10, 10), face_raw(300, 300, 10, 10)]
    kept = ref.detect_faces(coords, [logit, low], [ZERO_ANCHOR] * 2, 640, 480, 1.0, (0, 0))
    assert [f.index for f in kept] == [0]


def test_real_anchors_and_score_shape():
    """[N, 1] scores and real anchors: a face planted on anchor 600 comes out there."""
    anchors = ref.ssd_anchors(ref.AIHUB_256)
    coords = np.zeros((896, 16), np.float32)
    coords[:, 2:4] = 20
    logits = np.full((896, 1), -10.0, np.float32)
    logits[600] = 5.0
    (face,) = ref.detect_faces(coords, logits, anchors, 256, 256, 1.0, (0, 0))
    ax, ay = anchors[600][:2]  # cell 14 of the 8x8 grid: x 6, y 1
    assert (ax, ay) == (0.8125, 0.1875)
    assert face.index == 600
    assert face.box == ((198, 38), (218, 58))
