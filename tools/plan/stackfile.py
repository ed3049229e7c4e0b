"""Read a `Pulumi.<stack>.yaml` into the flat config map Pulumi hands a program, with no secrets provider.

Encrypted values (`secure:`) cannot be read without the stack's secrets provider, and a plan for a pull
request from a fork has none: they become masked placeholders, still marked secret, so the program sees the
same shape as under `pulumi up`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

__all__ = ["PLACEHOLDER", "read_stack_file"]

PLACEHOLDER = "plan-placeholder-secret"


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _placeholders(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return PLACEHOLDER
        return {k: _placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    return value


def _wire(value: Any) -> str:
    """Pulumi passes strings as they are and everything else as JSON text."""
    return value if isinstance(value, str) else json.dumps(value)


def read_stack_file(path: Path) -> tuple[dict[str, str], list[str]]:
    """The raw config map and the secret keys of a stack file."""
    document = yaml.safe_load(path.read_text()) or {}
    config = document.get("config") or {}
    raw: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        # Project-level `value:` wrappers are only for Pulumi.yaml; stack files hold values directly.
        if _has_secure(value):
            secret_keys.append(key)
        raw[key] = _wire(_placeholders(value))
    return raw, secret_keys
