"""segmentation's samples: Cityscapes logits and DeepLab class ids, from colour rules.

Both samples have a real segmenter's exact interface but hand-set weights: every 8x8
cell of the input is classified by linear rules on its mean colour (R, G, B in 0..1).

- `segmentation_sample.tflite`: the signature of AI Hub's low-resolution FFNet w8a8
  exports (Cityscapes, 19 classes), scaled down: `image` uint8 [1,512,1024,3] (scale
  1/255, zero point 0) -> `mask` uint8 [1,64,128,19] class logits at stride 8, class axis
  last (scale 0.1, zero point 80). Logits: 10 sky = 12 * (B - (R + G) / 2),
  8 vegetation = 12 * (G - (R + B) / 2), 2 building = 1 + 6 * (0.25 - (R + G + B) / 3)
  (dark), 0 road = 1 (everything grey), the other 15 classes -5. scikit-image's `rocket`
  comes out as sky above dark building-class towers; a blue/green/grey striped picture
  as sky/vegetation/road.
- `segmentation_ids_sample.tflite`: the signature of AI Hub's DeepLabV3+ MobileNet
  (Pascal VOC, 21 classes): `image` uint8 [1,520,520,3] -> `mask` uint8 [1,520,520]
  class ids with no quantization: logits 8 cat = 15 * (R - B) - 1.5 (warm, ginger or
  beige), 16 pottedplant = 15 * (G - (R + B) / 2) - 1 (green), 0 background = 1, the
  other 18 classes -5, upsampled bilinearly (half-pixel centres) from the 65x65 cells to
  520x520, then argmax inside the model. scikit-image's `chelsea` is mostly cat; black
  padding is background.
"""

from __future__ import annotations

import numpy as np

from porter.tflite_builder import ModelSpec, OpSpec, TensorSpec, build_tflite, constant

CELL = 8
CITYSCAPES_INPUT = (512, 1024)
CITYSCAPES_CLASSES = 19
ROAD, BUILDING, VEGETATION, SKY = 0, 2, 8, 10
MASK_Q = (0.1, 80)
VOC_INPUT = 520
VOC_CLASSES = 21
BACKGROUND, CAT, POTTEDPLANT = 0, 8, 16
_OTHER = -5.0


def cityscapes_rules() -> tuple[np.ndarray, np.ndarray]:
    """1x1 weights [19, 3] and bias [19] on a cell's mean RGB."""
    w = np.zeros((CITYSCAPES_CLASSES, 3))
    b = np.full(CITYSCAPES_CLASSES, _OTHER)
    w[SKY], b[SKY] = (-6, -6, 12), 0
    w[VEGETATION], b[VEGETATION] = (-6, 12, -6), 0
    w[BUILDING], b[BUILDING] = (-2, -2, -2), 1 + 6 * 0.25
    w[ROAD], b[ROAD] = (0, 0, 0), 1
    return w.astype(np.float32), b.astype(np.float32)


def voc_rules() -> tuple[np.ndarray, np.ndarray]:
    """1x1 weights [21, 3] and bias [21] on a cell's mean RGB."""
    w = np.zeros((VOC_CLASSES, 3))
    b = np.full(VOC_CLASSES, _OTHER)
    w[CAT], b[CAT] = (15, 0, -15), -1.5
    w[POTTEDPLANT], b[POTTEDPLANT] = (-7.5, 15, -7.5), -1
    w[BACKGROUND], b[BACKGROUND] = (0, 0, 0), 1
    return w.astype(np.float32), b.astype(np.float32)


def segmentation_sample_tflite() -> bytes:
    """FFNet-lowres w8a8's signature (scaled down) with colour-rule logits inside."""
    h, w = CITYSCAPES_INPUT
    gh, gw = h // CELL, w // CELL
    n = CITYSCAPES_CLASSES
    weights, bias = cityscapes_rules()
    tensors = [
        TensorSpec("image", [1, h, w, 3], "uint8", scale=[1 / 255], zero_point=[0]),
        TensorSpec("image_float", [1, h, w, 3]),
        TensorSpec("cell_rgb", [1, gh, gw, 3]),
        constant("class_filter", weights.reshape(n, 1, 1, 3)),
        constant("class_bias", bias),
        TensorSpec("logits_float", [1, gh, gw, n]),
        TensorSpec("mask", [1, gh, gw, n], "uint8", scale=[MASK_Q[0]], zero_point=[MASK_Q[1]]),
    ]
    ops = [
        OpSpec("DEQUANTIZE", [0], [1]),
        OpSpec("AVERAGE_POOL_2D", [1], [2], {"size": CELL, "stride": CELL}),
        OpSpec("CONV_2D", [2, 3, 4], [5], {"padding": "VALID"}),
        OpSpec("QUANTIZE", [5], [6]),
    ]
    spec = ModelSpec(
        tensors=tensors,
        ops=ops,
        inputs=[0],
        outputs=[6],
        description="porter sample: colour-rule Cityscapes logits with FFNet w8a8's signature",
        signature=("serving_default", {"image": 0}, {"mask": 6}),
    )
    return build_tflite(spec)


def segmentation_ids_sample_tflite() -> bytes:
    """DeepLabV3+ w8a8's signature: colour-rule VOC logits, upsampled, argmax inside."""
    s = VOC_INPUT
    g = s // CELL
    n = VOC_CLASSES
    weights, bias = voc_rules()
    tensors = [
        TensorSpec("image", [1, s, s, 3], "uint8", scale=[1 / 255], zero_point=[0]),
        TensorSpec("image_float", [1, s, s, 3]),
        TensorSpec("cell_rgb", [1, g, g, 3]),
        constant("class_filter", weights.reshape(n, 1, 1, 3)),
        constant("class_bias", bias),
        TensorSpec("cell_logits", [1, g, g, n]),
        constant("output_size", np.array([s, s], np.int32)),
        TensorSpec("logits", [1, s, s, n]),
        constant("class_axis", np.array([3], np.int32)),
        TensorSpec("class_int32", [1, s, s], "int32"),
        TensorSpec("mask", [1, s, s], "uint8"),
    ]
    ops = [
        OpSpec("DEQUANTIZE", [0], [1]),
        OpSpec("AVERAGE_POOL_2D", [1], [2], {"size": CELL, "stride": CELL}),
        OpSpec("CONV_2D", [2, 3, 4], [5], {"padding": "VALID"}),
        OpSpec("RESIZE_BILINEAR", [5, 6], [7], {"half_pixel_centers": True}),
        OpSpec("ARG_MAX", [7, 8], [9], {"output_type": "int32"}),
        OpSpec("CAST", [9], [10]),
    ]
    spec = ModelSpec(
        tensors=tensors,
        ops=ops,
        inputs=[0],
        outputs=[10],
        description="porter sample: colour-rule VOC class ids with DeepLabV3+ w8a8's signature",
        signature=("serving_default", {"image": 0}, {"mask": 10}),
    )
    return build_tflite(spec)


SAMPLES = {
    "segmentation_sample.tflite": segmentation_sample_tflite,
    "segmentation_ids_sample.tflite": segmentation_ids_sample_tflite,
}
