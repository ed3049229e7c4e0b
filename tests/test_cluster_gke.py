"""The GKE cluster component, planned under the mocks for dev, prod and mgmt: the properties a reviewer and the
CIS GKE benchmark check, not merely that resources exist."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from components.config import ConfigError, load_stack_config
from tests.conftest import CATALOG, base_config, one, raw_config
from tools.plan.mocks.gcp import address_ip, dns_endpoint, project_number
from tools.plan.mocks.stacks import HUB_STACKS
from tools.plan.plan import plan_stack
from tools.plan.runner import SECRET_MASK, Plan, RecordedResource

PROJECT = "acme-platform-dev"
REGION = "europe-west1"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
NETWORK = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
ROUTER = "gcp:compute/router:Router"
NAT = "gcp:compute/routerNat:RouterNat"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_RING = "gcp:kms/keyRing:KeyRing"
ENVS = ["dev", "prod", "mgmt"]
NODE_ROLES = {
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
}
ADDRESS = "gcp:compute/address:Address"
PROTECTED_TYPES = [CLUSTER, NODE_POOL, NETWORK, SUBNET, ROUTER, NAT, ADDRESS]
# The egress of the tests' hub stack, which every spoke's API admits next to the configured networks.
HUB_EGRESS = list(HUB_STACKS["acme/platform/mgmt"].egress_cidrs)

Run = Callable[..., Plan]


def gcp_config(env: str, **cluster: Any) -> dict[str, Any]:
    """`base_config("gcp", env)` with keys of `platform:cluster` replaced."""
    config = base_config("gcp", env)
    config["cluster"] = {**config["cluster"], **cluster}
    return config


def urn_of(plan: Plan, type_token: str) -> str:
    return one(plan, type_token).urn


def cluster_provider(plan: Plan) -> RecordedResource:
    """The cluster's own Kubernetes provider (a spoke also has one for the hub)."""
    (provider,) = [
        p for p in plan.by_type("pulumi:providers:kubernetes") if p.name.endswith("-k8s") and p.name != "hub-k8s"
    ]
    return provider


def node_account(plan: Plan) -> RecordedResource:
    """The nodes' service account (the hub's Argo CD and Crossplane get their own)."""
    (account,) = [a for a in plan.by_type("gcp:serviceaccount/account:Account") if a.name.endswith("-nodes")]
    return account


def pools_by_name(plan: Plan) -> dict[str, RecordedResource]:
    return {pool.inputs["name"]: pool for pool in plan.by_type(NODE_POOL)}


@pytest.fixture(params=ENVS)
def env_plan(request: pytest.FixtureRequest, run_config: Run) -> tuple[str, Plan]:
    return request.param, run_config(base_config("gcp", request.param))


# ---------------------------------------------------------------------------------------------------------
# Control plane access
# ---------------------------------------------------------------------------------------------------------


def test_private_nodes_and_authorized_networks_from_config(env_plan: tuple[str, Plan]) -> None:
    env, plan = env_plan
    inputs = one(plan, CLUSTER).inputs
    private = inputs["privateClusterConfig"]
    assert private["enablePrivateNodes"] is True
    assert private["masterIpv4CidrBlock"] == "172.16.0.0/28"
    # Authorized networks are configured, so the public endpoint stays, limited to them.
    assert private["enablePrivateEndpoint"] is False
    authorized = inputs["masterAuthorizedNetworksConfig"]
    cidrs = [block["cidrBlock"] for block in authorized["cidrBlocks"]]
    # A spoke admits its hub's egress too; the hub itself only the configured networks.
    assert cidrs == ["203.0.113.0/24"] + (HUB_EGRESS if env != "mgmt" else [])
    assert not {"0.0.0.0/0", "::/0"} & set(cidrs)
    assert authorized["gcpPublicCidrsAccessEnabled"] is False


def test_a_spoke_with_no_network_authorized_admits_only_its_hub(run_config: Run) -> None:
    inputs = one(run_config(gcp_config("prod", authorizedNetworks=[])), CLUSTER).inputs
    assert inputs["privateClusterConfig"]["enablePrivateEndpoint"] is False
    assert [block["cidrBlock"] for block in inputs["masterAuthorizedNetworksConfig"]["cidrBlocks"]] == HUB_EGRESS


def test_private_endpoint_only_when_nothing_may_reach_the_api(run_config: Run) -> None:
    plan = run_config(gcp_config("mgmt", authorizedNetworks=[]))
    inputs = one(plan, CLUSTER).inputs
    assert inputs["privateClusterConfig"]["enablePrivateEndpoint"] is True
    assert inputs["masterAuthorizedNetworksConfig"].get("cidrBlocks", []) == []
    # The API then answers on the control plane's internal address, inside masterIpv4CidrBlock.
    assert plan.outputs["endpoint"].startswith("https://172.16.0.")


# ---------------------------------------------------------------------------------------------------------
# Cluster hardening
# ---------------------------------------------------------------------------------------------------------


def test_cluster_hardening(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    inputs = one(plan, CLUSTER).inputs
    assert inputs["workloadIdentityConfig"] == {"workloadPool": f"{PROJECT}.svc.id.goog"}
    assert inputs["datapathProvider"] == "ADVANCED_DATAPATH"
    assert "networkPolicy" not in inputs, "Dataplane V2 enforces network policy; the Calico addon must stay off"
    assert inputs["enableShieldedNodes"] is True
    assert inputs["enableLegacyAbac"] is False
    assert inputs["masterAuth"]["clientCertificateConfig"] == {"issueClientCertificate": False}
    assert inputs["loggingService"] == "logging.googleapis.com/kubernetes"
    assert inputs["monitoringService"] == "monitoring.googleapis.com/kubernetes"
    assert inputs["networkingMode"] == "VPC_NATIVE"
    assert inputs["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "pods",
        "servicesSecondaryRangeName": "services",
    }
    assert inputs["location"] == REGION
    assert inputs["project"] == PROJECT


def test_default_pool_removed_without_node_config(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    cluster = one(plan, CLUSTER)
    assert "nodeConfig" not in cluster.inputs
    assert "nodePools" not in cluster.inputs
    assert cluster.inputs["removeDefaultNodePool"] is True
    assert cluster.inputs["initialNodeCount"] == 1
    assert {"nodeConfig", "initialNodeCount"} <= set(cluster.ignore_changes)


# Inputs the provider replaces the cluster for (ForceNew in terraform-provider-google's
# resource_container_cluster.go) that this component sets.
REPLACING_INPUTS = (
    "name",
    "location",
    "project",
    "network",
    "subnetwork",
    "networkingMode",
    "ipAllocationPolicy",
    "datapathProvider",
    "initialNodeCount",
    "masterAuth",
)


def test_innocent_changes_keep_the_cluster_and_its_kubeconfig(run_config: Run) -> None:
    before = run_config(base_config("gcp", "prod"))
    changed = gcp_config(
        "prod",
        kubernetesVersion="1.34",
        authorizedNetworks=["198.51.100.0/24"],
        nodePools={"general": {"machineType": "n2-standard-16", "minSize": 5, "maxSize": 20}},
    )
    changed["cluster"]["gcp"] = {"project": PROJECT, "releaseChannel": "STABLE"}
    after = run_config(changed)
    cluster_before, cluster_after = one(before, CLUSTER).inputs, one(after, CLUSTER).inputs
    assert "description" not in cluster_after, "description is ForceNew: rewording it would replace the cluster"
    for key in REPLACING_INPUTS:
        assert cluster_before[key] == cluster_after[key], key
    before_cidr = cluster_before["privateClusterConfig"]["masterIpv4CidrBlock"]
    assert before_cidr == cluster_after["privateClusterConfig"]["masterIpv4CidrBlock"]
    # The provider, and everything deployed through it, sees the same kubeconfig.
    assert _kubeconfigs(before) == _kubeconfigs(after)


def test_version_and_release_channel_from_config(run_config: Run) -> None:
    config = gcp_config("prod", kubernetesVersion="1.33.5")
    config["cluster"]["gcp"] = {"project": PROJECT, "releaseChannel": "STABLE"}
    inputs = one(run_config(config), CLUSTER).inputs
    assert inputs["minMasterVersion"] == "1.33.5"
    assert inputs["releaseChannel"] == {"channel": "STABLE"}
    # Node pools follow the control plane through auto-upgrade; a pinned pool version would fight it.
    assert all("version" not in pool.inputs for pool in run_config(config).by_type(NODE_POOL))


def test_release_channel_defaults_to_regular(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    inputs = one(plan, CLUSTER).inputs
    assert inputs["releaseChannel"] == {"channel": "REGULAR"}
    assert inputs["minMasterVersion"] == "1.33"


# ---------------------------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------------------------


def test_own_vpc_with_secondary_ranges_and_nat(run_config: Run) -> None:
    config = gcp_config("dev")
    config["cluster"]["gcp"] = {
        "project": PROJECT,
        "subnetCidr": "10.50.0.0/20",
        "podsCidr": "10.60.0.0/14",
        "servicesCidr": "10.64.0.0/20",
    }
    plan = run_config(config)
    network, subnet = one(plan, NETWORK), one(plan, SUBNET)
    assert network.inputs["autoCreateSubnetworks"] is False
    network_link = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/global/networks/cluster-dev"
    assert subnet.inputs["network"] == network_link
    assert subnet.inputs["ipCidrRange"] == "10.50.0.0/20"
    assert subnet.inputs["region"] == REGION
    assert subnet.inputs["privateIpGoogleAccess"] is True
    ranges = {r["rangeName"]: r["ipCidrRange"] for r in subnet.inputs["secondaryIpRanges"]}
    assert ranges == {"pods": "10.60.0.0/14", "services": "10.64.0.0/20"}

    router, nat = one(plan, ROUTER), one(plan, NAT)
    assert router.inputs["network"] == network_link
    assert nat.inputs["router"] == router.inputs["name"]
    # Reserved addresses, not ephemeral ones: spokes admit this cluster's egress by address.
    address = one(plan, ADDRESS)
    assert nat.inputs["natIpAllocateOption"] == "MANUAL_ONLY"
    assert nat.inputs["natIps"] == [
        f"https://www.googleapis.com/compute/v1/projects/{PROJECT}/regions/{REGION}/addresses/cluster-dev-nat"
    ]
    assert (address.inputs["addressType"], address.inputs["region"]) == ("EXTERNAL", REGION)
    assert plan.outputs["egressCidrs"] == [f"{address_ip(PROJECT, REGION, 'cluster-dev-nat')}/32"]
    assert nat.inputs["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"

    cluster = one(plan, CLUSTER).inputs
    assert cluster["network"] == network_link
    assert cluster["subnetwork"].endswith(f"/regions/{REGION}/subnetworks/{subnet.inputs['name']}")


# ---------------------------------------------------------------------------------------------------------
# Node pools and their identity
# ---------------------------------------------------------------------------------------------------------


def test_node_pools_from_config(run_config: Run) -> None:
    node_pools = {
        "system": {"machineType": "e2-standard-2", "minSize": 1, "maxSize": 2},
        "batch": {"machineType": "n2-highmem-8", "minSize": 0, "maxSize": 10, "diskSizeGb": 200, "spot": True},
    }
    plan = run_config(gcp_config("prod", nodePools=node_pools))
    pools = pools_by_name(plan)
    assert set(pools) == {"system", "batch"}
    for name, pool in pools.items():
        wanted = node_pools[name]
        assert pool.inputs["cluster"] == "cluster-prod"
        assert pool.inputs["location"] == REGION
        assert pool.inputs["autoscaling"] == {"minNodeCount": wanted["minSize"], "maxNodeCount": wanted["maxSize"]}
        node_config = pool.inputs["nodeConfig"]
        assert node_config["machineType"] == wanted["machineType"]
        assert node_config["diskSizeGb"] == wanted.get("diskSizeGb", 100)
        assert node_config["spot"] is wanted.get("spot", False)
        # The autoscaler owns the count after creation; a new minSize must not replace the pool.
        assert pool.inputs["initialNodeCount"] == max(wanted["minSize"], 1)
        assert "initialNodeCount" in pool.ignore_changes
        assert pool.parent_urn == urn_of(plan, "platform:clusters:GkeCluster")
        assert urn_of(plan, CLUSTER) in pool.dependency_urns
    # The Kubernetes provider waits for every pool: Argo CD needs nodes to run on.
    provider = cluster_provider(plan)
    assert {pool.urn for pool in pools.values()} <= set(provider.dependency_urns)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("dev", {"system": ("e2-standard-4", 1, 2), "general": ("e2-standard-4", 1, 3)}),
        ("prod", {"system": ("e2-standard-4", 3, 3), "general": ("n2-standard-8", 3, 12)}),
    ],
)
def test_default_node_pools_per_environment(
    run_config: Run, env: str, expected: dict[str, tuple[str, int, int]]
) -> None:
    pools = pools_by_name(run_config(base_config("gcp", env)))
    actual = {
        name: (
            pool.inputs["nodeConfig"]["machineType"],
            pool.inputs["autoscaling"]["minNodeCount"],
            pool.inputs["autoscaling"]["maxNodeCount"],
        )
        for name, pool in pools.items()
    }
    assert actual == expected


def test_node_pool_hardening(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    account = node_account(plan)
    email = f"{account.inputs['accountId']}@{PROJECT}.iam.gserviceaccount.com"
    for pool in plan.by_type(NODE_POOL):
        inputs = pool.inputs
        assert inputs["management"] == {"autoRepair": True, "autoUpgrade": True}
        node_config = inputs["nodeConfig"]
        assert node_config["imageType"] == "COS_CONTAINERD"
        assert node_config["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}
        assert node_config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        assert node_config["metadata"]["disable-legacy-endpoints"] == "true"
        # The dedicated account, never the Compute Engine default one.
        assert node_config["serviceAccount"] == email
        assert not node_config["serviceAccount"].endswith("-compute@developer.gserviceaccount.com")
        assert node_config["oauthScopes"] == ["https://www.googleapis.com/auth/cloud-platform"]


def test_node_service_account_has_only_least_privilege_roles(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    account = node_account(plan)
    member = f"serviceAccount:{account.inputs['accountId']}@{PROJECT}.iam.gserviceaccount.com"
    grants = [g for g in plan.by_type("gcp:projects/iAMMember:IAMMember") if g.inputs["member"] == member]
    assert sorted(g.inputs["role"] for g in grants) == sorted(NODE_ROLES)
    assert len(grants) == len(NODE_ROLES)
    assert all(g.inputs["member"] == member and g.inputs["project"] == PROJECT for g in grants)


# ---------------------------------------------------------------------------------------------------------
# Secrets encryption
# ---------------------------------------------------------------------------------------------------------


def test_secrets_encrypted_with_a_rotated_kms_key(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    key_ring, key = one(plan, KEY_RING), one(plan, CRYPTO_KEY)
    assert key_ring.inputs["location"] == REGION, "GKE wants the key in the cluster's location"
    assert key.inputs["purpose"] == "ENCRYPT_DECRYPT"
    rotation_seconds = int(key.inputs["rotationPeriod"].removesuffix("s"))
    assert 86400 < rotation_seconds <= 90 * 86400

    encryption = one(plan, CLUSTER).inputs["databaseEncryption"]
    assert encryption["state"] == "ENCRYPTED"
    assert encryption["keyName"].startswith(f"projects/{PROJECT}/locations/{REGION}/keyRings/")
    assert "/cryptoKeys/" in encryption["keyName"]

    grant = one(plan, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert grant.inputs["cryptoKeyId"] == encryption["keyName"]
    assert grant.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    agent = f"service-{project_number(PROJECT)}@container-engine-robot.iam.gserviceaccount.com"
    assert grant.inputs["member"] == f"serviceAccount:{agent}"
    # The agent needs the key before GKE creates the cluster.
    assert grant.urn in one(plan, CLUSTER).dependency_urns


@pytest.mark.parametrize(("env", "protect"), [("dev", False), ("prod", True), ("mgmt", True)])
def test_kms_key_is_retained_on_delete_and_protected_in_prod(run_config: Run, env: str, protect: bool) -> None:
    plan = run_config(base_config("gcp", env))
    for resource in (one(plan, KEY_RING), one(plan, CRYPTO_KEY)):
        assert resource.retain_on_delete is True, resource.urn
        assert resource.protect is protect, resource.urn


# ---------------------------------------------------------------------------------------------------------
# Protection, labels, project
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "protect"), [("dev", False), ("prod", True), ("mgmt", True)])
def test_protection_follows_the_environment(run_config: Run, env: str, protect: bool) -> None:
    plan = run_config(base_config("gcp", env))
    guarded = [r for r in plan.resources if r.type in PROTECTED_TYPES]
    assert {r.type for r in guarded} == set(PROTECTED_TYPES)
    assert all(r.protect is protect for r in guarded), [(r.urn, r.protect) for r in guarded]
    assert one(plan, CLUSTER).inputs["deletionProtection"] is protect


def test_labels_on_every_resource_that_takes_them(env_plan: tuple[str, Plan]) -> None:
    env, plan = env_plan
    expected = {"project": "platform", "env": env, "managed-by": "pulumi"}
    assert one(plan, CLUSTER).inputs["resourceLabels"] == expected
    assert one(plan, CRYPTO_KEY).inputs["labels"] == expected
    for pool in plan.by_type(NODE_POOL):
        assert pool.inputs["nodeConfig"]["resourceLabels"] == expected, pool.urn
    assert all(key == key.lower() for key in expected)


def test_project_is_explicit_on_every_gcp_resource(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    # CryptoKey and its IAM member take their project from the key ring's id; a service account's IAM member from
    # the account's id.
    scoped_by_parent = {
        CRYPTO_KEY,
        "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
        "gcp:serviceaccount/iAMMember:IAMMember",
    }
    gcp_resources = [r for r in plan.resources if r.type.startswith("gcp:") and r.type not in scoped_by_parent]
    assert gcp_resources
    assert all(r.inputs.get("project") == PROJECT for r in gcp_resources), [
        r.urn for r in gcp_resources if r.inputs.get("project") != PROJECT
    ]


# ---------------------------------------------------------------------------------------------------------
# Outputs: kubeconfig, endpoint, issuer
# ---------------------------------------------------------------------------------------------------------


def _kubeconfigs(plan: Plan) -> list[dict[str, Any]]:
    found = []
    for value in plan.secret_values:
        try:
            document = json.loads(value)
        except ValueError:
            continue
        if isinstance(document, dict) and document.get("kind") == "Config":
            found.append(document)
    return found


def test_kubeconfig_is_secret_and_uses_the_gke_exec_plugin(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    assert plan.outputs["kubeconfig"] == SECRET_MASK
    assert cluster_provider(plan).inputs["kubeconfig"] == SECRET_MASK
    # This cluster's (a spoke also holds the hub's, read from the hub stack).
    kubeconfigs = [k for k in _kubeconfigs(plan) if k["current-context"] == plan.outputs["clusterName"]]
    assert kubeconfigs, "the kubeconfig must be among the secret values"
    for kubeconfig in kubeconfigs:
        # The DNS endpoint (IAM-guarded, reachable from CI anywhere) with its publicly trusted certificate; the IP
        # endpoint (`endpoint`, behind the allow-list) is the hub's.
        assert kubeconfig["clusters"][0]["cluster"] == {
            "server": f"https://{dns_endpoint(PROJECT, REGION, plan.outputs['clusterName'])}"
        }
        (user,) = kubeconfig["users"]
        assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
        assert "install_plugin" in user["user"]["exec"]["installHint"]
        # Short-lived credentials only: no static client certificate, key or token.
        assert set(user["user"]) == {"exec"}
        text = json.dumps(kubeconfig)
        assert "client-key" not in text
        assert "token" not in text


def test_endpoint_and_oidc_issuer(env_plan: tuple[str, Plan]) -> None:
    env, plan = env_plan
    assert plan.outputs["clusterName"] == f"cluster-{env}"
    assert plan.outputs["endpoint"].startswith("https://34.")
    assert plan.outputs["oidcIssuerUrl"] == (
        f"https://container.googleapis.com/v1/projects/{PROJECT}/locations/{REGION}/clusters/cluster-{env}"
    )


# ---------------------------------------------------------------------------------------------------------
# Config errors and the shipped stack
# ---------------------------------------------------------------------------------------------------------


def test_machine_type_of_another_cloud_is_rejected() -> None:
    config = gcp_config("dev", nodePools={"general": {"machineType": "m6i.large", "minSize": 1, "maxSize": 2}})
    with pytest.raises(ConfigError) as error:
        load_stack_config(raw_config(config), (), CATALOG)
    assert any(
        line.startswith("platform:cluster.nodePools.general.machineType:") and "m6i.large" in line
        for line in error.value.lines
    ), error.value.lines


def test_shipped_mgmt_stack_plans_a_complete_gke_cluster() -> None:
    plan = plan_stack("mgmt")
    assert {r.type for r in plan.resources} >= {CLUSTER, NODE_POOL, NETWORK, SUBNET, ROUTER, NAT, CRYPTO_KEY}
    cluster = one(plan, CLUSTER)
    assert cluster.protect is True
    assert cluster.inputs["project"] == "example-platform-mgmt"
    assert plan.outputs["kubeconfig"] == SECRET_MASK


# ---------------------------------------------------------------------------------------------------------
# Flow logs and Binary Authorization (issue 16)
# ---------------------------------------------------------------------------------------------------------


def test_the_node_subnet_has_vpc_flow_logs(env_plan: tuple[str, Plan]) -> None:
    _, plan = env_plan
    log_config = one(plan, SUBNET).inputs["logConfig"]
    assert log_config == {
        "aggregationInterval": "INTERVAL_5_SEC",
        "flowSampling": 0.5,
        "metadata": "INCLUDE_ALL_METADATA",
    }


def test_binary_authorization_is_an_option_off_by_default(run_config: Run) -> None:
    plan = run_config(gcp_config("prod"), stack="prod")
    assert "binaryAuthorization" not in one(plan, CLUSTER).inputs
    config = gcp_config("prod")
    config["cluster"]["gcp"] = {**config["cluster"]["gcp"], "binaryAuthorization": True}
    plan = run_config(config, stack="prod")
    assert one(plan, CLUSTER).inputs["binaryAuthorization"] == {"evaluationMode": "PROJECT_SINGLETON_POLICY_ENFORCE"}
    services = {s.inputs["service"] for s in plan.by_type("gcp:projects/service:Service")}
    assert "binaryauthorization.googleapis.com" in services
