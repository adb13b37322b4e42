"""From a ModelInfo and the user's flags to one ScriptPlan that templates only render.

Every decision about the generated script is taken here (which input is the image,
its channels and layout, which output plays which role for the postprocessor, where
the script finds its model), so the templates hold no logic beyond choosing between
the branches the plan names.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from porter.errors import PorterError
from porter.layout import guess_layout
from porter.model import ModelInfo, Tensor
from porter.postprocs import Postproc

RUNTIMES = {"tflite": "litert", "onnx": "onnxruntime"}
_IMAGE_CHANNELS = {1: ("gray", "blue"), 3: ("rgb", "bgr")}
_NUMERIC = frozenset(
    {
        "uint8",
        "int8",
        "uint16",
        "int16",
        "int32",
        "uint32",
        "int64",
        "uint64",
        "float16",
        "float32",
        "float64",
        "bool",
    }
)
_QUANTIZED_IMAGE_TYPES = frozenset({"uint8", "int8", "uint16", "int16"})
_FLOAT_TYPES = frozenset({"float16", "float32"})
# What every generated script imports; a postprocessor's description adds its own.
_BASE_IMPORTS = frozenset(
    {"argparse", "contextlib", "hashlib", "json", "math", "os", "re", "sys", "time"}
)
_BASE_TYPING = frozenset({"Any", "NoReturn"})
_RUNTIME_IMPORTS = {"tflite": frozenset({"tempfile"}), "onnx": frozenset()}


@dataclass(frozen=True)
class ScaffoldOptions:
    model_arg: str  # the model path exactly as the user gave it
    output_arg: str
    postproc: str = "none"
    channels: str | None = None
    layout: str | None = None
    # --input-shape NAME=D0,D1,...: fixed sizes for an input's dynamic dims.
    input_shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()


@dataclass
class IOPlan:
    name: str  # the name inspect shows (TFLite: the SignatureDef key)
    tensor: str | None  # the runtime's name for it, when that differs
    shape: list[int | None]
    dtype: str
    # Integer boundaries only: a QDQ boundary takes and gives floats.
    quantization: dict[str, Any] | None


@dataclass
class ImagePlan:
    name: str
    height: int
    width: int
    channels: int
    layout: str
    channel_order: str
    allowed_orders: list[str]


@dataclass
class ScriptPlan:
    runtime: str
    model_file: str  # the model's file name
    model_path: str  # where the script looks for it, relative to the script's folder
    sha256: str
    command: str
    docstring: str
    inputs: list[dict[str, Any]]  # IOPlan as a dict, without a "tensor" that is None
    outputs: list[dict[str, Any]]
    image: ImagePlan | None
    # Inputs other than the image: the script then takes --input / --random-input.
    other_inputs: list[str]
    # Shapes the script sets on inputs with dynamic dims before running.
    input_shapes: dict[str, list[int]]
    postproc: dict[str, Any]
    outputs_doc: str
    imports: list[str]  # standard-library modules the script imports
    typing_names: list[str]  # what it imports from typing
    warnings: list[str] = field(default_factory=list)

    def context(self) -> dict[str, Any]:
        """What the templates see: plain dicts, lists and scalars."""
        return {"plan": asdict(self)}


def make_plan(info: ModelInfo, options: ScaffoldOptions, postproc: Postproc) -> ScriptPlan:
    """Decide everything the generated script needs, or say precisely why it cannot."""
    model_path = options.model_arg
    for tensor in info.inputs + info.outputs:
        if tensor.dtype not in _NUMERIC:
            raise PorterError(
                model_path,
                f"tensor {tensor.name!r} has type {tensor.dtype}; porter can only script "
                "models whose inputs and outputs are numeric tensors",
            )
    info = _with_input_shapes(info, options)
    warnings = [
        f"custom operator {name!r}: the stock runtime will refuse this model "
        "unless the library that implements it is loaded"
        for name in info.unresolved_custom_operators
    ]
    image = _image_plan(info, options, postproc, warnings)
    roles = _resolve_roles(info, options, postproc, image)
    command = _command(options)
    return ScriptPlan(
        runtime=RUNTIMES[info.format],
        model_file=info.file,
        model_path=_model_path_from_script(options),
        sha256=info.sha256,
        command=command,
        docstring=_docstring(info, postproc, command, image is not None),
        inputs=[_io(t) for t in info.inputs],
        outputs=[_io(t) for t in info.outputs],
        image=image,
        other_inputs=[t.name for t in info.inputs if image is None or t.name != image.name],
        input_shapes={
            t.name: [int(d) for d in t.shape]
            for t in info.inputs
            if _given_shape(options, t) is not None
        },
        postproc={
            "name": postproc.name,
            "template": postproc.template,
            "reference": postproc.reference,
            "draws": postproc.draws,
            "roles": roles,
            "options": [asdict(o) for o in postproc.options],
            "defaults": {o.name: o.default for o in postproc.options},
            "constants": dict(postproc.constants),
        },
        outputs_doc=_outputs_doc(info),
        imports=sorted(_BASE_IMPORTS | set(postproc.imports) | _RUNTIME_IMPORTS[info.format]),
        typing_names=sorted(_BASE_TYPING | ({"NamedTuple"} if image else set())),
        warnings=warnings,
    )


def find_tensor(tensors: list[Tensor], name: str) -> Tensor | None:
    """A tensor by the name inspect shows or by the runtime's own name."""
    for tensor in tensors:
        if name in (tensor.name, tensor.tensor_name):
            return tensor
    return None


def _given_shape(options: ScaffoldOptions, tensor: Tensor) -> tuple[int, ...] | None:
    for name, shape in options.input_shapes:
        if name in (tensor.name, tensor.tensor_name):
            return shape
    return None


def _with_input_shapes(info: ModelInfo, options: ScaffoldOptions) -> ModelInfo:
    """The model as the script will run it: --input-shape fixes dynamic dims."""
    if not options.input_shapes:
        return info
    for name, _ in options.input_shapes:
        if find_tensor(info.inputs, name) is None:
            names = sorted(t.name for t in info.inputs)
            raise PorterError(
                options.model_arg, f"--input-shape {name}: no such input; inputs are {names}"
            )
    inputs = []
    for tensor in info.inputs:
        shape = _given_shape(options, tensor)
        if shape is None:
            inputs.append(tensor)
            continue
        fits = len(shape) == len(tensor.shape) and all(
            d > 0 and (m is None or m == d) for d, m in zip(shape, tensor.shape, strict=True)
        )
        if not fits:
            raise PorterError(
                options.model_arg,
                f"--input-shape {tensor.name}={','.join(map(str, shape))} does not fit the "
                f"model's {list(tensor.dims)}",
            )
        layout, _ = guess_layout(shape)
        inputs.append(replace(tensor, shape=tuple(shape), layout=tensor.layout or layout))
    return replace(info, inputs=inputs)


def _io(tensor: Tensor) -> dict[str, Any]:
    quant = None
    q = tensor.quantization
    if q is not None and q.boundary == "integer":
        quant = {"scale": list(q.scale), "zero_point": list(q.zero_point), "axis": q.axis}
    plan = IOPlan(
        name=tensor.name,
        tensor=tensor.tensor_name,
        shape=list(tensor.shape),
        dtype=tensor.dtype,
        quantization=quant,
    )
    return {key: value for key, value in asdict(plan).items() if key != "tensor" or value}


def _image_layout(tensor: Tensor, options: ScaffoldOptions) -> str | None:
    """The tensor's layout; --layout decides only where the shape leaves it open."""
    if options.layout is None or tensor.layout is None:
        return options.layout or tensor.layout
    if options.layout != tensor.layout:
        axis = 3 if tensor.layout == "NHWC" else 1
        raise PorterError(
            options.model_arg,
            f"--layout {options.layout} contradicts input {tensor.name!r} {list(tensor.dims)}: "
            f"its {tensor.shape[axis]} channel(s) can only be on axis {axis}, so it is "
            f"{tensor.layout}; drop --layout",
        )
    return options.layout


def _image_plan(
    info: ModelInfo, options: ScaffoldOptions, postproc: Postproc, warnings: list[str]
) -> ImagePlan | None:
    """The first 4-D input with 1 or 3 channels in a known layout is the image."""
    for tensor in info.inputs:
        if len(tensor.shape) != 4:
            continue
        layout = _image_layout(tensor, options)
        if layout is None:
            continue
        channel_axis, h_axis, w_axis = (3, 1, 2) if layout == "NHWC" else (1, 2, 3)
        channels = tensor.shape[channel_axis]
        if channels not in _IMAGE_CHANNELS:
            continue
        height, width = tensor.shape[h_axis], tensor.shape[w_axis]
        if height is None or width is None:
            example = ",".join("N" if d is None else str(d) for d in tensor.shape)
            raise PorterError(
                options.model_arg,
                f"input {tensor.name!r} has dynamic spatial dims {list(tensor.dims)}; "
                f"fix them with --input-shape {tensor.name}={example} (N: the size to use)",
            )
        if tensor.dtype not in _QUANTIZED_IMAGE_TYPES | _FLOAT_TYPES:
            continue
        if postproc.image_channels is not None and channels != postproc.image_channels:
            raise PorterError(
                options.model_arg,
                f"postprocessor {postproc.name} expects a {postproc.image_channels}-channel "
                f"image input; {tensor.name!r} has {channels}",
            )
        allowed = list(_IMAGE_CHANNELS[channels])
        if postproc.allowed_channels:
            allowed = [c for c in allowed if c in postproc.allowed_channels]
        order = options.channels or postproc.default_channels or allowed[0]
        if order not in allowed:
            raise PorterError(
                options.model_arg,
                f"--channels {order} does not fit input {tensor.name!r} with {channels} "
                f"channel(s); choose one of: {', '.join(allowed)}",
            )
        quant = tensor.quantization
        if quant is None and tensor.dtype not in _FLOAT_TYPES:
            warnings.append(
                f"input {tensor.name!r} is {tensor.dtype} without quantization parameters; "
                "the script feeds raw 0..255 pixel values"
            )
        if quant is not None and quant.per_channel:
            raise PorterError(
                options.model_arg,
                f"input {tensor.name!r} is quantized per channel; porter only plans "
                "per-tensor input quantization",
            )
        return ImagePlan(
            name=tensor.name,
            height=int(height),
            width=int(width),
            channels=int(channels),
            layout=layout,
            channel_order=order,
            allowed_orders=allowed,
        )
    if postproc.image_channels is not None:
        raise PorterError(
            options.model_arg,
            f"postprocessor {postproc.name} needs an image input with "
            f"{postproc.image_channels} channel(s) in a known layout; none found "
            "(pass --layout NHWC or NCHW if the layout is ambiguous)",
        )
    return None


def _resolve_roles(
    info: ModelInfo, options: ScaffoldOptions, postproc: Postproc, image: ImagePlan | None
) -> dict[str, dict[str, Any]]:
    """Which output plays each role the postprocessor needs: by name, then by shape."""
    if not postproc.outputs:
        return {}
    layout = (
        options.layout
        or (image.layout if image else None)
        or ("NHWC" if info.format == "tflite" else "NCHW")
    )
    channel_axis = 3 if layout == "NHWC" else 1
    candidates = [t for t in info.outputs if len(t.shape) == 4]
    roles: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    for need in postproc.outputs:
        fitting = [
            t for t in candidates if t.shape[channel_axis] == need.channels and t.name not in taken
        ]
        by_name = [
            t for t in fitting if need.role in {t.name.lower(), (t.tensor_name or "").lower()}
        ]
        containing = [t for t in fitting if need.role in t.name.lower()]
        chosen = by_name or containing or fitting
        if len(chosen) != 1:
            found = ", ".join(f"{t.name} {list(t.dims)}" for t in info.outputs) or "none"
            problem = "no output" if not chosen else "several outputs"
            raise PorterError(
                options.model_arg,
                f"postprocessor {postproc.name}: {problem} fit its {need.role!r} output "
                f"({need.channels} channel(s) on axis {channel_axis}, {layout}); outputs: {found}",
            )
        tensor = chosen[0]
        taken.add(tensor.name)
        roles[need.role] = {"name": tensor.name, "channel_axis": channel_axis}
    grids = {
        tuple(d for i, d in enumerate(t.shape) if i not in (0, channel_axis))
        for t in info.outputs
        if t.name in taken
    }
    if len(grids) != 1:
        raise PorterError(
            options.model_arg,
            f"postprocessor {postproc.name}: its outputs do not share one spatial grid",
        )
    return roles


def _model_path_from_script(options: ScaffoldOptions) -> str:
    """The model's path relative to the folder the script is written to.

    Both paths are as the user gave them (relative to the same working folder), so the
    script finds its model wherever -o put it; the script also looks beside itself.
    """
    script_folder = os.path.dirname(os.path.abspath(options.output_arg))
    relative = os.path.relpath(os.path.abspath(options.model_arg), script_folder)
    return relative.replace(os.sep, "/")


def _command(options: ScaffoldOptions) -> str:
    parts = ["porter", "scaffold", options.model_arg]
    if options.postproc != "none":
        parts += ["--postproc", options.postproc]
    if options.channels:
        parts += ["--channels", options.channels]
    if options.layout:
        parts += ["--layout", options.layout]
    for name, shape in options.input_shapes:
        parts += ["--input-shape", f"{name}={','.join(map(str, shape))}"]
    parts += ["-o", options.output_arg]
    return shlex.join(parts)


def _docstring(info: ModelInfo, postproc: Postproc, command: str, has_image: bool) -> str:
    runtime = {"tflite": "LiteRT", "onnx": "ONNX Runtime"}[info.format]
    what = "Inference" if postproc.name == "none" else f"{postproc.name} inference"
    lines = [
        f"{what} for {info.file} on {runtime}, on the CPU or a Qualcomm NPU.",
        "",
        f"Generated by porter from {info.file}",
        f"(sha256 {info.sha256}).",
        "Edit freely, or regenerate with:",
        "",
        f"    {command}",
    ]
    if postproc.reference:
        lines += ["", f"Pre- and postprocessing follow {postproc.reference}."]
    run = "--image photo.jpg" if has_image else "--input NAME=FILE.npy"
    call = "pipeline.infer(Image.open('photo.jpg'))" if has_image else "pipeline.infer(inputs)"
    lines += [
        "",
        f"Run it: python3 SCRIPT {run} [--delegate qnn-htp] (--help for more).",
        f"Or import it: pipeline = prepare(); result = {call}",
    ]
    return "\n".join(lines) + "\n"


def _outputs_doc(info: ModelInfo) -> str:
    """The stub's postprocess() docstring: every output the user has to decode."""
    lines = ["Turn the model's outputs into results. TODO: write this for your model.", ""]
    lines.append("`outputs` maps each output name to its values, dequantized to float32:")
    lines.append("")
    for t in info.outputs:
        text = f"- {t.name!r} {list(t.dims)} {t.dtype}"
        q = t.quantization
        if q is not None and q.per_channel:
            text += f", per-channel quantization on axis {q.axis} ({len(q.scale)} scales)"
        elif q is not None:
            text += f", scale {q.scale[0]:.6g} zero point {q.zero_point[0]}"
            if q.boundary == "qdq":
                text += " (dequantized inside the model)"
        lines.append(text)
    return "\n".join(lines) + "\n"
