"""What every policy shares: the environment a resource belongs to and the enforcement that follows from it,
and reading properties that may still be unknown during a preview.

Environment: `platform:env` from the stack config the CLI hands the pack (the language host sets `PULUMI_CONFIG` for
policy packs, pulumi/pulumi sdk/python/cmd/pulumi-language-python RunPlugin), else the stack name in the resource's
URN (`urn:pulumi:<stack>::...`; this project names stacks after their env). Stack tags are not used: a self-managed
backend may have none.

Enforcement: the SDK fixes one level per policy, so each rule is registered twice, `<name>` (mandatory) and
`<name>-advisory`, and each copy answers "not applicable" outside its environments. Local (kind) is exempt; an
environment this project does not know runs mandatory, failing closed.

Unknowns: during `pulumi preview`, reading a value that depends on an unfinished resource raises
`UnknownValueError` (pulumi_policy/proxy.py). `get` and `items` turn it into `UNKNOWN`, which every check skips;
`pulumi up` analyzes the same resource again with the value known, so nothing goes unchecked.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)
from pulumi_policy.proxy import UnknownValueError

__all__ = [
    "ADVISORY_ENVS",
    "EXEMPT_ENVS",
    "UNKNOWN",
    "Check",
    "Rule",
    "env_of",
    "get",
    "is_open_cidr",
    "items",
    "level_for",
    "walk",
]

EXEMPT_ENVS = frozenset({"local"})
ADVISORY_ENVS = frozenset({"dev", "mgmt"})


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
"""A value that is not known until `pulumi up`."""


@lru_cache(maxsize=8)
def _configured_env(raw_config: str) -> str | None:
    try:
        env = json.loads(raw_config).get("platform:env") if raw_config else None
    except (ValueError, AttributeError):
        return None
    return env if isinstance(env, str) and env else None


def env_of(urn: str) -> str:
    """The environment of the stack a resource belongs to."""
    configured = _configured_env(os.environ.get("PULUMI_CONFIG", ""))
    if configured:
        return configured
    return urn.removeprefix("urn:pulumi:").split("::", 1)[0]


def level_for(env: str) -> EnforcementLevel | None:
    """How hard a violation in `env` stops a deployment; None where the pack does not apply."""
    if env in EXEMPT_ENVS:
        return None
    return EnforcementLevel.ADVISORY if env in ADVISORY_ENVS else EnforcementLevel.MANDATORY


def get(props: Any, path: str, default: Any = None) -> Any:
    """`props["a"]["b"]` for `"a.b"`: `default` where something on the way is missing or null, `UNKNOWN` where
    a value is not known yet."""
    value = props
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return default
        try:
            value = value[key]
        except KeyError:
            return default
        except UnknownValueError:
            return UNKNOWN
    return default if value is None else value


def items(props: Any, path: str) -> Any:
    """The list at `path` (empty if missing), each unknown element as `UNKNOWN`; `UNKNOWN` if the list is."""
    value = get(props, path, [])
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, str) or not isinstance(value, Sequence):
        return []
    result = []
    for index in range(len(value)):
        try:
            result.append(value[index])
        except UnknownValueError:
            result.append(UNKNOWN)
    return result


def walk(value: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every leaf under `value` as (dotted path, last key, value); unknown leaves are skipped."""
    if isinstance(value, Mapping):
        for key in list(value):
            try:
                child = value[key]
            except UnknownValueError:
                continue
            yield from walk_child(child, f"{path}.{key}" if path else str(key), str(key))
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for index in range(len(value)):
            try:
                child = value[index]
            except UnknownValueError:
                continue
            yield from walk_child(child, f"{path}[{index}]", path.rsplit(".", 1)[-1])


def walk_child(child: Any, path: str, key: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(child, Mapping) or (isinstance(child, Sequence) and not isinstance(child, str)):
        yield from walk(child, path)
    else:
        yield path, key, child


def is_open_cidr(cidr: Any) -> bool:
    """True for a range that admits every address (0.0.0.0/0, ::/0, or any /0)."""
    if not isinstance(cidr, str):
        return False
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


Check = Callable[[Any, ResourceValidationArgs], Iterable[str]]
"""Yields one message per violation found in a resource's props."""


@dataclass(frozen=True)
class Rule:
    """A resource check, registered once per enforcement level (see the module docstring)."""

    name: str
    description: str
    types: frozenset[str] | None
    """The resource types checked; None for every type but providers."""
    check: Check
    severity: Severity = Severity.HIGH
    remediation: str | None = None

    def applies_to(self, resource_type: str) -> bool:
        if self.types is None:
            return not resource_type.startswith("pulumi:providers:")
        return resource_type in self.types

    def policies(self) -> list[ResourceValidationPolicy]:
        return [
            ResourceValidationPolicy(
                name=self.name if level == EnforcementLevel.MANDATORY else f"{self.name}-advisory",
                description=self.description,
                validate=self._validator(level),
                enforcement_level=level,
                severity=self.severity,
                remediation_steps=self.remediation,
            )
            for level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY)
        ]

    def _validator(self, level: EnforcementLevel) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
        def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
            if not self.applies_to(args.resource_type):
                return
            env = env_of(args.urn)
            expected = level_for(env)
            if expected is None:
                args.not_applicable(f"the {env} stack is exempt from the platform policies")
            if expected != level:
                args.not_applicable(f"in {env} this rule runs at {expected.value if expected else 'no'} level")
            try:
                for message in self.check(args.props, args):
                    report_violation(message, None)
            except UnknownValueError:
                # A value the check did not guard is unknown in this preview; `pulumi up` checks it.
                return

        return validate
