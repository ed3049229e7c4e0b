"""Mocks that answer like the real providers, so the program runs with no cloud and no credentials.

Each provider's answers live in its own module as two tables: resource type token -> outputs the provider
adds to the inputs, and invoke token -> result. Tokens and output names are the providers' wire names
(camelCase); a mock that answered in snake_case would leave the program reading `None`
(pulumi/pulumi#4774). An invoke nobody answers is an error, not an empty result (pulumi/pulumi#5671).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from tools.plan.mocks import aws, azure, gcp, kubernetes, random_provider, stacks, tls
from tools.plan.mocks.errors import InvokeFailure

__all__ = ["InvokeFailure", "PlatformMocks", "UnmockedInvokeError"]

ResourceAnswer = Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]
CallAnswer = Callable[[dict[str, Any]], dict[str, Any]]

_MODULES = (gcp, aws, azure, kubernetes, random_provider, tls, stacks)
RESOURCES: dict[str, ResourceAnswer] = {tok: fn for m in _MODULES for tok, fn in m.RESOURCES.items()}
CALLS: dict[str, CallAnswer] = {tok: fn for m in _MODULES for tok, fn in m.CALLS.items()}


class UnmockedInvokeError(RuntimeError):
    """The program called an invoke that no mock answers; add it to the provider's CALLS table."""


READ_IN_PREVIEW = frozenset({"pulumi:pulumi:StackReference"})
"""Resources whose outputs a preview knows: the engine reads another stack's outputs in a preview too."""


class PlatformMocks(pulumi.runtime.Mocks):
    def __init__(self, *, preview: bool = False) -> None:
        super().__init__()
        self.preview = preview

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        if self.preview and args.typ not in READ_IN_PREVIEW:
            # A first preview, with nothing created yet: no id, and no output at all, which the SDK resolves as
            # unknown in a dry run. Stricter than a real preview (a provider may echo some inputs as known outputs),
            # so a program that runs here cannot depend on any output being known.
            return None, {}
        answer = RESOURCES.get(args.typ)
        extra = answer(args) if answer else {}
        resource_id = extra.pop("id", None) or f"{args.name}-id"
        return resource_id, {**args.inputs, **extra}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        answer = CALLS.get(args.token)
        if answer is None:
            raise UnmockedInvokeError(f"no mock answers the invoke {args.token}")
        try:
            return answer(args.args), []  # no check failures; None would break the mock monitor
        except InvokeFailure as failure:
            # What a provider's data source does when it finds nothing: the invoke fails, the program sees an error.
            return {}, [(failure.property_name, failure.reason)]
