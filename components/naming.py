"""The semantic key `{project}-{env}-{service}` that addresses everything on the platform.

Every component takes its namespace, Argo CD project and Application names, and labels from here, so a
rename happens in one place. Names are checked against Kubernetes' DNS-1123 label rule, because a name
that is too long or has a capital letter is rejected by the API server only at `pulumi up`.
"""

from __future__ import annotations

import re

__all__ = [
    "APPLICATION_CLUSTER_LABEL",
    "ARGOCD_NAMESPACE",
    "CROSSPLANE_NAMESPACE",
    "DOMAIN_POD_SECURITY",
    "ENV_LABEL",
    "MANAGED_BY",
    "PLATFORM_PROJECT",
    "POD_SECURITY_ENFORCE",
    "PROJECT_LABEL",
    "SERVICE_LABEL",
    "backstage_component",
    "check_dns_label",
    "cluster_name",
    "fixed_namespace_labels",
    "managed_by_labels",
    "namespace",
    "part_of_argocd_labels",
    "pod_security_labels",
    "semantic_labels",
    "semantic_labels_of",
]

PLATFORM_PROJECT = "platform"
ARGOCD_NAMESPACE = "argocd"
CROSSPLANE_NAMESPACE = "crossplane-system"
MANAGED_BY = "pulumi"
# The semantic key's labels; a generated Application also names the cluster it deploys to, which the plan's rows
# and the notifications read.
PROJECT_LABEL, ENV_LABEL, SERVICE_LABEL = "project", "env", "service"
APPLICATION_CLUSTER_LABEL = "cluster"

POD_SECURITY_ENFORCE = "pod-security.kubernetes.io/enforce"
DOMAIN_POD_SECURITY = "restricted"
"""Every namespace a domain gets: its pods run under the Pod Security Standard `restricted` (non-root, no host
namespaces or paths, no privilege, capabilities dropped, RuntimeDefault seccomp)."""

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_LABEL_MAX = 63


def check_dns_label(value: str) -> str:
    """Return `value` if it is a valid Kubernetes DNS-1123 label, else raise ValueError saying why."""
    if len(value) > DNS_LABEL_MAX:
        raise ValueError(f"'{value}' is {len(value)} characters long; a Kubernetes name has at most 63")
    if not DNS_LABEL.match(value):
        raise ValueError(
            f"'{value}' is not a valid Kubernetes name; use lower-case letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def namespace(project: str, env: str, service: str) -> str:
    """`payments-prod-api`: the namespace of a service of a project in one environment."""
    return check_dns_label(f"{project}-{env}-{service}")


def backstage_component(project: str, service: str) -> str:
    """The env-agnostic Backstage component id, e.g. `platform-argocd`."""
    return check_dns_label(f"{project}-{service}")


def cluster_name(env: str, prefix: str = "cluster") -> str:
    """`cluster-prod`: the name of the cluster of one environment."""
    return check_dns_label(f"{prefix}-{env}")


def semantic_labels_of(project: str, env: str, service: str, component: str) -> dict[str, str]:
    """The semantic labels alone, no `managed-by`: what Argo CD puts on the namespaces it creates
    (managedNamespaceMetadata). Unchecked, since a part may be a Go template the ApplicationSet fills in;
    `component` is the Backstage component id (`backstage_component` of a literal key)."""
    return {
        PROJECT_LABEL: project,
        ENV_LABEL: env,
        SERVICE_LABEL: service,
        "backstage.io/component": component,
        "backstage.io/kubernetes-id": component,
    }


def semantic_labels(project: str, env: str, service: str) -> dict[str, str]:
    """The labels every object this program addresses by the semantic key carries."""
    return {**semantic_labels_of(project, env, service, backstage_component(project, service)), **managed_by_labels()}


def managed_by_labels() -> dict[str, str]:
    """Says Pulumi manages the object: only on what this program creates, never on what Argo CD creates."""
    return {"app.kubernetes.io/managed-by": MANAGED_BY}


def fixed_namespace_labels(service: str, env: str) -> dict[str, str]:
    """Labels of `argocd` and `crossplane-system`: fixed names, but the same semantic labels (brief).

    `env` is the environment of the cluster that runs Argo CD: `mgmt` on a hub, the stack's own env standalone.
    """
    return semantic_labels(PLATFORM_PROJECT, env, service)


def pod_security_labels(level: str) -> dict[str, str]:
    """Pod Security Admission labels of a namespace: enforce at `level`, and warn and audit at `restricted`, so
    whatever a more permissive namespace runs that `restricted` would refuse shows in warnings and the audit log.
    No `-version` labels: each level is the policy of the cluster's own Kubernetes version."""
    return {
        POD_SECURITY_ENFORCE: level,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }


def part_of_argocd_labels() -> dict[str, str]:
    """Labels of the objects this program adds to Argo CD's own install (Secrets, ConfigMaps, AppProjects)."""
    return {**managed_by_labels(), "app.kubernetes.io/part-of": "argocd"}
