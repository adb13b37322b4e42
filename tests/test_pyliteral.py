"""The one filter between model strings and generated code: exact, inert, ruff-stable."""

from __future__ import annotations

import ast
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from porter.pyliteral import docstring_literal, literal
from tests.conftest import ROOT, run

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_literal_round_trips(value):
    """What the script holds is exactly the model's value, as one literal expression."""
    source = literal(value)
    tree = ast.parse(source, mode="eval")
    assert ast.literal_eval(tree) == value


@settings(max_examples=400, deadline=None)
@given(st.text(), st.sampled_from([0, 4]))
def test_docstring_round_trips(text, indent):
    """A docstring made from any text is a docstring holding that text, and nothing else."""
    pad = " " * indent
    body = docstring_literal(text, indent)
    source = f"def f():\n{pad}{body}\n{pad}return 1\n" if indent else f"{body}\n"
    tree = ast.parse(source)
    node = tree.body[0].body[0] if indent else tree.body[0]
    assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    value = node.value.value
    if indent:
        # Python keeps docstring text as written; the continuation lines carry our pad.
        value = "\n".join(
            line[indent:] if i and line else line for i, line in enumerate(value.split("\n"))
        )
    assert value == text
    assert len(tree.body) == 1 and len(tree.body[0].body if indent else []) in (0, 2)


def test_nan_and_infinity():
    assert literal(float("inf")) == 'float("inf")'
    assert literal(float("nan")) == 'float("nan")'


def test_assignments_and_strings_are_ruff_formatted(tmp_path):
    """A batch of awkward strings, laid out by the filter, is already ruff-formatted."""
    samples = [
        "plain",
        'dq"',
        "sq'",
        "both'\"",
        "back\\slash",
        "new\nline",
        "\0nul",
        "\u2028",
        "x" * 95,
        "y" * 120,
        "{{ jinja }}",
        '"""',
        "'''",
        "tab\t",
        "\x7f\x85",
    ]
    lines = [literal(s, assign=f"NAME_{i}") for i, s in enumerate(samples)]
    lines.append(literal({"k": samples, "n": [1, 2.5, None]}, assign="TABLE"))
    lines.append(literal([1, 480, 640, 1], assign="SHAPE"))
    docs = [
        'ends with quote"',
        'ends ""',
        '"""',
        "trailing space \nnext ",
        "  lead\n\tx\n",
        "a\\",
        '"starts',
        "   ",
        "",
    ]
    for i, doc in enumerate(docs):
        lines.append(f"\n\ndef doc_{i}():\n    {docstring_literal(doc, 4)}")
    path = tmp_path / "literals.py"
    path.write_text("\n".join(lines) + "\n")
    config = ["--config", str(ROOT / "pyproject.toml")]
    result = run([sys.executable, "-m", "ruff", "format", "--check", "--diff", *config, str(path)])
    assert result.returncode == 0, result.stdout + result.stderr
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    assert [namespace[f"NAME_{i}"] for i in range(len(samples))] == samples
    for i, doc in enumerate(docs):
        written = namespace[f"doc_{i}"].__doc__
        assert "\n".join(x[4:] if j and x else x for j, x in enumerate(written.split("\n"))) == doc


def test_random_awkward_text_is_ruff_stable(tmp_path):
    """Hundreds of strings from a hostile alphabet, as docstrings and assignments, in one
    file: ruff leaves it as it is and every value reads back exactly."""
    import random

    rng = random.Random(20261124)
    alphabet = ['"', "'", "\\", " ", "\n", "\t", "a", "\u2028", "\0", "{", "#", "é"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(300)]
    parts = []
    for i, text in enumerate(texts):
        parts.append(literal(text, assign=f"VALUE_{i}"))
        parts.append(f"\n\ndef doc_{i}():\n    {docstring_literal(text, 4)}\n\n")
    path = tmp_path / "awkward.py"
    path.write_text("\n".join(parts).rstrip("\n") + "\n")
    config = ["--config", str(ROOT / "pyproject.toml")]
    result = run([sys.executable, "-m", "ruff", "format", "--check", "--diff", *config, str(path)])
    assert result.returncode == 0, result.stdout[-3000:]
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    for i, text in enumerate(texts):
        assert namespace[f"VALUE_{i}"] == text
        written = namespace[f"doc_{i}"].__doc__ or ""
        lines = written.split("\n")
        assert "\n".join(x[4:] if j and x else x for j, x in enumerate(lines)) == text
