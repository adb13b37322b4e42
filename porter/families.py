"""Model families: templates/families/NAME.json (a description) plus NAME.py.j2 (a template).

A description says how a photo fits the family's image input, which values the input takes,
which outputs play which role (shape patterns with named dims, which must agree with each
other and with the image's size), its options, the metadata it reads and the labels it
uses. This module reads descriptions and matches them against a model; it knows no family
by name, so adding one is adding its two files.
"""

from __future__ import annotations

import ast
import json
import operator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from porter.errors import PorterError
from porter.model import ModelInfo, Tensor
from porter.resources import templates_dir

OPTION_TYPES = ("float", "int", "str", "bool")
FITS = ("stretch", "letterbox", "resize_crop", "box", "tile")
STUB = "none"  # the family chosen when no other fits: prints statistics of every output


@dataclass(frozen=True)
class Option:
    """One option of the script: a --flag on the command line, a prepare() keyword."""

    name: str
    type: str  # one of OPTION_TYPES
    default: Any
    help: str


@dataclass(frozen=True)
class Role:
    """One output the family needs, as shape patterns ("forms") of ints and dim names."""

    name: str
    forms: dict[str, tuple[int | str, ...]]
    names: tuple[str, ...]  # output names that suggest this role
    quantized: bool | None  # True / False: must / must not be quantized; None: either
    dtypes: tuple[str, ...] | None  # the types it may have; None: any
    optional: bool


@dataclass(frozen=True)
class Variant:
    """One set of roles the family decodes; a family may accept several signatures."""

    name: str
    roles: tuple[Role, ...]
    where: tuple[str, ...]  # constraints over the dims, e.g. "H * 8 == IH"


@dataclass(frozen=True)
class ImageSpec:
    channels: tuple[int, ...]  # channel counts the family accepts
    orders: tuple[str, ...] | None  # colour orders offered, the first the default
    fit: dict[str, Any]  # {"kind": one of FITS, ...}
    values: dict[str, Any]  # {"mean": [...], "std": [...]} in 0..255 pixel units


@dataclass(frozen=True)
class Family:
    name: str
    summary: str
    reference: str
    template: str
    draws: bool
    output_help: str  # --output's help: what the written picture shows
    imports: tuple[str, ...]
    image: ImageSpec | None
    variants: tuple[Variant, ...]
    options: tuple[Option, ...]
    constants: dict[str, Any]
    labels: dict[str, Any] | None  # {"count": "C", "datasets": {"1000": "imagenet"}, ...}
    extra_outputs: bool  # may the model have outputs no role takes
    shared: tuple[str, ...]  # templates/shared/NAME.py.j2 pieces its template uses
    # Whether its template has write_results(result, options), for --save-* options.
    writes: bool


@dataclass
class Match:
    family: Family
    variant: Variant
    roles: dict[str, dict[str, Any]]  # role -> {"name", "form", "shape"}
    dims: dict[str, int]
    score: int
    why: str


@dataclass
class Miss:
    family: Family
    reason: str
    progress: int = 0  # how far it got: roles bound


# Values a photo's pixels p (0..255) become: (p - mean) / std per channel.
NAMED_VALUES = {
    "0..1": {"mean": [0.0], "std": [255.0]},
    "-1..1": {"mean": [127.5], "std": [127.5]},
    "0..255": {"mean": [0.0], "std": [1.0]},
}


@cache
def available() -> dict[str, Family]:
    """Every family shipped in templates/families, by name; the stub last."""
    folder = templates_dir() / "families"
    found = {}
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            found[path.stem] = _load(path.stem, doc)
        except (ValueError, KeyError, TypeError) as exc:
            raise PorterError(path, f"malformed family description: {exc}") from None
        if not (folder / f"{path.stem}.py.j2").is_file():
            raise PorterError(path, f"family {path.stem!r} has no template {path.stem}.py.j2")
    if STUB not in found:
        raise PorterError(folder, f"the stub family {STUB!r} is missing")
    return {**{k: v for k, v in found.items() if k != STUB}, STUB: found[STUB]}


def _load(name: str, doc: dict[str, Any]) -> Family:
    known = {
        "summary",
        "reference",
        "draws",
        "output_help",
        "imports",
        "image",
        "outputs",
        "variants",
        "where",
        "options",
        "constants",
        "labels",
        "extra_outputs",
        "shared",
        "writes",
    }
    unknown = set(doc) - known
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    for module in doc.get("imports", []):
        if not str(module).isidentifier():
            raise ValueError(f"import {module!r} is not a module name")
    if "variants" in doc:
        variants = tuple(
            _variant(v["name"], v["outputs"], v.get("where", [])) for v in doc["variants"]
        )
    else:
        variants = (_variant("default", doc.get("outputs", {}), doc.get("where", [])),)
    options = tuple(_option(o) for o in doc.get("options", []))
    return Family(
        name=name,
        summary=str(doc["summary"]),
        reference=str(doc.get("reference", "")),
        template=f"families/{name}.py.j2",
        draws=bool(doc.get("draws", False)),
        output_help=str(doc.get("output_help", "write the photo with the results drawn on it")),
        imports=tuple(doc.get("imports", ())),
        image=_image(doc["image"]) if doc.get("image") else None,
        variants=variants,
        options=options,
        constants=dict(doc.get("constants", {})),
        labels=doc.get("labels"),
        extra_outputs=bool(doc.get("extra_outputs", False)),
        shared=tuple(_shared(doc.get("shared", []))),
        writes=bool(doc.get("writes", False)),
    )


def _shared(names: list[str]) -> list[str]:
    for name in names:
        if not (templates_dir() / "shared" / f"{name}.py.j2").is_file():
            raise ValueError(f"no shared template piece {name!r} (templates/shared/{name}.py.j2)")
    return names


def _option(doc: dict[str, Any]) -> Option:
    option = Option(**doc)
    if not option.name.isidentifier():
        raise ValueError(f"option {option.name!r} is not an identifier")
    if option.type not in OPTION_TYPES:
        raise ValueError(f"option {option.name!r}: type must be one of {OPTION_TYPES}")
    return option


def _image(doc: dict[str, Any]) -> ImageSpec:
    channels = doc.get("channels", [1, 3])
    channels = tuple(channels) if isinstance(channels, list) else (int(channels),)
    fit = doc.get("fit", {"kind": "stretch"})
    if fit.get("kind") not in FITS:
        raise ValueError(f"image fit must be one of {FITS}, not {fit.get('kind')!r}")
    return ImageSpec(
        channels=channels,
        orders=tuple(doc["orders"]) if doc.get("orders") else None,
        fit=dict(fit),
        values=values_from(doc.get("values", "0..1")),
    )


def values_from(values: Any) -> dict[str, list[float]]:
    """A values description ("0..1", "-1..1", "0..255", or mean / std) as mean / std."""
    if isinstance(values, str):
        if values not in NAMED_VALUES:
            raise ValueError(f"image values must be one of {list(NAMED_VALUES)} or mean/std")
        return {k: list(v) for k, v in NAMED_VALUES[values].items()}
    mean, std = [float(v) for v in values["mean"]], [float(v) for v in values["std"]]
    if len(mean) != len(std) or not mean or any(s == 0 for s in std):
        raise ValueError("image values: mean and std need the same non-zero length, std not 0")
    return {"mean": mean, "std": std}


def _variant(name: str, outputs: dict[str, Any], where: list[str]) -> Variant:
    roles = []
    for role, spec in outputs.items():
        forms = spec["shapes"] if isinstance(spec["shapes"], dict) else {"default": spec["shapes"]}
        for pattern in forms.values():
            for dim in pattern:
                if not isinstance(dim, int) and not str(dim).isidentifier():
                    raise ValueError(f"role {role!r}: dim {dim!r} is neither a size nor a name")
        roles.append(
            Role(
                name=role,
                forms={form: tuple(p) for form, p in forms.items()},
                names=tuple(spec.get("names", [role])),
                quantized=spec.get("quantized"),
                dtypes=tuple(spec["dtypes"]) if spec.get("dtypes") else None,
                optional=bool(spec.get("optional", False)),
            )
        )
    for expression in where:
        _check_expression(expression)
    return Variant(name=name, roles=tuple(roles), where=tuple(where))


# ---- matching -------------------------------------------------------------------------------


def match(family: Family, info: ModelInfo, image_dims: dict[str, int] | None) -> Match | Miss:
    """The family's best reading of the model's outputs, or why it does not fit."""
    if family.image is not None:
        if image_dims is None:
            return Miss(family, "it needs an image input (1 or 3 channels in a known layout)")
        if image_dims["IC"] not in family.image.channels:
            wanted = " or ".join(map(str, family.image.channels))
            return Miss(
                family, f"its image input has {wanted} channel(s); this one has {image_dims['IC']}"
            )
    best: Match | Miss | None = None
    for variant in family.variants:
        found = _match_variant(family, variant, info, dict(image_dims or {}))
        if isinstance(found, Match):
            if not isinstance(best, Match) or found.score > best.score:
                best = found
        elif best is None or (isinstance(best, Miss) and found.progress > best.progress):
            best = found
    assert best is not None, "a family has at least one variant"
    return best


def _match_variant(
    family: Family, variant: Variant, info: ModelInfo, dims: dict[str, int]
) -> Match | Miss:
    outputs = list(info.outputs)
    best: tuple[int, dict[str, dict[str, Any]], dict[str, int]] | None = None
    deepest = 0
    for assignment, bound, depth in _assignments(variant.roles, outputs, dims):
        deepest = max(deepest, depth)
        if assignment is None:
            continue
        if not all(_holds(expression, bound) for expression in variant.where):
            continue
        taken = {a["name"] for a in assignment.values()}
        if not family.extra_outputs and len(taken) != len(info.outputs):
            continue
        score = _score(variant, assignment, info)
        if best is None or score > best[0]:
            best = (score, assignment, bound)
    if best is None:
        return Miss(family, _miss_reason(family, variant, info, deepest), deepest)
    score, assignment, bound = best
    described = ", ".join(
        f"{role} = {a['name']} {list(a['shape'])}" for role, a in assignment.items()
    )
    return Match(family, variant, assignment, bound, score, f"outputs {described}")


def _assignments(roles: tuple[Role, ...], outputs: list[Tensor], dims: dict[str, int]):
    """Every way to give each role an output of one of its forms, dims agreeing.

    Yields (assignment or None, dims, roles bound); None marks a dead end, for the
    explanation of a miss.
    """

    def place(index: int, taken: frozenset[str], bound: dict[str, int], chosen: dict):
        if index == len(roles):
            yield dict(chosen), dict(bound), index
            return
        role = roles[index]
        progressed = False
        for tensor in outputs:
            if tensor.name in taken or not _quantization_fits(role, tensor):
                continue
            for form, pattern in role.forms.items():
                binding = _bind(pattern, tensor.shape, bound)
                if binding is None:
                    continue
                progressed = True
                chosen[role.name] = {"name": tensor.name, "form": form, "shape": list(tensor.shape)}
                yield from place(index + 1, taken | {tensor.name}, binding, chosen)
                del chosen[role.name]
        if role.optional:
            progressed = True
            yield from place(index + 1, taken, bound, chosen)
        if not progressed:
            yield None, bound, index

    yield from place(0, frozenset(), dims, {})


def _quantization_fits(role: Role, tensor: Tensor) -> bool:
    if role.dtypes is not None and tensor.dtype not in role.dtypes:
        return False
    if role.quantized is None:
        return True
    is_quantized = tensor.quantization is not None
    return is_quantized == role.quantized


def _bind(
    pattern: tuple[int | str, ...], shape: tuple[int | None, ...], bound: dict[str, int]
) -> dict[str, int] | None:
    if len(pattern) != len(shape):
        return None
    binding: dict[str, int | None] = dict(bound)
    for want, have in zip(pattern, shape, strict=True):
        if have is None:  # a dynamic dim: any size, a name it binds stays unknown
            if isinstance(want, str):
                binding.setdefault(want, None)
            continue
        if isinstance(want, int):
            if want != have:
                return None
        elif binding.get(want) is None:
            binding[want] = have
        elif binding[want] != have:
            return None
    return binding


def _score(variant: Variant, assignment: dict[str, dict[str, Any]], info: ModelInfo) -> int:
    """More roles, output names that say the role, fixed sizes and constraints: a better fit."""
    by_name = {t.name: t for t in info.outputs}
    score = 10 * len(assignment) + 2 * len(variant.where)
    for role in variant.roles:
        if role.name not in assignment:
            continue
        tensor = by_name[assignment[role.name]["name"]]
        names = {tensor.name.lower(), (tensor.tensor_name or "").lower()}
        if any(hint.lower() in name for hint in role.names for name in names):
            score += 5
        pattern = role.forms[assignment[role.name]["form"]]
        score += sum(1 for d in pattern if isinstance(d, int) and d != 1)
    return score


def _miss_reason(family: Family, variant: Variant, info: ModelInfo, bound_roles: int) -> str:
    have = ", ".join(f"{t.name} {list(t.dims)}" for t in info.outputs) or "no outputs"
    if bound_roles < len(variant.roles):
        role = variant.roles[bound_roles]
        forms = " or ".join(_pattern_text(p) for p in role.forms.values())
        return f"it needs an output {forms} for its {role.name!r}; this model has {have}"
    if variant.where:
        return f"its outputs must satisfy {' and '.join(variant.where)}; this model has {have}"
    return f"it takes {len(variant.roles)} output(s) and no others; this model has {have}"


def _pattern_text(pattern: tuple[int | str, ...]) -> str:
    return "[" + ", ".join(str(d) for d in pattern) + "]"


# ---- constraints: a tiny, safe expression language over dim names ----------------------------

_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


_NODES = (ast.Expression, ast.BinOp, ast.Compare, ast.BoolOp, ast.And, ast.Or, ast.Load)


def _check_expression(expression: str) -> None:
    """Dims, integer constants, arithmetic, comparisons, and / or: nothing else."""
    tree = ast.parse(expression, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and not isinstance(node.value, int):
            raise ValueError(f"constraint {expression!r}: only integer constants")
        if not isinstance(node, (*_NODES, ast.Name, ast.Constant)) and type(node) not in _OPERATORS:
            raise ValueError(f"constraint {expression!r}: {type(node).__name__} is not allowed")


def _holds(expression: str, dims: dict[str, int]) -> bool:
    try:
        return bool(_evaluate(ast.parse(expression, mode="eval").body, dims))
    except KeyError:
        return False  # a dim the match did not bind (an optional role left out)
    except TypeError:
        return True  # a dynamic dim, unknown until run time: it may hold


def evaluate(expression: str, dims: dict[str, int]) -> Any:
    """An expression of the constraint language over matched dims; None when one is unbound."""
    _check_expression(expression)
    try:
        return _evaluate(ast.parse(expression, mode="eval").body, dims)
    except (KeyError, TypeError):
        return None


def _evaluate(node: ast.AST, dims: dict[str, int]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return dims[node.id]
    if isinstance(node, ast.BinOp):
        return _OPERATORS[type(node.op)](_evaluate(node.left, dims), _evaluate(node.right, dims))
    if isinstance(node, ast.BoolOp):
        values = [_evaluate(v, dims) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, dims)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(right_node, dims)
            if not _OPERATORS[type(op)](left, right):
                return False
            left = right
        return True
    raise ValueError(f"unsupported expression {ast.dump(node)}")


@dataclass
class Detection:
    """What auto-detection found: the chosen family (or the stub) and what the others missed."""

    chosen: Match | None
    misses: list[Miss] = field(default_factory=list)
    others: list[Match] = field(default_factory=list)


def detect_family(info: ModelInfo, image_dims: dict[str, int] | None) -> Detection:
    """The best-fitting family for this model; the stub when none fits."""
    matches, misses = [], []
    for family in available().values():
        if family.name == STUB:
            continue
        found = match(family, info, image_dims)
        (matches if isinstance(found, Match) else misses).append(found)
    matches.sort(key=lambda m: -m.score)
    misses.sort(key=lambda m: -m.progress)
    return Detection(matches[0] if matches else None, misses, matches[1:])
