"""The Pod Security floor of domain namespaces, enforced by the API server of every cluster.

A domain's namespaces (`{domain}-{env}-{service}`) are created by Argo CD with the Pod Security Admission label
`pod-security.kubernetes.io/enforce: restricted` (managedNamespaceMetadata, components/gitops/domains.py). A domain
may also sync its own Namespace object (its AppProject admits Namespaces named after it), and Argo CD applies it
with the hub's cluster-admin rights, so the labels alone would let a domain relabel its namespace `privileged` and
then run host-network or hostPath pods. This ValidatingAdmissionPolicy refuses any create or update of a namespace
named by the semantic key, other than the platform's own (`platform-*`), that does not enforce `restricted` at the
cluster's own policy version; whoever sends it, Argo CD included.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.admissionregistration import v1 as admission

from components.naming import DOMAIN_POD_SECURITY, PLATFORM_PROJECT, POD_SECURITY_ENFORCE, managed_by_labels

__all__ = [
    "POD_SECURITY_GUARD",
    "PodSecurityGuard",
    "PodSecurityGuardArgs",
    "domain_namespace_pattern",
    "pod_security_policy_spec",
]

POD_SECURITY_GUARD = "platform-domain-pod-security"
_ENFORCE_VERSION = f"{POD_SECURITY_ENFORCE}-version"
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"


def domain_namespace_pattern(envs: tuple[str, ...]) -> str:
    """A namespace named `{project}-{env}-{service}` for one of `envs` (RE2, as CEL `matches` takes it)."""
    return f"^{_LABEL}-({'|'.join(envs)})-{_LABEL}$"


def pod_security_policy_spec(envs: tuple[str, ...]) -> admission.ValidatingAdmissionPolicySpecArgs:
    labels = "object.metadata.labels"
    return admission.ValidatingAdmissionPolicySpecArgs(
        failure_policy="Fail",
        match_constraints=admission.MatchResourcesArgs(
            resource_rules=[
                admission.NamedRuleWithOperationsArgs(
                    api_groups=[""], api_versions=["v1"], operations=["CREATE", "UPDATE"], resources=["namespaces"]
                )
            ]
        ),
        match_conditions=[
            admission.MatchConditionArgs(
                name="domain-namespace",
                expression=(
                    f"object.metadata.name.matches('{domain_namespace_pattern(envs)}') && "
                    f"!object.metadata.name.startsWith('{PLATFORM_PROJECT}-')"
                ),
            )
        ],
        validations=[
            admission.ValidationArgs(
                expression=(
                    f"has({labels}) && '{POD_SECURITY_ENFORCE}' in {labels} && "
                    f"{labels}['{POD_SECURITY_ENFORCE}'] == '{DOMAIN_POD_SECURITY}'"
                ),
                message_expression=(
                    f"'namespace ' + object.metadata.name + ' belongs to a domain: it must keep the label "
                    f"{POD_SECURITY_ENFORCE}={DOMAIN_POD_SECURITY}'"
                ),
                reason="Forbidden",
            ),
            admission.ValidationArgs(
                # An old policy version would enforce an older, weaker `restricted`.
                expression=(
                    f"!has({labels}) || !('{_ENFORCE_VERSION}' in {labels}) || "
                    f"{labels}['{_ENFORCE_VERSION}'] == 'latest'"
                ),
                message_expression=(
                    f"'namespace ' + object.metadata.name + ' belongs to a domain: {_ENFORCE_VERSION} may only be "
                    "latest'"
                ),
                reason="Forbidden",
            ),
        ],
    )


@dataclass(frozen=True)
class PodSecurityGuardArgs:
    envs: tuple[str, ...]
    """The environments whose domain namespaces (`{project}-{env}-{service}`) the floor covers."""


class PodSecurityGuard(pulumi.ComponentResource):
    """On the cluster of `opts`' provider: the domain namespaces' Pod Security floor and its binding."""

    def __init__(self, name: str, args: PodSecurityGuardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:gitops:PodSecurityGuard", name, None, opts)
        metadata = k8s.meta.v1.ObjectMetaArgs(name=POD_SECURITY_GUARD, labels=managed_by_labels())
        policy = admission.ValidatingAdmissionPolicy(
            f"{name}-policy",
            metadata=metadata,
            spec=pod_security_policy_spec(args.envs),
            opts=pulumi.ResourceOptions(parent=self),
        )
        admission.ValidatingAdmissionPolicyBinding(
            f"{name}-binding",
            metadata=metadata,
            spec=admission.ValidatingAdmissionPolicyBindingSpecArgs(
                policy_name=POD_SECURITY_GUARD, validation_actions=["Deny"]
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.register_outputs({"policy": POD_SECURITY_GUARD})
