"""The Argo CD AppProjects, as pure manifests: the locked-down `default`, `platform`, and one per domain.

A project bounds what its Applications may deploy: from which repositories, to which cluster and namespace, and
which kinds (docs/user-guide/projects.md). Least privilege for tenants (HARDENING #20, #21): a domain reads only
its own repository, writes only namespaces `{domain}-{env}-*`, never a cluster-scoped object and never the
`argocd` namespace (a project that may deploy there is admin, docs/operator-manual/declarative-setup.md).
"""

from __future__ import annotations

from typing import Any

from components.catalog import Catalog
from components.config.environments import ENVIRONMENT_TABLE
from components.config.model import ENVIRONMENTS, Domain, StackConfig
from components.naming import (
    ARGOCD_NAMESPACE,
    CROSSPLANE_NAMESPACE,
    PLATFORM_PROJECT,
    part_of_argocd_labels,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_PROJECT",
    "DOMAIN_BLOCKED_KINDS",
    "PATCH_FORCE",
    "PLATFORM_NAMESPACES",
    "app_project",
    "default_project",
    "domain_envs",
    "domain_project",
    "platform_project",
]

API_VERSION = "argoproj.io/v1alpha1"
DEFAULT_PROJECT = "default"
PATCH_FORCE = "pulumi.com/patchForce"
"""Pulumi's server-side-apply annotation that takes over fields another manager owns (pulumi-kubernetes
provider/pkg/await: `patchForce`)."""

PLATFORM_NAMESPACES: tuple[str, ...] = (
    f"{PLATFORM_PROJECT}-*",
    ARGOCD_NAMESPACE,  # Argo CD manages its own install
    CROSSPLANE_NAMESPACE,
    # kube-prometheus-stack puts the Services that scrape the control plane (coredns, kubelet, ...) here.
    "kube-system",
)
"""Namespaces the platform project may deploy into, on every registered cluster."""

DOMAIN_BLOCKED_KINDS: tuple[dict[str, str], ...] = (
    # The platform sets a domain namespace's quota and defaults; a team must not lift its own.
    {"group": "", "kind": "ResourceQuota"},
    {"group": "", "kind": "LimitRange"},
)

# Workload environments a domain deploys to from a hub (the spokes); the hub runs only the platform, local is a
# standalone laptop.
_HUB_DOMAIN_ENVS = tuple(env for env in ENVIRONMENTS if ENVIRONMENT_TABLE[env].role == "spoke")


def app_project(name: str, spec: dict[str, Any], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": ARGOCD_NAMESPACE,
        "labels": part_of_argocd_labels(),
    }
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": API_VERSION, "kind": "AppProject", "metadata": metadata, "spec": spec}


def default_project() -> dict[str, Any]:
    """The lockdown manifest of docs/user-guide/projects.md, plus an explicit empty cluster whitelist.

    argocd-server creates `default` at start-up with `*` everywhere (server/server.go initializeDefaultProject);
    Pulumi's server-side apply upserts over it and `patchForce` takes the fields argocd-server owns. Every field
    the server set is listed, so none of its permissive values survives.
    """
    return app_project(
        DEFAULT_PROJECT,
        {
            "description": "Locked down: no source, no destination, no kind. Use platform or a domain project.",
            "sourceRepos": [],
            "sourceNamespaces": [],
            "destinations": [],
            "clusterResourceWhitelist": [],
            "namespaceResourceBlacklist": [{"group": "*", "kind": "*"}],
        },
        annotations={PATCH_FORCE: "true"},
    )


def platform_project(config: StackConfig, catalog: Catalog) -> dict[str, Any]:
    """`platform`: the GitOps repository and every catalog chart repository, on every registered cluster."""
    # Derived from the catalog, so a new service's repository is allowed the moment it is catalogued.
    chart_repos = sorted({service.chart.argocd_repo_url for service in catalog.services.values()})
    return app_project(
        PLATFORM_PROJECT,
        {
            "description": "Platform services and Argo CD itself, on every registered cluster.",
            "sourceRepos": [config.gitops.repo_url, *chart_repos],
            "destinations": [{"server": "*", "namespace": namespace} for namespace in PLATFORM_NAMESPACES],
            # Operators bring CRDs, ClusterRoles and webhooks.
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
        },
    )


def domain_envs(config: StackConfig) -> tuple[str, ...]:
    """Environments whose namespaces a domain may write: dev, staging and prod from a hub; a standalone cluster
    serves only its own environment."""
    return _HUB_DOMAIN_ENVS if config.topology.mode == "hub" else (config.env,)


def _policies(project: str, role: str, actions: tuple[tuple[str, str], ...]) -> list[str]:
    subject = f"proj:{project}:{role}"
    return [f"p, {subject}, {resource}, {action}, {project}/*, allow" for resource, action in actions]


_ADMIN_ACTIONS = (
    ("applications", "get"),
    ("applications", "sync"),  # also rollback, which Argo CD authorises as sync (server/application Rollback)
    ("applications", "override"),
    ("applications", "delete"),
    ("applications", "action/*"),  # resource actions such as restarting a Deployment
    ("logs", "get"),
)
_VIEWER_ACTIONS = (("applications", "get"),)


def domain_project(domain: Domain, envs: tuple[str, ...]) -> dict[str, Any]:
    """A domain's project: its own repository, its own `{domain}-{env}-*` namespaces on any cluster, no
    cluster-scoped kind but those namespaces themselves, and the roles its SSO groups get."""
    name = domain.name
    # `{domain}-{env}-*` rather than `{domain}-*`: a domain named `kube` must not match kube-system.
    namespaces = [f"{name}-{env}-*" for env in envs]
    return app_project(
        name,
        {
            "description": f"Domain {name}: its own repository and namespaces only.",
            "sourceRepos": [domain.repo_url],
            "destinations": [{"server": "*", "namespace": namespace} for namespace in namespaces],
            # CreateNamespace's Namespace is checked like any cluster-scoped object (gitops-engine sync_context
            # permission check; argo-cd#22869): allow exactly the domain's own names (a name glob, Argo CD 3.x).
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace", "name": ns} for ns in namespaces],
            "namespaceResourceBlacklist": [dict(kind) for kind in DOMAIN_BLOCKED_KINDS],
            "roles": [
                {
                    "name": "admin",
                    "description": "Sync, override, roll back and delete the domain's applications.",
                    "groups": list(domain.admin_groups),
                    "policies": _policies(name, "admin", _ADMIN_ACTIONS),
                },
                {
                    "name": "viewer",
                    "description": "Read the domain's applications.",
                    "groups": list(domain.viewer_groups),
                    "policies": _policies(name, "viewer", _VIEWER_ACTIONS),
                },
            ],
        },
    )
