"""Run the real program under Pulumi's mocks and record what it would register.

The program is the same `__main__.py` that `pulumi up` runs; only the engine is replaced. A recording
monitor keeps, for every registration, the options the engine would see (parent, provider, dependencies,
protect, retainOnDelete, ignoreChanges) with secret inputs masked, so the plan can be written to files that
reviewers and scanners read without credentials.
"""

from __future__ import annotations

import asyncio
import runpy
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.stack import Stack, run_pulumi_func

from components.pulumi_seams import (
    add_program_outputs,
    finish_stack,
    is_resource_reference,
    is_secret,
    reset_engine_state,
    take_async_program,
)
from tools.plan.mocks import PlatformMocks

__all__ = ["SECRET_MASK", "Plan", "RecordedResource", "run_program"]

T = TypeVar("T")
PROJECT = "platform"
PROGRAM = Path(__file__).resolve().parents[2] / "__main__.py"
SECRET_MASK = "[secret]"


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    custom: bool
    parent_urn: str | None
    provider_urn: str | None
    dependency_urns: list[str]
    inputs: Any
    protect: bool
    retain_on_delete: bool
    ignore_changes: list[str]
    delete_before_replace: bool
    replace_on_changes: list[str]
    replace_with_urns: list[str] = field(default_factory=list)
    import_id: str = ""
    """The `import` option: the id of an existing object the engine adopts instead of creating it."""


@dataclass
class Plan:
    stack: str
    preview: bool = False
    """Run as a first `pulumi preview` sees it: every output a cloud computes is unknown."""
    resources: list[RecordedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    """Stack outputs, secrets replaced by the mask."""
    secret_values: list[str] = field(default_factory=list)
    """Plain values of every secret seen, so tests can prove none of them leaks into a written file."""
    notes: list[str] = field(default_factory=list)
    """What the plan assumed (placeholder secrets), for the reader."""
    hub: Plan | None = None
    """For a spoke, the plan of the hub stack whose ApplicationSets deploy to it, where that stack is shipped."""

    def by_type(self, type_token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_token]

    def name_of(self, urn: str | None) -> str | None:
        if not urn:
            return None
        return urn.rsplit("::", 1)[-1]


def _unwrap(value: Any, plan: Plan) -> Any:
    """Turn the wire form of inputs into plain data: secrets masked, resource references by name."""
    if isinstance(value, dict):
        if is_secret(value):
            _collect_secret(value.get("value"), plan)
            return _mask(value.get("value"))
        if is_resource_reference(value):
            return plan.name_of(value.get("urn"))
        return {k: _unwrap(v, plan) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v, plan) for v in value]
    if isinstance(value, float) and value.is_integer():
        # The wire format carries every number as a double; replicas: 2 should read 2, not 2.0.
        return int(value)
    return value


def _mask(value: Any) -> Any:
    """A secret's shape without its content: a map keeps its keys (a Secret's `data` stays a map the API server
    accepts, and a reviewer sees which keys it holds), every other value becomes the mask."""
    if isinstance(value, dict):
        return {key: _mask(item) for key, item in value.items()}
    return SECRET_MASK


def _collect_secret(value: Any, plan: Plan) -> None:
    if isinstance(value, str) and value:
        plan.secret_values.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _collect_secret(v, plan)
    elif isinstance(value, list):
        for v in value:
            _collect_secret(v, plan)


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks, plan: Plan) -> None:
        super().__init__(mocks)
        self.plan = plan

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the engine's RPC name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.plan.resources.append(
                RecordedResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=request.custom,
                    parent_urn=request.parent or None,
                    provider_urn=request.provider.split("::id")[0] if request.provider else None,
                    dependency_urns=list(request.dependencies),
                    inputs=_unwrap(json_format.MessageToDict(request.object), self.plan),
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    ignore_changes=list(request.ignoreChanges),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    replace_on_changes=list(request.replaceOnChanges),
                    replace_with_urns=list(request.replace_with),
                    import_id=request.importId,
                )
            )
        return response


def _run(awaitable: Coroutine[Any, Any, T]) -> T:
    """Run on the event loop the SDK's futures belong to (the thread's loop, which set_mocks uses too)."""
    loop = asyncio.get_event_loop_policy().get_event_loop()
    return loop.run_until_complete(awaitable)


async def _resolve_outputs(outputs: Mapping[str, Any], plan: Plan) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for name, value in outputs.items():
        output = pulumi.Output.from_input(value)
        plain = await output.future()
        if await output.is_secret():
            _collect_secret(plain, plan)
            resolved[name] = SECRET_MASK
        else:
            resolved[name] = plain
    return resolved


def run_program(
    stack: str,
    raw_config: Mapping[str, Any],
    secret_keys: list[str],
    plan: Plan | None = None,
    *,
    preview: bool = False,
) -> Plan:
    """Run `__main__.py` for `stack` with the given raw config; return what it registered (into `plan`).

    `preview=True` runs it as `pulumi preview` does before anything exists: the mocks answer every resource with
    its inputs only, so every output a provider computes is unknown (pulumi.runtime.mocks MockMonitor). The
    program's `pulumi.RunError` propagates, and `plan` then shows nothing was registered.
    """
    plan = plan if plan is not None else Plan(stack=stack, preview=preview)
    pulumi.runtime.set_all_config(dict(raw_config), secret_keys)
    reset_engine_state()
    mocks = PlatformMocks(preview=preview)
    monitor = RecordingMonitor(mocks, plan)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    # set_mocks leaves a finished root Stack, which refuses `pulumi.run`; the engine's entry point
    # (runtime/stack.py run_in_stack) runs the module in a fresh Stack, then awaits the registered program.
    reset_engine_state(rpcs=True)
    program_error: list[BaseException] = []
    roots: list[Stack] = []

    async def program() -> None:
        root = Stack()
        roots.append(root)
        try:
            runpy.run_path(str(PROGRAM), run_name="__main__")
            entry = take_async_program(root)
            if entry is not None:
                add_program_outputs(root, await entry())
        except BaseException as error:
            program_error.append(error)
            raise
        finally:
            finish_stack(root)

    try:
        _run(run_pulumi_func(program))
    except BaseException:
        # The language host reports the program's own RunError (one line); a failed engine call behind it (the
        # read of a stack that does not exist) is the engine's to report, on the resource it failed for.
        if program_error and isinstance(program_error[0], pulumi.RunError):
            raise program_error[0] from None
        raise
    # The root was set in the program's task (a context variable): read it from there.
    stack_outputs = roots[0].outputs if roots else {}
    plan.outputs = _run(_resolve_outputs(stack_outputs, plan))
    return plan
