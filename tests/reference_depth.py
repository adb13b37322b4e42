"""AI Hub's depth estimation app restated with plain loops, as a test oracle.

It restates quic/ai-hub-models 0.65.0 ``models/templates/depth_estimation/app.py`` L50-83
``estimate_depth`` (paths relative to ``qai_hub_models/``):

- L73-76: ``pil_resize_pad`` to the model input (letterbox, black padding, torch bilinear,
  truncated to uint8; see tests/reference_segmentation.py), then ``ToTensor`` (/ 255);
- L77-79: the prediction ``[1, 1, h, w]`` (MiDaS 256, Depth-Anything 518; TFLite gives
  ``[1, h, w, 1]``) brought back to the photo with ``undo_resize_pad``: bilinear with
  ``scale_factor=1 / scale``, crop at ``round(pad / scale)``, possibly one pixel short
  (``utils/image_processing.py`` L373-410), then squeezed to ``[H, W]``;
- L82: ``plt.cm.get_cmap("plasma")(x / x.max())[..., :3]``: divided by the maximum only (the
  minimum is not subtracted), in float32;
- L83: ``(heatmap * 255).astype(np.uint8)``: the colour table's values truncated.

Matplotlib's ``Colormap.__call__`` picks the table entry of a float ``v`` (N = 256):
``v * 256`` (exact in float32); exactly 256 (``v == 1``) becomes 255; negative values take the
"under" colour (entry 0), values of 256 and more the "over" colour (entry 255), NaN the "bad"
colour (transparent black, so black after dropping alpha); otherwise ``int(v * 256)``.
The table itself (matplotlib's ``_plasma_data``) is not repeated here; its truncated uint8
values are in /work/ref/facts/plasma_lut_256.txt (entry 0 is (12, 7, 134), 255 is
(239, 248, 33)).

Depth maps are ``[H, W]`` float32 arrays; results are nested lists ``[y][x]``.
"""

from __future__ import annotations

import math

import numpy as np

from tests import reference_segmentation as letterbox

F32 = np.float32
PLASMA_N = 256
BAD = None  # NaN: matplotlib's "bad" colour, black once alpha is dropped


def model_input(photo: np.ndarray, height: int, width: int):
    """L73-76 on an [H, W, 3] uint8 photo: ([h][w][3] float32 input, scale, pad)."""
    letterboxed, scale, pad = letterbox.pil_resize_pad(photo, height, width)
    values = [[[F32(v) / F32(255) for v in pixel] for pixel in line] for line in letterboxed]
    return values, scale, pad


def depth_to_photo(
    prediction: np.ndarray, photo_width: int, photo_height: int, scale: float, pad: tuple
) -> list[list[np.float32]]:
    """L78-79: undo_resize_pad of an [h, w] prediction, squeezed to [H][W] float32 values."""
    restored = letterbox.undo_resize_pad(
        prediction.astype(np.float32)[:, :, np.newaxis], photo_width, photo_height, scale, pad
    )
    return [[pixel[0] for pixel in line] for line in restored]


def normalise(depth) -> list[list[np.float32]]:
    """L82: x / x.max() over the whole map, float32 by float32 (no minimum subtracted).

    A map whose maximum is 0 gives NaN (0 / 0) and, elsewhere, infinities: AI Hub does not
    guard against it.
    """
    top = max(F32(v) for line in depth for v in line)
    with np.errstate(invalid="ignore", divide="ignore"):
        return [[F32(v) / top for v in line] for line in depth]


def plasma_index(value) -> int | None:
    """The colour table entry matplotlib picks for one normalised value (None: NaN, black)."""
    v = F32(value)
    if math.isnan(v):
        return BAD
    scaled = v * F32(PLASMA_N)
    if scaled == PLASMA_N:
        return PLASMA_N - 1
    if scaled < 0:
        return 0  # the "under" colour, which defaults to entry 0
    if scaled >= PLASMA_N:
        return PLASMA_N - 1  # the "over" colour, which defaults to the last entry
    return int(scaled)


def heatmap_indices(depth) -> list[list[int | None]]:
    """L82 up to the table lookup: the entry for every pixel of a depth map."""
    return [[plasma_index(v) for v in line] for line in normalise(depth)]


def colour(entry: int | None, table_uint8: list[tuple[int, int, int]]) -> tuple[int, int, int]:
    """L83 given the truncated uint8 table (``trunc(plasma[i] * 255)``): NaN is black."""
    if entry is BAD:
        return (0, 0, 0)
    return table_uint8[entry]
