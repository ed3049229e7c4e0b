"""Argo CD least privilege and exposure (argo-cd docs: user-guide/projects.md, operator-manual/declarative-setup.md
"Projects" warning, security.md; HARDENING.md section 3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from .common import HELM_CHART, HELM_RELEASE, UNKNOWN, Rule, get, items

__all__ = ["ARGOCD_RULES", "PLATFORM_PROJECTS"]

APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
ARGOCD_NAMESPACE = "argocd"
# Projects of the platform team itself; every other project belongs to a domain.
PLATFORM_PROJECTS = frozenset({"platform", "default"})


def _own_namespaces(entry: Any, project: str) -> bool:
    """`{group: "", kind: Namespace, name: "{project}-{env}-*"}`: the namespaces CreateNamespace makes, by name."""
    pattern = get(entry, "name")
    return (
        get(entry, "group") == ""
        and get(entry, "kind") == "Namespace"
        and isinstance(pattern, str)
        and pattern.startswith(f"{project}-")
        and not any(c in pattern[:-1] for c in "*?[")
    )


def domain_project(props: Any, _: ResourceValidationArgs) -> Iterator[str]:
    name = get(props, "metadata.name")
    if name is UNKNOWN or name in PLATFORM_PROJECTS:
        return
    whitelist = items(props, "spec.clusterResourceWhitelist")
    for entry in [] if whitelist is UNKNOWN else whitelist:
        if not _own_namespaces(entry, name):
            yield (
                f"project {name}: clusterResourceWhitelist may only name the domain's own namespaces "
                f"(kind Namespace, name '{name}-…*'), a domain creates no other cluster-scoped resources"
            )
    destinations = items(props, "spec.destinations")
    for destination in [] if destinations is UNKNOWN else destinations:
        namespace = get(destination, "namespace")
        if namespace == ARGOCD_NAMESPACE:
            yield f"project {name}: a destination in the argocd namespace grants Argo CD admin"
        elif namespace == "*":
            yield f"project {name}: destination namespace '*' reaches every namespace, argocd included"
    repos = items(props, "spec.sourceRepos")
    if repos is not UNKNOWN and "*" in repos:
        yield f"project {name}: sourceRepos '*' admits any repository; list the domain's repositories"


def _is_argocd_chart(props: Any) -> bool:
    chart = get(props, "chart")
    return isinstance(chart, str) and chart.rstrip("/").rsplit("/", 1)[-1] == "argo-cd"


def server_exposure(props: Any, _: ResourceValidationArgs) -> Iterator[str]:
    if not _is_argocd_chart(props):
        return
    server = "values.server"
    if get(props, f"{server}.service.type") == "LoadBalancer":
        yield "argocd-server must not be a public LoadBalancer Service; expose it through an ingress with TLS"
    if get(props, f"{server}.ingress.enabled") is True:
        tls = get(props, f"{server}.ingress.tls")
        extra = items(props, f"{server}.ingress.extraTls")
        if UNKNOWN not in (tls, extra) and tls is not True and not extra:
            yield "the argocd-server ingress has no TLS: set server.ingress.tls or server.ingress.extraTls"


ARGOCD_RULES = (
    Rule(
        "argocd-domain-project-least-privilege",
        "Domain AppProjects create no cluster-scoped resources but their own namespaces, and cannot deploy into "
        "argocd or every namespace.",
        frozenset({APP_PROJECT}),
        domain_project,
        Severity.CRITICAL,
        hub=True,
    ),
    Rule(
        "argocd-server-not-public",
        "The Argo CD server is not exposed as a public LoadBalancer nor through an ingress without TLS.",
        frozenset({HELM_RELEASE, HELM_CHART}),
        server_exposure,
        Severity.HIGH,
        hub=True,
    ),
)
