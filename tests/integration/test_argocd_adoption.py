"""What the seed finds already on the cluster, against the real API server: the `default` AppProject that
argocd-server creates at start-up, and a namespace an earlier `pulumi destroy` kept. The program manages both
with Patch resources, which pulumi-kubernetes sends as a server-side apply with `force` when the object carries
`pulumi.com/patchForce: "true"` (provider/pkg/await/await.go Creation and patchForce)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from components.argocd.projects import PATCH_FORCE, default_project
from tests.integration.conftest import PlannedStack
from tests.integration.envtest import FIELD_MANAGER, Kube

APP_PROJECT = ("argoproj.io/v1alpha1", "AppProject")
# What argocd-server creates when `default` is missing (server/server.go initializeDefaultProject, v3.4.4): a
# plain create, so its manager owns every field it set.
ARGOCD_SERVER_DEFAULT = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "AppProject",
    "metadata": {"name": "default", "namespace": "argocd"},
    "spec": {
        "sourceRepos": ["*"],
        "destinations": [{"server": "*", "namespace": "*"}],
        "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
    },
}


def planned_object(stack: PlannedStack, kind: str, name: str) -> dict[str, Any]:
    (found,) = [m for m in stack.manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    return found


def planned_type(stack: PlannedStack, kind: str, name: str) -> str:
    """The Pulumi resource type the plan registers the object as (resources.json)."""
    entries = json.loads((stack.folder / "resources.json").read_text())
    (found,) = [
        e["type"] for e in entries if e["inputs"].get("kind") == kind and e["inputs"]["metadata"]["name"] == name
    ]
    return found


def force_apply(kube: Kube, obj: Mapping[str, Any], *, force: bool) -> None:
    """Apply as pulumi-kubernetes applies a Patch resource: its field manager, strict fields, `force` per
    patchForce."""
    kube.dynamic.server_side_apply(
        kube.resource(obj["apiVersion"], obj["kind"]),
        body=dict(obj),
        field_manager=FIELD_MANAGER,
        force_conflicts=force,
        query_params=[("fieldValidation", "Strict")],
    )


def create_as_the_provider_does(kube: Kube, stack: PlannedStack, kind: str, name: str) -> None:
    """pulumi-kubernetes >= 4.29 creates a plain resource with a client-side create, which fails with
    AlreadyExists on an existing object, and a Patch resource with a server-side apply, forced when the object
    asks for it (CHANGELOG 4.29.0 #2926; await.go Creation)."""
    obj = planned_object(stack, kind, name)
    if not planned_type(stack, kind, name).endswith("Patch"):
        kube.dynamic.create(
            kube.resource(obj["apiVersion"], obj["kind"]),
            body=obj,
            namespace=obj["metadata"].get("namespace"),
            field_manager="pulumi-kubernetes",
        )
        return
    force = (obj["metadata"].get("annotations") or {}).get(PATCH_FORCE) == "true"
    force_apply(kube, obj, force=force)


def test_the_default_patch_locks_down_the_project_argocd_server_created(
    kube: Kube, planned: Callable[[str], PlannedStack]
) -> None:
    from kubernetes.dynamic.exceptions import ConflictError  # noqa: PLC0415 - the integration layer's client

    mgmt = planned("mgmt")
    kube.apply([planned_object(mgmt, "Namespace", "argocd")])
    if kube.get(*APP_PROJECT, "default", "argocd") is not None:
        kube.delete(*APP_PROJECT, "default", "argocd")
    kube.dynamic.create(
        kube.resource(*APP_PROJECT), body=ARGOCD_SERVER_DEFAULT, namespace="argocd", field_manager="argocd-server"
    )
    patch = planned_object(mgmt, "AppProject", "default")

    # Without force the apply conflicts on every field argocd-server set: the reason for patchForce.
    with pytest.raises(ConflictError):
        force_apply(kube, patch, force=False)
    # As the provider creates what the plan registers: a plain AppProject would fail here with AlreadyExists.
    create_as_the_provider_does(kube, mgmt, "AppProject", "default")

    stored = kube.get(*APP_PROJECT, "default", "argocd")
    assert stored is not None
    # Nothing of the wide-open project survives: empty lists replace argocd-server's `*` entries.
    assert stored["spec"] == default_project()["spec"]
    # The field ownership moved too: argocd-server keeps only an empty `f:spec` entry, so no later write of its
    # manager can bring a field back without a conflict.
    owners = {f["manager"]: f["fieldsV1"].get("f:spec") for f in stored["metadata"]["managedFields"]}
    assert set(owners[FIELD_MANAGER]) == {f"f:{key}" for key in default_project()["spec"]}
    assert not owners.get("argocd-server")
    # A later `up` applies the same patch again without a change.
    version = stored["metadata"]["resourceVersion"]
    force_apply(kube, patch, force=True)
    assert kube.get(*APP_PROJECT, "default", "argocd")["metadata"]["resourceVersion"] == version  # type: ignore[index]


def test_a_namespace_kept_by_an_earlier_destroy_is_taken_over(
    kube: Kube, planned: Callable[[str], PlannedStack]
) -> None:
    namespace = planned_object(planned("mgmt"), "Namespace", "crossplane-system")
    if kube.get("v1", "Namespace", "crossplane-system") is None:
        # Left behind with other labels by someone else (an older stack, `kubectl create namespace`).
        kube.dynamic.create(
            kube.resource("v1", "Namespace"),
            body={
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": "crossplane-system", "labels": {"env": "old"}},
            },
            field_manager="kubectl-create",
        )
    create_as_the_provider_does(kube, planned("mgmt"), "Namespace", "crossplane-system")
    stored = kube.get("v1", "Namespace", "crossplane-system")
    assert stored is not None
    assert namespace["metadata"]["labels"].items() <= stored["metadata"]["labels"].items()
