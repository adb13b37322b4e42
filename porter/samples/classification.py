"""classification's sample: AI Hub's ImageNet classifier w8a8 signature, hand-set weights.

`classification_sample` has the exact signature of AI Hub's MobileNet-v2 w8a8 TFLite
export (`image_tensor` uint8 [1,224,224,3], scale 1/255 zero point 0, RGB 0..1 ->
`class_logits` uint8 [1,1000], scale 0.1709 zero point 63) but classifies by mean colour
only. It averages the image to one RGB colour m and gives eight ImageNet classes the
logit 12 - 20 * |m - p|^2, p being the class's prototype colour (strawberry red, orange,
lemon yellow, Granny Smith green, broccoli dark green, espresso brown, tabby beige and
lakeside dusk blue); the other 992 classes get the lowest logit the output can hold
(raw 0). A solid red photo is a strawberry; scikit-image's `coffee` is espresso,
`chelsea` a tabby and `rocket` a lakeside.
"""

from __future__ import annotations

import numpy as np

from porter.tflite_builder import ModelSpec, OpSpec, TensorSpec, build_tflite, constant

SIZE = 224
NUM_CLASSES = 1000
LOGITS_Q = (0.1709, 63)
# ImageNet index (0-based line of imagenet_labels.txt): prototype mean colour, RGB 0..1.
# espresso, tabby and lakeside are the mean colours of scikit-image's coffee, chelsea and
# rocket after AI Hub's Resize(256) + CenterCrop(224), rounded.
PROTOTYPES = {
    949: (0.80, 0.10, 0.12),  # strawberry
    950: (0.95, 0.55, 0.05),  # orange
    951: (0.95, 0.90, 0.25),  # lemon
    948: (0.55, 0.85, 0.35),  # Granny Smith
    937: (0.20, 0.45, 0.15),  # broccoli
    967: (0.61, 0.31, 0.19),  # espresso
    281: (0.57, 0.42, 0.29),  # tabby
    975: (0.25, 0.35, 0.55),  # lakeside
}
_PEAK, _FALLOFF = 12.0, 20.0
# The lowest logit the uint8 output holds: every other class sits there.
FLOOR = (0 - LOGITS_Q[1]) * LOGITS_Q[0]


def colour_weights() -> tuple[np.ndarray, np.ndarray]:
    """Fully connected weights [9, 6] and bias [9] on (m, m*m): eight colour logits
    12 - 20|m - p|^2 = 12 - 20|p|^2 + 40 p.m - 20 m.m, then the floor for everyone else."""
    protos = np.array(list(PROTOTYPES.values()), np.float64)
    n = len(protos)
    weights = np.zeros((n + 1, 6))
    weights[:n, :3] = 2 * _FALLOFF * protos
    weights[:n, 3:] = -_FALLOFF
    bias = np.full(n + 1, FLOOR)
    bias[:n] = _PEAK - _FALLOFF * (protos**2).sum(axis=1)
    return weights.astype(np.float32), bias.astype(np.float32)


def class_slots() -> np.ndarray:
    """For each of the 1000 classes, its row of the colour logits (the last row: floor)."""
    slots = np.full(NUM_CLASSES, len(PROTOTYPES), np.int32)
    for row, index in enumerate(PROTOTYPES):
        slots[index] = row
    return slots


def classification_sample_tflite() -> bytes:
    """MobileNet-v2 w8a8's signature with a mean-colour classifier inside."""
    w, bias = colour_weights()
    n = len(bias)
    tensors = [
        TensorSpec("image_tensor", [1, SIZE, SIZE, 3], "uint8", scale=[1 / 255], zero_point=[0]),
        TensorSpec("image_float", [1, SIZE, SIZE, 3]),
        TensorSpec("mean_colour", [1, 1, 1, 3]),
        constant("flat_shape", np.array([1, 3], np.int32)),
        TensorSpec("mean_flat", [1, 3]),
        TensorSpec("mean_squared", [1, 3]),
        TensorSpec("features", [1, 6]),
        constant("colour_weights", w),
        constant("colour_bias", bias),
        TensorSpec("colour_logits", [1, n]),
        constant("class_slots", class_slots()),
        TensorSpec("logits_float", [1, NUM_CLASSES]),
        TensorSpec(
            "class_logits",
            [1, NUM_CLASSES],
            "uint8",
            scale=[LOGITS_Q[0]],
            zero_point=[LOGITS_Q[1]],
        ),
    ]
    ops = [
        OpSpec("DEQUANTIZE", [0], [1]),
        OpSpec("AVERAGE_POOL_2D", [1], [2], {"size": SIZE, "stride": SIZE}),
        OpSpec("RESHAPE", [2, 3], [4], {"new_shape": [1, 3]}),
        OpSpec("MUL", [4, 4], [5]),
        OpSpec("CONCATENATION", [4, 5], [6], {"axis": 1}),
        OpSpec("FULLY_CONNECTED", [6, 7, 8], [9]),
        OpSpec("GATHER", [9, 10], [11], {"axis": 1}),
        OpSpec("QUANTIZE", [11], [12]),
    ]
    spec = ModelSpec(
        tensors=tensors,
        ops=ops,
        inputs=[0],
        outputs=[12],
        description="porter sample: mean-colour ImageNet classifier with MobileNet-v2 w8a8's signature",
        signature=("serving_default", {"image_tensor": 0}, {"class_logits": 12}),
    )
    return build_tflite(spec)


SAMPLES = {"classification_sample.tflite": classification_sample_tflite}
