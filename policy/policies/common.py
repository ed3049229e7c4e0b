"""What every policy shares: the environment a resource belongs to and the enforcement that follows from it,
and reading properties that may still be unknown during a preview.

Environment: the stricter of what the stack's name says and what its `platform:env` says, as
tools/preview_guard.py does, so a stack's own config can only tighten the pack, never switch it off. The stack name
is read from every request's URN (`urn:pulumi:<stack>::...`), which the engine always sends, and from `PULUMI_STACK`;
the config from `PULUMI_CONFIG`. The CLI sets both variables when it starts a Python pack
(pulumi/pulumi sdk/go/common/resource/plugin/analyzer_plugin.go `constructEnv`, v3.272); its `ConfigureStack` call
also carries them, but pulumi-policy 1.21.0 keeps only the stack tags from it (policy.py `ConfigureStack`). A name
names an environment when it is one, or has one as a `-`, `_` or `.` separated word (`prod-eu`); a name that names
none runs mandatory, failing closed. The program refuses, at config load, a stack whose name and `platform:env` differ.

Enforcement: the SDK fixes one level per policy, so each rule is registered twice, `<name>` (mandatory) and
`<name>-advisory`, and each copy answers "not applicable" outside its environments. Local (kind) is exempt, dev and
mgmt advisory, the rest mandatory; a rule about Argo CD and the hub (`Rule.hub`) is mandatory on mgmt too, where the
hub's Argo CD holds cluster-admin on every spoke, prod included.

Unknowns: during `pulumi preview`, reading a value that depends on an unfinished resource raises
`UnknownValueError` (pulumi_policy/proxy.py). `get` and `items` turn it into `UNKNOWN`, which every check skips;
`pulumi up` analyzes the same resource again with the value known, so nothing goes unchecked.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
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
    "ENVIRONMENTS",
    "EXEMPT_ENVS",
    "HELM_CHART",
    "HELM_RELEASE",
    "HUB_ENVS",
    "PROTECTED_ENVS",
    "UNKNOWN",
    "Check",
    "Rule",
    "envs_named_by",
    "envs_of",
    "get",
    "is_open_cidr",
    "items",
    "level_for",
    "level_of",
    "walk",
]

# The pack's copy of the columns it needs from components/config/environments.py, which it cannot import;
# tests/test_environments.py holds them equal to that table.
ENVIRONMENTS = ("local", "mgmt", "dev", "staging", "prod")
EXEMPT_ENVS = frozenset({"local"})
ADVISORY_ENVS = frozenset({"dev", "mgmt"})
# Where the hub's Argo CD runs (role hub): its rules are mandatory there.
HUB_ENVS = frozenset({"mgmt"})
# Whose platform may not be deleted or replaced: mgmt too, as it hosts the Argo CD that deploys to prod.
PROTECTED_ENVS = frozenset({"staging", "mgmt", "prod"})


# The two ways a program installs a Helm chart with pulumi-kubernetes 4.
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_CHART = "kubernetes:helm.sh/v4:Chart"


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


def envs_named_by(stack: str) -> set[str]:
    """The environments a stack name names (see the module docstring); the name itself where it names none."""
    name = stack.rsplit("/", 1)[-1]
    named = set(re.split(r"[-_.]", name.lower())) & set(ENVIRONMENTS)
    return named or {name}


def envs_of(urn: str) -> set[str]:
    """Every environment the stack of `urn` goes by: its name in the URN and in `PULUMI_STACK`, and its config."""
    envs = envs_named_by(urn.removeprefix("urn:pulumi:").split("::", 1)[0])
    if os.environ.get("PULUMI_STACK"):
        envs |= envs_named_by(os.environ["PULUMI_STACK"])
    configured = _configured_env(os.environ.get("PULUMI_CONFIG", ""))
    if configured:
        envs.add(configured)
    return envs


def level_for(env: str, *, hub: bool = False) -> EnforcementLevel | None:
    """How hard a violation in `env` stops a deployment; None where the pack does not apply. `hub`: a rule about
    Argo CD and the hub, mandatory where the hub runs."""
    if env in EXEMPT_ENVS:
        return None
    if env in ADVISORY_ENVS and not (hub and env in HUB_ENVS):
        return EnforcementLevel.ADVISORY
    return EnforcementLevel.MANDATORY


_STRICTNESS = {None: 0, EnforcementLevel.ADVISORY: 1, EnforcementLevel.MANDATORY: 2}


def level_of(urn: str, *, hub: bool = False) -> tuple[EnforcementLevel | None, str]:
    """The strictest level among the environments the stack of `urn` goes by, and the environment that sets it."""
    env = max(sorted(envs_of(urn)), key=lambda e: _STRICTNESS[level_for(e, hub=hub)])
    return level_for(env, hub=hub), env


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
    hub: bool = False
    """A rule about Argo CD and the hub: mandatory on mgmt too."""

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
            expected, env = level_of(args.urn, hub=self.hub)
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
