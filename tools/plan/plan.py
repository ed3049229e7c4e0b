"""Plan one stack: read its config, check it, stand in placeholders for unset secrets, run the program."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pulumi

from components.catalog import load_catalog
from components.config import ConfigError, load_stack_config
from tools.plan.mocks import stacks
from tools.plan.runner import PROGRAM, Plan, run_program
from tools.plan.stackfile import PLACEHOLDER, StackFileError, read_stack_file

__all__ = ["PROJECT_DIR", "PlanConfigError", "plan_stack", "stack_file"]

PROJECT_DIR = PROGRAM.parent


class PlanConfigError(Exception):
    """The stack's config was refused; `lines` are the one-line messages, and nothing was registered."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


def stack_file(stack: str) -> Path:
    return PROJECT_DIR / f"Pulumi.{stack}.yaml"


def plan_stack(
    stack: str,
    config_file: Path | None = None,
    *,
    with_hub: bool = True,
    planned: Mapping[str, Plan] | None = None,
    preview: bool = False,
) -> Plan:
    """Plan `stack` (from `config_file` if given). A spoke is planned `with_hub` too, for its applications; a hub
    plan already in `planned` (by stack name) is reused rather than planned again. `preview` runs the program as
    a first `pulumi preview` sees it, every cloud output unknown (see `run_program`)."""
    path = config_file or stack_file(stack)
    if not path.is_file():
        raise PlanConfigError([f"{path}: no such stack file; shipped stacks: {', '.join(shipped_stacks())}"])
    try:
        raw, secret_keys = read_stack_file(path)
    except StackFileError as error:
        raise PlanConfigError(error.lines) from None
    notes: list[str] = []
    catalog = load_catalog()
    try:
        config = load_stack_config(raw, secret_keys, catalog, stack=stack)
    except ConfigError as error:
        other_errors = [line for line in error.lines if not any(k in line for k in error.missing_secrets)]
        if other_errors or not error.missing_secrets:
            raise PlanConfigError(error.lines) from None
        # A plan has no secrets provider (a fork's pull request has no secrets at all): stand in masked
        # placeholders for the secrets `pulumi up` will require.
        for key in error.missing_secrets:
            raw[key] = PLACEHOLDER
            secret_keys.append(key)
            notes.append(f"{key} is not set; planned with a masked placeholder (`pulumi up` requires it)")
        config = load_stack_config(raw, secret_keys, catalog, stack=stack)
    stacks.REFERENCED.clear()
    try:
        plan = run_program(stack, raw, secret_keys, preview=preview)
    except pulumi.RunError as error:
        raise PlanConfigError(str(error).splitlines()) from None
    # A spoke reads the hub stack's outputs; offline, they are the stand-ins of the mocks.
    notes += [
        f"stack reference {name}: planned with the stand-in hub outputs of tools/plan/mocks/stacks.py"
        for name in dict.fromkeys(stacks.REFERENCED)
    ]
    # What Argo CD deploys to a spoke is decided by the hub's ApplicationSets: plan the hub too, where its stack
    # file is here, so the spoke's applications.json (and the pull-request diff built on it) shows its cluster.
    hub_stack = config.topology.hub_stack.rsplit("/", 1)[-1] if config.topology.hub_stack else None
    # A preview has no applications to expand (the registrations' values are unknown).
    with_hub = with_hub and not preview
    if with_hub and not config.is_hub and hub_stack and hub_stack != stack and stack_file(hub_stack).is_file():
        plan.hub = (planned or {}).get(hub_stack) or plan_stack(hub_stack)
        notes.append(f"applications: expanded from the ApplicationSets of the hub stack {hub_stack}")
    plan.notes.extend(notes)
    return plan


def shipped_stacks() -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in PROJECT_DIR.glob("Pulumi.*.yaml"))
