"""Managed-cluster posture on GKE, EKS and AKS, read from the resources' inputs (camelCase wire names).

Each rule cites the CIS benchmark items it automates (kube-bench cfg/gke-1.9.0, eks-1.8.0, aks-1.8) and the matching
Checkov ids, as collected in HARDENING.md section 2.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from .common import UNKNOWN, Rule, get, is_open_cidr, items

__all__ = ["CLUSTER_RULES"]

GKE_CLUSTER = "gcp:container/cluster:Cluster"
GKE_NODE_POOL = "gcp:container/nodePool:NodePool"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
AKS_CLUSTER = "azure-native:containerservice:ManagedCluster"
AKS_AGENT_POOL = "azure-native:containerservice:AgentPool"

EKS_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
GKE_RELEASE_CHANNELS = frozenset({"RAPID", "REGULAR", "STABLE", "EXTENDED"})
AKS_NETWORK_POLICIES = frozenset({"azure", "calico", "cilium"})


def _open(cidrs: list[Any]) -> list[str]:
    return [str(c) for c in cidrs if is_open_cidr(c)]


def _wide(key: str, cidrs: list[Any]) -> Iterator[str]:
    if wide := _open(cidrs):
        yield f"{key} admits {', '.join(wide)}: list only the networks that need the API"


def _public_api(key: str, cidrs: Any, unset: str) -> Iterator[str]:
    """A public API endpoint's allow-list at `key`: `unset` when it lists nothing (the endpoint admits every
    network), else the open CIDRs it admits."""
    if cidrs is UNKNOWN:
        return
    if not cidrs:
        yield unset
    else:
        yield from _wide(key, cidrs)


# --------------------------------------------------------------------------------------------------------------------
# GKE
# --------------------------------------------------------------------------------------------------------------------
def gke_private_cluster(props: Any, _: ResourceValidationArgs) -> Iterator[str]:
    private_nodes = get(props, "privateClusterConfig.enablePrivateNodes")
    if private_nodes is not UNKNOWN and private_nodes is not True:
        yield "privateClusterConfig.enablePrivateNodes must be true: nodes without public IPs (CIS GKE 5.6.5)"
    private_endpoint = get(props, "privateClusterConfig.enablePrivateEndpoint")
    if private_endpoint is True or private_endpoint is UNKNOWN:
        return
    authorized = get(props, "masterAuthorizedNetworksConfig")
    blocks = items(props, "masterAuthorizedNetworksConfig.cidrBlocks")
    if authorized is None:
        yield (
            "the public control-plane endpoint admits every network: set privateClusterConfig.enablePrivateEndpoint "
            "or masterAuthorizedNetworksConfig (CIS GKE 5.6.3/5.6.4)"
        )
    elif blocks is not UNKNOWN:
        yield from _wide("masterAuthorizedNetworksConfig", [get(b, "cidrBlock") for b in blocks])
    if get(props, "masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled") is True:
        yield "masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled lets every Google Cloud IP reach the API"


def gke_workload_identity(props: Any, _: ResourceValidationArgs) -> Iterator[str]:
    pool = get(props, "workloadIdentityConfig.workloadPool")
    if pool is not UNKNOWN and not pool:
        yield "workloadIdentityConfig.workloadPool must be set: pods use their own Google identity (CIS GKE 5.2.2)"


def gke_secrets_encryption(props: Any, _: ResourceValidationArgs) -> Iterator[str]:
    state = get(props, "databaseEncryption.state")
    key = get(props, "databaseEncryption.keyName")
    if state is not UNKNOWN and state != "ENCRYPTED":
        yield "databaseEncryption.state must be ENCRYPTED: Secrets wrapped by a Cloud KMS key (CIS GKE 5.3.1)"
    elif key is not UNKNOWN and not key:
        yield "databaseEncryption.keyName must name the Cloud KMS key that wraps Secrets (CIS GKE 5.3.1)"


def gke_cluster_baseline(props: Any, _: ResourceValidationArgs) -> Iterator[str]:
    channel = get(props, "releaseChannel.channel")
    if channel is not UNKNOWN and channel not in GKE_RELEASE_CHANNELS:
        yield "releaseChannel.channel must be RAPID, REGULAR, STABLE or EXTENDED (CIS GKE 5.5.4)"
    if get(props, "enableLegacyAbac") is True:
        yield "enableLegacyAbac must be false: RBAC only (CIS GKE 5.8.3)"
    if get(props, "masterAuth.clientCertificateConfig.issueClientCertificate") is True:
        yield "masterAuth.clientCertificateConfig.issueClientCertificate must be false (CIS GKE 5.8.1)"
    datapath = get(props, "datapathProvider")
    network_policy = get(props, "networkPolicy.enabled")
    if UNKNOWN not in (datapath, network_policy) and datapath != "ADVANCED_DATAPATH" and network_policy is not True:
        yield "NetworkPolicy is not enforced: set datapathProvider ADVANCED_DATAPATH or networkPolicy (CIS GKE 5.6.7)"
    for service in ("loggingService", "monitoringService"):
        if get(props, service) == "none":
            yield f"{service} must not be none (CIS GKE 5.7.1)"
    if get(props, "enableShieldedNodes") is False:
        yield "enableShieldedNodes must not be false (CIS GKE 5.5.5)"


def gke_node_pool(props: Any, _: ResourceValidationArgs) -> Iterator[str]:
    config = "nodeConfig"
    mode = get(props, f"{config}.workloadMetadataConfig.mode")
    if mode is not UNKNOWN and mode != "GKE_METADATA":
        yield f"{config}.workloadMetadataConfig.mode must be GKE_METADATA: node metadata hidden (CIS GKE 5.4.1)"
    if get(props, f"{config}.shieldedInstanceConfig.enableSecureBoot") not in (True, UNKNOWN):
        yield f"{config}.shieldedInstanceConfig.enableSecureBoot must be true (CIS GKE 5.5.7)"
    if get(props, f"{config}.shieldedInstanceConfig.enableIntegrityMonitoring") is False:
        yield f"{config}.shieldedInstanceConfig.enableIntegrityMonitoring must not be false (CIS GKE 5.5.6)"
    for setting in ("autoRepair", "autoUpgrade"):
        if get(props, f"management.{setting}") not in (True, UNKNOWN):
            yield f"management.{setting} must be true (CIS GKE 5.5.2/5.5.3)"
    account = get(props, f"{config}.serviceAccount")
    if account is not UNKNOWN and (
        not account or account == "default" or str(account).endswith("-compute@developer.gserviceaccount.com")
    ):
        yield f"{config}.serviceAccount must be a dedicated least-privilege account, not the default (CIS GKE 5.2.1)"
    image = get(props, f"{config}.imageType")
    if isinstance(image, str) and image and not image.upper().startswith("COS"):
        yield f"{config}.imageType {image} is not Container-Optimized OS (CIS GKE 5.5.1)"


# --------------------------------------------------------------------------------------------------------------------
# EKS
# --------------------------------------------------------------------------------------------------------------------
def eks_endpoint(props: Any, _: ResourceValidationArgs) -> Iterator[str]:
    public = get(props, "vpcConfig.endpointPublicAccess", True)  # AWS defaults to a public endpoint
    if public is False or public is UNKNOWN:
        return
    yield from _public_api(
        "vpcConfig.publicAccessCidrs",
        items(props, "vpcConfig.publicAccessCidrs"),
        "the public endpoint is open to 0.0.0.0/0 (the AWS default): set vpcConfig.endpointPublicAccess false "
        "or vpcConfig.publicAccessCidrs (CIS EKS 5.4.1/5.4.2)",
    )


def eks_secrets_encryption(props: Any, _: ResourceValidationArgs) -> Iterator[str]:
    config = get(props, "encryptionConfig")
    if config is UNKNOWN:
        return
    # pulumi-aws 7 has one encryptionConfig object; older schemas had a list.
    configs = [config] if isinstance(config, Mapping) else items(props, "encryptionConfig")
    resources = [items(c, "resources") for c in configs]
    if UNKNOWN in resources:
        return
    secrets = [c for c, encrypted in zip(configs, resources, strict=True) if "secrets" in encrypted]
    if not secrets:
        yield "encryptionConfig must encrypt resources [secrets] with a KMS key (CIS EKS 5.3.1)"
    elif any(get(c, "provider.keyArn") in (None, "") for c in secrets):
        yield "encryptionConfig.provider.keyArn must name the KMS key that wraps Secrets"


def eks_control_plane_logs(props: Any, _: ResourceValidationArgs) -> Iterator[str]:
    enabled = items(props, "enabledClusterLogTypes")
    if enabled is UNKNOWN or UNKNOWN in enabled:
        return
    if missing := [t for t in EKS_LOG_TYPES if t not in enabled]:
        yield f"enabledClusterLogTypes misses {', '.join(missing)}: every control-plane log type on (CIS EKS 2.1.1)"


def eks_node_group_ssh(props: Any, _: ResourceValidationArgs) -> Iterator[str]:
    key = get(props, "remoteAccess.ec2SshKey")
    groups = items(props, "remoteAccess.sourceSecurityGroupIds")
    if key not in (None, "", UNKNOWN) and groups is not UNKNOWN and not groups:
        # Without source security groups, EKS opens port 22 to the internet.
        yield "remoteAccess with an SSH key needs sourceSecurityGroupIds, or SSH is open to 0.0.0.0/0"


# --------------------------------------------------------------------------------------------------------------------
# AKS
# --------------------------------------------------------------------------------------------------------------------
def aks_api_access(props: Any, _: ResourceValidationArgs) -> Iterator[str]:
    private = get(props, "apiServerAccessProfile.enablePrivateCluster")
    if private is True or private is UNKNOWN:
        return
    yield from _public_api(
        "apiServerAccessProfile.authorizedIPRanges",
        items(props, "apiServerAccessProfile.authorizedIPRanges"),
        "the API server admits every network: set apiServerAccessProfile.enablePrivateCluster or "
        "apiServerAccessProfile.authorizedIPRanges (CIS AKS 5.4.1/5.4.2)",
    )


def aks_identity(props: Any, _: ResourceValidationArgs) -> Iterator[str]:
    if get(props, "disableLocalAccounts") not in (True, UNKNOWN):
        yield "disableLocalAccounts must be true: no static admin kubeconfig"
    if get(props, "enableRBAC") is False:
        yield "enableRBAC must not be false"
    if get(props, "aadProfile.managed") not in (True, UNKNOWN):
        yield "aadProfile.managed must be true: sign-in through Entra ID (CIS AKS 5.5.1)"
    if get(props, "aadProfile.enableAzureRBAC") not in (True, UNKNOWN):
        yield "aadProfile.enableAzureRBAC must be true: Kubernetes access granted by Azure RBAC (CIS AKS 5.5.2)"


def aks_network_policy(props: Any, _: ResourceValidationArgs) -> Iterator[str]:
    policy = get(props, "networkProfile.networkPolicy")
    if policy is not UNKNOWN and policy not in AKS_NETWORK_POLICIES:
        yield "networkProfile.networkPolicy must be azure, calico or cilium (CIS AKS 5.4.4)"


def aks_node_public_ip(props: Any, args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == AKS_AGENT_POOL:
        if get(props, "enableNodePublicIP") is True:
            yield "enableNodePublicIP must not be true: nodes stay private"
        return
    pools = items(props, "agentPoolProfiles")
    for pool in [] if pools is UNKNOWN else pools:
        if get(pool, "enableNodePublicIP") is True:
            yield f"agentPoolProfiles {get(pool, 'name', '?')}: enableNodePublicIP must not be true"


CLUSTER_RULES = (
    Rule(
        "gke-private-cluster",
        "GKE nodes are private and the control plane is private or reachable only from listed networks.",
        frozenset({GKE_CLUSTER}),
        gke_private_cluster,
        Severity.CRITICAL,
    ),
    Rule(
        "gke-workload-identity",
        "GKE clusters have Workload Identity on.",
        frozenset({GKE_CLUSTER}),
        gke_workload_identity,
    ),
    Rule(
        "gke-secrets-encryption",
        "GKE encrypts Kubernetes Secrets with a Cloud KMS key.",
        frozenset({GKE_CLUSTER}),
        gke_secrets_encryption,
    ),
    Rule(
        "gke-cluster-baseline",
        "GKE clusters follow a release channel, enforce NetworkPolicy, log and monitor, and have ABAC and client "
        "certificates off.",
        frozenset({GKE_CLUSTER}),
        gke_cluster_baseline,
        Severity.MEDIUM,
    ),
    Rule(
        "gke-node-pool-hardening",
        "GKE node pools use the GKE metadata server, shielded COS nodes with secure boot, auto-repair and "
        "auto-upgrade, and a dedicated service account.",
        frozenset({GKE_NODE_POOL}),
        gke_node_pool,
    ),
    Rule(
        "eks-endpoint-access",
        "The EKS API endpoint is private or open only to listed networks, never 0.0.0.0/0.",
        frozenset({EKS_CLUSTER}),
        eks_endpoint,
        Severity.CRITICAL,
    ),
    Rule(
        "eks-secrets-encryption",
        "EKS encrypts Kubernetes Secrets with a KMS key.",
        frozenset({EKS_CLUSTER}),
        eks_secrets_encryption,
    ),
    Rule(
        "eks-control-plane-logs",
        "EKS ships every control-plane log type.",
        frozenset({EKS_CLUSTER}),
        eks_control_plane_logs,
        Severity.MEDIUM,
    ),
    Rule(
        "eks-node-group-no-open-ssh",
        "EKS node groups do not open SSH to the internet.",
        frozenset({EKS_NODE_GROUP}),
        eks_node_group_ssh,
    ),
    Rule(
        "aks-api-access",
        "The AKS API server is private or open only to listed networks.",
        frozenset({AKS_CLUSTER}),
        aks_api_access,
        Severity.CRITICAL,
    ),
    Rule(
        "aks-identity",
        "AKS uses Entra ID with Azure RBAC and has local accounts disabled.",
        frozenset({AKS_CLUSTER}),
        aks_identity,
    ),
    Rule(
        "aks-network-policy",
        "AKS enforces NetworkPolicy.",
        frozenset({AKS_CLUSTER}),
        aks_network_policy,
        Severity.MEDIUM,
    ),
    Rule(
        "aks-no-node-public-ip",
        "AKS nodes have no public IPs.",
        frozenset({AKS_CLUSTER, AKS_AGENT_POOL}),
        aks_node_public_ip,
    ),
)
