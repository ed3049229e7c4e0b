"""Pod Security on a real API server (its PodSecurity and ValidatingAdmissionPolicy admission are on by default):
a domain's namespace, labelled as Argo CD creates it, refuses a privileged pod, and the program's admission policy
keeps a domain from relabelling its own namespace (issue 16, item 3)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from components.config import load_stack_config
from components.gitops.domains import services_appset
from components.gitops.pod_security import POD_SECURITY_GUARD
from components.naming import POD_SECURITY_ENFORCE
from tests.conftest import CATALOG, base_config, raw_config, secret_keys_of
from tests.integration.conftest import PlannedStack
from tests.integration.envtest import ApplyError, Kube

DOMAIN_NAMESPACE = "payments-prod-api"
# The values Argo CD's ApplicationSet fills into the domain template's labels for `payments/k8s/prod/api`.
TEMPLATE_VALUES = {"env": "prod", "service": "api"}


def domain_namespace_labels() -> dict[str, str]:
    """The labels Argo CD's CreateNamespace gives a domain service's namespace (managedNamespaceMetadata)."""
    values = base_config("existing", "mgmt", domains=[{"name": "payments", "repoUrl": "https://git.example/p.git"}])
    config = load_stack_config(raw_config(values), secret_keys_of(values), CATALOG, stack="mgmt")
    spec = services_appset(config.domains[0], ("prod",))
    labels = dict(spec["template"]["spec"]["syncPolicy"]["managedNamespaceMetadata"]["labels"])
    for key, value in labels.items():
        if "{{" in value:
            labels[key] = TEMPLATE_VALUES.get(key, "payments-api")
    return labels


def namespace(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def pod(name: str, ns: str, security: dict[str, Any], **spec: Any) -> dict[str, Any]:
    container = {"name": "app", "image": "registry.example/app:1.0", "securityContext": security}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"automountServiceAccountToken": False, "containers": [container], **spec},
    }


RESTRICTED = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


@pytest.fixture(scope="module")
def guarded(kube: Kube, planned: Callable[[str], PlannedStack]) -> Iterator[Kube]:
    """The prod stack's admission policy and binding as planned, applied, and one domain namespace as Argo CD
    creates it (with the `default` service account no controller makes here)."""
    manifests = [
        m
        for m in planned("prod").manifests
        if m["kind"] in {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
        and m["metadata"]["name"] == POD_SECURITY_GUARD
    ]
    assert [m["kind"] for m in manifests] == ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]
    assert kube.apply(manifests) == []
    # A new policy takes effect within seconds; probe with a namespace it must refuse until it does.
    refused_within(lambda: kube.apply([namespace("payments-dev-probe", {})]))
    assert kube.apply([namespace(DOMAIN_NAMESPACE, domain_namespace_labels())]) == []
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": DOMAIN_NAMESPACE},
    }
    kube.apply([account])
    yield kube


def refused_within(apply: Callable[[], object], seconds: float = 15.0) -> str:
    """The refusal `apply` meets once the policy is in force (a new policy takes effect within seconds)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            apply()
        except ApplyError as error:
            return str(error)
        if time.monotonic() > deadline:
            raise AssertionError("the API server kept accepting it")
        time.sleep(0.2)


def test_a_domain_namespace_enforces_restricted(guarded: Kube) -> None:
    stored = guarded.get("v1", "Namespace", DOMAIN_NAMESPACE)
    assert stored is not None
    assert stored["metadata"]["labels"][POD_SECURITY_ENFORCE] == "restricted"


def test_a_pod_that_reaches_the_node_is_refused_in_a_domain_namespace(guarded: Kube) -> None:
    """hostPath, hostNetwork and root are PodSecurity's refusals. (A `privileged` container is refused here before
    admission: this test server runs without --allow-privileged, which managed clusters set.)"""
    volume = {"name": "node", "hostPath": {"path": "/"}}
    with pytest.raises(ApplyError, match=r'PodSecurity "restricted:latest": restricted volume types .*"hostPath"'):
        guarded.apply([pod("node-fs", DOMAIN_NAMESPACE, RESTRICTED, volumes=[volume])])
    with pytest.raises(ApplyError, match=r'violates PodSecurity "restricted:latest": host namespaces'):
        guarded.apply([pod("node-net", DOMAIN_NAMESPACE, RESTRICTED, hostNetwork=True)])
    root = {**RESTRICTED, "runAsNonRoot": False}
    with pytest.raises(ApplyError, match=r'violates PodSecurity "restricted:latest": runAsNonRoot'):
        guarded.apply([pod("root", DOMAIN_NAMESPACE, root)])
    # A pod that meets the standard is admitted.
    assert guarded.apply([pod("fine", DOMAIN_NAMESPACE, RESTRICTED)]) == []


def test_a_domain_cannot_relabel_its_namespace_to_privileged(guarded: Kube) -> None:
    relabelled = namespace(DOMAIN_NAMESPACE, {**domain_namespace_labels(), POD_SECURITY_ENFORCE: "privileged"})
    with pytest.raises(ApplyError) as refused:
        guarded.apply([relabelled])
    message = str(refused.value)
    assert POD_SECURITY_GUARD in message and f"must keep the label {POD_SECURITY_ENFORCE}=restricted" in message
    pinned = namespace(DOMAIN_NAMESPACE, {**domain_namespace_labels(), f"{POD_SECURITY_ENFORCE}-version": "v1.24"})
    with pytest.raises(ApplyError, match="may only be latest"):
        guarded.apply([pinned])
    # Nor can it make a namespace of its own without the label.
    with pytest.raises(ApplyError, match="must keep the label"):
        guarded.apply([namespace("payments-prod-other", {})])
    stored = guarded.get("v1", "Namespace", DOMAIN_NAMESPACE)
    assert stored is not None and stored["metadata"]["labels"][POD_SECURITY_ENFORCE] == "restricted"


def test_platform_and_system_namespaces_are_left_to_their_own_levels(guarded: Kube) -> None:
    platform = namespace("platform-prod-monitoring", {POD_SECURITY_ENFORCE: "privileged"})
    assert guarded.apply([platform]) == []
    assert guarded.apply([namespace("gke-managed-system", {})]) == []
