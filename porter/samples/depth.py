"""depth's sample: AI Hub's MiDaS w8a8 signature, smoothed brightness as inverse depth.

`depth_sample` has the exact signature of AI Hub's MiDaS v2 w8a8 TFLite export (`image`
uint8 [1,256,256,3], scale 1/255 zero point 0, RGB 0..1 -> `depth_estimates` uint8
[1,256,256,1], scale 0.04 zero point 0: relative inverse depth, larger = nearer) but no
learned depth: it takes the grey level (mean of R, G, B) averaged over 8x8 cells,
times 10, and upsamples it back to 256x256 with RESIZE_BILINEAR (half-pixel centres).
Bright means near: a bright disc on a dark background is a near blob with a soft edge,
a left-to-right brightness ramp a wall receding to the left.
"""

from __future__ import annotations

import numpy as np

from porter.tflite_builder import ModelSpec, OpSpec, TensorSpec, build_tflite, constant

SIZE = 256
CELL = 8
GAIN = 10.0
DEPTH_Q = (0.04, 0)


def depth_sample_tflite() -> bytes:
    """MiDaS w8a8's signature with smoothed brightness inside."""
    g = SIZE // CELL
    tensors = [
        TensorSpec("image", [1, SIZE, SIZE, 3], "uint8", scale=[1 / 255], zero_point=[0]),
        TensorSpec("image_float", [1, SIZE, SIZE, 3]),
        TensorSpec("cell_rgb", [1, g, g, 3]),
        constant("grey_filter", np.full((1, 1, 1, 3), GAIN / 3, np.float32)),
        constant("grey_bias", np.zeros(1, np.float32)),
        TensorSpec("cell_inverse_depth", [1, g, g, 1]),
        constant("output_size", np.array([SIZE, SIZE], np.int32)),
        TensorSpec("inverse_depth", [1, SIZE, SIZE, 1]),
        TensorSpec(
            "depth_estimates",
            [1, SIZE, SIZE, 1],
            "uint8",
            scale=[DEPTH_Q[0]],
            zero_point=[DEPTH_Q[1]],
        ),
    ]
    ops = [
        OpSpec("DEQUANTIZE", [0], [1]),
        OpSpec("AVERAGE_POOL_2D", [1], [2], {"size": CELL, "stride": CELL}),
        OpSpec("CONV_2D", [2, 3, 4], [5], {"padding": "VALID", "activation": "RELU"}),
        OpSpec("RESIZE_BILINEAR", [5, 6], [7], {"half_pixel_centers": True}),
        OpSpec("QUANTIZE", [7], [8]),
    ]
    spec = ModelSpec(
        tensors=tensors,
        ops=ops,
        inputs=[0],
        outputs=[8],
        description="porter sample: smoothed brightness as inverse depth with MiDaS w8a8's signature",
        signature=("serving_default", {"image": 0}, {"depth_estimates": 8}),
    )
    return build_tflite(spec)


SAMPLES = {"depth_sample.tflite": depth_sample_tflite}
