"""Answers of the random provider: a fixed, recognisable text per password, never a real one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

MOCK_PASSWORD_PREFIX = "mock-random-password-"


def _password(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {"result": f"{MOCK_PASSWORD_PREFIX}{args.name}"}


RESOURCES: dict[str, Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]] = {
    "random:index/randomPassword:RandomPassword": _password,
}
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
