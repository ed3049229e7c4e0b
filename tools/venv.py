"""What a tool that needs the project's packages says when it runs outside the virtualenv `make setup` builds.

Only the standard library here: it runs exactly when the packages are missing.
"""

from __future__ import annotations

import sys
from typing import NoReturn

__all__ = ["outside_the_venv"]


def outside_the_venv(missing: ModuleNotFoundError, module: str, make_target: str | None = None) -> NoReturn:
    """One line naming the missing package and how to run `python -m {module}` instead, then exit 2."""
    instead = f"run `{make_target}`, or " if make_target else ""
    print(
        f"error: {missing.name} is not installed for {sys.executable}; {instead}"
        f"`make setup` and then `. .venv/bin/activate` before `python -m {module}`",
        file=sys.stderr,
    )
    sys.exit(2)
