"""mediapipe_face's sample: AI Hub's MediaPipeFaceDetector signature, a bright-blob detector.

`mediapipe_face_sample` has the exact signature of AI Hub's MediaPipe face detector
TFLite export with concatenated outputs (`image` float32 [1,256,256,3], RGB 0..1, not
quantized -> `box_coords` float32 [1,896,16], `box_scores` float32 [1,896,1] logits;
anchors: the 16x16 grid with 2 per cell, then the 8x8 grid with 6 per cell, rows
ordered y, x, anchor) but hand-set weights. It finds round bright objects 25-45 px
across, such as the coins of scikit-image's `coins` letterboxed to 256x256 (all 24, one
detection each at AI Hub's 0.8 score threshold), not faces. What it computes:

- The input is averaged over 4x4 cells (64x64). Blob response r: a centre-surround
  filter on the cells' grey level (centre disk radius 3 cells minus the ring 6..7 cells
  out, 15x15). Centre brightness c: the mean of the centre disk.
- Per 16x16 anchor cell (4x4 of those cells): score logit =
  max(-30, ln 4 + 12 * max over the cell of (r - 0.2 + 1.5 * (c - 0.5))
  - 5000 * (3x3 max of the cells' max r - the cell's max r)), so only the anchor cell
  holding a local maximum of r scores, and evidence 0 is AI Hub's threshold 0.8. The
  second anchor of each cell, and all 384 8x8-grid anchors, get logit -30.
- Centre: the centroid of max(r - 0.05, 0) over the 48x48 px window centred on the anchor
  cell (AVERAGE_POOL 12 stride 4 SAME on cells; the anchor centre when empty), given as
  offsets from the anchor centre in input pixels, as AI Hub decodes them:
  cx = raw[0] + anchor_x * 256, cy = raw[1] + anchor_y * 256.
- w = h = 34 px; six keypoints at fixed offsets from the centre (KEYPOINT_OFFSETS, in
  AI Hub's order: image-left eye, image-right eye, nose, mouth, image-left ear,
  image-right ear), raw[4 + 2k] = dx + offset_x, raw[5 + 2k] = dy + offset_y.
- The 8x8-grid anchors: no offset, 68 px boxes, keypoints twice as far out.
"""

from __future__ import annotations

import numpy as np

from porter.tflite_builder import Graph, TensorSpec, build_tflite

SIZE = 256
CELL = 4
GRID = SIZE // CELL  # 64
LEVELS = ((16, 2), (8, 6))  # (grid, anchors per cell)
NUM_ANCHORS = sum(g * g * a for g, a in LEVELS)  # 896
BOX = 34.0
KEYPOINT_OFFSETS = [(-7, -5), (7, -5), (0, 2), (0, 9), (-15, -2), (15, -2)]  # (x, y) px
_CENTRE_RADIUS, _RING_INNER, _RING_OUTER, _KERNEL = 3.0, 6.0, 7.0, 15
_GAIN, _RESPONSE_AT_THRESHOLD = 12.0, 0.2
_BRIGHTNESS_WEIGHT, _BRIGHTNESS_AT_THRESHOLD = 1.5, 0.5
_PEAK_PENALTY = 5000.0
_CENTROID_FLOOR, _CENTROID_WINDOW, _EPS = 0.05, 12, 1e-4
OFF_LOGIT = -30.0
LOGIT_AT_THRESHOLD = 1.3862943611198906  # ln(0.8 / 0.2): AI Hub's 0.8 threshold


def _disk_kernels() -> tuple[np.ndarray, np.ndarray]:
    c = _KERNEL // 2
    yy, xx = np.mgrid[:_KERNEL, :_KERNEL] - c
    d2 = yy**2 + xx**2  # squared distances: integers, exact on every machine
    centre = (d2 <= _CENTRE_RADIUS**2).astype(np.float64)
    ring = ((d2 >= _RING_INNER**2) & (d2 <= _RING_OUTER**2)).astype(np.float64)
    return centre / centre.sum() - ring / ring.sum(), centre / centre.sum()


def coord_weights(scale: float, anchors: int) -> tuple[np.ndarray, np.ndarray]:
    """1x1 weights [16 * anchors, 2] on the centre offsets (dx, dy) and bias: for every
    anchor of a cell the 16 raw values cx cy w h kp0x kp0y ... kp5x kp5y."""
    w = np.zeros((16, 2))
    b = np.zeros(16)
    w[0::2, 0] = 1  # cx and every keypoint x follow dx
    w[1::2, 1] = 1  # cy and every keypoint y follow dy
    w[2:4] = 0  # w, h do not
    b[2:4] = BOX * scale
    b[4:] = np.array(KEYPOINT_OFFSETS, np.float64).ravel() * scale
    return np.tile(w, (anchors, 1)).astype(np.float32), np.tile(b, anchors).astype(np.float32)


def anchors() -> np.ndarray:
    """[896, 2] anchor centres (x, y), normalised, as in AI Hub's anchors_face_back.npy."""
    out = []
    for grid, per_cell in LEVELS:
        ys, xs = np.mgrid[:grid, :grid]
        centres = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64) + 0.5
        out.append(np.repeat(centres / grid, per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


def mediapipe_face_sample_tflite() -> bytes:
    """MediaPipeFaceDetector's signature with the blob detector inside."""
    g = Graph()
    image = g.tensor(TensorSpec("image", [1, SIZE, SIZE, 3]))
    cells = g.op("AVERAGE_POOL_2D", [image], "cell_rgb", [1, GRID, GRID, 3], size=CELL, stride=CELL)
    surround, centre = _disk_kernels()
    grey = np.full(3, 1 / 3)
    r_filter = g.const("blob_filter", (surround[:, :, None] * grey)[None].astype(np.float32))
    b_filter = g.const(
        "brightness_filter",
        (_BRIGHTNESS_WEIGHT * centre[:, :, None] * grey)[None].astype(np.float32),
    )
    bias = -_RESPONSE_AT_THRESHOLD - _BRIGHTNESS_WEIGHT * _BRIGHTNESS_AT_THRESHOLD
    b_bias = g.scalar("brightness_bias", bias)
    zero = g.const("zero_bias", np.zeros(1, np.float32))
    cell = [1, GRID, GRID, 1]
    resp = g.op("CONV_2D", [cells, r_filter, zero], "blob_response", cell)
    bright = g.op("CONV_2D", [cells, b_filter, b_bias], "brightness_term", cell)
    evidence = g.op("ADD", [resp, bright], "blob_evidence", cell)

    # Scores on the 16x16 anchor grid.
    n = 16
    anchor = [1, n, n, 1]
    best = g.op("MAX_POOL_2D", [evidence], "anchor_evidence", anchor, size=4, stride=4)
    peak = g.op("MAX_POOL_2D", [resp], "anchor_response", anchor, size=4, stride=4)
    around = g.op(
        "MAX_POOL_2D", [peak], "anchor_local_max", anchor, size=3, stride=1, padding="SAME"
    )
    below = g.op("SUB", [around, peak], "anchor_below_local_max", anchor)
    scaled = g.op(
        "MUL",
        [best, g.scalar("score_gain", _GAIN)],
        "scaled_evidence",
        anchor,
    )
    punish = g.op(
        "MUL",
        [below, g.scalar("peak_penalty", -_PEAK_PENALTY)],
        "non_peak_penalty",
        anchor,
    )
    raw = g.op("ADD", [scaled, punish], "raw_logit", anchor)
    shifted = g.op(
        "ADD",
        [raw, g.scalar("logit_at_threshold", LOGIT_AT_THRESHOLD)],
        "shifted_logit",
        anchor,
    )
    logit = g.op(
        "MAXIMUM",
        [shifted, g.scalar("logit_floor", OFF_LOGIT)],
        "anchor_logit",
        anchor,
    )
    score_filter = g.const("score_filter", np.array([1.0, 0.0], np.float32).reshape(2, 1, 1, 1))
    score_bias = g.const("score_bias", np.array([0.0, OFF_LOGIT], np.float32))
    scores1 = g.op("CONV_2D", [logit, score_filter, score_bias], "scores_16", [1, n, n, 2])

    # Centres: the centroid of the positive response around each anchor cell.
    weight = g.op(
        "ADD",
        [resp, g.scalar("centroid_floor", -_CENTROID_FLOOR)],
        "centroid_weight",
        cell,
        activation="RELU",
    )
    px = (np.arange(GRID, dtype=np.float32) + 0.5) * CELL
    wx = g.op("MUL", [weight, g.const("cell_x", px.reshape(1, 1, GRID, 1))], "weighted_x", cell)
    wy = g.op("MUL", [weight, g.const("cell_y", px.reshape(1, GRID, 1, 1))], "weighted_y", cell)
    window = {"size": _CENTROID_WINDOW, "stride": 4, "padding": "SAME"}
    sw = g.op("AVERAGE_POOL_2D", [weight], "window_weight", anchor, **window)
    swx = g.op("AVERAGE_POOL_2D", [wx], "window_x", anchor, **window)
    swy = g.op("AVERAGE_POOL_2D", [wy], "window_y", anchor, **window)
    ax = (np.arange(n, dtype=np.float32) + 0.5) * (SIZE / n)
    anchor_x = g.const("anchor_x", ax.reshape(1, 1, n, 1))
    anchor_y = g.const("anchor_y", ax.reshape(1, n, 1, 1))
    den = g.op("ADD", [sw, g.scalar("eps", _EPS)], "window_weight_eps", anchor)
    num_x = g.op(
        "ADD",
        [swx, g.const("eps_anchor_x", (_EPS * ax).reshape(1, 1, n, 1))],
        "window_x_eps",
        anchor,
    )
    num_y = g.op(
        "ADD",
        [swy, g.const("eps_anchor_y", (_EPS * ax).reshape(1, n, 1, 1))],
        "window_y_eps",
        anchor,
    )
    cx = g.op("DIV", [num_x, den], "centroid_x", anchor)
    cy = g.op("DIV", [num_y, den], "centroid_y", anchor)
    dx = g.op("SUB", [cx, anchor_x], "offset_x", anchor)
    dy = g.op("SUB", [cy, anchor_y], "offset_y", anchor)
    offsets = g.op("CONCATENATION", [dx, dy], "offsets", [1, n, n, 2], axis=3)
    w1, b1 = coord_weights(1.0, 2)
    coords1 = g.op(
        "CONV_2D",
        [
            offsets,
            g.const("coords_16_filter", w1.reshape(32, 1, 1, 2)),
            g.const("coords_16_bias", b1),
        ],
        "coords_16",
        [1, n, n, 32],
    )
    coords1 = g.op(
        "RESHAPE",
        [coords1, g.const("coords_16_shape", np.array([1, 512, 16], np.int32))],
        "box_coords_1",
        [1, 512, 16],
        new_shape=[1, 512, 16],
    )
    scores1 = g.op(
        "RESHAPE",
        [scores1, g.const("scores_16_shape", np.array([1, 512, 1], np.int32))],
        "box_scores_1",
        [1, 512, 1],
        new_shape=[1, 512, 1],
    )

    # The 8x8 grid: constant outputs from a zero-weight 1x1 convolution.
    coarse = g.op("AVERAGE_POOL_2D", [image], "coarse_rgb", [1, 8, 8, 3], size=32, stride=32)
    _, b2 = coord_weights(2.0, 6)
    coords2 = g.op(
        "CONV_2D",
        [
            coarse,
            g.const("coords_8_filter", np.zeros((96, 1, 1, 3), np.float32)),
            g.const("coords_8_bias", b2),
        ],
        "coords_8",
        [1, 8, 8, 96],
    )
    coords2 = g.op(
        "RESHAPE",
        [coords2, g.const("coords_8_shape", np.array([1, 384, 16], np.int32))],
        "box_coords_2",
        [1, 384, 16],
        new_shape=[1, 384, 16],
    )
    scores2 = g.op(
        "CONV_2D",
        [
            coarse,
            g.const("scores_8_filter", np.zeros((6, 1, 1, 3), np.float32)),
            g.const("scores_8_bias", np.full(6, OFF_LOGIT, np.float32)),
        ],
        "scores_8",
        [1, 8, 8, 6],
    )
    scores2 = g.op(
        "RESHAPE",
        [scores2, g.const("scores_8_shape", np.array([1, 384, 1], np.int32))],
        "box_scores_2",
        [1, 384, 1],
        new_shape=[1, 384, 1],
    )

    box_coords = g.op(
        "CONCATENATION", [coords1, coords2], "box_coords", [1, NUM_ANCHORS, 16], axis=1
    )
    box_scores = g.op(
        "CONCATENATION", [scores1, scores2], "box_scores", [1, NUM_ANCHORS, 1], axis=1
    )
    spec = g.spec(
        [image],
        [box_coords, box_scores],
        description="porter sample: bright-blob detector with MediaPipeFaceDetector's signature",
        signature=(
            "serving_default",
            {"image": image},
            {"box_coords": box_coords, "box_scores": box_scores},
        ),
    )
    return build_tflite(spec)


SAMPLES = {"mediapipe_face_sample.tflite": mediapipe_face_sample_tflite}
