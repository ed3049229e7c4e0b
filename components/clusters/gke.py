"""A private, VPC-native GKE cluster with its own network, node identity, KMS key and node pools.

What the cluster gets, and the benchmark each choice answers (CIS GKE numbering, kube-bench cfg/gke-1.9.0):
its own VPC with pod and service secondary ranges (5.6.2), private nodes behind Cloud NAT (5.6.5), control-plane
access only from the configured networks (5.6.3/5.6.4), Workload Identity and the GKE metadata server (5.2.2,
5.4.1), a least-privilege node service account (5.2.1), Secrets encrypted with a Cloud KMS key (5.3.1), shielded
COS nodes with secure boot (5.5.1, 5.5.5-5.5.7), auto-repair and auto-upgrade in a release channel (5.5.2-5.5.4),
Dataplane V2 for network policy, logging and monitoring on, ABAC and client certificates off (5.7.1, 5.8.1/5.8.3).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components.clusters.base import (
    ArgoCdClusterConfig,
    Cluster,
    ClusterArgs,
    ClusterMetadata,
    ExecAuth,
    HubIdentity,
    KubeAccess,
    WorkloadIdentity,
    argocd_exec,
)
from components.config.clouds.gcp import GcpSettings
from components.config.model import NodePool
from components.naming import managed_by_labels

__all__ = [
    "FLOW_LOGS",
    "HUB_ACCESS_ROLE",
    "NODE_ROLES",
    "GkeCluster",
    "account_id",
    "binary_authorization",
    "external_account",
    "pool_id",
]

# The node service account's roles: what GKE's system agents on a node need (logs, metrics, resource
# metadata) plus pulling images from Artifact Registry; nothing else (CIS GKE 5.2.1).
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
)
# APIs the cluster needs; left enabled on teardown, as other workloads of the project may use them.
REQUIRED_APIS = (
    "compute.googleapis.com",
    "container.googleapis.com",
    "cloudkms.googleapis.com",
    "iam.googleapis.com",
)
PODS_RANGE = "pods"
SERVICES_RANGE = "services"
# Cloud KMS rotates the Secrets key every 90 days; old versions stay to decrypt what they wrapped.
KEY_ROTATION_PERIOD = f"{90 * 24 * 3600}s"
KUBECONFIG_AUTH = ExecAuth(
    command="gke-gcloud-auth-plugin",
    install_hint=(
        "Install gke-gcloud-auth-plugin for use with kubectl by following "
        "https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin"
    ),
)
ACCOUNT_ID_MAX = 30
POOL_ID_MAX = 32
HUB_ACCESS_ROLE = "roles/container.clusterViewer"
"""Just `container.clusters.get`: what GKE asks of any identity before Kubernetes RBAC decides what it may do
(GKE docs, "Authorize actions in clusters using role-based access control")."""
_STS_TOKEN_URL = "https://sts.googleapis.com/v1/token"
_IMPERSONATION_URL = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{email}:generateAccessToken"


# VPC flow logs of the node subnet (CKV_GCP_26, Trivy GCP-0029): every flow sampled at half rate, aggregated over
# 5 s, with all metadata (pulumi-gcp compute.Subnetwork `log_config`; setting it turns flow logging on).
FLOW_LOGS = gcp.compute.SubnetworkLogConfigArgs(
    aggregation_interval="INTERVAL_5_SEC", flow_sampling=0.5, metadata="INCLUDE_ALL_METADATA"
)


def binary_authorization(settings: GcpSettings) -> gcp.container.ClusterBinaryAuthorizationArgs | None:
    """Enforce the project's Binary Authorization policy when configured (`evaluation_mode`; `enabled` is
    deprecated in pulumi-gcp 10)."""
    if not settings.binary_authorization:
        return None
    return gcp.container.ClusterBinaryAuthorizationArgs(evaluation_mode="PROJECT_SINGLETON_POLICY_ENFORCE")


def binary_authorization_apis(settings: GcpSettings) -> tuple[str, ...]:
    return ("binaryauthorization.googleapis.com",) if settings.binary_authorization else ()


def node_account_id(cluster_name: str) -> str:
    """`{cluster}-nodes`, shortened to the 30 characters a service account id may have."""
    account_id = f"{cluster_name}-nodes"
    if len(account_id) <= ACCOUNT_ID_MAX:
        return account_id
    return f"{cluster_name[: ACCOUNT_ID_MAX - len('-nodes')].rstrip('-')}-nodes"


def account_id(purpose: str, cluster_name: str) -> str:
    """`{purpose}-{cluster}`, cut to the 30 characters a service account id may have."""
    return f"{purpose}-{cluster_name}"[:ACCOUNT_ID_MAX].rstrip("-")


def pool_id(hub_cluster: str) -> str:
    """`argocd-{hub}`: the workload identity pool of one hub, cut to the 32 characters a pool id may have."""
    return f"argocd-{hub_cluster}"[:POOL_ID_MAX].rstrip("-")


def external_account(provider_name: str, service_account_email: str, token_file: str) -> str:
    """A Google "external account" credential configuration: exchange the token in `token_file` at Google STS
    for the workload identity pool provider `provider_name`, then impersonate the service account. It holds no key;
    Application Default Credentials (google.FindDefaultCredentials, which argocd-k8s-auth gcp calls) read it from
    GOOGLE_APPLICATION_CREDENTIALS."""
    return json.dumps(
        {
            "type": "external_account",
            "audience": f"//iam.googleapis.com/{provider_name}",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": _STS_TOKEN_URL,
            "service_account_impersonation_url": _IMPERSONATION_URL.format(email=service_account_email),
            "credential_source": {"file": token_file, "format": {"type": "text"}},
        },
        indent=2,
        sort_keys=True,
    )


def oidc_issuer_url(project: str, region: str, cluster_name: pulumi.Input[str]) -> pulumi.Output[str]:
    """GKE's service-account token issuer: the cluster's resource URL in the GKE API."""
    return pulumi.Output.concat(
        "https://container.googleapis.com/v1/projects/", project, "/locations/", region, "/clusters/", cluster_name
    )


def _dns_endpoint(config: gcp.container.outputs.ClusterControlPlaneEndpointsConfig | None) -> str:
    """The cluster's DNS endpoint (`gke-....{region}.gke.goog`), which GKE assigns at creation."""
    dns = config.dns_endpoint_config if config else None
    return (dns.endpoint or "") if dns else ""


class GkeCluster(Cluster):
    """A regional GKE Standard cluster; node pool sizes are per zone (a region has three).

    Empty values of the output contract: none. `endpoint` (what the hub's Argo CD uses) is the private one when
    nothing is allowed to reach the API; the kubeconfig uses the DNS endpoint, which IAM guards, so `pulumi up`
    runs from anywhere its identity may connect from.
    """

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:clusters:GkeCluster", name, None, opts)
        gcp_settings = args.settings.gcp
        if gcp_settings is None:  # load_stack_config requires it on gcp; this narrows the type
            raise ValueError("cluster.gcp is required for a GKE cluster")
        self._args = args
        self._name = name
        self._project = gcp_settings.project
        labels = dict(args.tags)
        apis = self._apis(gcp_settings)
        network, subnet, nat_address, nat = self._network(gcp_settings, labels, apis)
        node_account, node_grants = self._node_identity(apis)
        crypto_key, key_grant = self._secrets_key(labels, depends_on=apis)
        cluster = self._control_plane(
            gcp_settings, labels=labels, network=network, subnet=subnet, crypto_key=crypto_key, key_grant=key_grant
        )
        self._cluster = cluster
        node_pools = [
            self._node_pool(
                pool_name,
                pool,
                cluster=cluster,
                service_account=node_account.email,
                labels=labels,
                depends_on=[nat, *node_grants],
            )
            for pool_name, pool in (args.settings.node_pools or {}).items()
        ]
        self._publish_outputs(cluster, nat_address, node_pools)

    # --------------------------------------------------------------------------------------------------------
    # Steps of the constructor
    # --------------------------------------------------------------------------------------------------------

    def _apis(self, gcp_settings: GcpSettings) -> list[gcp.projects.Service]:
        """The project's APIs the cluster needs."""
        name, project = self._name, self._project
        return [
            gcp.projects.Service(
                f"{name}-{api.split('.')[0]}-api",
                project=project,
                service=api,
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for api in (*REQUIRED_APIS, *binary_authorization_apis(gcp_settings))
        ]

    def _network(
        self, gcp_settings: GcpSettings, labels: dict[str, str], apis: list[gcp.projects.Service]
    ) -> tuple[gcp.compute.Network, gcp.compute.Subnetwork, gcp.compute.Address, gcp.compute.RouterNat]:
        """Own VPC, one subnet with secondary ranges (VPC-native), egress through Cloud NAT."""
        args, name, project = self._args, self._name, self._project
        network = gcp.compute.Network(
            f"{name}-network",
            name=args.name,
            project=project,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=args.resource_options(self, depends_on=apis),
        )
        subnet = gcp.compute.Subnetwork(
            f"{name}-subnet",
            name=f"{args.name}-nodes",
            project=project,
            region=args.region,
            network=network.self_link,
            ip_cidr_range=str(gcp_settings.subnet_cidr),
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=PODS_RANGE, ip_cidr_range=str(gcp_settings.pods_cidr)
                ),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=SERVICES_RANGE, ip_cidr_range=str(gcp_settings.services_cidr)
                ),
            ],
            # Private nodes have no external IP: this is how they reach Google APIs and Artifact Registry.
            private_ip_google_access=True,
            log_config=FLOW_LOGS,
            opts=args.resource_options(self),
        )
        # Fixed egress: reserved addresses for Cloud NAT (MANUAL_ONLY), so every spoke's API can admit this
        # cluster's Argo CD by address. With AUTO_ONLY, NAT picks ephemeral addresses nothing could publish.
        nat_address = gcp.compute.Address(
            f"{name}-nat-ip",
            name=f"{args.name}-nat",
            project=project,
            region=args.region,
            address_type="EXTERNAL",
            description=f"Egress of GKE cluster {args.name} (Cloud NAT)",
            labels=labels,
            opts=args.resource_options(self, depends_on=apis),
        )
        router = gcp.compute.Router(
            f"{name}-router",
            name=f"{args.name}-router",
            project=project,
            region=args.region,
            network=network.self_link,
            opts=args.resource_options(self),
        )
        nat = gcp.compute.RouterNat(
            f"{name}-nat",
            name=f"{args.name}-nat",
            project=project,
            region=args.region,
            router=router.name,
            nat_ip_allocate_option="MANUAL_ONLY",
            nat_ips=[nat_address.self_link],
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
            opts=args.resource_options(self),
        )
        return network, subnet, nat_address, nat

    def _node_identity(
        self, apis: list[gcp.projects.Service]
    ) -> tuple[gcp.serviceaccount.Account, list[gcp.projects.IAMMember]]:
        """A dedicated service account for the nodes instead of the Compute Engine default one."""
        args, name, project = self._args, self._name, self._project
        node_account = gcp.serviceaccount.Account(
            f"{name}-nodes",
            project=project,
            account_id=node_account_id(args.name),
            display_name=f"GKE nodes of {args.name}",
            opts=args.resource_options(self, depends_on=apis),
        )
        node_member = pulumi.Output.concat("serviceAccount:", node_account.email)
        node_grants = [
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.removeprefix('roles/').replace('.', '-')}",
                project=project,
                role=role,
                member=node_member,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for role in NODE_ROLES
        ]
        return node_account, node_grants

    def _control_plane(
        self,
        gcp_settings: GcpSettings,
        *,
        labels: dict[str, str],
        network: gcp.compute.Network,
        subnet: gcp.compute.Subnetwork,
        crypto_key: gcp.kms.CryptoKey,
        key_grant: gcp.kms.CryptoKeyIAMMember,
    ) -> gcp.container.Cluster:
        """The regional cluster, private nodes, Secrets encrypted with `crypto_key`."""
        args, name, project = self._args, self._name, self._project
        allow_list = args.api_allow_list
        return gcp.container.Cluster(
            f"{name}-cluster",
            name=args.name,
            project=project,
            location=args.region,
            resource_labels=labels,
            deletion_protection=args.protect,
            network=network.self_link,
            subnetwork=subnet.self_link,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=PODS_RANGE,
                services_secondary_range_name=SERVICES_RANGE,
            ),
            private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True,
                enable_private_endpoint=not allow_list,
                master_ipv4_cidr_block=str(gcp_settings.master_cidr),
            ),
            master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[
                    gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                        cidr_block=network_cidr, display_name=f"authorized-{index}"
                    )
                    for index, network_cidr in enumerate(allow_list)
                ],
                # Not every Google Cloud IP: only the listed networks reach the public endpoint.
                gcp_public_cidrs_access_enabled=False,
            ),
            # The DNS endpoint admits any network but only Google identities with `container.clusters.connect`
            # (IAM decides before Kubernetes RBAC does): CI on hosted runners, whose addresses change, reaches the
            # API this way. The IP endpoint stays behind the allow-list, for the hub's Argo CD.
            control_plane_endpoints_config=gcp.container.ClusterControlPlaneEndpointsConfigArgs(
                dns_endpoint_config=gcp.container.ClusterControlPlaneEndpointsConfigDnsEndpointConfigArgs(
                    allow_external_traffic=True
                )
            ),
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=gcp_settings.release_channel),
            # A floor, not a pin: the channel upgrades past it, and raising it upgrades in place.
            min_master_version=args.settings.kubernetes_version,
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=f"{project}.svc.id.goog"
            ),
            # Dataplane V2 (eBPF) enforces NetworkPolicy itself; the Calico network_policy addon must stay off.
            datapath_provider="ADVANCED_DATAPATH",
            database_encryption=gcp.container.ClusterDatabaseEncryptionArgs(state="ENCRYPTED", key_name=crypto_key.id),
            enable_shielded_nodes=True,
            binary_authorization=binary_authorization(gcp_settings),
            enable_legacy_abac=False,
            master_auth=gcp.container.ClusterMasterAuthArgs(
                client_certificate_config=gcp.container.ClusterMasterAuthClientCertificateConfigArgs(
                    issue_client_certificate=False
                )
            ),
            logging_service="logging.googleapis.com/kubernetes",
            monitoring_service="monitoring.googleapis.com/kubernetes",
            # GKE cannot create a cluster without a node pool: it creates a one-node default pool and this
            # program deletes it at once; the real pools are NodePool resources below. No node_config here,
            # since a change to it would replace the cluster (pulumi-gcp#744, #88).
            remove_default_node_pool=True,
            initial_node_count=1,
            opts=args.resource_options(
                self,
                # The GKE service agent must be able to use the key before the cluster is created.
                depends_on=[key_grant],
                # Both describe only the deleted default pool; a diff in them must never replace the cluster.
                ignore_changes=["nodeConfig", "initialNodeCount"],
            ),
        )

    def _publish_outputs(
        self, cluster: gcp.container.Cluster, nat_address: gcp.compute.Address, node_pools: list[gcp.container.NodePool]
    ) -> None:
        """The output contract: the IP endpoint for the hub, the DNS endpoint for kubeconfig users, Cloud NAT egress."""
        args, project = self._args, self._project
        endpoint = pulumi.Output.concat("https://", cluster.endpoint)
        ca_data = cluster.master_auth.apply(lambda auth: auth.cluster_ca_certificate or "")
        dns_endpoint = cluster.control_plane_endpoints_config.apply(_dns_endpoint)
        issuer = oidc_issuer_url(project, args.region, cluster.name)
        self._publish(
            cluster_name=cluster.name,
            endpoint=endpoint,
            ca_data=ca_data,
            # The DNS endpoint presents a publicly trusted certificate: no CA in the kubeconfig, as gcloud does.
            access=KubeAccess(
                server=pulumi.Output.concat("https://", dns_endpoint),
                ca_data=pulumi.Output.from_input(""),
                auth=pulumi.Output.from_input(KUBECONFIG_AUTH),
            ),
            oidc_issuer_url=issuer,
            metadata=ClusterMetadata(
                cloud="gcp",
                region=args.region,
                env=args.env,
                cluster_name=args.name,
                account=project,
                storage_class="premium-rwo",
                load_balancer="gcp-l4",
                oidc_issuer_url=issuer,
            ),
            egress_cidrs=pulumi.Output.all(nat_address.address),
            cluster_identifier=cluster.id,
            replace_with=[cluster],
            depends_on=node_pools,
        )

    def _secrets_key(
        self, labels: dict[str, str], depends_on: list[gcp.projects.Service]
    ) -> tuple[gcp.kms.CryptoKey, gcp.kms.CryptoKeyIAMMember]:
        """The key that wraps the data keys of Kubernetes Secrets, and the GKE service agent's grant on it."""
        args, name, project = self._args, self._name, self._project
        # Key rings and keys cannot be deleted in Cloud KMS, only their versions destroyed. Auto-named (a random
        # suffix), a torn-down dev cluster can be created again; retained on delete, Pulumi never schedules
        # the destruction of a key whose loss would make every Secret of the cluster unreadable.
        key_ring = gcp.kms.KeyRing(
            f"{name}-keyring",
            project=project,
            location=args.region,  # GKE wants the key in the cluster's location
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=True, depends_on=list(depends_on)
            ),
        )
        crypto_key = gcp.kms.CryptoKey(
            f"{name}-secrets",
            key_ring=key_ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=KEY_ROTATION_PERIOD,
            labels=labels,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=True),
        )
        project_number = gcp.organizations.get_project_output(
            project_id=project, opts=pulumi.InvokeOutputOptions(parent=self)
        ).number
        key_grant = gcp.kms.CryptoKeyIAMMember(
            f"{name}-secrets-gke-agent",
            crypto_key_id=crypto_key.id,
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=pulumi.Output.concat(
                "serviceAccount:service-", project_number, "@container-engine-robot.iam.gserviceaccount.com"
            ),
            # The agent exists once the container API is enabled.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )
        return crypto_key, key_grant

    def _node_pool(
        self,
        pool_name: str,
        pool: NodePool,
        *,
        cluster: gcp.container.Cluster,
        service_account: pulumi.Output[str],
        labels: dict[str, str],
        depends_on: list[pulumi.Resource],
    ) -> gcp.container.NodePool:
        args, name = self._args, self._name
        return gcp.container.NodePool(
            f"{name}-{pool_name}",
            name=pool_name,
            project=self._project,
            location=args.region,
            cluster=cluster.name,
            initial_node_count=max(pool.min_size, 1),
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                min_node_count=pool.min_size, max_node_count=pool.max_size
            ),
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            # One extra node at a time during upgrades, none taken away before its replacement is ready.
            upgrade_settings=gcp.container.NodePoolUpgradeSettingsArgs(
                strategy="SURGE", max_surge=1, max_unavailable=0
            ),
            node_config=gcp.container.NodePoolNodeConfigArgs(
                machine_type=pool.machine_type,
                disk_size_gb=pool.disk_size_gb,
                disk_type="pd-balanced",
                image_type="COS_CONTAINERD",
                spot=pool.spot,
                service_account=service_account,
                # Access is decided by the service account's IAM roles, not by legacy access scopes.
                oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
                shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
                workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
                    mode="GKE_METADATA"
                ),
                metadata={"disable-legacy-endpoints": "true"},
                resource_labels=labels,
            ),
            opts=args.resource_options(
                self,
                depends_on=depends_on,
                # The autoscaler owns the node count; a new minSize must not replace the pool (pulumi-gcp#412).
                ignore_changes=["initialNodeCount"],
                # Machine type, disk size and image update in place (a rolling recreation of the nodes); spot,
                # service account, scopes and shielded settings replace the pool. It keeps its configured name,
                # so a replacement (dev only: prod is protected) deletes the old pool before creating the new.
                delete_before_replace=True,
            ),
        )

    # --------------------------------------------------------------------------------------------------------
    # Identities for the hub's Argo CD and for add-ons
    # --------------------------------------------------------------------------------------------------------

    def grant_argocd_access(self, hub: HubIdentity) -> ArgoCdClusterConfig:
        """Workload Identity Federation: a pool in this project trusts the hub cluster's issuer for the hub's Argo CD
        service accounts only, and they impersonate a Google service account that Kubernetes RBAC makes
        cluster-admin here. Works whatever cloud the hub runs on; no key exists anywhere.

        A deleted pool stays soft-deleted for 30 days and keeps its id: rebuilding a spoke within that time needs
        `gcloud iam workload-identity-pools undelete` and `pulumi import` of the pool, or a new hub cluster name.
        """
        token = hub.federated_token("gcp")
        args, name, project = self._args, self._name, self._project
        pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-argocd-pool",
            project=project,
            workload_identity_pool_id=pool_id(hub.cluster_name),
            display_name=f"Argo CD of {hub.cluster_name}"[:32],
            description=f"Argo CD of the hub cluster {hub.cluster_name} deploying to {args.name}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        subjects = ", ".join(f"'{subject}'" for subject in hub.subjects)
        provider = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-argocd-provider",
            project=project,
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id="argocd-hub",
            display_name=f"{hub.cluster_name} issuer"[:32],
            oidc=gcp.iam.WorkloadIdentityPoolProviderOidcArgs(
                issuer_uri=hub.oidc_issuer_url, allowed_audiences=[token.audience]
            ),
            attribute_mapping={"google.subject": "assertion.sub"},
            # Any other pod of the hub cluster can get a token from the same issuer; only Argo CD's may exchange it.
            attribute_condition=f"assertion.sub in [{subjects}]",
            opts=pulumi.ResourceOptions(parent=self),
        )
        account = gcp.serviceaccount.Account(
            f"{name}-argocd-hub",
            project=project,
            account_id=account_id("argocd", hub.cluster_name),
            display_name=f"Argo CD of {hub.cluster_name} on {args.name}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        impersonation = [
            gcp.serviceaccount.IAMMember(
                f"{name}-argocd-hub-{subject.rsplit(':', 1)[-1]}",
                service_account_id=account.name,
                role="roles/iam.workloadIdentityUser",
                member=pulumi.Output.concat("principal://iam.googleapis.com/", pool.name, "/subject/", subject),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for subject in hub.subjects
        ]
        sign_in = gcp.projects.IAMMember(
            f"{name}-argocd-hub-cluster-viewer",
            project=project,
            role=HUB_ACCESS_ROLE,
            member=pulumi.Output.concat("serviceAccount:", account.email),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # GKE names a Google service account's requests after its email; RBAC makes that user cluster-admin.
        admin = k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-argocd-hub",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"argocd-{hub.cluster_name}", labels=managed_by_labels()),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="cluster-admin"
            ),
            subjects=[k8s.rbac.v1.SubjectArgs(api_group="rbac.authorization.k8s.io", kind="User", name=account.email)],
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
        file_name = f"{args.name}.json"
        credentials = pulumi.Output.all(provider.name, account.email).apply(
            lambda values: external_account(values[0], values[1], token.path)
        )
        return ArgoCdClusterConfig(
            config=self._argocd_cluster_config(
                argocd_exec(["gcp"], {"GOOGLE_APPLICATION_CREDENTIALS": f"{hub.files_dir}/{file_name}"})
            ),
            grants=[pool, provider, account, *impersonation, sign_in, admin],
            hub_files={file_name: credentials},
        )

    def workload_identity(
        self, name: str, namespace: str, service_account: str, roles: Sequence[str]
    ) -> WorkloadIdentity:
        """Workload Identity for GKE: a Google service account holding `roles` on the project, which the
        Kubernetes service account may impersonate (`roles/iam.workloadIdentityUser` for
        `{project}.svc.id.goog[{namespace}/{service_account}]`)."""
        args, project = self._args, self._project
        key = f"{self._name}-{name}"
        account = gcp.serviceaccount.Account(
            key,
            project=project,
            account_id=account_id(name, args.name),
            display_name=f"{name} on GKE cluster {args.name}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        member = pulumi.Output.concat("serviceAccount:", account.email)
        grants: list[pulumi.Resource] = [
            gcp.projects.IAMMember(
                f"{key}-{role.rsplit('/', 1)[-1].replace('.', '-')}",
                project=project,
                role=role,
                member=member,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for role in roles
        ]
        grants.append(
            gcp.serviceaccount.IAMMember(
                f"{key}-workload-identity",
                service_account_id=account.name,
                role="roles/iam.workloadIdentityUser",
                member=f"serviceAccount:{project}.svc.id.goog[{namespace}/{service_account}]",
                # The project's workload pool exists once a cluster with Workload Identity does.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self._cluster]),
            )
        )
        return WorkloadIdentity(
            identity=account.email,
            grants=[account, *grants],
        )
