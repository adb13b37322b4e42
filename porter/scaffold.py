"""`porter scaffold` and `porter check`: model -> description -> plan -> text -> file."""

from __future__ import annotations

import ast
import shlex
import sys
from pathlib import Path

from porter.describe import describe_model
from porter.errors import PorterError
from porter.families import available
from porter.plan import ScaffoldOptions, make_plan
from porter.render import render_script
from porter.writer import diff_against, write_atomic

CHANNELS = ("rgb", "bgr", "gray", "blue")
LAYOUTS = ("NHWC", "NCHW")


def generate(options: ScaffoldOptions, model_file: Path | None = None) -> tuple[str, list[str]]:
    """The script text for `options`, and what scaffold says about it (warnings, then the
    plan it chose, as lines).

    `model_file` is where the model is read from when that is not options.model_arg
    (porter check reads it relative to the script; the text records model_arg).
    """
    families = available()
    if options.postproc is not None and options.postproc not in families:
        raise PorterError(
            None,
            f"unknown postprocessor {options.postproc!r}; choose one of: {', '.join(families)}",
        )
    if options.channels is not None and options.channels not in CHANNELS:
        raise PorterError(None, f"--channels must be one of {', '.join(CHANNELS)}")
    if options.layout is not None and options.layout not in LAYOUTS:
        raise PorterError(None, f"--layout must be NHWC or NCHW, not {options.layout!r}")
    info = describe_model(model_file or options.model_arg)
    plan = make_plan(info, options)
    said = [f"warning: {w}" for w in plan.warnings] + plan.notes
    return render_script(plan), said


def scaffold_command(
    model: Path,
    postproc: str | None,
    output: Path | None,
    force: bool,
    channels: str | None,
    layout: str | None,
    check: bool,
    input_shapes: list[str] | None = None,
    labels: Path | None = None,
) -> int:
    output = output if output is not None else Path(model.stem + ".py")
    options = ScaffoldOptions(
        model_arg=str(model),
        output_arg=str(output),
        postproc=postproc.lower() if postproc else None,
        channels=channels.lower() if channels else None,
        layout=layout.upper() if layout else None,
        input_shapes=parse_input_shapes(input_shapes or []),
        labels_arg=str(labels) if labels is not None else None,
    )
    text, said = generate(options)
    if check:
        return _report_diff(output, text)
    write_atomic(output, text, force)
    # Said once the file is written, so that a failure is the one line it prints.
    for line in said:
        print(f"porter: {line}", file=sys.stderr)
    print(f"porter: wrote {output}", file=sys.stderr)
    return 0


def parse_input_shapes(pairs: list[str]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """NAME=1,480,640,1 pairs, in the order given."""
    shapes = []
    for pair in pairs:
        name, sep, dims = pair.rpartition("=")
        try:
            shape = tuple(int(d) for d in dims.split(","))
        except ValueError:
            shape = ()
        if not sep or not name or not shape:
            raise PorterError(None, f"--input-shape {pair!r}: expected NAME=D0,D1,... (integers)")
        shapes.append((name, shape))
    return tuple(shapes)


def check_command(scripts: list[Path]) -> int:
    """Regenerate each script from the command in its docstring and compare."""
    stale = 0
    for script in scripts:
        options = _recorded_options(script)
        text, _ = generate(options, _recorded_model(script, options))
        stale += _report_diff(script, text)
    return 1 if stale else 0


def _recorded_model(script: Path, options: ScaffoldOptions) -> Path:
    """The model the recorded command names, found from where the script is.

    The command's paths are relative to the folder it ran in. That folder is the
    script's path minus the recorded -o path when the script still sits there (porter
    check generated/*.py from anywhere), else the current folder.
    """
    model = Path(options.model_arg)
    if model.is_absolute():
        return model
    folders = []
    recorded_output = Path(options.output_arg)
    if not recorded_output.is_absolute():
        parts = script.resolve().parts
        tail = recorded_output.parts
        if len(parts) > len(tail) and parts[-len(tail) :] == tail:
            folders.append(Path(*parts[: -len(tail)]))
    folders.append(Path.cwd())
    for folder in folders:
        if (folder / model).is_file():
            return folder / model
    tried = " or ".join(str(folder / model) for folder in dict.fromkeys(folders))
    raise PorterError(
        script,
        f"its model is not at {tried} (the command it records: porter scaffold {options.model_arg} ...)",
    )


def _report_diff(path: Path, text: str) -> int:
    diff = diff_against(path, text)
    if diff:
        sys.stdout.write(diff)
        print(f"porter: {path} is stale; regenerate it", file=sys.stderr)
        return 1
    print(f"porter: {path} is up to date", file=sys.stderr)
    return 0


def _recorded_options(script: Path) -> ScaffoldOptions:
    """The scaffold options written in a generated script's docstring."""
    try:
        doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
    except FileNotFoundError:
        raise PorterError(script, "no such file") from None
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError) as exc:
        raise PorterError(script, f"not a readable Python script ({exc})") from None
    for line in doc.splitlines():
        if line.strip().startswith("porter scaffold "):
            return _parse_command(script, shlex.split(line.strip()))
    raise PorterError(script, "no 'porter scaffold' command in its docstring; not made by porter?")


def _parse_command(script: Path, words: list[str]) -> ScaffoldOptions:
    values: dict[str, str] = {}
    positional: list[str] = []
    flags = {
        "--postproc": "postproc",
        "--channels": "channels",
        "--layout": "layout",
        "--labels": "labels",
        "-o": "output",
        "--output": "output",
    }
    shapes: list[str] = []
    rest = words[2:]
    while rest:
        word = rest.pop(0)
        if word == "--input-shape" and rest:
            shapes.append(rest.pop(0))
        elif word in flags and rest:
            values[flags[word]] = rest.pop(0)
        elif word.startswith("-"):
            raise PorterError(script, f"recorded command has an unknown option {word!r}")
        else:
            positional.append(word)
    if len(positional) != 1 or "output" not in values:
        raise PorterError(script, "recorded command must name one model and -o")
    return ScaffoldOptions(
        model_arg=positional[0],
        output_arg=values["output"],
        postproc=values.get("postproc"),
        channels=values.get("channels"),
        layout=values.get("layout"),
        input_shapes=parse_input_shapes(shapes),
        labels_arg=values.get("labels"),
    )
