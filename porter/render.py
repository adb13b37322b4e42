"""Render a ScriptPlan through the Jinja templates into the text of a script."""

from __future__ import annotations

from functools import cache

import jinja2

from porter.plan import ScriptPlan
from porter.pyliteral import literal
from porter.resources import templates_dir


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The only way a value enters generated code: as a Python literal.
    env.filters["py"] = literal
    return env


def render_script(plan: ScriptPlan) -> str:
    """The generated script's text; the same plan always gives the same bytes."""
    template = _environment().get_template("script.py.j2")
    return template.render(**plan.context())
