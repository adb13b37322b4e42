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

    ruff's formatter rewrites docstrings (it strips blanks at line ends and before the
    first line, re-indents continuation lines by their common indentation, moves closing
    quotes, pads a final quote), so whatever it would change is written as an escape: the
    text reads back exactly and the formatter leaves it alone.
    """
    pad = " " * indent
    content = text.rstrip("\n")
    newlines = len(text) - len(content)
    lines = content.split("\n")
    # Keep the closing quotes on their own line only where ruff does: after several lines.
    closing_line = newlines == 1 and len(lines) > 1
    indents = [len(x) - len(x.lstrip(" ")) for x in lines[1:] if x.strip(" ")]
    escape_indent = bool(indents) and min(indents) > 0
    tokens: list[str] = []  # one per character of the text, escaped as needed
    for i, line in enumerate(lines):
        if i:
            tokens.append("\n" + (pad if line else ""))
        body = line.rstrip(" ")
        lead = len(body) - len(body.lstrip(" ")) if i == 0 or escape_indent else 0
        tokens += ["\\x20"] * lead
        tokens += [_escape_char(c, None) for c in body[lead:]]
        tokens += ["\\x20"] * (len(line) - len(body))
    tokens += ["\n" + pad] if closing_line else ["\\n"] * newlines
    run = 0
    for k, token in enumerate(tokens):
        run = run + 1 if token == '"' else 0
        # A quote opening the text, ending it, or third in a run would not survive.
        if token == '"' and (k == 0 or k == len(tokens) - 1 or run == 3):
            tokens[k] = '\\"'
            run = 0
    return '"""' + "".join(tokens) + '"""'


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
