"""Every private part of the Pulumi Python SDK this project relies on, in one place (pulumi 3.272.0).

The program reads the secret config keys the SDK keeps for mocks; the credential-free plan (tools/plan) reads the
wire form of secrets and resource references, resets the engine's per-run state and drives the root `Stack` as
the language host does. None of it is public API, so a Pulumi upgrade may move it: `missing_seams()` names what
is gone, and tests/test_pulumi_seams.py fails on it with that message before anything else breaks obscurely.
A leaf module: it imports Pulumi only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from importlib import import_module
from typing import Any

from pulumi.runtime import config as runtime_config
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import Stack

__all__ = [
    "SEAMS",
    "add_program_outputs",
    "config_secret_keys",
    "finish_stack",
    "is_resource_reference",
    "is_secret",
    "missing_seams",
    "reset_engine_state",
    "secret",
    "take_async_program",
]

SEAMS: Mapping[str, tuple[str, str]] = {
    "secret config keys set by pulumi.runtime.set_all_config": ("pulumi.runtime.config", "_SECRET_KEYS"),
    "the wire key that marks a special value": ("pulumi.runtime.rpc", "_special_sig_key"),
    "the wire signature of a secret": ("pulumi.runtime.rpc", "_special_secret_sig"),
    "the wire signature of a resource reference": ("pulumi.runtime.rpc", "_special_resource_sig"),
    "the root resource of the run": ("pulumi.runtime.settings", "ROOT"),
    "the engine settings holding the RPC manager": ("pulumi.runtime.settings", "SETTINGS"),
    "the program pulumi.run registered": ("pulumi.runtime.stack", "Stack._take_async_program"),
    "the stack outputs of that program": ("pulumi.runtime.stack", "Stack._add_program_outputs"),
    "the end of the root Stack": ("pulumi.runtime.stack", "Stack._finish"),
}
"""What each seam is for -> (module, attribute path) in the Pulumi SDK."""


def missing_seams() -> list[str]:
    """One line per seam the installed Pulumi SDK no longer has."""
    missing = []
    for purpose, (module_name, path) in SEAMS.items():
        target: Any = import_module(module_name)
        for part in path.split("."):
            target = getattr(target, part, None)
        if target is None:
            missing.append(
                f"{module_name}.{path} ({purpose}) is gone from the installed Pulumi SDK; "
                "adapt components/pulumi_seams.py to the new SDK or pin the version it was written for"
            )
    return missing


def config_secret_keys() -> set[str]:
    """Secret config keys given to `pulumi.runtime.set_all_config` (mocks) and, from the engine, the environment."""
    return set(runtime_config.get_config_secret_keys_env()) | set(runtime_config._SECRET_KEYS.get())  # pyright: ignore[reportPrivateUsage]


def is_secret(value: Any) -> bool:
    """A value in its wire form that is a secret: `{sig: secret, "value": ...}`."""
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig  # pyright: ignore[reportPrivateUsage]


def is_resource_reference(value: Any) -> bool:
    """A value in its wire form that is a reference to a resource (by `urn`)."""
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_resource_sig  # pyright: ignore[reportPrivateUsage]


def secret(value: Any) -> dict[str, Any]:
    """`value` in the wire form of a secret, as the engine hands secret stack outputs over."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}  # pyright: ignore[reportPrivateUsage]


def reset_engine_state(*, rpcs: bool = False) -> None:
    """Forget the previous run's root resource (and, with `rpcs`, its outstanding RPCs) before another run."""
    settings.ROOT.set(None)
    if rpcs:
        settings.SETTINGS.rpc_manager.clear()  # pyright: ignore[reportAttributeAccessIssue]


def take_async_program(root: Stack) -> Callable[[], Awaitable[Any]] | None:
    """The async program `pulumi.run(main)` registered while the module ran, if any."""
    return root._take_async_program()  # pyright: ignore[reportPrivateUsage]


def add_program_outputs(root: Stack, outputs: Any) -> None:
    root._add_program_outputs(outputs)  # pyright: ignore[reportPrivateUsage]


def finish_stack(root: Stack) -> None:
    root._finish()  # pyright: ignore[reportPrivateUsage]
