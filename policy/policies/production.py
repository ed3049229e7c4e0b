"""Production resources are protected: in staging, prod and the mgmt hub (`PROTECTED_ENVS`), every cluster, node
pool, network, NAT, egress address, KMS key, the sealing key, the Argo CD release and the argocd Namespace carries
`protect=True`, so no deployment can delete or replace them (Pulumi "Protecting against undesired changes";
`pulumi state protect` alone is undone by the next `up` unless the program sets it). Which kinds: the entries of
../critical_resources.yaml marked `protect: true`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import PROTECTED_ENVS, envs_of, get

__all__ = ["CRITICAL_RESOURCES", "PROTECTED", "Protected", "production_protected"]

CRITICAL_RESOURCES = Path(__file__).resolve().parents[1] / "critical_resources.yaml"
"""The one list of critical resources, shared with tools/preview_guard.py; it ships inside the pack's folder."""


@dataclass(frozen=True)
class Protected:
    """A kind of resource the program protects in a protected environment (an entry with `protect: true`)."""

    type: str
    namespace: str | None = None
    """Only objects installed into this namespace (a Helm release's `namespace`)."""
    name: str | None = None
    """Only the object of this name (`metadata.name`)."""

    def matches(self, resource_type: str, props: object) -> bool:
        if resource_type != self.type:
            return False
        if self.namespace is not None and get(props, "namespace") != self.namespace:
            return False
        return self.name is None or get(props, "metadata.name") == self.name


def _load_protected(path: Path) -> tuple[Protected, ...]:
    return tuple(
        Protected(type=entry["type"], namespace=entry.get("namespace"), name=entry.get("name"))
        for entry in yaml.safe_load(path.read_text())
        if entry["protect"]
    )


PROTECTED: tuple[Protected, ...] = _load_protected(CRITICAL_RESOURCES)


def _must_be_protected(resource_type: str, props: object) -> bool:
    return any(entry.matches(resource_type, props) for entry in PROTECTED)


def validate_protected(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    if not args.resources:
        return
    envs = envs_of(args.resources[0].urn)
    protected = sorted(envs & PROTECTED_ENVS)
    if not protected:
        args.not_applicable(f"{', '.join(sorted(envs))} is not a protected environment; its resources may be torn down")
    env = protected[0]
    for resource in args.resources:
        if _must_be_protected(resource.resource_type, resource.props) and not resource.opts.protect:
            report_violation(f"{resource.resource_type} {resource.name} must have protect=True in {env}", resource.urn)


production_protected = StackValidationPolicy(
    name="production-protected",
    description=(
        "In staging, prod and mgmt, clusters, node pools, networks, NATs, egress addresses, KMS keys, the sealing key, "
        "the Argo CD release and the argocd Namespace are protected."
    ),
    validate=validate_protected,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Create the resource with ClusterArgs.resource_options(...) (protect=config.protect).",
)
