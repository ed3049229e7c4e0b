"""Every shipped stack's plan, applied to a real API server exactly as the plan writes it: each object accepted
under strict field validation with no warning (but the one a masked TLS Secret earns by design), and the argo-cd
chart rendered by a real helm with the plan's values, with none. Then what the program claims that the server
decides: a masked Secret is stored with its keys, namespaces keep their semantic labels."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from components.naming import ARGOCD_NAMESPACE, CROSSPLANE_NAMESPACE, namespace
from tests.conftest import SHIPPED_STACKS
from tests.integration.envtest import Helm, Kube, PlannedStack
from tools.plan.writer import SECRET_DATA_MASK

Planned = Callable[[str], PlannedStack]
SEMANTIC_LABELS = ("project", "env", "service", "backstage.io/component")


def namespaces_of(manifests: list[dict]) -> list[dict]:
    return [m for m in manifests if m["kind"] == "Namespace"]


def prepare(kube: Kube, stack: PlannedStack) -> None:
    """Namespaces the stack writes into but another stack creates (a spoke registers in the hub's `argocd`)."""
    created = {m["metadata"]["name"] for m in namespaces_of(stack.manifests)}
    for used in {m["metadata"].get("namespace") for m in stack.manifests} - created - {None}:
        kube.ensure_namespace(used)


def masked_key_pair_warnings(manifests: list[dict]) -> list[str]:
    """The one warning a plan earns by design: the server checks that a kubernetes.io/tls Secret holds a matching
    certificate and key, and warns (accepting it) when not. The plan masks both (the sealing key's pair is one
    Pulumi secret); a placeholder pair that passed would put a private key in files scanners read."""
    return [
        f"Secret {m['metadata']['namespace']}/{m['metadata']['name']}: 299 - "
        '"tls: failed to find any PEM data in certificate input"'
        for m in manifests
        if m["kind"] == "Secret" and m.get("type") == "kubernetes.io/tls"
    ]


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_planned_object_and_the_chart_apply_as_written_without_warning(
    stack: str, kube: Kube, helm: Helm, argocd_chart: Path, planned: Planned
) -> None:
    plan = planned(stack)
    assert plan.manifests, "the plan wrote no manifests"
    prepare(kube, plan)
    assert sorted(kube.apply(plan.manifests)) == sorted(masked_key_pair_warnings(plan.manifests))
    # Where the stack installs Argo CD (hub, standalone): the chart as the Release would install it.
    installs_argocd = any(n["metadata"]["name"] == ARGOCD_NAMESPACE for n in namespaces_of(plan.manifests))
    # Only the argo-cd chart is here as an archive (../shared/charts); the local stack's Git server chart is an OCI
    # artifact this machine cannot pull, and its values are checked against its source in tests/test_gitserver.py.
    argocd_releases = [r for r in plan.helm_releases.values() if r["chart"] == "argo-cd"]
    assert len(argocd_releases) == int(installs_argocd)
    for release in argocd_releases:
        # The chart the plan pins is the archive rendered here; a version bump must bring its archive.
        assert f"{release['chart']}-{release['version']}.tgz" == argocd_chart.name
        rendered = helm.template(argocd_chart, release["values"], namespace=release["namespace"])
        assert len(rendered) > 20, "the chart rendered next to nothing"
        assert kube.apply(rendered) == []


def test_a_planned_secret_applies_as_written_with_its_keys(kube: Kube, planned: Planned) -> None:
    plan = planned("mgmt")
    prepare(kube, plan)
    secrets = [m for m in plan.manifests if m["kind"] == "Secret" and m.get("data")]
    assert secrets
    kube.apply(namespaces_of(plan.manifests))
    kube.apply(secrets)
    for secret in secrets:
        stored = kube.get("v1", "Secret", secret["metadata"]["name"], secret["metadata"]["namespace"])
        assert stored is not None
        assert stored["data"] == secret["data"], "stored as planned: every key, every value the mask"
        assert set(stored["data"].values()) == {SECRET_DATA_MASK}


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_namespaces_carry_the_semantic_labels_after_apply(stack: str, kube: Kube, planned: Planned) -> None:
    planned_namespaces = namespaces_of(planned(stack).manifests)
    assert planned_namespaces
    kube.apply(planned_namespaces)
    for planned_namespace in planned_namespaces:
        name = planned_namespace["metadata"]["name"]
        stored = kube.get("v1", "Namespace", name)
        assert stored is not None
        labels = stored["metadata"]["labels"]
        assert labels.items() >= planned_namespace["metadata"]["labels"].items(), name
        assert all(labels.get(key) for key in SEMANTIC_LABELS), f"{name}: {labels}"
        assert labels["backstage.io/component"] == f"{labels['project']}-{labels['service']}"
        if name not in {ARGOCD_NAMESPACE, CROSSPLANE_NAMESPACE}:  # fixed names, labelled all the same
            assert name == namespace(labels["project"], labels["env"], labels["service"])
        # What the teardown guard's namespaceSelector matches on; the server sets it.
        assert labels["kubernetes.io/metadata.name"] == name
