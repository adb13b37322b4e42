"""pose's sample: AI Hub's HRNet-Pose w8a8 signature, a stick figure around a bright spot.

`pose_sample` has the exact signature of AI Hub's HRNet-Pose w8a8 TFLite export
(`image` uint8 [1,256,192,3], scale 1/255 zero point 0, RGB 0..1 -> `heatmaps` uint8
[1,64,48,17], COCO's 17 keypoints, channels last, scale 1/255 zero point 0) but no
learned pose. It averages the input over 4x4 cells (the 64x48 heatmap grid), filters
the grey level with a small difference of Gaussians (sigma 1 minus sigma 2.5 cells,
7x7, gain 3.5, ReLU) so that small bright spots respond and flat areas do not (except
near the border, where the filter's zero padding leaves centre without surround), and gives
keypoint j that spot response shifted by a fixed offset JOINT_OFFSETS[j] (rows, columns
in heatmap cells; PAD then one SLICE per keypoint). One bright dot of radius 4 px
on black at the centre of heatmap cell (32, 24) gives a standing person facing the
camera, mid-hip on the dot, peaks of about 0.9: nose 20 cells above, ankles 24 below,
the subject's left (image right) at positive columns.
"""

from __future__ import annotations

import numpy as np

from porter.tflite_builder import ModelSpec, OpSpec, TensorSpec, build_tflite, constant

HEIGHT, WIDTH = 256, 192
CELL = 4
GRID_H, GRID_W = HEIGHT // CELL, WIDTH // CELL
KEYPOINTS = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
]  # fmt: skip
# (rows, columns) in heatmap cells from the spot to each keypoint's peak.
JOINT_OFFSETS = [
    (-20, 0), (-22, 2), (-22, -2), (-21, 4), (-21, -4),
    (-14, 7), (-14, -7), (-5, 10), (-5, -10),
    (3, 12), (3, -12), (0, 4), (0, -4),
    (12, 5), (12, -5), (24, 5), (24, -5),
]  # fmt: skip
HEATMAP_Q = (1 / 255, 0)
_KERNEL, _SIGMA_CENTRE, _SIGMA_SURROUND, _GAIN = 7, 1.0, 2.5, 3.5
_PAD_ROWS = max(abs(dy) for dy, _ in JOINT_OFFSETS)
_PAD_COLS = max(abs(dx) for _, dx in JOINT_OFFSETS)


def spot_kernel() -> np.ndarray:
    """7x7 difference of Gaussians (each normalised to sum 1), times the gain, rounded to
    multiples of 2^-20 so that exp's last-bit differences between machines (numpy's SIMD
    paths) cannot change the file."""
    c = _KERNEL // 2
    yy, xx = np.mgrid[:_KERNEL, :_KERNEL] - c
    r2 = yy**2 + xx**2
    centre = np.exp(-r2 / (2 * _SIGMA_CENTRE**2))
    surround = np.exp(-r2 / (2 * _SIGMA_SURROUND**2))
    kernel = _GAIN * (centre / centre.sum() - surround / surround.sum())
    return (np.round(kernel * 2**20) / 2**20).astype(np.float32)


def pose_sample_tflite() -> bytes:
    """HRNet-Pose w8a8's signature with the shifted spot detector inside."""
    k = spot_kernel() / 3  # on the mean of R, G, B
    n = len(KEYPOINTS)
    padded = [1, GRID_H + 2 * _PAD_ROWS, GRID_W + 2 * _PAD_COLS, 1]
    tensors = [
        TensorSpec("image", [1, HEIGHT, WIDTH, 3], "uint8", scale=[1 / 255], zero_point=[0]),
        TensorSpec("image_float", [1, HEIGHT, WIDTH, 3]),
        TensorSpec("cell_rgb", [1, GRID_H, GRID_W, 3]),
        constant("spot_filter", np.repeat(k[None, :, :, None], 3, axis=3)),
        constant("spot_bias", np.zeros(1, np.float32)),
        TensorSpec("spot_response", [1, GRID_H, GRID_W, 1]),
        constant(
            "paddings",
            np.array([[0, 0], [_PAD_ROWS] * 2, [_PAD_COLS] * 2, [0, 0]], np.int32),
        ),
        TensorSpec("spot_padded", padded),
        constant("slice_size", np.array([1, GRID_H, GRID_W, 1], np.int32)),
    ]
    ops = [
        OpSpec("DEQUANTIZE", [0], [1]),
        OpSpec("AVERAGE_POOL_2D", [1], [2], {"size": CELL, "stride": CELL}),
        OpSpec("CONV_2D", [2, 3, 4], [5], {"padding": "SAME", "activation": "RELU"}),
        OpSpec("PAD", [5, 6], [7]),
    ]
    joints = []
    for name, (dy, dx) in zip(KEYPOINTS, JOINT_OFFSETS, strict=True):
        tensors.append(
            constant(f"{name}_begin", np.array([0, _PAD_ROWS - dy, _PAD_COLS - dx, 0], np.int32))
        )
        tensors.append(TensorSpec(f"{name}_heatmap", [1, GRID_H, GRID_W, 1]))
        ops.append(OpSpec("SLICE", [7, len(tensors) - 2, 8], [len(tensors) - 1]))
        joints.append(len(tensors) - 1)
    tensors.append(TensorSpec("heatmaps_float", [1, GRID_H, GRID_W, n]))
    ops.append(OpSpec("CONCATENATION", joints, [len(tensors) - 1], {"axis": 3}))
    tensors.append(
        TensorSpec(
            "heatmaps",
            [1, GRID_H, GRID_W, n],
            "uint8",
            scale=[HEATMAP_Q[0]],
            zero_point=[HEATMAP_Q[1]],
        )
    )
    ops.append(OpSpec("QUANTIZE", [len(tensors) - 2], [len(tensors) - 1]))
    out = len(tensors) - 1
    spec = ModelSpec(
        tensors=tensors,
        ops=ops,
        inputs=[0],
        outputs=[out],
        description="porter sample: shifted bright-spot heatmaps with HRNet-Pose w8a8's signature",
        signature=("serving_default", {"image": 0}, {"heatmaps": out}),
    )
    return build_tflite(spec)


SAMPLES = {"pose_sample.tflite": pose_sample_tflite}
