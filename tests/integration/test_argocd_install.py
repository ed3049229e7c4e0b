"""The argo-cd chart as each hub stack installs it, rendered by the real helm with the planned values and applied to
the real API server in the `argocd` namespace the plan creates (issue 16, items 3 and 5): its NetworkPolicies
(default deny, redis-ha and HAProxy) are valid objects, every pod is covered by one, and no pod would violate the
Pod Security level the catalog gives Argo CD."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.naming import POD_SECURITY_ENFORCE
from tests.integration.conftest import PlannedStack
from tests.integration.envtest import Helm, Kube

NAMESPACE = "argocd"


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    # The chart's and redis-ha's policies select by matchLabels only.
    assert set(selector) <= {"matchLabels"}, selector
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def _is_test_hook(obj: dict[str, Any]) -> bool:
    hook = ((obj["metadata"].get("annotations") or {}).get("helm.sh/hook")) or ""
    return hook.startswith("test")


def _pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"].get("labels") or {}


@pytest.mark.parametrize("stack", ["mgmt", "local"])
def test_the_planned_argocd_install_applies_with_every_pod_behind_a_network_policy(
    stack: str, kube: Kube, helm: Helm, argocd_chart: Path, planned: Callable[[str], PlannedStack]
) -> None:
    plan = planned(stack)
    release = plan.helm_releases["argocd"]
    (argocd_ns,) = [m for m in plan.manifests if m["kind"] == "Namespace" and m["metadata"]["name"] == NAMESPACE]
    level = argocd_ns["metadata"]["labels"][POD_SECURITY_ENFORCE]
    rendered = helm.template(argocd_chart, release["values"], namespace=NAMESPACE)
    # CRDs are installed already; `helm test` hooks are not part of an install (nor of Argo CD's sync).
    objects = [o for o in rendered if o["kind"] != "CustomResourceDefinition" and not _is_test_hook(o)]
    warnings = kube.apply([argocd_ns, *objects])
    # PodSecurity warns (warn=restricted) about any workload whose pods would violate restricted.
    assert [w for w in warnings if "PodSecurity" in w] == [], level

    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    names = {p["metadata"]["name"] for p in policies}
    assert "argocd-default-deny" in names
    workloads = [o for o in objects if o["kind"] in {"Deployment", "StatefulSet"}]
    uncovered = [
        w["metadata"]["name"]
        for w in workloads
        if not any(_selects(p["spec"]["podSelector"], _pod_labels(w)) for p in policies)
    ]
    assert uncovered == []
    if release["values"]["redis-ha"]["enabled"]:
        assert {"argocd-redis-ha-network-policy", "argocd-redis-ha-haproxy-network-policy"} <= names
        haproxy = next(p for p in policies if p["metadata"]["name"] == "argocd-redis-ha-haproxy-network-policy")
        clients = [
            peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
            for rule in haproxy["spec"]["ingress"]
            for peer in rule["from"]
            if "app.kubernetes.io/name" in peer.get("podSelector", {}).get("matchLabels", {})
        ]
        # The components that use Redis: their pods carry exactly these labels in the rendered chart.
        using_redis = {"argocd-server", "argocd-repo-server", "argocd-application-controller"}
        assert set(clients) == using_redis
        rendered_names = {_pod_labels(w).get("app.kubernetes.io/name") for w in workloads}
        assert using_redis <= rendered_names
    for policy in policies:
        assert kube.get("networking.k8s.io/v1", "NetworkPolicy", policy["metadata"]["name"], NAMESPACE) is not None
