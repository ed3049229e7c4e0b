"""The hub's teardown guard, on a real API server: the ValidatingAdmissionPolicy of the mgmt plan refuses deleting
the guard ConfigMap, one by name or by a collection delete (what deleting the `argocd` namespace issues), while
any spoke's cluster Secret exists; with only the hub's own registration left, both are allowed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from kubernetes.dynamic.exceptions import ForbiddenError

from components.gitops.hub import TEARDOWN_GUARD
from components.naming import ARGOCD_NAMESPACE
from tests.integration.envtest import Kube, PlannedStack

Planned = Callable[[str], PlannedStack]
SPOKES = ("dev", "staging", "prod")
REFUSAL = r"spoke cluster cluster-(dev|staging|prod) is still registered with this hub: run `pulumi destroy`"
SELECTOR = f"metadata.name={TEARDOWN_GUARD}"
CLUSTER_SECRETS = "argocd.argoproj.io/secret-type=cluster"


def cluster_secrets(stack: PlannedStack) -> list[dict]:
    return [
        m
        for m in stack.manifests
        if m["kind"] == "Secret" and m["metadata"]["labels"].get("argocd.argoproj.io/secret-type") == "cluster"
    ]


def guard_objects(mgmt: PlannedStack) -> list[dict]:
    """The guard as the mgmt plan writes it: the policy, its binding, the ConfigMap, and the hub's own registration
    (which must not block), in the `argocd` namespace."""
    wanted = {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "Namespace"}
    objects = [m for m in mgmt.manifests if m["kind"] in wanted or m["metadata"].get("name") == TEARDOWN_GUARD]
    return [m for m in objects if m["kind"] != "Namespace" or m["metadata"]["name"] == ARGOCD_NAMESPACE]


def refused(kube: Kube) -> bool:
    """Whether the guard's deletion is refused now: a dry run goes through admission and deletes nothing."""
    try:
        kube.delete("v1", "ConfigMap", TEARDOWN_GUARD, ARGOCD_NAMESPACE, dry_run=True)
    except ForbiddenError:
        return True
    return False


def settle(kube: Kube, *, refusing: bool) -> None:
    """Until the policy, its binding and its parameters have reached the admission plugin (informers, not
    instant)."""
    deadline = time.monotonic() + 30
    while refused(kube) != refusing:
        assert time.monotonic() < deadline, f"the guard never {'refused' if refusing else 'allowed'} a dry run"
        time.sleep(0.1)


def guard_exists(kube: Kube) -> bool:
    return kube.get("v1", "ConfigMap", TEARDOWN_GUARD, ARGOCD_NAMESPACE) is not None


@pytest.fixture
def hub(kube: Kube, planned: Planned) -> Iterator[list[dict]]:
    """The guard in place and the three shipped spokes registered; the spokes' Secrets removed afterwards."""
    objects = guard_objects(planned("mgmt"))
    assert {o["kind"] for o in objects} >= {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
    assert [s["metadata"]["name"] for s in cluster_secrets(planned("mgmt"))] == ["cluster-mgmt"]
    spokes = [secret for stack in SPOKES for secret in cluster_secrets(planned(stack))]
    assert len(spokes) == len(SPOKES)
    # The session's server is shared: the standalone local stack's test leaves its own cluster Secret in `argocd`,
    # which to this hub would be one more spoke. Only the hub and its shipped spokes belong here.
    for other in kube.list("v1", "Secret", ARGOCD_NAMESPACE, label_selector=CLUSTER_SECRETS):
        if other["metadata"]["name"] not in {"cluster-mgmt", *(s["metadata"]["name"] for s in spokes)}:
            kube.delete("v1", "Secret", other["metadata"]["name"], ARGOCD_NAMESPACE)
    kube.apply(objects + cluster_secrets(planned("mgmt")) + spokes)
    yield spokes
    for spoke in spokes:
        if kube.get("v1", "Secret", spoke["metadata"]["name"], ARGOCD_NAMESPACE):
            kube.delete("v1", "Secret", spoke["metadata"]["name"], ARGOCD_NAMESPACE)


def test_deleting_the_guard_by_name_is_refused_while_spokes_are_registered(kube: Kube, hub: list[dict]) -> None:
    settle(kube, refusing=True)
    with pytest.raises(ForbiddenError, match=REFUSAL):
        kube.delete("v1", "ConfigMap", TEARDOWN_GUARD, ARGOCD_NAMESPACE)
    assert guard_exists(kube)


def test_a_collection_delete_of_the_guard_is_refused_while_spokes_are_registered(kube: Kube, hub: list[dict]) -> None:
    settle(kube, refusing=True)
    with pytest.raises(ForbiddenError, match=REFUSAL):
        kube.delete_collection("v1", "ConfigMap", ARGOCD_NAMESPACE, field_selector=SELECTOR)
    assert guard_exists(kube), "the guard survived the collection delete"


def test_with_no_spoke_left_both_deletes_are_allowed(kube: Kube, hub: list[dict], planned: Planned) -> None:
    for spoke in hub:
        kube.delete("v1", "Secret", spoke["metadata"]["name"], ARGOCD_NAMESPACE)
    # The hub's own registration stays: it is not a parameter of the binding.
    assert kube.get("v1", "Secret", "cluster-mgmt", ARGOCD_NAMESPACE) is not None
    settle(kube, refusing=False)
    kube.delete("v1", "ConfigMap", TEARDOWN_GUARD, ARGOCD_NAMESPACE)
    assert not guard_exists(kube)
    kube.apply(guard_objects(planned("mgmt")))
    assert guard_exists(kube)
    kube.delete_collection("v1", "ConfigMap", ARGOCD_NAMESPACE, field_selector=SELECTOR)
    assert not guard_exists(kube)
