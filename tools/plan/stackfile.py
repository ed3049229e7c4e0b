"""Read a `Pulumi.<stack>.yaml` into the flat config map Pulumi hands a program, with no secrets provider.

Encrypted values (`secure:`) cannot be read without the stack's secrets provider, and a plan for a pull
request from a fork has none: they become masked placeholders, still marked secret, so the program sees the
same shape as under `pulumi up`.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

import yaml

__all__ = ["PLACEHOLDER", "StackFileError", "is_ciphertext", "read_stack_file"]

PLACEHOLDER = "plan-placeholder-secret"
_GCM_NONCE_BYTES = 12
_GCM_TAG_BYTES = 16


def _base64_bytes(text: str) -> int:
    """How many bytes `text` decodes to as standard padded base64; -1 when it is not that."""
    try:
        return len(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        return -1


def is_ciphertext(secure: str) -> bool:
    """Whether `secure` has the shape of what `pulumi config set --secret` writes (pulumi v3.259
    sdk/go/common/resource/config/crypt.go, pkg/secrets/service/manager.go): `v1:<nonce>:<sealed>` from AES-256-GCM
    (passphrase and cloud KMS providers: a 12-byte nonce, then at least the 16-byte tag), or the service's base64
    ciphertext, at least a tag long. A word pasted in by hand (`hunter2`, `mysecretpassword`) is neither."""
    match secure.split(":"):
        case ["v1", nonce, sealed]:
            return _base64_bytes(nonce) == _GCM_NONCE_BYTES and _base64_bytes(sealed) >= _GCM_TAG_BYTES
        case [sealed]:
            return _base64_bytes(sealed) >= _GCM_TAG_BYTES
        case _:
            return False


class StackFileError(Exception):
    """A stack file that cannot be read; `lines` are one-line messages naming the file (and line) or the key."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


def _set_command(key: str, path: tuple[str | int, ...]) -> str:
    """The `pulumi config set` line for a value at `path` inside `key`: nested ones take `--path`, each part in
    brackets since a part may hold dots (pulumi.com/docs/iac/cli/commands/pulumi_config_set)."""
    if not path:
        return f"pulumi config set --secret {key} <value>"
    parts = "".join(f"[{p}]" if isinstance(p, int) else f'["{p}"]' for p in path)
    return f"pulumi config set --path --secret '{key}{parts}' <value>"


def _bad_secure(key: str, value: Any, path: tuple[str | int, ...] = ()) -> list[str]:
    """One line per `secure:` value that is not Pulumi ciphertext; the value itself is never shown."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            secure = value["secure"]
            if isinstance(secure, str) and is_ciphertext(secure):
                return []
            kind = type(secure).__name__ if not isinstance(secure, str) else "text that is not ciphertext"
            name = ".".join([key, *map(str, path)])
            return [
                f"{name}: `secure:` holds {kind}, not a value `pulumi config set --secret` wrote; allowed: the "
                f"ciphertext it writes, so set it again with `{_set_command(key, path)}`"
            ]
        return [line for k, v in value.items() for line in _bad_secure(key, v, (*path, str(k)))]
    if isinstance(value, list):
        return [line for i, v in enumerate(value) for line in _bad_secure(key, v, (*path, i))]
    return []


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
    """The raw config map and the secret keys of a stack file; `StackFileError` if it is not one."""
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise StackFileError([f"{where}: not valid YAML: {error.problem or error.context}"]) from None
    except yaml.YAMLError as error:
        raise StackFileError([f"{path}: not valid YAML: {error}"]) from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config or {}, dict):
        raise StackFileError([f"{path}: `config` must be a mapping of `namespace:key: value`"])
    config = config or {}
    errors = [line for key, value in config.items() for line in _bad_secure(str(key), value)]
    if errors:
        raise StackFileError(errors)
    raw: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        # Project-level `value:` wrappers are only for Pulumi.yaml; stack files hold values directly.
        if _has_secure(value):
            secret_keys.append(key)
        raw[key] = _wire(_placeholders(value))
    return raw, secret_keys
