"""Where the program spells a string: its string constants, read with `ast` (nothing is imported), for the tests
that hold a concept to one home."""

from __future__ import annotations

import ast
import subprocess
from collections.abc import Iterator
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SOURCES = ("components", "tools", "benchmarks", "policy", "__main__.py")
"""The program and its tools; tests, starters and goldens are data that may spell a concept out."""


def _not_code(tree: ast.AST) -> set[int]:
    """The docstrings (any string statement) and the names listed in `__all__`."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            found.add(id(node.value))
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            found |= {id(child) for child in ast.walk(node.value)}
    return found


def string_constants(source: str) -> Iterator[tuple[int, str]]:
    """(line, value) of every string constant of `source`, f-string parts included; docstrings and `__all__` left
    out (prose and exports may name a key)."""
    tree = ast.parse(source)
    prose = _not_code(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            yield node.lineno, node.value


def program_sources() -> list[Path]:
    """Every Python file of the program and its tools that git tracks or would track."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *SOURCES],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [PROJECT / name for name in listed if name.endswith(".py") and (PROJECT / name).is_file()]
