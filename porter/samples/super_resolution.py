"""super_resolution's sample: AI Hub's x4 upscaler w8a8 signature, a plain bilinear resize.

`super_resolution_sample` has the exact signature of AI Hub's QuickSRNet-small / XLSR
w8a8 TFLite exports (`image` uint8 [1,128,128,3], scale 1/255 zero point 0, RGB 0..1 ->
`upscaled_image` uint8 [1,512,512,3], scale 1/255 zero point 0) but no learned detail:
it dequantizes, resizes x4 with RESIZE_BILINEAR (half-pixel centres, not aligned
corners: torch's `interpolate(bilinear, align_corners=False)`, which on an upscale is
also Pillow's BILINEAR) and quantizes back (round to nearest). Its output is a plain
bilinear upscale of the input, to within one level.
"""

from __future__ import annotations

import numpy as np

from porter.tflite_builder import ModelSpec, OpSpec, TensorSpec, build_tflite, constant

SIZE, SCALE = 128, 4
OUT = SIZE * SCALE


def super_resolution_sample_tflite() -> bytes:
    """QuickSRNet w8a8's signature around a bilinear x4 resize."""
    tensors = [
        TensorSpec("image", [1, SIZE, SIZE, 3], "uint8", scale=[1 / 255], zero_point=[0]),
        TensorSpec("image_float", [1, SIZE, SIZE, 3]),
        constant("output_size", np.array([OUT, OUT], np.int32)),
        TensorSpec("upscaled_float", [1, OUT, OUT, 3]),
        TensorSpec("upscaled_image", [1, OUT, OUT, 3], "uint8", scale=[1 / 255], zero_point=[0]),
    ]
    ops = [
        OpSpec("DEQUANTIZE", [0], [1]),
        OpSpec("RESIZE_BILINEAR", [1, 2], [3], {"half_pixel_centers": True}),
        OpSpec("QUANTIZE", [3], [4]),
    ]
    spec = ModelSpec(
        tensors=tensors,
        ops=ops,
        inputs=[0],
        outputs=[4],
        description="porter sample: bilinear x4 upscale with QuickSRNet w8a8's signature",
        signature=("serving_default", {"image": 0}, {"upscaled_image": 4}),
    )
    return build_tflite(spec)


SAMPLES = {"super_resolution_sample.tflite": super_resolution_sample_tflite}
