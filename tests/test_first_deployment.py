"""What the first real `pulumi preview` and `up` of the shipped stacks need beyond a happy run under the mocks
(issue 13): a first preview with every cloud output unknown, a stable identity for every Kubernetes provider, the
hub's fixed egress admitted by every spoke's API, pool settings where AKS converges, narrow error handling, and a
local stack that exports only its own context.

What the mocks cannot show is checked against the sources named here: a provider with a `clusterIdentifier` is
replaced only when the identifier changes (pulumi-kubernetes 4.34.2, provider/pkg/provider/provider.go DiffConfig),
and `replace_with` replaces a resource whenever one of the named resources is replaced (pulumi 3.272.0,
sdk/python/lib/pulumi/resource.py ResourceOptions).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.clusters import ClusterArgs, host_cidrs
from components.config.model import ClusterSettings
from tests.conftest import SHIPPED_STACKS, base_config, one
from tools.plan import mocks
from tools.plan.mocks import InvokeFailure
from tools.plan.mocks.stacks import HUB_STACKS
from tools.plan.plan import PROJECT_DIR, plan_stack
from tools.plan.runner import Plan, RecordedResource
from tools.plan.writer import write_plan

Run = Callable[..., Plan]
PROVIDER = "pulumi:providers:kubernetes"
CLUSTERS = {
    "gcp": "gcp:container/cluster:Cluster",
    "aws": "aws:eks/cluster:Cluster",
    "azure": "azure-native:containerservice:ManagedCluster",
}
SPOKES = ("dev", "staging", "prod")
OIDC_LOOKUP = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"


@pytest.fixture(scope="module")
def preview_plans() -> dict[str, Plan]:
    return {stack: plan_stack(stack, preview=True) for stack in SHIPPED_STACKS}


def the_cluster(plan: Plan) -> RecordedResource:
    (cluster,) = [r for token in CLUSTERS.values() for r in plan.by_type(token)]
    return cluster


def api_allow_list(plan: Plan) -> list[str]:
    """The networks a cluster's public API endpoint admits, whatever the cloud."""
    cluster = the_cluster(plan)
    if cluster.type == CLUSTERS["gcp"]:
        return [block["cidrBlock"] for block in cluster.inputs["masterAuthorizedNetworksConfig"]["cidrBlocks"]]
    if cluster.type == CLUSTERS["aws"]:
        return cluster.inputs["vpcConfig"]["publicAccessCidrs"]
    return cluster.inputs["apiServerAccessProfile"]["authorizedIPRanges"]


# ---------------------------------------------------------------------------------------------------------
# A first preview
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_a_first_preview_registers_exactly_what_up_would(
    stack: str, preview_plans: dict[str, Plan], shipped_plans: dict[str, Plan]
) -> None:
    preview = preview_plans[stack]
    assert preview.preview
    # Nothing crashed on an unknown, and no resource came or went because a value was unknown.
    assert sorted(r.urn for r in preview.resources) == sorted(r.urn for r in shipped_plans[stack].resources)
    if stack != "local":
        # The run really saw unknowns: the cluster's endpoint is computed by the cloud.
        assert preview.outputs["endpoint"] is None
        assert shipped_plans[stack].outputs["endpoint"]


# ---------------------------------------------------------------------------------------------------------
# Kubernetes providers: replaced with their cluster, never because a kubeconfig changed or went unknown
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_kubernetes_provider_has_a_cluster_identifier(stack: str, shipped_plans: dict[str, Plan]) -> None:
    providers = shipped_plans[stack].by_type(PROVIDER)
    assert providers
    for provider in providers:
        assert provider.inputs.get("clusterIdentifier"), f"{provider.name} has no clusterIdentifier"


@pytest.mark.parametrize("stack", ["mgmt", *SPOKES])
def test_a_cloud_clusters_provider_is_identified_by_and_replaced_with_its_cluster(
    stack: str, shipped_plans: dict[str, Plan]
) -> None:
    plan = shipped_plans[stack]
    cluster = the_cluster(plan)
    (provider,) = [p for p in plan.by_type(PROVIDER) if p.name == f"cluster-{stack}-k8s"]
    # The cloud's resource id: known in the preview of an update (an unknown identifier would replace the provider).
    assert f"cluster-{stack}" in provider.inputs["clusterIdentifier"]
    assert provider.replace_with_urns == [cluster.urn]


def test_the_written_plan_shows_what_replaces_a_provider(shipped_plans: dict[str, Plan], tmp_path: Path) -> None:
    write_plan(shipped_plans["dev"], tmp_path)
    entries = {entry["name"]: entry for entry in json.loads((tmp_path / "resources.json").read_text())}
    assert entries["cluster-dev-k8s"]["replaceWith"] == ["cluster-dev"]
    assert entries["cluster-dev-k8s"]["inputs"]["clusterIdentifier"].endswith("/managedClusters/cluster-dev")
    assert "replaceWith" not in entries["hub-k8s"], "the hub cluster lives in another stack"


@pytest.mark.parametrize("stack", SPOKES)
def test_a_spokes_provider_for_the_hub_is_identified_by_the_hub_cluster(
    stack: str, shipped_plans: dict[str, Plan]
) -> None:
    (hub_provider,) = [p for p in shipped_plans[stack].by_type(PROVIDER) if p.name == "hub-k8s"]
    published = shipped_plans["mgmt"].outputs["hub"]["kubernetes"]["clusterIdentifier"]
    assert hub_provider.inputs["clusterIdentifier"] == published
    assert published == shipped_plans["mgmt"].by_type(PROVIDER)[0].inputs["clusterIdentifier"]


def test_the_local_provider_is_identified_by_its_context(shipped_plans: dict[str, Plan]) -> None:
    (provider,) = shipped_plans["local"].by_type(PROVIDER)
    assert provider.inputs["clusterIdentifier"] == "kubeconfig-context/kind-platform"


# ---------------------------------------------------------------------------------------------------------
# The network path from the hub's Argo CD to every spoke
# ---------------------------------------------------------------------------------------------------------


def test_the_hub_leaves_from_reserved_addresses_it_publishes(shipped_plans: dict[str, Plan]) -> None:
    mgmt = shipped_plans["mgmt"]
    nat = one(mgmt, "gcp:compute/routerNat:RouterNat")
    address = one(mgmt, "gcp:compute/address:Address")
    assert nat.inputs["natIpAllocateOption"] == "MANUAL_ONLY"
    assert [link.rsplit("/", 1)[-1] for link in nat.inputs["natIps"]] == [address.inputs["name"]]
    assert address.protect, "losing the address would cut the hub off from every spoke"
    egress = mgmt.outputs["hub"]["egressCidrs"]
    assert egress == mgmt.outputs["egressCidrs"]
    assert len(egress) == 1
    assert egress[0].endswith("/32")


@pytest.mark.parametrize("stack", SPOKES)
def test_every_shipped_spoke_admits_the_hubs_egress(stack: str, shipped_plans: dict[str, Plan]) -> None:
    egress = shipped_plans["mgmt"].outputs["hub"]["egressCidrs"]
    allowed = api_allow_list(shipped_plans[stack])
    assert set(egress) <= set(allowed)
    # The configured networks stay; the hub's addresses are added, each once.
    assert "203.0.113.0/24" in allowed
    assert len(allowed) == len(set(allowed))


def test_the_hub_document_says_how_to_reach_the_hub_without_a_credential(shipped_plans: dict[str, Plan]) -> None:
    mgmt = shipped_plans["mgmt"]
    access = mgmt.outputs["hub"]["kubernetes"]
    # GKE's DNS endpoint: IAM decides who connects, so CI and spoke jobs reach it from any network.
    assert access["server"].startswith("https://gke-")
    assert access["server"].endswith(".europe-west1.gke.goog")
    assert access["exec"]["command"] == "gke-gcloud-auth-plugin"
    endpoints = the_cluster(mgmt).inputs["controlPlaneEndpointsConfig"]
    assert endpoints == {"dnsEndpointConfig": {"allowExternalTraffic": True}}
    assert not mgmt.outputs["hub"].get("kubeconfig")


# ---------------------------------------------------------------------------------------------------------
# AKS pools, the EKS OIDC lookup, the local kubeconfig, the private SDK function
# ---------------------------------------------------------------------------------------------------------


def test_aks_pool_settings_never_diff_on_the_cluster(shipped_plans: dict[str, Plan]) -> None:
    cluster = one(shipped_plans["dev"], CLUSTERS["azure"])
    assert cluster.ignore_changes == ["agentPoolProfiles"]
    pools = shipped_plans["dev"].by_type("azure-native:containerservice:AgentPool")
    assert pools
    assert all(pool.ignore_changes == ["count"] for pool in pools)


def test_eks_oidc_lookup_stops_on_anything_but_not_found(run_config: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    eks_hub = HUB_STACKS["acme/platform/mgmt"]
    monkeypatch.setitem(HUB_STACKS, "acme/platform/mgmt-denied", eks_hub)

    def denied(args: dict[str, Any]) -> dict[str, Any]:
        raise InvokeFailure("url", "AccessDenied: not authorized to perform: iam:GetOpenIDConnectProvider")

    monkeypatch.setitem(mocks.CALLS, OIDC_LOOKUP, denied)
    with pytest.raises(Exception, match="AccessDenied") as raised:
        run_config(base_config("aws", "dev", topology={"hubStack": "acme/platform/mgmt-denied"}))
    assert "couldn't find resource" not in str(raised.value)


def test_eks_oidc_lookup_creates_the_provider_when_none_exists(run_config: Run) -> None:
    plan = run_config(base_config("aws", "dev"))
    created = [r for r in plan.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") if "hub" in r.name]
    assert len(created) == 1


def test_the_local_stack_exports_only_its_own_context(run_config: Run, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "kind-platform", "cluster": {"server": "https://127.0.0.1:6443"}},
                    {"name": "prod", "cluster": {"server": "https://prod.example.com"}},
                ],
                "users": [
                    {"name": "kind-platform", "user": {"client-key-data": "a2luZA=="}},
                    {"name": "prod-admin", "user": {"token": "prod-admin-token"}},
                ],
                "contexts": [
                    {"name": "kind-platform", "context": {"cluster": "kind-platform", "user": "kind-platform"}},
                    {"name": "prod", "context": {"cluster": "prod", "user": "prod-admin"}},
                ],
                "current-context": "prod",
            }
        )
    )
    config = base_config("existing", "local", topology={"mode": "standalone"})
    config["cluster"] = {"existing": {"context": "kind-platform", "kubeconfig": str(kubeconfig)}}
    plan = run_config(config)
    assert plan.outputs["kubeconfig"] == "[secret]"
    exported = [yaml.safe_load(v) for v in plan.secret_values if "current-context" in v]
    assert exported, "the kubeconfig output is among the secret values"
    for document in exported:
        assert document["current-context"] == "kind-platform"
        assert [c["name"] for c in document["contexts"]] == ["kind-platform"]
        assert [u["name"] for u in document["users"]] == ["kind-platform"]
    assert not any("prod-admin-token" in value for value in plan.secret_values)


def test_no_program_module_uses_the_sdks_private_sync_await() -> None:
    """`pulumi.runtime.sync_await._sync_await` is private; the program awaits in its `pulumi.run` entry point."""
    sources = [
        PROJECT_DIR / "__main__.py",
        *sorted((PROJECT_DIR / "components").rglob("*.py")),
        *sorted((PROJECT_DIR / "tools").rglob("*.py")),
    ]
    for source in sources:
        tree = ast.parse(source.read_text())
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pulumi")
            for alias in node.names
        }
        assert "_sync_await" not in imported, source
    assert "pulumi.run(main)" in (PROJECT_DIR / "__main__.py").read_text()


def test_the_allow_list_keeps_the_configured_networks_first_and_each_cidr_once() -> None:
    settings = ClusterSettings.model_validate({"authorizedNetworks": ["203.0.113.0/24", "198.51.100.7/32"]})
    args = ClusterArgs(
        name="cluster-dev",
        env="dev",
        region="westeurope",
        settings=settings,
        protect=False,
        tags={},
        hub_egress=tuple(host_cidrs(["198.51.100.7", "192.0.2.10"])),
    )
    assert args.api_allow_list == ["203.0.113.0/24", "198.51.100.7/32", "192.0.2.10/32"]
    assert replace(args, hub_egress=()).api_allow_list == ["203.0.113.0/24", "198.51.100.7/32"]
