"""The one error type users see: a file and what is wrong with it."""

from __future__ import annotations

from pathlib import Path


class PorterError(Exception):
    """A problem with the user's input, reported as one line and exit code 2."""

    exit_code = 2

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(self.line())

    def line(self) -> str:
        # repr-style quoting keeps a hostile file name (newlines, escapes) on one line.
        problem = " ".join(self.problem.split())
        if self.path is None:
            return f"porter: {problem}"
        return f"porter: {_quote_path(self.path)}: {problem}"


def _quote_path(path: str) -> str:
    if path.isprintable() and "'" not in path and '"' not in path:
        return path
    return ascii(path)
