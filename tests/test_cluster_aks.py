"""The AKS cluster component, planned under the mocks for dev, staging and prod: the properties a reviewer and the
CIS AKS benchmark check (Entra ID only, network policy, restricted API server, pinned version), not merely that
resources exist."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.clusters import ClusterArgs
from components.clusters.aks import AKS_SERVER_APP_ID, AksCluster, cluster_ca
from components.config import ConfigError, load_stack_config
from components.config.clouds import azure
from tests.conftest import CATALOG, base_config, one, raw_config, secret_keys_of
from tools.plan.mocks import PlatformMocks
from tools.plan.mocks.azure import CA_DATA, SUBSCRIPTION_ID, TENANT_ID
from tools.plan.mocks.stacks import HUB_STACKS
from tools.plan.plan import plan_stack
from tools.plan.runner import SECRET_MASK, Plan, RecordedResource, run_program
from tools.plan.writer import write_plan

GROUP = "azure-native:resources:ResourceGroup"
VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
CLUSTER = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
PROVIDER = "pulumi:providers:kubernetes"
PUBLIC_IP = "azure-native:network:PublicIPAddress"
ADMIN_GROUP = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
ENVS = ["dev", "staging", "prod"]
GUARDED_TYPES = [GROUP, VNET, SUBNET, IDENTITY, ROLE_ASSIGNMENT, CLUSTER, POOL, PUBLIC_IP]
# The egress of the tests' hub stack (a GKE mgmt cluster behind Cloud NAT with a reserved address).
HUB_EGRESS = list(HUB_STACKS["acme/platform/mgmt"].egress_cidrs)

Run = Callable[..., Plan]


def azure_config(env: str, **cluster: Any) -> dict[str, Any]:
    """`base_config("azure", env)` with an admin group, and keys of `platform:cluster` replaced."""
    config = base_config("azure", env)
    config["cluster"] = {**config["cluster"], "azure": {"adminGroupObjectIds": [ADMIN_GROUP]}, **cluster}
    return config


def hub_access(resource: RecordedResource) -> bool:
    """What the spoke creates for the hub's Argo CD (tested in test_registration_*.py), not the cluster itself."""
    return "argocd-hub" in resource.name or resource.name == "hub-k8s"


def own(plan: Plan, type_token: str) -> RecordedResource:
    """The single resource of a type that belongs to the cluster itself."""
    found = [r for r in plan.by_type(type_token) if not hub_access(r)]
    assert len(found) == 1, f"expected one {type_token}, found {[r.name for r in found]}"
    return found[0]


def assignment(plan: Plan, purpose: str) -> RecordedResource:
    """The control plane identity's role assignment named for `purpose` (`subnet`, `egress-ip`)."""
    (found,) = [r for r in plan.by_type(ROLE_ASSIGNMENT) if r.name.endswith(f"-{purpose}-network-contributor")]
    return found


def pools_by_name(plan: Plan) -> dict[str, RecordedResource]:
    return {pool.inputs["agentPoolName"]: pool for pool in plan.by_type(POOL)}


def system_profile(plan: Plan) -> dict[str, Any]:
    profiles = one(plan, CLUSTER).inputs["agentPoolProfiles"]
    assert len(profiles) == 1, "only the System pool is inline; the others are AgentPool resources"
    return profiles[0]


def kubeconfig_of(plan: Plan) -> dict[str, Any]:
    documents = [json.loads(v) for v in plan.secret_values if '"kind": "Config"' in v]
    # This cluster's (a spoke also holds the hub's, read from the hub stack).
    documents = [d for d in documents if d["current-context"] == plan.outputs["clusterName"]]
    assert documents, "the kubeconfig was not recorded as a secret"
    assert all(d == documents[0] for d in documents)
    return documents[0]


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    """The default AKS config of each environment, planned once for the tests that only read it."""
    configs = {env: azure_config(env) for env in ENVS}
    return {env: run_program(env, raw_config(c), secret_keys_of(c)) for env, c in configs.items()}


@pytest.fixture(params=ENVS)
def env_plan(request: pytest.FixtureRequest, plans: dict[str, Plan]) -> tuple[str, Plan]:
    return request.param, plans[request.param]


# ---------------------------------------------------------------------------------------------------------
# Identity and access
# ---------------------------------------------------------------------------------------------------------


def test_entra_id_only_with_azure_rbac(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    inputs = one(plan, CLUSTER).inputs
    assert inputs["aadProfile"] == {
        "managed": True,
        "enableAzureRBAC": True,
        "adminGroupObjectIDs": [ADMIN_GROUP],
        "tenantID": TENANT_ID,
    }
    assert inputs["disableLocalAccounts"] is True, "static admin credentials must not be listable"
    assert inputs["enableRBAC"] is True


def test_oidc_issuer_and_workload_identity(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    inputs = one(plan, CLUSTER).inputs
    assert inputs["oidcIssuerProfile"] == {"enabled": True}
    assert inputs["securityProfile"] == {"workloadIdentity": {"enabled": True}}
    assert plan.outputs["oidcIssuerUrl"].startswith(f"https://westeurope.oic.prod-aks.azure.com/{TENANT_ID}/")


def test_control_plane_identity_may_join_the_node_subnet(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    cluster, identity, subnet = one(plan, CLUSTER), own(plan, IDENTITY), one(plan, SUBNET)
    on_subnet = assignment(plan, "subnet")
    identity_id = cluster.inputs["identity"]["userAssignedIdentities"][0]
    assert cluster.inputs["identity"]["type"] == "UserAssigned"
    assert identity_id.endswith(f"/userAssignedIdentities/{identity.inputs['resourceName']}")
    assert on_subnet.inputs["scope"] == system_profile(plan)["vnetSubnetID"]
    assert on_subnet.inputs["scope"].endswith(f"/subnets/{subnet.inputs['subnetName']}")
    assert on_subnet.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{NETWORK_CONTRIBUTOR}"
    )
    assert on_subnet.inputs["principalType"] == "ServicePrincipal"
    # The cluster is created only once its identity may use the subnet.
    assert on_subnet.urn in cluster.dependency_urns


def test_egress_leaves_from_a_static_address_the_stack_owns(env_plan: tuple[str, Plan]) -> None:
    env, plan = env_plan
    address = one(plan, PUBLIC_IP)
    assert address.inputs["sku"] == {"name": "Standard", "tier": "Regional"}
    assert address.inputs["publicIPAllocationMethod"] == "Static"
    assert address.protect is (env != "dev")
    profile = one(plan, CLUSTER).inputs["networkProfile"]
    assert profile["outboundType"] == "loadBalancer"
    (reference,) = profile["loadBalancerProfile"]["outboundIPs"]["publicIPs"]
    assert reference["id"].endswith(f"/publicIPAddresses/{address.inputs['publicIpAddressName']}")
    # AKS attaches the address to its load balancer with the control plane's identity, before the cluster exists.
    on_address = assignment(plan, "egress-ip")
    assert on_address.inputs["scope"] == reference["id"]
    assert on_address.urn in one(plan, CLUSTER).dependency_urns
    (egress,) = plan.outputs["egressCidrs"]
    assert egress.endswith("/32") and egress.startswith("20.")


# ---------------------------------------------------------------------------------------------------------
# Network and API server access
# ---------------------------------------------------------------------------------------------------------


def test_azure_cni_overlay_with_cilium_network_policy(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    profile = one(plan, CLUSTER).inputs["networkProfile"]
    assert profile["networkPlugin"] == "azure"
    assert profile["networkPluginMode"] == "overlay"
    assert profile["networkDataplane"] == "cilium"
    assert profile["networkPolicy"] == "cilium"
    assert profile["outboundType"] == "loadBalancer"
    assert profile["loadBalancerSku"] == "standard"
    vnet = one(plan, VNET).inputs["addressSpace"]["addressPrefixes"]
    assert vnet == ["10.30.0.0/16"]
    # Pods and services live outside the VNet: overlay needs room for nodes only.
    assert profile["podCidr"] == "10.244.0.0/16"
    assert profile["serviceCidr"] == "10.0.0.0/16"
    assert profile["dnsServiceIP"] == "10.0.0.10"


def test_own_resource_group_vnet_and_node_subnet_from_config(run_config: Run) -> None:
    plan = run_config(azure_config("dev", azure={"resourceGroup": "rg-platform-dev", "vnetCidr": "10.40.0.0/16"}))
    group, vnet, subnet = one(plan, GROUP), one(plan, VNET), one(plan, SUBNET)
    assert group.inputs["resourceGroupName"] == "rg-platform-dev"
    assert group.inputs["location"] == "westeurope"
    assert vnet.inputs["resourceGroupName"] == "rg-platform-dev"
    assert vnet.inputs["addressSpace"] == {"addressPrefixes": ["10.40.0.0/16"]}
    assert "subnets" not in vnet.inputs, "inline subnets would fight the separate Subnet resource"
    assert subnet.inputs["addressPrefix"] == "10.40.0.0/20"
    assert subnet.inputs["virtualNetworkName"] == vnet.inputs["virtualNetworkName"]
    assert one(plan, CLUSTER).inputs["resourceGroupName"] == "rg-platform-dev"


def test_resource_group_defaults_to_the_cluster_name(env_plan: tuple[str, Plan]) -> None:
    env, plan = env_plan
    assert one(plan, GROUP).inputs["resourceGroupName"] == f"rg-cluster-{env}"
    assert one(plan, CLUSTER).inputs["resourceName"] == f"cluster-{env}"
    assert one(plan, CLUSTER).inputs["dnsPrefix"] == f"cluster-{env}"
    assert one(plan, CLUSTER).inputs["nodeResourceGroup"] == f"rg-cluster-{env}-nodes"


def test_api_server_limited_to_authorized_networks(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    access = one(plan, CLUSTER).inputs["apiServerAccessProfile"]
    # The configured networks, then the hub's egress: the hub's Argo CD reaches this spoke with nobody copying IPs.
    assert access == {"enablePrivateCluster": False, "authorizedIPRanges": ["203.0.113.0/24", *HUB_EGRESS]}
    assert plan.outputs["endpoint"].endswith(".hcp.westeurope.azmk8s.io")
    assert plan.outputs["endpoint"].startswith("https://")


def test_a_spoke_with_no_network_authorized_admits_only_its_hub(run_config: Run) -> None:
    plan = run_config(azure_config("prod", authorizedNetworks=[]))
    access = one(plan, CLUSTER).inputs["apiServerAccessProfile"]
    assert access == {"enablePrivateCluster": False, "authorizedIPRanges": HUB_EGRESS}


def test_private_cluster_when_nothing_may_reach_the_api(run_config: Run) -> None:
    plan = run_config(azure_config("mgmt", authorizedNetworks=[]))
    access = one(plan, CLUSTER).inputs["apiServerAccessProfile"]
    assert access == {"enablePrivateCluster": True, "enablePrivateClusterPublicFQDN": False}
    assert plan.outputs["endpoint"].endswith(".privatelink.westeurope.azmk8s.io")
    assert kubeconfig_of(plan)["clusters"][0]["cluster"]["server"] == plan.outputs["endpoint"]


# ---------------------------------------------------------------------------------------------------------
# Node pools
# ---------------------------------------------------------------------------------------------------------

CUSTOM_POOLS = {
    "system": {"machineType": "Standard_D2s_v5", "minSize": 2, "maxSize": 3, "diskSizeGb": 64},
    "general": {"machineType": "Standard_D8s_v5", "minSize": 1, "maxSize": 10},
    "batch": {"machineType": "Standard_D4as_v5", "minSize": 0, "maxSize": 5, "spot": True},
}


def test_system_pool_inline_and_user_pools_separate_from_config(run_config: Run) -> None:
    plan = run_config(azure_config("staging", nodePools=CUSTOM_POOLS))
    subnet_id = assignment(plan, "subnet").inputs["scope"]
    system = system_profile(plan)
    assert system["name"] == "system"
    assert system["mode"] == "System"
    assert (system["vmSize"], system["minCount"], system["maxCount"]) == ("Standard_D2s_v5", 2, 3)
    assert system["count"] == 2, "a new pool starts at its minimum"
    assert system["osDiskSizeGB"] == 64
    assert system["enableAutoScaling"] is True
    assert system["scaleSetPriority"] == "Regular"
    assert system["nodeTaints"] == ["CriticalAddonsOnly=true:NoSchedule"]
    assert system["vnetSubnetID"] == subnet_id

    pools = pools_by_name(plan)
    assert set(pools) == {"general", "batch"}
    cluster = one(plan, CLUSTER)
    for pool in pools.values():
        assert pool.inputs["mode"] == "User"
        assert pool.inputs["enableAutoScaling"] is True
        assert pool.inputs["resourceName"] == cluster.inputs["resourceName"]
        assert pool.inputs["vnetSubnetID"] == subnet_id
        assert pool.inputs["osSKU"] == "AzureLinux"
        assert cluster.urn in pool.dependency_urns
    general = pools["general"].inputs
    assert (general["vmSize"], general["minCount"], general["maxCount"]) == ("Standard_D8s_v5", 1, 10)
    assert general["osDiskSizeGB"] == 100
    assert general["scaleSetPriority"] == "Regular"
    assert "scaleSetEvictionPolicy" not in general
    assert "nodeTaints" not in general
    batch = pools["batch"].inputs
    assert (batch["vmSize"], batch["minCount"], batch["maxCount"], batch["count"]) == ("Standard_D4as_v5", 0, 5, 0)
    assert batch["scaleSetPriority"] == "Spot"
    assert batch["scaleSetEvictionPolicy"] == "Delete"
    assert batch["spotMaxPrice"] == -1
    # What AKS puts on Spot nodes itself, declared so a refresh shows no diff.
    assert batch["nodeTaints"] == ["kubernetes.azure.com/scalesetpriority=spot:NoSchedule"]
    assert batch["nodeLabels"] == {"kubernetes.azure.com/scalesetpriority": "spot"}


@pytest.mark.parametrize(
    ("env", "system", "general"),
    [
        ("dev", ("Standard_D4s_v5", 1, 2), ("Standard_D4s_v5", 1, 3)),
        ("staging", ("Standard_D4s_v5", 2, 3), ("Standard_D4s_v5", 2, 6)),
        ("prod", ("Standard_D4s_v5", 3, 3), ("Standard_D8s_v5", 3, 12)),
    ],
)
def test_default_pools_per_environment(
    plans: dict[str, Plan], env: str, system: tuple[str, int, int], general: tuple[str, int, int]
) -> None:
    plan = plans[env]
    profile = system_profile(plan)
    assert (profile["vmSize"], profile["minCount"], profile["maxCount"]) == system
    pool = pools_by_name(plan)["general"].inputs
    assert (pool["vmSize"], pool["minCount"], pool["maxCount"]) == general


def test_a_lone_system_pool_also_runs_workloads(run_config: Run) -> None:
    plan = run_config(azure_config("dev", nodePools={"system": CUSTOM_POOLS["system"]}))
    assert plan.by_type(POOL) == []
    assert "nodeTaints" not in system_profile(plan), "with no User pool the critical-addons taint strands workloads"


def test_pools_are_managed_where_they_converge(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    # A refresh lists every pool in agentPoolProfiles; a diff there would PUT the whole cluster
    # (pulumi-azure-native#4264, #2719, #579). The inline pool only serves the create.
    assert one(plan, CLUSTER).ignore_changes == ["agentPoolProfiles"]
    for pool in plan.by_type(POOL):
        assert pool.ignore_changes == ["count"]
        # Fixed pool names: a replaced pool must be deleted before its successor is created.
        assert pool.delete_before_replace is True


# ---------------------------------------------------------------------------------------------------------
# Version and upgrades
# ---------------------------------------------------------------------------------------------------------


def test_version_pinned_with_patch_upgrades(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    inputs = one(plan, CLUSTER).inputs
    assert inputs["kubernetesVersion"] == "1.33"
    assert inputs["autoUpgradeProfile"] == {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"}
    assert system_profile(plan)["orchestratorVersion"] == "1.33"
    assert {pool.inputs["orchestratorVersion"] for pool in plan.by_type(POOL)} == {"1.33"}


def test_exact_version_gets_node_images_only(run_config: Run) -> None:
    inputs = one(run_config(azure_config("prod", kubernetesVersion="1.33.5")), CLUSTER).inputs
    assert inputs["kubernetesVersion"] == "1.33.5"
    # The patch channel would move 1.33.5 on and the next `pulumi up` would try to go back.
    assert inputs["autoUpgradeProfile"]["upgradeChannel"] == "node-image"


@pytest.mark.parametrize(("env", "tier"), [("dev", "Free"), ("staging", "Standard"), ("prod", "Standard")])
def test_control_plane_sla_outside_dev(plans: dict[str, Plan], env: str, tier: str) -> None:
    assert one(plans[env], CLUSTER).inputs["sku"] == {"name": "Base", "tier": tier}


# ---------------------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------------------


def test_kubeconfig_is_secret_and_uses_kubelogin(env_plan: tuple[str, Plan]) -> None:
    env, plan = env_plan
    assert plan.outputs["kubeconfig"] == SECRET_MASK
    assert own(plan, PROVIDER).inputs["kubeconfig"] == SECRET_MASK
    kubeconfig = kubeconfig_of(plan)
    cluster = kubeconfig["clusters"][0]["cluster"]
    assert cluster == {"server": plan.outputs["endpoint"], "certificate-authority-data": CA_DATA}
    exec_user = kubeconfig["users"][0]["user"]
    assert set(exec_user) == {"exec"}, "no client key, certificate, token or password"
    assert exec_user["exec"]["command"] == "kubelogin"
    assert exec_user["exec"]["args"] == [
        "get-token",
        "--login",
        "azurecli",
        "--server-id",
        AKS_SERVER_APP_ID,
        "--tenant-id",
        TENANT_ID,
    ]
    assert "env" not in exec_user["exec"], "AAD_LOGIN_METHOD is the runner's choice, not the kubeconfig's"
    text = json.dumps(kubeconfig)
    for forbidden in ("client-key", "client-certificate-data", "token", "password"):
        assert forbidden not in text.replace("get-token", ""), forbidden
    assert kubeconfig["current-context"] == f"cluster-{env}"


def test_provider_waits_for_the_cluster_and_every_pool(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    provider = own(plan, PROVIDER)
    assert one(plan, CLUSTER).urn in provider.dependency_urns
    assert {pool.urn for pool in plan.by_type(POOL)} <= set(provider.dependency_urns)


# Inputs of the ManagedCluster that replace it: its name and resource group (the ARM id), and those in
# pulumi-azure-native's forceNewMap (provider/pkg/gen/replacement.go) that this component sets.
REPLACING_INPUTS = ("resourceName", "resourceGroupName", "location", "dnsPrefix", "nodeResourceGroup", "networkProfile")


def test_innocent_changes_keep_the_cluster_and_its_kubeconfig(plans: dict[str, Plan], run_config: Run) -> None:
    before = plans["prod"]
    after = run_config(
        azure_config(
            "prod",
            kubernetesVersion="1.34",
            authorizedNetworks=["198.51.100.0/24", "203.0.113.0/24"],
            nodePools={
                "system": {"machineType": "Standard_D4s_v5", "minSize": 3, "maxSize": 5},
                "general": {"machineType": "Standard_D8s_v5", "minSize": 4, "maxSize": 20},
            },
        )
    )
    cluster_before, cluster_after = one(before, CLUSTER).inputs, one(after, CLUSTER).inputs
    # Inputs AKS cannot change on a running cluster, or that name it.
    for key in REPLACING_INPUTS:
        assert cluster_before[key] == cluster_after[key], key
    assert kubeconfig_of(before) == kubeconfig_of(after)


# ---------------------------------------------------------------------------------------------------------
# Guards: protection and tags
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "protect"), [("dev", False), ("staging", True), ("prod", True)])
def test_protection_follows_the_environment(plans: dict[str, Plan], env: str, protect: bool) -> None:
    plan = plans[env]
    for type_token in GUARDED_TYPES:
        found = [r for r in plan.by_type(type_token) if not hub_access(r)]
        assert found, type_token
        assert all(r.protect is protect for r in found), [(r.name, r.protect) for r in found]


def test_tags_on_every_resource_that_takes_them(env_plan: tuple[str, Plan]) -> None:
    env, plan = env_plan
    expected = {"project": "platform", "env": env, "managed-by": "pulumi"}
    for type_token in (GROUP, VNET, IDENTITY, CLUSTER, POOL):
        for resource in plan.by_type(type_token):
            assert resource.inputs["tags"] == expected, resource.name
    assert system_profile(plan)["tags"] == expected


def test_every_azure_resource_is_a_child_of_the_component(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    component = one(plan, "platform:clusters:AksCluster")
    children = [
        r for r in plan.resources if r.type.startswith("azure-native:") or (r.type == PROVIDER and not hub_access(r))
    ]
    assert children
    assert all(r.parent_urn == component.urn for r in children), [r.name for r in children]


# ---------------------------------------------------------------------------------------------------------
# Config rejected before anything is created
# ---------------------------------------------------------------------------------------------------------


def test_machine_type_of_another_cloud_is_rejected() -> None:
    pools = {**CUSTOM_POOLS, "general": {"machineType": "m6i.large", "minSize": 1, "maxSize": 3}}
    config = azure_config("dev", nodePools=pools)
    with pytest.raises(ConfigError) as raised:
        load_stack_config(raw_config(config), (), CATALOG)
    assert any(
        line.startswith("platform:cluster.nodePools.general.machineType:") and "'m6i.large'" in line
        for line in raised.value.lines
    ), raised.value.lines


def test_the_default_settings_pass_the_aks_rules() -> None:
    values = azure_config("prod")
    config = load_stack_config(raw_config(values), secret_keys_of(values), CATALOG)
    assert azure.rules(config) == []


def test_a_refused_setting_stops_the_program_before_any_resource(run_config: Run) -> None:
    pools = {"system": CUSTOM_POOLS["system"], "gpu-pool": CUSTOM_POOLS["general"]}
    with pytest.raises(pulumi.RunError, match=r"platform:cluster\.nodePools\.gpu-pool: 'gpu-pool' is not an AKS"):
        run_config(azure_config("dev", nodePools=pools))


# ---------------------------------------------------------------------------------------------------------
# The CA, and the typed metadata
# ---------------------------------------------------------------------------------------------------------


def _credential(name: str, document: dict[str, Any]) -> Any:
    from pulumi_azure_native.containerservice.outputs import CredentialResultResponse  # noqa: PLC0415

    return CredentialResultResponse(name=name, value=base64.b64encode(json.dumps(document).encode()).decode())


def test_cluster_ca_is_taken_from_the_user_kubeconfig_only() -> None:
    user = {"clusters": [{"name": "c", "cluster": {"certificate-authority-data": "VVNFUg==", "server": "https://u"}}]}
    other = {"clusters": [{"name": "c", "cluster": {"certificate-authority-data": "T1RIRVI=", "server": "https://o"}}]}
    assert cluster_ca([_credential("aaa", other), _credential("clusterUser", user)]) == "VVNFUg=="
    assert cluster_ca([_credential("b", user), _credential("a", other)]) == "T1RIRVI=", "deterministic fallback"
    with pytest.raises(ValueError, match="certificate-authority-data"):
        cluster_ca([_credential("clusterUser", {"clusters": [{"name": "c", "cluster": {"server": "https://u"}}]})])


@pulumi.runtime.test
def test_metadata_for_the_argo_cd_registration() -> pulumi.Output[None]:
    pulumi.runtime.set_mocks(PlatformMocks(), project="platform", stack="prod", preview=False)
    config = azure_config("prod")
    args = ClusterArgs.from_config(load_stack_config(raw_config(config), secret_keys_of(config), CATALOG))
    cluster = AksCluster(args.name, args)
    metadata = cluster.metadata
    assert (metadata.cloud, metadata.region, metadata.env) == ("azure", "westeurope", "prod")
    assert (metadata.storage_class, metadata.load_balancer) == ("managed-csi-premium", "azure-standard")

    def check(values: list[Any]) -> None:
        account, issuer, published_issuer, ca_data = values
        assert account == SUBSCRIPTION_ID
        assert issuer == published_issuer
        assert issuer.startswith(f"https://westeurope.oic.prod-aks.azure.com/{TENANT_ID}/")
        assert ca_data == CA_DATA

    return pulumi.Output.all(
        metadata.account, metadata.oidc_issuer_url, cluster.oidc_issuer_url, cluster.ca_data
    ).apply(check)


# ---------------------------------------------------------------------------------------------------------
# The shipped stack
# ---------------------------------------------------------------------------------------------------------


def test_shipped_dev_stack_plans_a_complete_aks_cluster(tmp_path: Path) -> None:
    plan = plan_stack("dev")
    for type_token in (GROUP, VNET, SUBNET, IDENTITY, CLUSTER, PROVIDER, PUBLIC_IP):
        own(plan, type_token)
    assignment(plan, "subnet")
    assignment(plan, "egress-ip")
    assert set(pools_by_name(plan)) == {"general"}
    assert one(plan, CLUSTER).inputs["aadProfile"]["adminGroupObjectIDs"] == [ADMIN_GROUP]
    write_plan(plan, tmp_path)
    written = (tmp_path / "resources.json").read_text()
    assert CLUSTER in written
    assert all(secret not in written for secret in plan.secret_values)


# ---------------------------------------------------------------------------------------------------------
# Control-plane audit logs and host encryption (issue 16: CKV_AZURE_4, CKV_AZURE_227)
# ---------------------------------------------------------------------------------------------------------
WORKSPACE = "azure-native:operationalinsights:Workspace"
DIAGNOSTICS = "azure-native:monitor:DiagnosticSetting"


def test_control_plane_audit_logs_go_to_a_log_analytics_workspace(env_plan: tuple[str, Plan]) -> None:
    env, plan = env_plan
    workspace, setting = one(plan, WORKSPACE), one(plan, DIAGNOSTICS)
    assert workspace.inputs["retentionInDays"] == (365 if env in {"staging", "prod"} else 30)
    assert workspace.inputs["sku"] == {"name": "PerGB2018"}
    assert workspace.protect == (env != "dev")
    cluster = one(plan, CLUSTER)
    assert setting.inputs["resourceUri"].endswith(f"/managedClusters/{cluster.inputs['resourceName']}")
    assert setting.inputs["workspaceId"] == f"{workspace.name}-id"  # the mocks' id of the workspace
    logs = {entry["category"]: entry["enabled"] for entry in setting.inputs["logs"]}
    assert logs["kube-audit-admin"] is True and logs["guard"] is True
    assert "kube-audit" not in logs  # get/list events would multiply the volume for little


def test_encryption_at_host_is_on_where_production_like_and_configurable(
    plans: dict[str, Plan], run_config: Run
) -> None:
    assert system_profile(run_config(azure_config("staging"), stack="staging"))["enableEncryptionAtHost"] is True
    assert system_profile(plans["prod"])["enableEncryptionAtHost"] is True
    assert {p.inputs["enableEncryptionAtHost"] for p in plans["prod"].by_type(POOL)} == {True}
    assert system_profile(plans["dev"])["enableEncryptionAtHost"] is False
    config = azure_config("dev")
    config["cluster"]["azure"]["encryptionAtHost"] = True
    plan = run_config(config, stack="dev")
    assert system_profile(plan)["enableEncryptionAtHost"] is True
    assert {p.inputs["enableEncryptionAtHost"] for p in plan.by_type(POOL)} == {True}
