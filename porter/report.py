"""Human and JSON renderings of a ModelInfo for `porter inspect`."""

from __future__ import annotations

import json
from typing import Any

from porter.model import ModelInfo, Tensor

_TABLE_VALUE_LIMIT = 80


def to_json(info: ModelInfo, planned: dict[str, Any] | None = None) -> str:
    """Deterministic JSON: sorted operator and metadata keys, no timestamps."""
    document = info.to_json_dict()
    if planned is not None:
        document["family"] = planned["family"]
        document["plan"] = planned
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False)


def print_human(info: ModelInfo, planned: dict[str, Any], console: Any) -> None:
    """Rich tables of inputs, outputs, operators, metadata and warnings, then the plan."""
    from rich.markup import escape
    from rich.table import Table

    console.print(
        f"[bold]{escape(info.file)}[/bold]  {info.format}  {info.size_bytes:,} bytes  "
        f"sha256 {info.sha256[:16]}…"
    )
    for title, tensors in (("Inputs", info.inputs), ("Outputs", info.outputs)):
        table = Table(title=title, title_justify="left")
        for column in ("name", "shape", "dtype", "layout", "quantization"):
            table.add_column(column)
        for tensor in tensors:
            table.add_row(*(escape(cell) for cell in _tensor_row(tensor)))
        console.print(table)
    ops = Table(title="Operators", title_justify="left")
    ops.add_column("operator")
    ops.add_column("count", justify="right")
    for name, count in sorted(info.operators.items(), key=lambda kv: (-kv[1], kv[0])):
        marker = " (custom)" if name in info.custom_operators else ""
        ops.add_row(escape(name + marker), str(count))
    console.print(ops)
    meta = Table(title="Metadata", title_justify="left")
    meta.add_column("key")
    meta.add_column("value")
    for key, value in _flatten(info.metadata):
        meta.add_row(escape(key), escape(_cut(value)))
    console.print(meta)
    for warning in info.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    console.print(
        f"[bold]Plan[/bold] (porter scaffold with no flags): {planned['family'] or 'none'}"
    )
    for note in planned["notes"]:
        console.print(f"  {escape(note)}")


def _tensor_row(tensor: Tensor) -> list[str]:
    name = tensor.name
    if tensor.tensor_name:
        name += f" (tensor {tensor.tensor_name})"
    dims = "[" + ", ".join(str(d) for d in tensor.dims) + "]"
    return [name, dims, tensor.dtype, tensor.layout or "-", _quant_text(tensor)]


def _quant_text(tensor: Tensor) -> str:
    q = tensor.quantization
    if q is None:
        return "-"
    kind = " qdq (takes floats)" if q.boundary == "qdq" else ""
    if q.per_channel:
        return f"per-channel axis {q.axis}: {len(q.scale)} scales{kind}"
    return f"scale {q.scale[0]:.6g} zero point {q.zero_point[0]}{kind}"


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        rows: list[tuple[str, str]] = []
        if not value and prefix:
            return [(prefix, "{}")]
        for key, item in value.items():
            rows.extend(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return rows
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return [(prefix, json.dumps(v, ensure_ascii=False)) for v in value]
        return [(prefix, ", ".join(str(v) for v in value) if value else "-")]
    return [(prefix, "-" if value in (None, "") else str(value))]


def _cut(text: str) -> str:
    """Long metadata values are cut in the table; --json keeps them whole."""
    one_line = " ".join(text.split())
    if len(one_line) <= _TABLE_VALUE_LIMIT:
        return one_line
    return one_line[: _TABLE_VALUE_LIMIT - 1] + "…"
