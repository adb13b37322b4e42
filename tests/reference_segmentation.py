"""AI Hub's semantic segmentation apps restated with plain loops, as a test oracle.

It restates quic/ai-hub-models 0.65.0 (paths relative to ``qai_hub_models/``):

- ``utils/image_processing.py`` L476-488 ``pil_resize_pad``: ``resize_pad`` on the photo /
  255 (see tests/reference_detection.py), then ``torch_tensor_to_PIL_image`` (L177-183:
  clip, ``* 255`` in float32, truncated to uint8); the app's ``ToTensor`` then divides by
  255 again;
- ``utils/image_processing.py`` L373-410 ``undo_resize_pad`` and L491-496
  ``pil_undo_resize_pad``: bilinear with ``scale_factor=1 / scale`` (output size
  ``int(side * (1 / scale))``, ratio ``float32(1 / (1 / scale))``), then a crop at
  ``round(pad / scale)`` (Python's round, half to even) of the photo's size, which Python
  slicing may leave one pixel short;
- ``models/templates/cityscapes_segmentation/app.py`` L103-124 (FFNet) and
  ``models/templates/segmentation/app.py`` L87-134 (DDRNet): the logits ``[h, w, 19]``
  upsampled bilinearly (align_corners=False) to the model input's size, padding included,
  then the argmax over classes (the first of equal maxima); the class colours blended
  half and half over the letterboxed photo (PIL ``Image.blend(a, b, 0.5)``); the blended
  image brought back to the photo with ``pil_undo_resize_pad``. The class map itself is never
  brought back to the photo by AI Hub; only the blended picture is;
- ``models/templates/deeplab/app.py`` L67-103 (DeepLabV3+): the model's own output is the
  class ids ``[H, W]`` (argmax inside the graph) at the model input's size; the app blends
  ``create_color_map(21)`` colours (``utils/draw.py`` L250-280: numpy's RandomState(42),
  class 0 black) and brings the blend back the same way.

Images are ``[H, W, C]`` arrays; results are nested lists ``[y][x][c]`` (or ``[y][x]`` for
class maps) of numpy scalars or Python ints.
"""

from __future__ import annotations

import numpy as np

from tests import reference_detection as bilinear

F32 = np.float32

# Official Cityscapes trainId colours (FFNet's Cityscapes loader, padded with black for ids >= 19).
CITYSCAPES_COLOURS = [
    (128, 64, 128),
    (244, 35, 232),
    (70, 70, 70),
    (102, 102, 156),
    (190, 153, 153),
    (153, 153, 153),
    (250, 170, 30),
    (220, 220, 0),
    (107, 142, 35),
    (152, 251, 152),
    (70, 130, 180),
    (220, 20, 60),
    (255, 0, 0),
    (0, 0, 142),
    (0, 0, 70),
    (0, 60, 100),
    (0, 80, 100),
    (0, 0, 230),
    (119, 11, 32),
]


def to_uint8(value) -> int:
    """torch_tensor_to_PIL_image on one value: clip to 0..1, * 255 in float32, truncated."""
    clipped = min(max(F32(value), F32(0)), F32(1))
    return int(clipped * F32(255))


def pil_resize_pad(photo: np.ndarray, dst_height: int, dst_width: int, **kernel):
    """pil_resize_pad on an [H, W, 3] uint8 photo: (letterboxed uint8 image, scale, pad).

    ``kernel`` passes ``kernel=`` / ``fused=`` to the bilinear reference.
    """
    image = photo.astype(np.float32) / np.float32(255)  # preprocess_PIL_image, float32 / 255
    resized, scale, pad = bilinear.resize_pad(image, dst_height, dst_width, **kernel)
    letterboxed = [[[to_uint8(v) for v in pixel] for pixel in line] for line in resized]
    return letterboxed, scale, pad


def undo_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """The size F.interpolate(scale_factor=1 / scale) gives: int(side * (1 / scale))."""
    factor = 1 / scale
    return int(height * factor), int(width * factor)


def undo_crop(pad: tuple[int, int], scale: float) -> tuple[int, int]:
    """undo_resize_pad L404: (left, top) = round(pad / scale), half to even."""
    return round(pad[0] / scale), round(pad[1] / scale)


def undo_resize_pad(
    image: np.ndarray, photo_width: int, photo_height: int, scale: float, pad: tuple[int, int]
):
    """undo_resize_pad on an [H, W, C] float32 image: nested lists, possibly 1 px short."""
    out_height, out_width = undo_size(image.shape[0], image.shape[1], scale)
    rescaled = bilinear.interpolate_bilinear(image, out_height, out_width, scale_factor=1 / scale)
    left, top = undo_crop(pad, scale)
    return [line[left : left + photo_width] for line in rescaled[top : top + photo_height]]


def pil_undo_resize_pad(
    image: np.ndarray, photo_width: int, photo_height: int, scale: float, pad: tuple[int, int]
):
    """pil_undo_resize_pad on an [H, W, 3] uint8 image: / 255, undo, truncated to uint8."""
    floats = image.astype(np.float32) / np.float32(255)
    restored = undo_resize_pad(floats, photo_width, photo_height, scale, pad)
    return [[[to_uint8(v) for v in pixel] for pixel in line] for line in restored]


def upsample_logits(logits: np.ndarray, height: int, width: int):
    """F.interpolate(logits, (height, width), mode="bilinear") on [h, w, classes] logits."""
    return bilinear.interpolate_bilinear(logits, height, width)


def argmax_classes(scores) -> list[list[int]]:
    """argmax over the class axis of [H][W][classes] values; the first maximum wins."""
    classes = []
    for line in scores:
        row = []
        for pixel in line:
            best = 0
            for c in range(1, len(pixel)):
                if pixel[c] > pixel[best]:
                    best = c
            row.append(best)
        classes.append(row)
    return classes


def cityscapes_classes(logits: np.ndarray, input_height: int, input_width: int):
    """The FFNet / DDRNet app's class map at the model input's size (padding included)."""
    return argmax_classes(upsample_logits(logits, input_height, input_width))


def random_palette(num_classes: int) -> list[tuple[int, int, int]]:
    """create_color_map: RandomState(42).randint(0, 256, (n, 3), uint8) with class 0 black."""
    colours = np.random.RandomState(42).randint(0, 256, size=(num_classes, 3), dtype=np.uint8)
    palette = [tuple(int(v) for v in colour) for colour in colours]
    palette[0] = (0, 0, 0)
    return palette


def blend_half(a: int, b: int) -> int:
    """PIL Image.blend(im1, im2, 0.5) on one uint8 value: (int)(a + 0.5 * (b - a)) = floor."""
    return int(a + 0.5 * (b - a))


def overlay(letterboxed, classes, palette) -> list[list[list[int]]]:
    """Image.blend(letterboxed photo, palette[class], 0.5), pixel by pixel.

    Ids outside the palette are black (FFNet's palette is padded with zeros to 256 ids).
    """
    out = []
    for y, line in enumerate(letterboxed):
        row = []
        for x, pixel in enumerate(line):
            cid = classes[y][x]
            colour = palette[cid] if cid < len(palette) else (0, 0, 0)
            row.append([blend_half(pixel[c], colour[c]) for c in range(3)])
        out.append(row)
    return out
