"""AI Hub's super-resolution app restated with plain loops, as a test oracle.

It restates quic/ai-hub-models 0.65.0 (paths relative to ``qai_hub_models/``):

- ``models/templates/super_resolution/app.py`` L43-69 ``upscale_image``: the photo goes in
  as it is (``app_to_net_image_inputs``: uint8 / 255 in float32, no resize, pad or tiling),
  and each output image goes through ``torch_tensor_to_PIL_image``;
- ``utils/image_processing.py`` L177-183 ``torch_tensor_to_PIL_image``:
  ``clip(x, 0, 1)``, then ``(x * 255).astype(np.uint8)``: a float32 product, truncated;
- ``utils/runtime_torch_wrapper.py`` L272-283 / L340-348: quantizing the input and
  dequantizing a uint8 ``upscaled_image`` (Real-ESRGAN's s=0.00497, zp=25 output can leave
  0..1, which the clip then cuts);
- the scale factor: ``templates/super_resolution/model.py`` L32 defaults to 4, but a model
  says its own through its shapes (output height / input height).

AI Hub has no tiling: its demo refuses photos whose size differs from the model input
(``templates/super_resolution/demo.py`` L64-74). Porter's tiling of larger photos is its
own scheme and is not restated here.

Images are ``[H, W, 3]`` arrays; results are nested lists ``[y][x][c]`` of numpy scalars or
Python ints.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32


def input_value(code: int) -> np.float32:
    """preprocess_PIL_image L145: ``img.float() / 255.0``, a float32 division."""
    return F32(code) / F32(255)


def input_image(image: np.ndarray) -> list[list[list[np.float32]]]:
    """app_to_net_image_inputs on an [H, W, 3] uint8 photo, pixel by pixel."""
    height, width, channels = image.shape
    return [
        [[input_value(image[y, x, c]) for c in range(channels)] for x in range(width)]
        for y in range(height)
    ]


def quantize(value: float, scale: float, zero_point: int) -> int:
    """runtime_torch_wrapper.py L276-283: rint(float64(v) / scale) + zero point, in 0..255."""
    code = np.rint(np.float64(value) / scale) + zero_point
    return int(min(max(code, 0), 255))


def dequantize(code: int, scale: float, zero_point: int) -> np.float32:
    """runtime_torch_wrapper.py L343-348: float32((int32(q) - zero point) * float64(scale))."""
    return F32((int(code) - int(zero_point)) * np.float64(scale))


def to_uint8(value) -> int:
    """torch_tensor_to_PIL_image on one value: clip to 0..1, times 255 in float32, truncated.

    0.999 gives 254 (254.745 truncated), not 255. NaN is left to numpy's cast (undefined).
    """
    clipped = min(max(F32(value), F32(0)), F32(1))
    return int(clipped * F32(255))


def output_image(upscaled: np.ndarray) -> list[list[list[int]]]:
    """Each value of an [H*s, W*s, 3] float output through :func:`to_uint8`."""
    height, width, channels = upscaled.shape
    return [
        [[to_uint8(upscaled[y, x, c]) for c in range(channels)] for x in range(width)]
        for y in range(height)
    ]


def scale_factor(input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> int:
    """The upscale factor from NHWC shapes: output height / input height, equal on both axes."""
    in_h, in_w = input_shape[1], input_shape[2]
    out_h, out_w = output_shape[1], output_shape[2]
    if out_h % in_h or out_w % in_w or out_h // in_h != out_w // in_w:
        raise ValueError(f"not a whole, equal upscale: {input_shape} -> {output_shape}")
    return out_h // in_h
