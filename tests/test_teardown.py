"""Ordered teardown: a spoke's `pulumi destroy` removes its registration from the hub before its access and its
cluster go; the hub's refuses, with a message and no wait, while spokes are registered.

The order is the engine's: `ScheduleDeletes` (pulumi pkg/resource/deploy/step_generator.go) deletes a resource
only after everything that depends on it (dependencies, provider, parent) is gone, one antichain at a time, and
skips the dependencies of a deletion that failed. `deletion_order` below replays that on the plan's edges.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from components.gitops.hub import TEARDOWN_GUARD
from tests.conftest import base_config, one, raw_config, secret_keys_of
from tools.plan.applications import cluster_secret
from tools.plan.runner import Plan, RecordedResource, run_program

Run = Callable[..., Plan]
SECRET = "kubernetes:core/v1:Secret"
GUARD_POLICY = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
GUARD_BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
# Per cloud: the resource whose deletion takes the cluster down, and the resources that let the hub in.
CLUSTERS = {
    "gcp": "gcp:container/cluster:Cluster",
    "aws": "aws:eks/cluster:Cluster",
    "azure": "azure-native:containerservice:ManagedCluster",
    "existing": "pulumi:providers:kubernetes",
}


def registration(plan: Plan) -> RecordedResource:
    return cluster_secret(plan)


def _edges(plan: Plan) -> dict[str, set[str]]:
    """Per resource URN, the URNs it needs to exist: dependencies, provider and parent (as the engine counts)."""
    urns = {r.urn for r in plan.resources}
    edges: dict[str, set[str]] = {}
    for resource in plan.resources:
        needs = set(resource.dependency_urns)
        if resource.provider_urn:
            # A provider reference is `urn::id`; keep the URN.
            needs.add(next(u for u in urns if resource.provider_urn.startswith(u)))
        if resource.parent_urn in urns:
            needs.add(resource.parent_urn)
        edges[resource.urn] = needs & urns
    return edges


def deletion_order(plan: Plan) -> list[set[str]]:
    """The antichains `pulumi destroy` deletes, first to last, by resource name."""
    edges = _edges(plan)
    remaining = set(edges)
    layers: list[set[str]] = []
    while remaining:
        layer = {urn for urn in remaining if not edges[urn] & remaining}
        assert layer, "a dependency cycle"
        layers.append(layer)
        remaining -= layer
    return [{urn.rsplit("::", 1)[-1] for urn in layer} for layer in reversed(layers)]


def position(order: list[set[str]], name: str) -> int:
    return next(index for index, layer in enumerate(order) if name in layer)


@pytest.fixture(scope="module", params=list(CLUSTERS))
def spoke(request: pytest.FixtureRequest) -> tuple[str, Plan]:
    config = base_config(request.param, "dev")
    return request.param, run_program("dev", raw_config(config), secret_keys_of(config))


@pytest.fixture(scope="module")
def hub() -> Plan:
    config = base_config(
        "gcp", "mgmt", domains=[{"name": "payments", "repoUrl": "https://github.com/acme/payments-gitops"}]
    )
    return run_program("mgmt", raw_config(config), secret_keys_of(config))


# ---------------------------------------------------------------------------------------------------------
# Spoke: the registration goes first
# ---------------------------------------------------------------------------------------------------------


def grants(cloud: str, plan: Plan) -> list[RecordedResource]:
    """What lets the hub's Argo CD in, created by `grant_argocd_access`."""
    if cloud == "existing":
        return [r for r in plan.resources if "argocd-manager" in r.name]
    return [r for r in plan.resources if "argocd-hub" in r.name or r.name.endswith("-hub-oidc")]


def test_the_registration_depends_on_the_cluster_and_the_grants(spoke: tuple[str, Plan]) -> None:
    cloud, plan = spoke
    needs = set(registration(plan).dependency_urns)
    cluster = [r for r in plan.by_type(CLUSTERS[cloud]) if r.name != "hub-k8s"]
    assert cluster and {r.urn for r in cluster} <= needs
    found = grants(cloud, plan)
    assert found
    assert {r.urn for r in found} <= needs, sorted(r.name for r in found if r.urn not in needs)
    assert any(urn.endswith("::sealed-secrets-private-key") for urn in needs), "the sealing key outlives it too"


def test_destroy_deletes_the_registration_before_the_access_and_the_cluster(spoke: tuple[str, Plan]) -> None:
    cloud, plan = spoke
    order = deletion_order(plan)
    first = position(order, registration(plan).name)
    for resource in [*grants(cloud, plan), *[r for r in plan.by_type(CLUSTERS[cloud]) if r.name != "hub-k8s"]]:
        assert first < position(order, resource.name), resource.name
    # It is the very first deletion, alone: Argo CD forgets the cluster before anything else changes.
    assert order[0] == {registration(plan).name}


def test_gcp_credential_file_on_the_hub_outlives_the_registration(run_config: Run) -> None:
    plan = run_config(base_config("gcp", "dev"))
    patch = one(plan, "kubernetes:core/v1:ConfigMapPatch")
    assert patch.urn in registration(plan).dependency_urns
    order = deletion_order(plan)
    assert position(order, registration(plan).name) < position(order, patch.name)


def test_the_oidc_provider_other_spokes_share_is_retained(run_config: Run) -> None:
    plan = run_config(base_config("aws", "dev"))
    (provider,) = [r for r in plan.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") if "hub" in r.name]
    assert provider.retain_on_delete


# ---------------------------------------------------------------------------------------------------------
# Hub: the guard goes first, and is refused while spokes are registered
# ---------------------------------------------------------------------------------------------------------


def guard(plan: Plan) -> RecordedResource:
    (found,) = [r for r in plan.by_type(CONFIG_MAP) if r.inputs["metadata"]["name"] == TEARDOWN_GUARD]
    return found


def test_the_hub_guard_depends_on_everything_argo_cd_facing(hub: Plan) -> None:
    needs = {urn.rsplit("::", 1)[-1] for urn in guard(hub).dependency_urns}
    appsets = {r.name for r in hub.by_type("kubernetes:argoproj.io/v1alpha1:ApplicationSet")}
    assert {"platform-services", "payments-services", "payments-crossplane-claims"} <= appsets
    assert appsets <= needs
    assert {
        "argocd",
        "argocd-self",
        "root",
        "cluster-mgmt-registration",
        "hub-cluster-files",
        "hub-teardown-binding",
    } <= needs
    assert {r.name for r in hub.by_type("kubernetes:helm.sh/v3:Release")} <= needs


def test_destroying_the_hub_deletes_the_guard_first(hub: Plan) -> None:
    order = deletion_order(hub)
    assert order[0] == {guard(hub).name}
    first = order[0]
    # Nothing Argo CD-facing is deleted with it: if the policy refuses, the engine stops before any of them.
    for type_token in (
        "kubernetes:argoproj.io/v1alpha1:ApplicationSet",
        "kubernetes:argoproj.io/v1alpha1:Application",
        "kubernetes:argoproj.io/v1alpha1:AppProject",
        "kubernetes:helm.sh/v3:Release",
        SECRET,
    ):
        assert not {r.name for r in hub.by_type(type_token)} & first, type_token
    # The policy and its binding are deleted only after the guard.
    for type_token in (GUARD_POLICY, GUARD_BINDING):
        assert position(order, teardown_object(hub, type_token).name) > position(order, guard(hub).name)


def teardown_object(plan: Plan, type_token: str) -> RecordedResource:
    """The teardown guard's policy or binding (every cluster also has the Pod Security policy)."""
    (found,) = [r for r in plan.by_type(type_token) if r.inputs["metadata"]["name"] == TEARDOWN_GUARD]
    return found


def _selects(selector: Mapping[str, list[dict[str, object]]], labels: Mapping[str, str]) -> bool:
    """A label selector of matchExpressions (In, NotIn), as the API server evaluates it."""
    for expression in selector["matchExpressions"]:
        key, values = str(expression["key"]), expression["values"]
        assert isinstance(values, list)
        present = key in labels
        if expression["operator"] == "In" and not (present and labels[key] in values):
            return False
        if expression["operator"] == "NotIn" and present and labels[key] in values:
            return False
    return True


def test_the_policy_denies_deleting_the_guard_while_spokes_are_registered(hub: Plan, spoke: tuple[str, Plan]) -> None:
    _, spoke_plan = spoke
    policy = teardown_object(hub, GUARD_POLICY).inputs["spec"]
    binding = teardown_object(hub, GUARD_BINDING).inputs["spec"]
    (rule,) = policy["matchConstraints"]["resourceRules"]
    assert (rule["operations"], rule["resources"]) == (["DELETE"], ["configmaps"])
    # By the deleted object's name: a collection delete names no object, so `resourceNames` would let it through
    # (tests/integration/test_teardown_guard.py proves both paths on a real API server).
    assert "resourceNames" not in rule
    (condition,) = policy["matchConditions"]
    assert condition["expression"] == f"oldObject.metadata.name == '{TEARDOWN_GUARD}'"
    assert policy["matchConstraints"]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "argocd"}}
    assert policy["paramKind"] == {"apiVersion": "v1", "kind": "Secret"}
    assert policy["failurePolicy"] == "Fail"
    (validation,) = policy["validations"]
    # Evaluated once per parameter, each evaluation fails: any spoke denies, with its name and what to do.
    assert validation["expression"] == "false"
    assert "params.metadata.name" in validation["messageExpression"]
    assert "pulumi destroy" in validation["messageExpression"]
    assert binding["validationActions"] == ["Deny"]
    param_ref = binding["paramRef"]
    assert param_ref["namespace"] == "argocd"
    # No spoke: no parameter, and the deletion is allowed; nothing waits on a finalizer.
    assert param_ref["parameterNotFoundAction"] == "Allow"
    spoke_labels = registration(spoke_plan).inputs["metadata"]["labels"]
    hub_labels = registration(hub).inputs["metadata"]["labels"]
    assert _selects(param_ref["selector"], spoke_labels), "a spoke's registration is a parameter: delete denied"
    assert not _selects(param_ref["selector"], hub_labels), "the hub's own registration does not block it"
    assert binding["policyName"] == teardown_object(hub, GUARD_POLICY).inputs["metadata"]["name"] == TEARDOWN_GUARD


def test_only_the_hub_has_a_guard(spoke: tuple[str, Plan], run_config: Run) -> None:
    _, spoke_plan = spoke
    standalone = run_config(base_config("existing", "local"))
    for plan in (spoke_plan, standalone):
        assert not [r for r in plan.by_type(GUARD_POLICY) if r.inputs["metadata"]["name"] == TEARDOWN_GUARD]
        assert not [r for r in plan.by_type(CONFIG_MAP) if r.inputs["metadata"]["name"] == TEARDOWN_GUARD]


# What `Cluster.workload_identity` creates for Crossplane on each cloud: the identity and the grants of its roles.
CROSSPLANE_GRANT_TYPES = {
    "gcp": {
        "gcp:serviceaccount/account:Account",
        "gcp:projects/iAMMember:IAMMember",
        "gcp:serviceaccount/iAMMember:IAMMember",
    },
    "aws": {"aws:iam/role:Role", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"},
    "azure": {
        "azure-native:managedidentity:UserAssignedIdentity",
        "azure-native:authorization:RoleAssignment",
        "azure-native:managedidentity:FederatedIdentityCredential",
    },
}


@pytest.mark.parametrize("cloud", list(CROSSPLANE_GRANT_TYPES))
def test_a_refused_hub_destroy_keeps_crossplanes_cloud_grants(cloud: str, run_config: Run) -> None:
    plan = run_config(base_config(cloud, "mgmt"))
    grants = [r for r in plan.resources if "crossplane" in r.name and r.type in CROSSPLANE_GRANT_TYPES[cloud]]
    assert len(grants) >= 2, [r.name for r in grants]
    # An explicit edge from the registration, which the guard depends on; not the accident of Argo CD depending on
    # the whole cluster component, whose children the SDK lists only once the component's dependents register.
    assert {r.urn for r in grants} <= set(registration(plan).dependency_urns)
    order = deletion_order(plan)
    assert all(position(order, r.name) > position(order, guard(plan).name) for r in grants)
