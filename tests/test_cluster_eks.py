"""The EKS cluster, run under the aws mocks for dev, staging and prod: network, control plane, access, nodes."""

from __future__ import annotations

import json
from ipaddress import IPv4Network
from typing import Any

import pulumi
import pytest

from components.clusters import ClusterArgs
from components.clusters.eks import CONTROL_PLANE_LOG_TYPES, EksCluster, ami_type, split_vpc
from components.config import ConfigError, load_stack_config
from tests.conftest import CATALOG, base_config, one, raw_config, secret_keys_of
from tools.plan import mocks
from tools.plan.mocks import PlatformMocks
from tools.plan.mocks.stacks import HUB_STACKS
from tools.plan.runner import Plan, RecordedResource, run_program

ENVS = ("dev", "staging", "prod")
# The egress of the tests' hub stack, which every spoke's API admits next to the configured networks.
HUB_EGRESS = list(HUB_STACKS["acme/platform/mgmt"].egress_cidrs)
ADMIN_ROLE = "arn:aws:iam::123456789012:role/platform-admins"
# The mocks run the program as a CI role's STS session; the access entry must name the role.
DEPLOYER_ROLE = "arn:aws:iam::123456789012:role/platform-deployer"
ZONES_TOKEN = "aws:index/getAvailabilityZones:getAvailabilityZones"
CUSTOM_POOLS = {
    "system": {"machineType": "m6i.large", "minSize": 2, "maxSize": 4},
    "batch": {"machineType": "m7g.2xlarge", "minSize": 0, "maxSize": 10, "diskSizeGb": 200, "spot": True},
}
# AWS resources that take no tags; every other one must carry project, env and managed-by.
UNTAGGABLE = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
}


def eks_config(env: str, **cluster: Any) -> dict[str, Any]:
    config = base_config("aws", env)
    config["cluster"] = {**config["cluster"], **cluster}
    return config


def plan_of(config: dict[str, Any]) -> Plan:
    return run_program("test", raw_config(config), secret_keys_of(config))


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    """Every environment planned once: prod over three zones with an admin role, as the shipped prod stack."""
    return {
        "dev": plan_of(eks_config("dev")),
        "staging": plan_of(eks_config("staging", aws={"adminRoleArns": [ADMIN_ROLE]})),
        "prod": plan_of(eks_config("prod", aws={"availabilityZones": 3, "adminRoleArns": [ADMIN_ROLE]})),
    }


@pytest.fixture(scope="module")
def custom_pools() -> Plan:
    return plan_of(eks_config("dev", nodePools=CUSTOM_POOLS))


def named(plan: Plan, type_token: str, name: str) -> RecordedResource:
    found = [r for r in plan.by_type(type_token) if r.name == name]
    assert len(found) == 1, (
        f"expected one {type_token} named {name}, found {[r.name for r in plan.by_type(type_token)]}"
    )
    return found[0]


def hub_access(resource: RecordedResource) -> bool:
    """What the spoke creates for the hub's Argo CD (tested in test_registration_*.py), not the cluster itself."""
    return "argocd-hub" in resource.name or resource.name in {"hub-k8s"} or resource.name.endswith("-hub-oidc")


def own(plan: Plan, type_token: str) -> list[RecordedResource]:
    """The resources of a type that belong to the cluster itself."""
    return [r for r in plan.by_type(type_token) if not hub_access(r)]


def names_of(urns: list[str]) -> set[str]:
    return {urn.rsplit("::", 1)[-1] for urn in urns}


def subnets(plan: Plan, role: str) -> list[RecordedResource]:
    return [r for r in plan.by_type("aws:ec2/subnet:Subnet") if r.inputs["tags"].get(f"kubernetes.io/role/{role}")]


# ---------------------------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "zones"), [("dev", ["eu-west-1a", "eu-west-1b"]), ("staging", None), ("prod", None)])
def test_subnets_span_the_zones_from_the_invoke(plans: dict[str, Plan], env: str, zones: list[str] | None) -> None:
    three = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    expected = zones or {"staging": three[:2], "prod": three}[env]
    for role in ("elb", "internal-elb"):
        assert sorted(s.inputs["availabilityZone"] for s in subnets(plans[env], role)) == expected
    vpc = IPv4Network(one(plans[env], "aws:ec2/vpc:Vpc").inputs["cidrBlock"])
    cidrs = [IPv4Network(s.inputs["cidrBlock"]) for s in plans[env].by_type("aws:ec2/subnet:Subnet")]
    assert all(cidr.subnet_of(vpc) for cidr in cidrs)
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])


def test_zones_are_asked_for_available_ones_and_too_many_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[dict[str, Any]] = []
    answer = mocks.CALLS[ZONES_TOKEN]

    def two_zones(args: dict[str, Any]) -> dict[str, Any]:
        asked.append(args)
        result = answer(args)
        return {**result, "names": result["names"][:2], "zoneIds": result["zoneIds"][:2]}

    monkeypatch.setitem(mocks.CALLS, ZONES_TOKEN, two_zones)
    plan = Plan(stack="test")
    # A RunError: the language host prints it as one line, without a traceback.
    with pytest.raises(
        pulumi.RunError, match=r"^platform:cluster\.aws\.availabilityZones: 3 zones requested"
    ) as raised:
        run_program(
            "test", raw_config(config := eks_config("dev", aws={"availabilityZones": 3})), secret_keys_of(config), plan
        )
    assert "\n" not in str(raised.value)
    assert not plan.by_type("aws:ec2/vpc:Vpc")
    assert asked[0]["state"] == "available"
    assert asked[0]["region"] == "eu-west-1"


def test_nodes_run_in_private_subnets_only(plans: dict[str, Plan]) -> None:
    for plan in plans.values():
        private = {s.name for s in subnets(plan, "internal-elb")}
        public = {s.name for s in subnets(plan, "elb")}
        assert private and public
        for subnet in plan.by_type("aws:ec2/subnet:Subnet"):
            assert subnet.inputs["mapPublicIpOnLaunch"] is False
            assert subnet.inputs["tags"][f"kubernetes.io/cluster/{plan.outputs['clusterName']}"] == "shared"
        for group in [*plan.by_type("aws:eks/nodeGroup:NodeGroup"), one(plan, "aws:eks/cluster:Cluster")]:
            used = names_of(group.dependency_urns) & (private | public)
            assert used == private, group.name
        for table in plan.by_type("aws:ec2/routeTable:RouteTable"):
            (route,) = table.inputs["routes"]
            assert route["cidrBlock"] == "0.0.0.0/0"
            assert ("natGatewayId" in route) == table.name.endswith(tuple(f"private-{z}-rt" for z in "abc"))


@pytest.mark.parametrize(("env", "nat_gateways"), [("dev", 1), ("staging", 2), ("prod", 3)])
def test_one_nat_gateway_per_zone_where_protected(plans: dict[str, Plan], env: str, nat_gateways: int) -> None:
    plan = plans[env]
    assert len(plan.by_type("aws:ec2/natGateway:NatGateway")) == nat_gateways
    assert len(plan.by_type("aws:ec2/eip:Eip")) == nat_gateways
    private_tables = [
        t for t in plan.by_type("aws:ec2/routeTable:RouteTable") if "natGatewayId" in t.inputs["routes"][0]
    ]
    assert len({t.inputs["routes"][0]["natGatewayId"] for t in private_tables}) == nat_gateways


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "10.0.0.0/22"])
def test_the_vpc_splits_into_a_private_and_a_public_subnet_per_zone(cidr: str) -> None:
    # The bounds config/clouds/aws.py allows (too small or large a VPC is a row of tests/test_config.py BAD_CONFIGS).
    private, public = split_vpc(IPv4Network(cidr), 6)
    assert len(private) == len(public) == 6
    assert all(subnet.prefixlen <= 28 for subnet in public)  # the smallest subnet AWS allows
    assert not any(a.overlaps(b) for a in private for b in public)
    assert split_vpc(IPv4Network("10.0.0.0/16"), 3) == (
        [IPv4Network("10.0.0.0/19"), IPv4Network("10.0.32.0/19"), IPv4Network("10.0.64.0/19")],
        [IPv4Network("10.0.224.0/22"), IPv4Network("10.0.228.0/22"), IPv4Network("10.0.232.0/22")],
    )


# ---------------------------------------------------------------------------------------------------------
# Control plane
# ---------------------------------------------------------------------------------------------------------


def test_public_endpoint_only_for_the_authorized_networks(plans: dict[str, Plan]) -> None:
    for plan in plans.values():
        vpc_config = one(plan, "aws:eks/cluster:Cluster").inputs["vpcConfig"]
        assert vpc_config["endpointPrivateAccess"] is True
        assert vpc_config["endpointPublicAccess"] is True
        assert vpc_config["publicAccessCidrs"] == ["203.0.113.0/24", *HUB_EGRESS]
    hub_only = one(plan_of(eks_config("dev", authorizedNetworks=[])), "aws:eks/cluster:Cluster")
    assert hub_only.inputs["vpcConfig"]["publicAccessCidrs"] == HUB_EGRESS
    private_only = one(plan_of(eks_config("mgmt", authorizedNetworks=[])), "aws:eks/cluster:Cluster")
    assert private_only.inputs["vpcConfig"]["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in private_only.inputs["vpcConfig"]


def test_egress_leaves_from_the_nat_gateways_elastic_ips(plans: dict[str, Plan]) -> None:
    for env, plan in plans.items():
        addresses = {eip.name: eip for eip in plan.by_type("aws:ec2/eip:Eip")}
        # One NAT gateway per zone where protected, one otherwise; each behind an Elastic IP the stack owns.
        assert len(addresses) == (1 if env == "dev" else len(plan.by_type("aws:ec2/natGateway:NatGateway")))
        assert len(plan.outputs["egressCidrs"]) == len(addresses)
        assert all(cidr.endswith("/32") for cidr in plan.outputs["egressCidrs"])


@pytest.mark.parametrize("env", ENVS)
def test_secrets_are_encrypted_with_a_rotating_retained_key(plans: dict[str, Plan], env: str) -> None:
    plan = plans[env]
    key = one(plan, "aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.retain_on_delete is True
    assert key.protect is (env != "dev")
    encryption = one(plan, "aws:eks/cluster:Cluster").inputs["encryptionConfig"]
    assert encryption["resources"] == ["secrets"]
    assert encryption["provider"]["keyArn"].startswith("arn:aws:kms:eu-west-1:123456789012:key/")
    cluster_name = one(plan, "aws:eks/cluster:Cluster").inputs["name"]
    key_policy = named(plan, "aws:iam/rolePolicy:RolePolicy", f"{cluster_name}-cluster-secrets-key")
    cluster_role_policy = json.loads(key_policy.inputs["policy"])
    assert cluster_role_policy["Statement"][0]["Resource"] == encryption["provider"]["keyArn"]


def test_all_control_plane_logs_are_on(plans: dict[str, Plan]) -> None:
    assert set(CONTROL_PLANE_LOG_TYPES) == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    for plan in plans.values():
        cluster = one(plan, "aws:eks/cluster:Cluster")
        assert sorted(cluster.inputs["enabledClusterLogTypes"]) == sorted(CONTROL_PLANE_LOG_TYPES)
        log_group = named(plan, "aws:cloudwatch/logGroup:LogGroup", f"{cluster.inputs['name']}-control-plane-logs")
        assert log_group.inputs["name"] == f"/aws/eks/{cluster.inputs['name']}/cluster"
        assert log_group.name in names_of(cluster.dependency_urns)


@pytest.mark.parametrize("version", ["1.33", "1.33.5"])
def test_version_is_pinned_on_cluster_and_node_groups(version: str) -> None:
    plan = plan_of(eks_config("dev", kubernetesVersion=version))
    assert one(plan, "aws:eks/cluster:Cluster").inputs["version"] == "1.33"
    assert {g.inputs["version"] for g in plan.by_type("aws:eks/nodeGroup:NodeGroup")} == {"1.33"}


# ---------------------------------------------------------------------------------------------------------
# Access and identity
# ---------------------------------------------------------------------------------------------------------


def admin_principals(plan: Plan) -> set[str]:
    entries = {e.name: e.inputs["principalArn"] for e in own(plan, "aws:eks/accessEntry:AccessEntry")}
    associations = own(plan, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert {a.inputs["principalArn"] for a in associations} == set(entries.values())
    for association in associations:
        assert association.inputs["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        assert association.inputs["accessScope"] == {"type": "cluster"}
    return set(entries.values())


def test_access_entries_not_the_aws_auth_configmap(plans: dict[str, Plan]) -> None:
    for env, plan in plans.items():
        access = one(plan, "aws:eks/cluster:Cluster").inputs["accessConfig"]
        assert access == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
        assert not [r for r in plan.resources if r.type.endswith("ConfigMap") and "aws-auth" in json.dumps(r.inputs)]
        expected = {DEPLOYER_ROLE} if env == "dev" else {DEPLOYER_ROLE, ADMIN_ROLE}
        assert admin_principals(plan) == expected
        (provider,) = own(plan, "pulumi:providers:kubernetes")
        access_resources = [
            *own(plan, "aws:eks/accessEntry:AccessEntry"),
            *own(plan, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"),
            *plan.by_type("aws:eks/nodeGroup:NodeGroup"),
        ]
        assert {r.name for r in access_resources} <= names_of(provider.dependency_urns)


def test_the_deployer_gets_one_entry_when_it_is_a_listed_admin() -> None:
    plan = plan_of(eks_config("dev", aws={"adminRoleArns": [DEPLOYER_ROLE, DEPLOYER_ROLE]}))
    assert len(own(plan, "aws:eks/accessEntry:AccessEntry")) == 1
    assert admin_principals(plan) == {DEPLOYER_ROLE}


def test_oidc_provider_trusts_the_cluster_issuer_and_pod_identity_is_on(plans: dict[str, Plan]) -> None:
    for plan in plans.values():
        issuer = plan.outputs["oidcIssuerUrl"]
        assert issuer.startswith("https://oidc.eks.eu-west-1.amazonaws.com/id/")
        (provider,) = own(plan, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
        assert provider.inputs["url"] == issuer
        assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
        addons = {a.inputs["addonName"]: a for a in plan.by_type("aws:eks/addon:Addon")}
        assert set(addons) == {"vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "aws-ebs-csi-driver"}
        (association,) = addons["aws-ebs-csi-driver"].inputs["podIdentityAssociations"]
        assert association["serviceAccount"] == "ebs-csi-controller-sa"
        assert json.loads(addons["vpc-cni"].inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}


def test_networking_addons_come_before_the_nodes_and_dns_after(plans: dict[str, Plan]) -> None:
    plan = plans["prod"]
    addons = {a.inputs["addonName"]: a.name for a in plan.by_type("aws:eks/addon:Addon")}
    groups = plan.by_type("aws:eks/nodeGroup:NodeGroup")
    for group in groups:
        assert {addons["vpc-cni"], addons["kube-proxy"], addons["eks-pod-identity-agent"]} <= names_of(
            group.dependency_urns
        )
    coredns = named(plan, "aws:eks/addon:Addon", addons["coredns"])
    assert {g.name for g in groups} <= names_of(coredns.dependency_urns)


# ---------------------------------------------------------------------------------------------------------
# Nodes
# ---------------------------------------------------------------------------------------------------------


def test_node_groups_follow_the_configured_pools(custom_pools: Plan) -> None:
    groups = {g.name.removeprefix("cluster-dev-"): g for g in custom_pools.by_type("aws:eks/nodeGroup:NodeGroup")}
    assert set(groups) == set(CUSTOM_POOLS)
    for pool_name, pool in CUSTOM_POOLS.items():
        group = groups[pool_name]
        assert group.inputs["scalingConfig"] == {
            "minSize": pool["minSize"],
            "maxSize": pool["maxSize"],
            "desiredSize": pool["minSize"],
        }
        assert group.ignore_changes == ["scalingConfig.desiredSize"]
        assert group.inputs["instanceTypes"] == [pool["machineType"]]
        assert group.inputs["capacityType"] == ("SPOT" if pool.get("spot") else "ON_DEMAND")
        assert group.inputs["amiType"] == ami_type(pool["machineType"])
        assert "remoteAccess" not in group.inputs
        assert "diskSize" not in group.inputs  # sized by the launch template; both together are refused
        template = named(custom_pools, "aws:ec2/launchTemplate:LaunchTemplate", f"{group.name}-nodes")
        assert template.name in names_of(group.dependency_urns)
        (disk,) = template.inputs["blockDeviceMappings"]
        assert disk["ebs"] == {
            "volumeSize": pool.get("diskSizeGb", 100),
            "volumeType": "gp3",
            "encrypted": "true",
            "deleteOnTermination": "true",
        }
        metadata = template.inputs["metadataOptions"]
        assert metadata["httpTokens"] == "required"
        assert metadata["httpPutResponseHopLimit"] == 1
        assert "keyName" not in template.inputs
    assert groups["batch"].inputs["amiType"] == "AL2023_ARM_64_STANDARD"
    assert groups["system"].inputs["amiType"] == "AL2023_x86_64_STANDARD"


@pulumi.runtime.test
def test_metadata_for_the_argo_cd_registration() -> pulumi.Output[None]:
    pulumi.runtime.set_mocks(PlatformMocks(), project="platform", stack="prod", preview=False)
    config = eks_config("prod")
    cluster_args = ClusterArgs.from_config(load_stack_config(raw_config(config), secret_keys_of(config), CATALOG))
    cluster = EksCluster(cluster_args.name, cluster_args)
    metadata = cluster.metadata
    assert (metadata.cloud, metadata.region, metadata.env, metadata.cluster_name) == (
        "aws",
        "eu-west-1",
        "prod",
        "cluster-prod",
    )
    assert (metadata.account, metadata.storage_class, metadata.load_balancer) == ("123456789012", "gp3", "aws-nlb")

    def check(values: list[Any]) -> None:
        issuer, published_issuer, ebs_csi_role = values
        assert issuer == published_issuer
        assert issuer.startswith("https://oidc.eks.eu-west-1.amazonaws.com/id/")
        assert ebs_csi_role.startswith("arn:aws:iam::123456789012:role/cluster-prod-ebs-csi-role")

    return pulumi.Output.all(
        metadata.oidc_issuer_url, cluster.oidc_issuer_url, metadata.identities["aws-ebs-csi-driver"]
    ).apply(check)


def test_storage_class_of_the_metadata_exists(plans: dict[str, Plan]) -> None:
    for env, plan in plans.items():
        (storage_class,) = plan.by_type("kubernetes:storage.k8s.io/v1:StorageClass")
        assert storage_class.inputs["metadata"]["name"] == "gp3"
        assert storage_class.inputs["provisioner"] == "ebs.csi.aws.com"
        assert storage_class.inputs["parameters"]["encrypted"] == "true"
        assert storage_class.inputs["reclaimPolicy"] == ("Delete" if env == "dev" else "Retain")


# ---------------------------------------------------------------------------------------------------------
# Kubeconfig, protection, tags, config errors
# ---------------------------------------------------------------------------------------------------------


def kubeconfig_text(plan: Plan) -> str:
    # This cluster's (a spoke also holds the hub's, read from the hub stack).
    documents = [
        v
        for v in plan.secret_values
        if '"kind": "Config"' in v and json.loads(v)["current-context"] == plan.outputs["clusterName"]
    ]
    assert documents, "the kubeconfig is not among the secret values"
    return documents[0]


@pytest.mark.parametrize("env", ENVS)
def test_kubeconfig_is_a_secret_with_aws_eks_get_token(plans: dict[str, Plan], env: str) -> None:
    plan = plans[env]
    assert plan.outputs["kubeconfig"] == "[secret]"
    text = kubeconfig_text(plan)
    assert "get-token" in text
    assert "token:" not in text
    assert "client-key" not in text
    kubeconfig = json.loads(text)
    assert kubeconfig["clusters"][0]["cluster"]["server"] == plan.outputs["endpoint"]
    exec_auth = kubeconfig["users"][0]["user"]["exec"]
    assert exec_auth["command"] == "aws"
    assert exec_auth["args"] == [
        *("eks", "get-token", "--cluster-name", f"cluster-{env}"),
        *("--region", "eu-west-1", "--output", "json"),
    ]


# The cluster, its network and node groups; the IAM roles whose replacement would replace them; the key.
GUARDED = (
    "aws:eks/cluster:Cluster",
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/routeTable:RouteTable",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:kms/key:Key",
)


@pytest.mark.parametrize("env", ENVS)
def test_prod_is_protected_and_dev_is_not(plans: dict[str, Plan], env: str) -> None:
    plan = plans[env]
    protected = env != "dev"
    for type_token in GUARDED:
        resources = plan.by_type(type_token)
        assert resources, type_token
        assert all(r.protect is protected for r in resources), type_token
    for role in ("cluster", "nodes"):
        assert named(plan, "aws:iam/role:Role", f"cluster-{env}-{role}-role").protect is protected
    cluster = one(plan, "aws:eks/cluster:Cluster")
    assert cluster.inputs["deletionProtection"] is protected
    # Creation-only settings that would replace the cluster on any difference are never diffed.
    assert set(cluster.ignore_changes) == {
        "accessConfig.bootstrapClusterCreatorAdminPermissions",
        "bootstrapSelfManagedAddons",
    }
    assert cluster.inputs["upgradePolicy"] == {"supportType": "EXTENDED" if protected else "STANDARD"}


@pytest.mark.parametrize("env", ENVS)
def test_every_aws_resource_is_tagged(plans: dict[str, Plan], env: str) -> None:
    expected = {"project": "platform", "env": env, "managed-by": "pulumi"}
    for resource in plans[env].resources:
        if resource.type.startswith("aws:") and resource.type not in UNTAGGABLE:
            assert resource.inputs.get("tags", {}).items() >= expected.items(), resource.name


def test_a_machine_type_of_another_cloud_is_refused() -> None:
    config = eks_config("dev", nodePools={"general": {"machineType": "e2-standard-4", "minSize": 1, "maxSize": 2}})
    with pytest.raises(ConfigError, match=r"platform:cluster\.nodePools\.general\.machineType: 'e2-standard-4'"):
        load_stack_config(raw_config(config), (), CATALOG)


@pytest.mark.parametrize(
    ("machine_type", "arm"),
    [
        *[("m7g.large", True), ("c7gn.xlarge", True), ("t4g.medium", True), ("im4gn.large", True)],
        *[("m6i.xlarge", False), ("g4dn.xlarge", False), ("c5.large", False), ("m7a.large", False)],
    ],
)
def test_ami_type_follows_the_architecture(machine_type: str, arm: bool) -> None:
    assert ami_type(machine_type) == ("AL2023_ARM_64_STANDARD" if arm else "AL2023_x86_64_STANDARD")


def test_the_vpc_has_flow_logs_and_a_closed_default_security_group(plans: dict[str, Plan]) -> None:
    for env, plan in plans.items():
        one(plan, "aws:ec2/vpc:Vpc")
        default_sg = one(plan, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
        assert default_sg.inputs["vpcId"].startswith("vpc-")  # the one VPC's id, as the mocks shape it
        assert default_sg.inputs.get("ingress", []) == [] and default_sg.inputs.get("egress", []) == []
        flow_log = one(plan, "aws:ec2/flowLog:FlowLog")
        assert flow_log.inputs["vpcId"] == default_sg.inputs["vpcId"]
        assert flow_log.inputs["trafficType"] == "ALL"
        assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"
        cluster_name = one(plan, "aws:eks/cluster:Cluster").inputs["name"]
        group = named(plan, "aws:cloudwatch/logGroup:LogGroup", f"{cluster_name}-flow-logs")
        assert group.inputs["retentionInDays"] == (365 if env in {"staging", "prod"} else 30)
        # Explicit either way: once set, the provider turns it off only when given false.
        assert group.inputs["deletionProtectionEnabled"] is (env in {"staging", "prod"})
        role = named(plan, "aws:iam/role:Role", f"{cluster_name}-flow-logs-role")
        assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
            "Service": "vpc-flow-logs.amazonaws.com"
        }
        assert flow_log.inputs["iamRoleArn"].startswith("arn:aws:iam::")
