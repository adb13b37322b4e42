"""Guessing the memory layout of image-like tensors."""

from __future__ import annotations

_CHANNEL_SIZES = (1, 3, 4)


def guess_layout(shape: tuple[int | None, ...]) -> tuple[str | None, bool]:
    """Return (layout, ambiguous) for a tensor shape.

    Only 4-D tensors are image-like. A channel dim of 1, 3 or 4 last means NHWC, at
    index 1 means NCHW; when both or neither hold the layout is unknown, and it is
    ambiguous (worth a warning) when both hold or the spatial dims are dynamic.
    """
    if len(shape) != 4:
        return None, False
    last = shape[3] in _CHANNEL_SIZES
    second = shape[1] in _CHANNEL_SIZES
    if last and not second:
        return "NHWC", False
    if second and not last:
        return "NCHW", False
    if last and second:
        return None, True
    # Neither position holds a channel-like size: a feature map, not an image.
    return None, shape[1] is None or shape[3] is None
