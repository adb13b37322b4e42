"""AI Hub's ImageNet classifier app restated with plain loops, as a test oracle.

It restates quic/ai-hub-models 0.65.0 (paths relative to ``qai_hub_models/``):

- ``utils/image_processing.py`` L21-28 ``IMAGENET_TRANSFORM``:
  ``Compose([Resize(256), CenterCrop(224), ToTensor()])`` on a PIL image, as torchvision
  computes it: ``transforms.functional.resize`` / ``_compute_resized_output_size`` (short side
  to 256, long side ``int(256 * long / short)``, unchanged image when the size already fits)
  and ``center_crop`` (offsets ``int(round((size - 224) / 2.0))``, Python's round half to
  even); ``ToTensor`` divides the uint8 values by 255 in float32;
- ``models/templates/imagenet_classifier/app.py`` L104-106: ``torch.softmax`` of the logits;
- ``models/templates/imagenet_classifier/demo.py`` L75-82: the top five and their printed
  ``f"{label}: {100 * p:.3g}%"``;
- ``utils/runtime_torch_wrapper.py`` L340-348: dequantizing a uint8 ``class_logits`` output.

The pixel values of the resize come from Pillow: torchvision's PIL path is
``img.resize((w, h), Image.BILINEAR)`` (antialiased: the triangle filter widens with the
downscale factor), and this module calls exactly that rather than restating Pillow's fixed-point
filter. Only the sizes, the crop and the arithmetic around them are restated.

Images are ``[H, W, 3]`` uint8 arrays; results are nested lists ``[y][x][c]`` of numpy float32
scalars, or plain Python lists.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

RESIZE = 256
CROP = 224


def resized_size(width: int, height: int, size: int = RESIZE) -> tuple[int, int]:
    """_compute_resized_output_size: (new width, new height) with the short side at ``size``.

    The long side is ``int(size * long / short)``: float division, then truncation
    (640x427 -> 383x256, 1920x1080 -> 455x256).
    """
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    if width <= height:
        return new_short, new_long
    return new_long, new_short


def crop_box(width: int, height: int, crop: int = CROP) -> tuple[int, int, int, int]:
    """center_crop's (left, top, right, bottom), with Python's round (half to even).

    383 wide: (383 - 224) / 2 = 79.5 -> 80; 455 wide: 115.5 -> 116; 453 wide: 114.5 -> 114.
    The image is never smaller than the crop here (its short side is 256).
    """
    if width < crop or height < crop:
        raise ValueError("center_crop would pad; not restated")
    left = round((width - crop) / 2.0)  # torchvision wraps this in int()
    top = round((height - crop) / 2.0)
    return left, top, left + crop, top + crop


def preprocess(image: np.ndarray, size: int = RESIZE, crop: int = CROP):
    """IMAGENET_TRANSFORM on an [H, W, 3] uint8 RGB image: [crop][crop][3] float32 values.

    Resize calls Pillow (``Image.resize(..., BILINEAR)``, what torchvision calls on a PIL
    image) unless the size is unchanged; the crop and ``/ 255`` are done here, pixel by pixel.
    """
    height, width = image.shape[:2]
    new_width, new_height = resized_size(width, height, size)
    pil = Image.fromarray(image)
    if (new_width, new_height) != (width, height):
        pil = pil.resize((new_width, new_height), Image.BILINEAR)
    pixels = np.asarray(pil)
    left, top, right, bottom = crop_box(new_width, new_height, crop)
    out = []
    for y in range(top, bottom):
        line = []
        for x in range(left, right):
            line.append([np.float32(pixels[y, x, c]) / np.float32(255) for c in range(3)])
        out.append(line)
    return out


def dequantize(code: int, scale: float, zero_point: int) -> np.float32:
    """runtime_torch_wrapper.py L343-348: float32((int32(q) - zero point) * float64(scale))."""
    return np.float32((int(code) - int(zero_point)) * np.float64(scale))


def softmax(logits) -> list[float]:
    """torch.softmax over the classes, in double: exp(x - max) / sum.

    Torch computes in float32 (subtract the max, exponentiate, sum, multiply by 1 / sum), so
    its probabilities agree with these to a few 1e-6 relative (2.2e-6 at most over 50 random
    1000-class vectors with torch 2.13), not bit for bit.
    """
    values = [float(v) for v in logits]
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


def top_k(probabilities, k: int = 5) -> list[int]:
    """The k best classes, descending; equal values by ascending class index.

    torch.topk does not document its order among equal values, and it is not the index
    order: torch 2.13 gives [2, 4, 1] for the top 3 of [.1, .3, .3, .05, .3, .25]. This
    oracle fixes ties to the index order (numpy's stable argsort of the negated values does
    the same); the set of classes is the same whenever the k-th value is not tied.
    """
    ranked = sorted(range(len(probabilities)), key=lambda i: (-float(probabilities[i]), i))
    return ranked[:k]


def demo_line(label: str, probability: float) -> str:
    """demo.py L80-82: one printed prediction, the percentage with three significant digits."""
    return f"{label}: {100 * probability:.3g}%"
