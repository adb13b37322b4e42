"""From a ModelInfo and the user's flags to one ScriptPlan that templates only render.

Every decision about the generated script is taken here: which input is the image, its
channels and layout, which family decodes the outputs and which output plays which of its
roles, how a photo fits the input and which values it takes, the labels, where the script
finds its model. Templates hold no logic beyond choosing between the branches the plan
names. The plan knows no family by name: families.py matches their descriptions.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from porter.errors import PorterError
from porter.families import STUB, Family, Match, available, detect_family, match
from porter.labels import resolve_labels
from porter.layout import guess_layout
from porter.model import ModelInfo, Tensor

RUNTIMES = {"tflite": "litert", "onnx": "onnxruntime"}
_IMAGE_ORDERS = {1: ("gray", "blue"), 3: ("rgb", "bgr")}
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
# What every generated script imports; a family's description adds its own.
_BASE_IMPORTS = frozenset(
    {"argparse", "contextlib", "hashlib", "json", "math", "os", "re", "sys", "time"}
)
_BASE_TYPING = frozenset({"Any", "NoReturn"})
_RUNTIME_IMPORTS = {"tflite": frozenset({"tempfile"}), "onnx": frozenset()}
# What an image script's live input (--source) adds; the rest it imports when a stream,
# an MP4 or --serve asks for it.
_LIVE_IMPORTS = frozenset({"shutil", "signal", "threading"})


@dataclass(frozen=True)
class ScaffoldOptions:
    model_arg: str  # the model path exactly as the user gave it
    output_arg: str
    postproc: str | None = None  # a family forced by --postproc; None: detect it
    channels: str | None = None
    layout: str | None = None
    # --input-shape NAME=D0,D1,...: fixed sizes for an input's dynamic dims.
    input_shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()
    labels_arg: str | None = None  # --labels FILE, as the user gave it


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
    fit: dict[str, Any]  # {"kind": "stretch" | "letterbox" | "resize_crop", ...}
    # Pixel p (0..255) becomes (p - mean) / std, per channel.
    mean: list[float]
    std: list[float]
    values_source: str  # where mean / std come from, said in the script and by scaffold


@dataclass
class ScriptPlan:
    runtime: str
    model_file: str  # the model's file name
    model_path: str  # where the script looks for it, relative to the script's folder
    model_member: str | None  # the model's path inside an AI Hub bundle's zip
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
    family: dict[str, Any]
    labels: list[str] | None
    labels_source: str | None
    outputs_doc: str
    imports: list[str]  # standard-library modules the script imports
    typing_names: list[str]  # what it imports from typing
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what scaffold says it chose, and why

    def context(self) -> dict[str, Any]:
        """What the templates see: plain dicts, lists and scalars."""
        return {"plan": asdict(self)}


def make_plan(info: ModelInfo, options: ScaffoldOptions) -> ScriptPlan:
    """Decide everything the generated script needs, or say precisely why it cannot."""
    for tensor in info.inputs + info.outputs:
        if tensor.dtype not in _NUMERIC:
            raise PorterError(
                options.model_arg,
                f"tensor {tensor.name!r} has type {tensor.dtype}; porter can only script "
                "models whose inputs and outputs are numeric tensors",
            )
    info = _with_input_shapes(info, options)
    warnings = [
        f"custom operator {name!r}: the stock runtime will refuse this model "
        "unless the library that implements it is loaded"
        for name in info.unresolved_custom_operators
    ]
    image_tensor, layout = find_image_input(info, options)
    image_dims = _image_dims(image_tensor, layout) if image_tensor is not None else None
    found, notes = _choose_family(info, options, image_dims)
    family = found.family if isinstance(found, Match) else available()[STUB]
    image = None
    if image_tensor is not None and family.image is not None:
        image = _image_plan(info, options, family, image_tensor, layout, warnings)
        notes.append(_describe_image(image))
    labels = resolve_labels(info, family, found.dims if found else {}, options)
    if labels.source:
        notes.append(f"labels: {labels.source}")
    command = _command(options)
    return ScriptPlan(
        runtime=RUNTIMES[info.format],
        model_file=info.file,
        model_path=_model_path_from_script(options, info),
        model_member=_zip_member(info),
        sha256=info.sha256,
        command=command,
        docstring=_docstring(info, family, command, image is not None),
        inputs=[_io(t) for t in info.inputs],
        outputs=[_io(t) for t in info.outputs],
        image=image,
        other_inputs=[t.name for t in info.inputs if image is None or t.name != image.name],
        input_shapes={
            t.name: [int(d) for d in t.shape]
            for t in info.inputs
            if _given_shape(options, t) is not None
        },
        family={
            "name": family.name,
            "template": family.template,
            "reference": family.reference,
            "draws": family.draws,
            "output_help": family.output_help,
            "variant": found.variant.name if found else None,
            "roles": _roles(info, found),
            "dims": found.dims if found else {},
            "options": [asdict(o) for o in family.options],
            "defaults": {o.name: o.default for o in family.options},
            "constants": dict(family.constants),
            "shared": list(family.shared),
            "uses_labels": family.labels is not None,
            "writes": family.writes,
        },
        labels=labels.names,
        labels_source=labels.source,
        outputs_doc=_outputs_doc(info),
        imports=sorted(
            _BASE_IMPORTS
            | set(family.imports)
            | _RUNTIME_IMPORTS[info.format]
            | ({"zipfile"} if info.bundle and info.bundle["kind"] == "zip" else set())
            | (_LIVE_IMPORTS if image else set())
        ),
        typing_names=sorted(_BASE_TYPING | ({"NamedTuple"} if image else set())),
        warnings=warnings,
        notes=notes,
    )


def _choose_family(
    info: ModelInfo, options: ScaffoldOptions, image_dims: dict[str, int] | None
) -> tuple[Match | None, list[str]]:
    """The family --postproc names (refused with the reason when it does not fit), else the
    one that fits best, else the stub; and what to say about the choice."""
    families = available()
    if options.postproc is not None:
        if options.postproc == STUB:
            return None, [f"family: {STUB} (forced with --postproc)"]
        found = match(families[options.postproc], info, image_dims)
        if not isinstance(found, Match):
            raise PorterError(options.model_arg, f"{options.postproc}: {found.reason}")
        return found, [f"family: {found.family.name} (forced with --postproc); {found.why}"]
    detection = detect_family(info, image_dims)
    if detection.chosen is None:
        close = "; ".join(f"{m.family.name}: {m.reason}" for m in detection.misses[:3])
        return None, [f"family: {STUB} (a stub to fill in): no family fits. Closest: {close}"]
    chosen = detection.chosen
    note = f"family: {chosen.family.name}, detected from {chosen.why}"
    if detection.others:
        note += f" (also fits, less well: {', '.join(m.family.name for m in detection.others)})"
    return chosen, [note]


def _roles(info: ModelInfo, found: Match | None) -> dict[str, dict[str, Any]]:
    """Each role's output: name, the form its shape matched, shape, and producing operator."""
    if found is None:
        return {}
    by_name = {t.name: t for t in info.outputs}
    return {
        role: {**assigned, "producer": by_name[assigned["name"]].producer}
        for role, assigned in found.roles.items()
    }


def find_tensor(tensors: list[Tensor], name: str) -> Tensor | None:
    """A tensor by the name inspect shows or by the runtime's own name."""
    for tensor in tensors:
        if name in (tensor.name, tensor.tensor_name):
            return tensor
    return None


def find_image_input(info: ModelInfo, options: ScaffoldOptions) -> tuple[Tensor | None, str | None]:
    """The first 4-D input with 1 or 3 channels in a known layout: the image."""
    for tensor in info.inputs:
        if len(tensor.shape) != 4 or tensor.dtype not in _QUANTIZED_IMAGE_TYPES | _FLOAT_TYPES:
            continue
        layout = _image_layout(tensor, options)
        if layout is None:
            continue
        channel_axis, h_axis, w_axis = (3, 1, 2) if layout == "NHWC" else (1, 2, 3)
        if tensor.shape[channel_axis] not in _IMAGE_ORDERS:
            continue
        if tensor.shape[h_axis] is None or tensor.shape[w_axis] is None:
            example = ",".join("N" if d is None else str(d) for d in tensor.shape)
            raise PorterError(
                options.model_arg,
                f"input {tensor.name!r} has dynamic spatial dims {list(tensor.dims)}; "
                f"fix them with --input-shape {tensor.name}={example} (N: the size to use)",
            )
        return tensor, layout
    return None, None


def _image_dims(tensor: Tensor, layout: str | None) -> dict[str, int]:
    height, width, channels = (1, 2, 3) if layout == "NHWC" else (2, 3, 1)
    shape = tensor.shape
    return {"IH": int(shape[height]), "IW": int(shape[width]), "IC": int(shape[channels])}


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
    info: ModelInfo,
    options: ScaffoldOptions,
    family: Family,
    tensor: Tensor,
    layout: str | None,
    warnings: list[str],
) -> ImagePlan:
    assert family.image is not None and layout is not None
    dims = _image_dims(tensor, layout)
    channels = dims["IC"]
    allowed = [
        o for o in (family.image.orders or _IMAGE_ORDERS[channels]) if o in _IMAGE_ORDERS[channels]
    ]
    allowed = allowed or list(_IMAGE_ORDERS[channels])
    order = options.channels or allowed[0]
    if order not in allowed:
        raise PorterError(
            options.model_arg,
            f"--channels {order} does not fit input {tensor.name!r} with {channels} "
            f"channel(s) ({family.name}); choose one of: {', '.join(allowed)}",
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
    values = info.input_values.get(tensor.name)
    if values is not None:
        mean, std, source = values["mean"], values["std"], values["source"]
    else:
        mean, std = family.image.values["mean"], family.image.values["std"]
        source = "AI Hub's contract for its exports (normalisation, if any, inside the model)"
    if len(mean) not in (1, channels):
        raise PorterError(
            options.model_arg,
            f"input {tensor.name!r}: {len(mean)} normalisation values for {channels} channel(s)",
        )
    fit = dict(family.image.fit)
    if fit["kind"] == "resize_crop" and "resize" not in fit:
        # torchvision's Resize before the crop, in proportion (256 for 224, 342 for 299).
        low, high = fit.get("resize_ratio", [256, 224])
        fit["resize"] = round(min(dims["IH"], dims["IW"]) * low / high)
    return ImagePlan(
        name=tensor.name,
        height=dims["IH"],
        width=dims["IW"],
        channels=channels,
        layout=layout,
        channel_order=order,
        allowed_orders=allowed,
        fit=fit,
        mean=[float(m) for m in (mean * channels if len(mean) == 1 else mean)],
        std=[float(s) for s in (std * channels if len(std) == 1 else std)],
        values_source=source,
    )


def _describe_image(image: ImagePlan) -> str:
    fit = image.fit["kind"]
    if fit == "resize_crop":
        fit = f"shorter side to {image.fit['resize']} then a centre crop"
    elif fit == "letterbox":
        fit = f"letterbox (padding {image.fit.get('pad', 0)}, centred)"
    values = _values_text(image.mean, image.std)
    return (
        f"image: input {image.name!r} {image.height}x{image.width}x{image.channels} "
        f"{image.layout}, {image.channel_order}; fit: {fit}; values: {values} "
        f"(from {image.values_source})"
    )


def _values_text(mean: list[float], std: list[float]) -> str:
    if len(set(mean)) == 1 and len(set(std)) == 1:
        low, high = (0 - mean[0]) / std[0], (255 - mean[0]) / std[0]
        return f"{low:g}..{high:g}"
    return f"(p - {mean}) / {std}"


def _zip_member(info: ModelInfo) -> str | None:
    """The model's path inside an AI Hub bundle's zip, which the script reads in place."""
    if info.bundle and info.bundle["kind"] == "zip":
        return str(info.bundle["member"])
    return None


def _model_path_from_script(options: ScaffoldOptions, info: ModelInfo) -> str:
    """The model's path relative to the folder the script is written to (for an unpacked
    bundle, the model file inside it).

    Both paths are as the user gave them (relative to the same working folder), so the
    script finds its model wherever -o put it; the script also looks beside itself.
    """
    model = options.model_arg
    if info.bundle and info.bundle["kind"] == "folder":
        model = os.path.join(model, *info.bundle["member"].split("/"))
    script_folder = os.path.dirname(os.path.abspath(options.output_arg))
    relative = os.path.relpath(os.path.abspath(model), script_folder)
    return relative.replace(os.sep, "/")


def _command(options: ScaffoldOptions) -> str:
    parts = ["porter", "scaffold", options.model_arg]
    if options.postproc is not None:
        parts += ["--postproc", options.postproc]
    if options.channels:
        parts += ["--channels", options.channels]
    if options.layout:
        parts += ["--layout", options.layout]
    for name, shape in options.input_shapes:
        parts += ["--input-shape", f"{name}={','.join(map(str, shape))}"]
    if options.labels_arg:
        parts += ["--labels", options.labels_arg]
    parts += ["-o", options.output_arg]
    return shlex.join(parts)


def _docstring(info: ModelInfo, family: Family, command: str, has_image: bool) -> str:
    runtime = {"tflite": "LiteRT", "onnx": "ONNX Runtime"}[info.format]
    what = "Inference" if family.name == STUB else f"{family.name} inference"
    lines = [
        f"{what} for {info.file} on {runtime}, on the CPU or a Qualcomm NPU.",
        "",
        f"Generated by porter from {info.file}",
        f"(sha256 {info.sha256}).",
        "Edit freely, or regenerate with:",
        "",
        f"    {command}",
    ]
    if family.reference:
        lines += ["", f"Pre- and postprocessing follow {family.reference}."]
    run = "--image photo.jpg" if has_image else "--input NAME=FILE.npy"
    call = "pipeline.infer(Image.open('photo.jpg'))" if has_image else "pipeline.infer(inputs)"
    lines += [
        "",
        f"Run it: python3 SCRIPT {run} [--delegate qnn-htp] (--help for more).",
    ]
    if has_image:
        serve = " --serve 8080" if family.draws else ""
        lines.append(f"Live: python3 SCRIPT --source camera:0{serve} (or a video, a folder).")
    lines.append(f"Or import it: pipeline = prepare(); result = {call}")
    return "\n".join(lines) + "\n"


def _outputs_doc(info: ModelInfo) -> str:
    """The stub's Decoder docstring: every output the user has to decode."""
    lines = ["Turn the model's outputs into results. TODO: write this for your model.", ""]
    lines.append("`raw` maps each output name to its values as the runtime gives them:")
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


def preview(info: ModelInfo, model_arg: str) -> dict[str, Any]:
    """What scaffold would plan for this model with no flags, for `porter inspect`: the
    family and why, how a photo would become the input, the labels."""
    options = ScaffoldOptions(model_arg=model_arg, output_arg=os.devnull)
    try:
        plan = make_plan(info, options)
    except PorterError as exc:
        return {"family": None, "notes": [exc.problem]}
    image = None
    if plan.image is not None:
        image = {
            "input": plan.image.name,
            "fit": plan.image.fit,
            "channels": plan.image.channel_order,
            "layout": plan.image.layout,
            "mean": plan.image.mean,
            "std": plan.image.std,
            "values_source": plan.image.values_source,
        }
    return {
        "family": plan.family["name"],
        "variant": plan.family["variant"],
        "roles": {role: spec["name"] for role, spec in plan.family["roles"].items()},
        "image": image,
        "labels": plan.labels_source,
        "notes": plan.notes,
    }
