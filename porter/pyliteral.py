"""The one way a value reaches generated code: as a Python literal.

Model files come from the internet. Their strings (tensor names, metadata, file names)
are written into generated scripts only through `literal()`, which escapes everything
that could end a string, a comment or a line, so no model can inject code.

Layout follows ruff's formatter so generated files pass `ruff format --check`: short
number lists inline, every other non-empty container one item per line with a trailing
comma (ruff's "magic trailing comma" keeps those expanded).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

_INLINE_LIMIT = 40
LINE_LENGTH = 100  # the project's ruff line-length, which generated scripts follow
_SIMPLE_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def literal(value: Any, indent: int = 0, docstring: bool = False, assign: str | None = None) -> str:
    """A Python expression equal to `value` (None, bool, int, float, str, list, dict).

    With docstring=True a string becomes a triple-quoted docstring whose continuation
    lines are indented by `indent` spaces, as ruff's formatter wants them. With
    assign=NAME the result is the module-level statement `NAME = value`, wrapped the
    way ruff wraps a long right-hand side.
    """
    if docstring:
        return docstring_literal(value, indent)
    if assign is not None:
        return _assignment(assign, literal(value))
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return f'float("{value}")'
        return repr(value)
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, Mapping):
        return _mapping(value, indent)
    if isinstance(value, Sequence):
        return _sequence(list(value), indent)
    raise TypeError(f"no literal for {type(value).__name__}")


def string_literal(text: str) -> str:
    """A one-line double-quoted literal (single quotes when that needs fewer escapes)."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    return quote + "".join(_escape_char(c, quote) for c in text) + quote


def docstring_literal(text: str, indent: int = 0) -> str:
    """A triple-quoted docstring literal: readable lines, the same escaping.

    A double quote is escaped only where it would close the literal (the third of a run,
    or the last character) or be changed by ruff's formatter (the first character); blanks
    that the formatter would strip (leading on the first line, trailing on any) are written
    as escapes too.
    """
    pad = " " * indent
    pieces: list[str] = []
    run = 0  # unescaped double quotes just emitted
    for i, line in enumerate(text.split("\n")):
        if i:
            pieces.append("\n" + (pad if line else ""))
            run = 0
        body = line.rstrip(" ")
        trailing = len(line) - len(body)
        if i == 0:
            lead = len(body) - len(body.lstrip(" "))
            pieces.extend("\\x20" for _ in range(lead))
            body = body[lead:]
            if body.startswith('"'):
                pieces.append('\\"')
                body = body[1:]
        for c in body:
            if c == '"':
                run += 1
                if run == 3:
                    pieces.append('\\"')
                    run = 0
                    continue
            else:
                run = 0
            pieces.append(_escape_char(c, None))
        pieces.extend("\\x20" for _ in range(trailing))
        if trailing:
            run = 0
    if text.endswith("\n"):
        pieces.append(pad)
    elif pieces and pieces[-1] == '"':
        pieces[-1] = '\\"'
    return '"""' + "".join(pieces) + '"""'


def _escape_char(c: str, quote: str | None) -> str:
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c]
    if c == quote:
        return "\\" + c
    if c.isprintable():
        return c
    code = ord(c)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _assignment(name: str, expression: str) -> str:
    """ruff puts a long one-line value in parentheses on its own line, when it then fits."""
    line = f"{name} = {expression}"
    if "\n" in expression or len(line) <= LINE_LENGTH or len(expression) + 4 > LINE_LENGTH:
        return line
    return f"{name} = (\n    {expression}\n)"


def _sequence(items: list[Any], indent: int) -> str:
    if not items:
        return "[]"
    if all(_is_number(i) for i in items):
        inline = "[" + ", ".join(literal(i) for i in items) + "]"
        if len(inline) <= _INLINE_LIMIT:
            return inline
    pad = " " * (indent + 4)
    lines = [f"{pad}{literal(item, indent + 4)}," for item in items]
    return "[\n" + "\n".join(lines) + "\n" + " " * indent + "]"


def _mapping(mapping: Mapping[Any, Any], indent: int) -> str:
    if not mapping:
        return "{}"
    pad = " " * (indent + 4)
    lines = [
        f"{pad}{literal(key, indent + 4)}: {literal(value, indent + 4)},"
        for key, value in mapping.items()
    ]
    return "{\n" + "\n".join(lines) + "\n" + " " * indent + "}"


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
