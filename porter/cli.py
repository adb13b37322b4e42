"""The `porter` command line. Heavy imports happen inside commands so --help stays fast."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

# https://no-color.org: with NO_COLOR set, no styling anywhere, the help included (Typer
# reads TYPER_USE_RICH when it is imported).
NO_COLOR = bool(os.environ.get("NO_COLOR"))
if NO_COLOR:
    os.environ.setdefault("TYPER_USE_RICH", "0")

import typer  # noqa: E402

from porter.errors import PorterError  # noqa: E402

app = typer.Typer(
    name="porter",
    help="Turn a Qualcomm AI Hub model file into a ready-to-run inference script.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def _one_line_errors(func: F) -> F:
    """Report PorterError as one line on stderr with exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PorterError as exc:
            print(exc.line(), file=sys.stderr)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"porter {version('porter')}")
        except PackageNotFoundError:
            print("porter (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Turn a Qualcomm AI Hub model file into a ready-to-run inference script."""


@app.command()
@_one_line_errors
def inspect(
    model: Annotated[
        Path, typer.Argument(help="A .tflite or .onnx model, or an AI Hub bundle (zip or folder).")
    ],
    json_output: Annotated[
        bool, typer.Option("--json", help="One JSON document on stdout.")
    ] = False,
) -> None:
    """Show a model's inputs, outputs, layout, quantization, operators, metadata, and the
    family and plan scaffold would choose."""
    from porter.describe import describe_model
    from porter.plan import preview
    from porter.report import print_human, to_json

    info = describe_model(model)
    planned = preview(info, str(model))
    if json_output:
        sys.stdout.write(to_json(info, planned) + "\n")
        return
    from rich.console import Console

    console = Console(highlight=False, color_system=None if NO_COLOR else "auto")
    print_human(info, planned, console)


@app.command()
@_one_line_errors
def scaffold(
    model: Annotated[
        Path, typer.Argument(help="A .tflite or .onnx model, or an AI Hub bundle (zip or folder).")
    ],
    postproc: Annotated[
        str | None,
        typer.Option(
            help="The model's family (see `porter postprocs`); default: detected from the model."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Script to write (default: MODEL's name .py)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing script.")] = False,
    channels: Annotated[
        str | None,
        typer.Option(help="Image channels: rgb, bgr (3-channel) or gray, blue (1-channel)."),
    ] = None,
    layout: Annotated[
        str | None, typer.Option(help="Image layout when porter cannot tell: NHWC or NCHW.")
    ] = None,
    check: Annotated[
        bool,
        typer.Option(help="Write nothing; exit 1 with a diff if the script on disk is stale."),
    ] = False,
    input_shape: Annotated[
        list[str] | None,
        typer.Option(
            "--input-shape",
            metavar="NAME=D0,D1,...",
            help="Fixed sizes for an input with dynamic dims (repeatable).",
        ),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(help="Class names, one per line, in place of the model's or porter's."),
    ] = None,
) -> None:
    """Write a standalone inference script for MODEL."""
    from porter.scaffold import scaffold_command

    code = scaffold_command(
        model, postproc, output, force, channels, layout, check, input_shape, labels
    )
    raise typer.Exit(code)


@app.command()
@_one_line_errors
def check(
    scripts: Annotated[list[Path], typer.Argument(help="Generated scripts to verify.")],
) -> None:
    """Exit 1 with a diff when a generated script differs from what porter writes now."""
    from porter.scaffold import check_command

    raise typer.Exit(check_command(scripts))


@app.command()
@_one_line_errors
def postprocs() -> None:
    """List the model families porter writes scripts for (--postproc NAME)."""
    from porter.families import available

    for name, family in available().items():
        print(f"{name:16} {family.summary}")


@app.command()
def doctor(
    json_output: Annotated[
        bool, typer.Option("--json", help="One JSON document on stdout.")
    ] = False,
) -> None:
    """Check what generated scripts will find here: runtimes, QNN libraries, paths."""
    import json

    from porter.doctor import as_json, cpu_ready, diagnose, diagnose_npu, print_human

    checks = diagnose()
    checks += diagnose_npu(checks)
    if json_output:
        print(json.dumps(as_json(checks), indent=2))
    else:
        print_human(checks)
    raise typer.Exit(0 if cpu_ready(checks) else 1)


def main() -> None:
    """Console-script entry point."""
    app()
