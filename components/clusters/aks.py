"""AKS: a resource group, a VNet with a node subnet, the control plane's own identity, and an Entra ID cluster
on Azure CNI Overlay with the Cilium dataplane; the `system` pool inline, every other pool a separate AgentPool.

Empty values of the output contract: none. `endpoint` is the private FQDN when no network is authorized (a
private cluster), and `ca_data` comes from the cluster's user credentials, which AKS only lists as a kubeconfig.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network

import pulumi
import yaml
from pulumi_azure_native import (
    authorization,
    containerservice,
    managedidentity,
    monitor,
    network,
    operationalinsights,
    resources,
)

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
from components.config.clouds.azure import POD_CIDR, SERVICE_CIDR, SYSTEM_POOL, AzureSettings
from components.config.environments import ENVIRONMENT_TABLE
from components.config.model import NodePool

__all__ = [
    "AKS_RBAC_CLUSTER_ADMIN_ROLE",
    "AKS_SERVER_APP_ID",
    "AUDIT_LOG_CATEGORIES",
    "AksCluster",
    "cluster_ca",
    "encryption_at_host",
    "kubelogin_auth",
    "node_subnet",
    "upgrade_channel",
]

# Inside SERVICE_CIDR (config/clouds/azure.py, with the pod range and the System pool's name).
DNS_SERVICE_IP = "10.0.0.10"

AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
"""The Entra ID application "Azure Kubernetes Service AAD Server", the audience of every AKS token
(Azure/kubelogin docs/book/src/concepts/aks.md); the same in every tenant."""

AKS_RBAC_CLUSTER_ADMIN_ROLE = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
"""Built-in "Azure Kubernetes Service RBAC Cluster Admin": every Kubernetes action on the cluster, with Azure RBAC."""
_AZURE_AUTHORITY = "https://login.microsoftonline.com/"
# Built-in "Network Contributor": the control plane joins nodes and load balancers to the subnet it does not own.
_NETWORK_CONTRIBUTOR_ROLE = "4d97b98b-1d4f-4787-a291-c67834d212e7"
# AKS puts this taint and label on Spot nodes itself; declaring them keeps a refresh from showing a diff.
_SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"
_SPOT_LABELS = {"kubernetes.azure.com/scalesetpriority": "spot"}
# Only critical add-ons on the System pool, so a noisy workload cannot starve CoreDNS (AKS system pool guidance).
_CRITICAL_ADDONS_TAINT = "CriticalAddonsOnly=true:NoSchedule"
# Azure Linux: a smaller image than Ubuntu, built for AKS; fixed for the life of a pool.
_OS_SKU = "AzureLinux"
# Control-plane log categories sent to Log Analytics (Azure Monitor "Supported logs for
# Microsoft.ContainerService/managedClusters"): audit events that change something (kube-audit-admin leaves out get
# and list, which dominate volume and cost), Entra ID and Azure RBAC decisions (guard), and the API server,
# controller manager and scheduler, as EKS logs them (CKV_AZURE_4, CIS AKS 2.1.1).
AUDIT_LOG_CATEGORIES = ("kube-audit-admin", "guard", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


# ---------------------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------------------


def encryption_at_host(env: str, azure: AzureSettings) -> bool:
    """Host encryption of node disks and caches: as configured, else on where the environment is production-like
    (it needs a subscription feature registration, which a dev subscription may lack)."""
    return azure.encryption_at_host if azure.encryption_at_host is not None else ENVIRONMENT_TABLE[env].prod_like


def node_subnet(vnet: IPv4Network) -> IPv4Network:
    """The first /20 of the VNet (4091 node addresses), or the whole VNet when it is smaller."""
    return next(vnet.subnets(new_prefix=max(20, vnet.prefixlen)))


def upgrade_channel(kubernetes_version: str) -> str:
    """`patch` for a pinned minor (`1.33`): AKS applies patch releases within it, and the input `1.33` never
    differs from what AKS reports, so Pulumi shows no drift. A pinned patch (`1.33.5`) would be moved by that
    channel and the next `pulumi up` would try a downgrade, so it gets `node-image`: node images only."""
    return "patch" if kubernetes_version.count(".") == 1 else "node-image"


def kubelogin_auth(tenant_id: str) -> ExecAuth:
    """kubelogin with the Azure CLI's login: `az login` on a laptop; `azure/login` with federated credentials in
    CI. kubelogin lets AAD_LOGIN_METHOD override `--login` (pkg/internal/token/options.go), so a runner with a
    projected token sets AAD_LOGIN_METHOD=workloadidentity without another kubeconfig."""
    return ExecAuth(
        command="kubelogin",
        args=("get-token", "--login", "azurecli", "--server-id", AKS_SERVER_APP_ID, "--tenant-id", tenant_id),
        install_hint=(
            "kubelogin is required: `az aks install-cli` or https://azure.github.io/kubelogin/install.html; "
            "then `az login` (or AAD_LOGIN_METHOD=workloadidentity in CI)"
        ),
    )


def cluster_ca(kubeconfigs: Sequence[containerservice.outputs.CredentialResultResponse]) -> str:
    """The CA of the cluster in AKS's user kubeconfig. Only the CA is taken: the rest of that kubeconfig is AKS's
    choice and changes between updates, which would replace the Kubernetes provider (pulumi-azure#467)."""
    by_name = {credential.name: credential.value for credential in kubeconfigs}
    encoded = by_name.get("clusterUser") or (by_name[min(by_name)] if by_name else "")
    document = yaml.safe_load(base64.b64decode(encoded)) if encoded else None
    clusters = (document or {}).get("clusters") or []
    ca = clusters[0].get("cluster", {}).get("certificate-authority-data", "") if clusters else ""
    if not ca:
        raise ValueError("the user credentials of the AKS cluster carry no certificate-authority-data")
    return ca


# ---------------------------------------------------------------------------------------------------------
# Node pools
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PoolShape:
    """What the inline System pool and the separate User pools share, from one `NodePool` of the config."""

    vm_size: str
    os_disk_size_gb: int
    min_count: int
    max_count: int
    scale_set_priority: str
    scale_set_eviction_policy: str | None
    spot_max_price: float | None
    node_taints: list[str] | None = None
    node_labels: dict[str, str] | None = None

    @classmethod
    def of(cls, pool: NodePool, taints: Sequence[str] = ()) -> _PoolShape:
        return cls(
            vm_size=pool.machine_type,
            os_disk_size_gb=pool.disk_size_gb,
            min_count=pool.min_size,
            max_count=pool.max_size,
            scale_set_priority="Spot" if pool.spot else "Regular",
            # Delete, not Deallocate: a deallocated Spot VM still counts against quota and keeps its disk.
            scale_set_eviction_policy="Delete" if pool.spot else None,
            # -1: pay up to the on-demand price, so nodes are evicted for capacity, never for price.
            spot_max_price=-1 if pool.spot else None,
            node_taints=[*taints, *([_SPOT_TAINT] if pool.spot else [])] or None,
            node_labels=dict(_SPOT_LABELS) if pool.spot else None,
        )


# ---------------------------------------------------------------------------------------------------------
# The component
# ---------------------------------------------------------------------------------------------------------


class AksCluster(Cluster):
    """An AKS cluster with Entra ID sign-in only (no local accounts), Azure RBAC, workload identity and a
    private or IP-restricted API server, in its own resource group and VNet."""

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        version = args.settings.kubernetes_version
        if not version:  # load_stack_config requires it on azure; this narrows the type
            raise ValueError("cluster.kubernetesVersion is required for an AKS cluster")
        super().__init__("platform:clusters:AksCluster", name, None, opts)
        self._name = name
        self._args = args
        self._azure = args.settings.azure or AzureSettings()
        self._client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self._group, subnet = self._network()
        identity = self._control_plane_identity()
        subnet_access = self._network_contributor(identity, "subnet", subnet.id)
        egress_ip = self._egress_address()
        egress_access = self._network_contributor(identity, "egress-ip", egress_ip.id)
        cluster = self._managed_cluster(version, subnet, identity, egress_ip, depends_on=[subnet_access, egress_access])
        self._cluster = cluster
        self._control_plane_logs(name, args, self._group, cluster)
        user_pools = [
            self._user_pool(
                pool_name,
                pool,
                name=name,
                args=args,
                group=self._group,
                cluster=cluster,
                subnet=subnet,
                version=version,
            )
            for pool_name, pool in (args.settings.node_pools or {}).items()
            if pool_name != SYSTEM_POOL
        ]
        self._publish_outputs(cluster, egress_ip, depends_on=[cluster, *user_pools])

    # --------------------------------------------------------------------------------------------------------
    # Steps of the constructor
    # --------------------------------------------------------------------------------------------------------

    @property
    def _group_name(self) -> str:
        return self._azure.resource_group or f"rg-{self._args.name}"

    def _network(self) -> tuple[resources.ResourceGroup, network.Subnet]:
        """The resource group, and a VNet with the node subnet."""
        args, name, azure = self._args, self._name, self._azure
        tags = dict(args.tags)
        group = resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=self._group_name,
            location=args.region,
            tags=tags,
            opts=args.resource_options(self),
        )
        # No inline `subnets`: the subnet is its own resource, and a VNet update without `subnets` leaves it
        # in place (network API 2023-09-01 and later, Azure/azure-quickstart-templates#2786).
        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=group.name,
            virtual_network_name=f"vnet-{args.name}",
            location=args.region,
            address_space=network.AddressSpaceArgs(address_prefixes=[str(azure.vnet_cidr)]),
            tags=tags,
            opts=args.resource_options(self),
        )
        subnet = network.Subnet(
            f"{name}-nodes",
            resource_group_name=group.name,
            virtual_network_name=vnet.name,
            subnet_name="snet-nodes",
            address_prefix=str(node_subnet(azure.vnet_cidr)),
            opts=args.resource_options(self),
        )
        return group, subnet

    def _control_plane_identity(self) -> managedidentity.UserAssignedIdentity:
        """User-assigned rather than system-assigned: its rights on the subnet exist before the cluster does (a
        system-assigned identity is only known after creation), and it survives a cluster rebuild."""
        args = self._args
        return managedidentity.UserAssignedIdentity(
            f"{self._name}-identity",
            resource_group_name=self._group.name,
            resource_name_=f"id-{args.name}",
            location=args.region,
            tags=dict(args.tags),
            opts=args.resource_options(self),
        )

    def _network_contributor(
        self, identity: managedidentity.UserAssignedIdentity, resource: str, scope: pulumi.Input[str]
    ) -> authorization.RoleAssignment:
        return authorization.RoleAssignment(
            f"{self._name}-{resource}-network-contributor",
            scope=scope,
            principal_id=identity.principal_id,
            # Without it Entra ID may not have replicated the new identity yet and the assignment fails.
            principal_type="ServicePrincipal",
            role_definition_id=self._role_definition(_NETWORK_CONTRIBUTOR_ROLE),
            opts=self._args.resource_options(self),
        )

    def _egress_address(self) -> network.PublicIPAddress:
        """Outbound traffic leaves through the cluster load balancer's frontend: a Standard static address this
        stack owns rather than one AKS picks, so spokes can admit this cluster's Argo CD by address. The control
        plane's identity attaches it to the load balancer in the node resource group."""
        args = self._args
        return network.PublicIPAddress(
            f"{self._name}-egress-ip",
            resource_group_name=self._group.name,
            public_ip_address_name=f"pip-{args.name}-egress",
            location=args.region,
            sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            tags=dict(args.tags),
            opts=args.resource_options(self),
        )

    def _managed_cluster(
        self,
        version: str,
        subnet: network.Subnet,
        identity: managedidentity.UserAssignedIdentity,
        egress_ip: network.PublicIPAddress,
        depends_on: Sequence[pulumi.Resource],
    ) -> containerservice.ManagedCluster:
        """The cluster, with its System pool inline."""
        args, name, azure, group, client = self._args, self._name, self._azure, self._group, self._client
        pools = args.settings.node_pools or {}
        tags = dict(args.tags)
        allow_list = args.api_allow_list
        private = not allow_list
        if not azure.admin_group_object_ids:
            pulumi.log.warn(
                "cluster.azure.adminGroupObjectIds is empty: only Azure RBAC role assignments grant access, and "
                "the identity running `pulumi up` needs 'Azure Kubernetes Service RBAC Cluster Admin' on the "
                "cluster to install Argo CD",
                resource=self,
            )
        # The System pool is inline because AKS cannot create a cluster without one; every other pool is an
        # AgentPool resource, so adding, resizing or removing it never sends the whole cluster through an update
        # (pulumi-azure-native#4264). Its taint keeps workloads on the User pools, when there are any.
        system = _PoolShape.of(pools[SYSTEM_POOL], taints=[_CRITICAL_ADDONS_TAINT] if len(pools) > 1 else [])
        return containerservice.ManagedCluster(
            name,
            resource_group_name=group.name,
            resource_name_=args.name,
            location=args.region,
            dns_prefix=args.name,
            # Named rather than left to AKS: a change to it replaces the cluster, so it must never depend on a
            # default that a refresh could write into the state.
            node_resource_group=f"{self._group_name}-nodes",
            kubernetes_version=version,
            sku=containerservice.ManagedClusterSKUArgs(
                name="Base", tier="Standard" if ENVIRONMENT_TABLE[args.env].sla else "Free"
            ),
            identity=containerservice.ManagedClusterIdentityArgs(
                type=containerservice.ResourceIdentityType.USER_ASSIGNED, user_assigned_identities=[identity.id]
            ),
            # Entra ID sign-in only: no static admin certificate can be listed, and Azure RBAC decides access.
            enable_rbac=True,
            disable_local_accounts=True,
            aad_profile=containerservice.ManagedClusterAADProfileArgs(
                managed=True,
                enable_azure_rbac=True,
                admin_group_object_ids=list(azure.admin_group_object_ids),
                tenant_id=client.tenant_id,
            ),
            api_server_access_profile=(
                # No network authorized: the API server is reachable only from the VNet, and its name is not
                # published in public DNS either.
                containerservice.ManagedClusterAPIServerAccessProfileArgs(
                    enable_private_cluster=True, enable_private_cluster_public_fqdn=False
                )
                if private
                else containerservice.ManagedClusterAPIServerAccessProfileArgs(
                    enable_private_cluster=False,
                    authorized_ip_ranges=allow_list,
                )
            ),
            network_profile=containerservice.ContainerServiceNetworkProfileArgs(
                network_plugin="azure",
                network_plugin_mode="overlay",
                # Cilium enforces NetworkPolicy in eBPF in the dataplane AKS itself runs; Azure NPM is being
                # retired in its favour, and Calico would be a second engine to operate (AKS use-network-policies).
                network_dataplane="cilium",
                network_policy="cilium",
                pod_cidr=str(POD_CIDR),
                service_cidr=str(SERVICE_CIDR),
                dns_service_ip=DNS_SERVICE_IP,
                load_balancer_sku="standard",
                outbound_type="loadBalancer",
                load_balancer_profile=containerservice.ManagedClusterLoadBalancerProfileArgs(
                    outbound_ips=containerservice.ManagedClusterLoadBalancerProfileOutboundIPsArgs(
                        public_ips=[containerservice.ResourceReferenceArgs(id=egress_ip.id)]
                    )
                ),
            ),
            agent_pool_profiles=[
                containerservice.ManagedClusterAgentPoolProfileArgs(
                    name=SYSTEM_POOL,
                    mode="System",
                    type="VirtualMachineScaleSets",
                    os_type="Linux",
                    os_sku=_OS_SKU,
                    orchestrator_version=version,
                    vm_size=system.vm_size,
                    os_disk_size_gb=system.os_disk_size_gb,
                    enable_auto_scaling=True,
                    count=system.min_count,
                    min_count=system.min_count,
                    max_count=system.max_count,
                    scale_set_priority=system.scale_set_priority,
                    node_taints=system.node_taints,
                    vnet_subnet_id=subnet.id,
                    enable_encryption_at_host=encryption_at_host(args.env, azure),
                    tags=tags,
                )
            ],
            oidc_issuer_profile=containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=containerservice.ManagedClusterSecurityProfileArgs(
                workload_identity=containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True)
            ),
            auto_upgrade_profile=containerservice.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel=upgrade_channel(version),
                # Weekly patched node images, rolled by AKS; SecurityPatch would add VHD storage cost.
                node_os_upgrade_channel="NodeImage",
            ),
            tags=tags,
            opts=args.resource_options(
                self,
                depends_on=list(depends_on),
                # The inline pool only exists because AKS cannot create a cluster without one. After creation a
                # refresh writes every pool (the AgentPools too) into this list, so any diff in it would PUT the
                # whole cluster and set every pool Scaling (pulumi-azure-native#4264, #2719, #579); the autoscaler
                # owns `count` too. Pools change through the agent pool API: the User pools are AgentPools, and a
                # new System pool is added as one before the old is removed (AKS "Manage system node pools").
                ignore_changes=["agentPoolProfiles"],
            ),
        )

    def _publish_outputs(
        self,
        cluster: containerservice.ManagedCluster,
        egress_ip: network.PublicIPAddress,
        depends_on: Sequence[pulumi.Resource],
    ) -> None:
        """The output contract: the public or private FQDN, the CA of the user kubeconfig, kubelogin access."""
        args = self._args
        private = not args.api_allow_list
        endpoint = pulumi.Output.all(cluster.fqdn, cluster.private_fqdn).apply(
            lambda fqdns: f"https://{fqdns[1] if private else fqdns[0]}"
        )
        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=self._group.name,
            resource_name=cluster.name,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        # A CA certificate is public; the invoke's result may come back secret as a whole.
        ca_data = pulumi.Output.unsecret(credentials.kubeconfigs.apply(cluster_ca))
        oidc_issuer_url = cluster.oidc_issuer_profile.apply(
            lambda profile: profile.issuer_url if profile and profile.issuer_url else ""
        )
        self._publish(
            cluster_name=cluster.name,
            endpoint=endpoint,
            ca_data=ca_data,
            access=KubeAccess(server=endpoint, ca_data=ca_data, auth=self._client.tenant_id.apply(kubelogin_auth)),
            oidc_issuer_url=oidc_issuer_url,
            metadata=ClusterMetadata(
                cloud="azure",
                region=args.region,
                env=args.env,
                cluster_name=args.name,
                account=self._client.subscription_id,
                storage_class="managed-csi-premium",
                load_balancer="azure-standard",
                oidc_issuer_url=oidc_issuer_url,
            ),
            egress_cidrs=egress_ip.ip_address.apply(lambda address: [address] if address else []),
            cluster_identifier=cluster.id,
            replace_with=[cluster],
            depends_on=list(depends_on),
        )

    # --------------------------------------------------------------------------------------------------------
    # Identities for the hub's Argo CD and for add-ons
    # --------------------------------------------------------------------------------------------------------

    def grant_argocd_access(self, hub: HubIdentity) -> ArgoCdClusterConfig:
        """A user-assigned identity with one federated credential per Argo CD service account of the hub (issuer
        and subject), holding "Azure Kubernetes Service RBAC Cluster Admin" on this cluster. Argo CD runs
        `argocd-k8s-auth azure` (kubelogin) with AAD_LOGIN_METHOD=workloadidentity and the hub's token file."""
        token = hub.federated_token("azure")
        identity, credentials = self._federated_identity(
            "argocd-hub", hub.oidc_issuer_url, hub.subjects, token.audience
        )
        access = authorization.RoleAssignment(
            f"{self._name}-argocd-hub-cluster-admin",
            scope=self._cluster.id,
            principal_id=identity.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=self._role_definition(AKS_RBAC_CLUSTER_ADMIN_ROLE),
            opts=pulumi.ResourceOptions(parent=self),
        )
        env = {
            "AAD_LOGIN_METHOD": "workloadidentity",
            "AZURE_CLIENT_ID": identity.client_id,
            "AZURE_TENANT_ID": self._client.tenant_id,
            "AZURE_FEDERATED_TOKEN_FILE": token.path,
            "AZURE_AUTHORITY_HOST": _AZURE_AUTHORITY,
        }
        return ArgoCdClusterConfig(
            config=self._argocd_cluster_config(argocd_exec(["azure"], env)),
            grants=[identity, *credentials, access],
        )

    def workload_identity(
        self, name: str, namespace: str, service_account: str, roles: Sequence[str]
    ) -> WorkloadIdentity:
        """Microsoft Entra Workload ID: a user-assigned identity trusting this cluster's issuer for
        `namespace/service_account`, holding the role definitions `roles` (ids) on the subscription."""
        subject = f"system:serviceaccount:{namespace}:{service_account}"
        identity, credentials = self._federated_identity(
            name, self.oidc_issuer_url, [subject], "api://AzureADTokenExchange"
        )
        scope = self._client.subscription_id.apply(lambda subscription: f"/subscriptions/{subscription}")
        assignments = [
            authorization.RoleAssignment(
                f"{self._name}-{name}-{role}",
                scope=scope,
                principal_id=identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=self._role_definition(role),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for role in roles
        ]
        return WorkloadIdentity(
            identity=identity.client_id,
            grants=[identity, *credentials, *assignments],
        )

    def _federated_identity(
        self,
        name: str,
        issuer: pulumi.Input[str],
        subjects: Sequence[str],
        audience: str,
    ) -> tuple[managedidentity.UserAssignedIdentity, list[managedidentity.FederatedIdentityCredential]]:
        args = self._args
        identity = managedidentity.UserAssignedIdentity(
            f"{self._name}-{name}",
            resource_group_name=self._group.name,
            resource_name_=f"id-{args.name}-{name}",
            location=args.region,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        credentials: list[managedidentity.FederatedIdentityCredential] = []
        for subject in subjects:
            account = subject.rsplit(":", 1)[-1]
            credentials.append(
                managedidentity.FederatedIdentityCredential(
                    f"{self._name}-{name}-{account}",
                    resource_group_name=self._group.name,
                    resource_name_=identity.name,
                    federated_identity_credential_resource_name=account,
                    issuer=issuer,
                    subject=subject,
                    audiences=[audience],
                    # Entra ID refuses concurrent writes of credentials of one identity: one after another.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=credentials[-1:]),
                )
            )
        return identity, credentials

    def _role_definition(self, role: str) -> pulumi.Output[str]:
        return self._client.subscription_id.apply(
            lambda subscription: (
                f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role}"
            )
        )

    def _control_plane_logs(
        self,
        name: str,
        args: ClusterArgs,
        group: resources.ResourceGroup,
        cluster: containerservice.ManagedCluster,
    ) -> monitor.DiagnosticSetting:
        """The control plane's audit and component logs into a Log Analytics workspace of the cluster's own; kept a
        year where the environment is protected, a month elsewhere (as the EKS log group)."""
        workspace = operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=group.name,
            workspace_name=f"log-{args.name}",
            location=args.region,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=args.log_retention_days,
            tags=dict(args.tags),
            opts=args.resource_options(self),
        )
        return monitor.DiagnosticSetting(
            f"{name}-control-plane-logs",
            name="control-plane-logs",
            resource_uri=cluster.id,
            workspace_id=workspace.id,
            # One table per category (AKSAuditAdmin, AKSControlPlane) rather than the shared AzureDiagnostics.
            log_analytics_destination_type="Dedicated",
            logs=[monitor.DiagnosticsLogSettingsArgs(category=c, enabled=True) for c in AUDIT_LOG_CATEGORIES],
            opts=args.resource_options(self),
        )

    def _user_pool(
        self,
        pool_name: str,
        pool: NodePool,
        *,
        name: str,
        args: ClusterArgs,
        group: resources.ResourceGroup,
        cluster: containerservice.ManagedCluster,
        subnet: network.Subnet,
        version: str,
    ) -> containerservice.AgentPool:
        shape = _PoolShape.of(pool)
        return containerservice.AgentPool(
            f"{name}-{pool_name}",
            resource_group_name=group.name,
            resource_name_=cluster.name,
            agent_pool_name=pool_name,
            mode="User",
            type="VirtualMachineScaleSets",
            os_type="Linux",
            os_sku=_OS_SKU,
            orchestrator_version=version,
            vm_size=shape.vm_size,
            os_disk_size_gb=shape.os_disk_size_gb,
            enable_auto_scaling=True,
            count=shape.min_count,
            min_count=shape.min_count,
            max_count=shape.max_count,
            scale_set_priority=shape.scale_set_priority,
            scale_set_eviction_policy=shape.scale_set_eviction_policy,
            spot_max_price=shape.spot_max_price,
            node_taints=shape.node_taints,
            node_labels=shape.node_labels,
            vnet_subnet_id=subnet.id,
            enable_encryption_at_host=encryption_at_host(args.env, args.settings.azure or AzureSettings()),
            tags=dict(args.tags),
            opts=args.resource_options(
                self,
                ignore_changes=["count"],
                # The pool keeps its name, and AKS cannot change a pool's VM size, disk or priority in place:
                # a replacement must delete the old pool before it creates the new one.
                delete_before_replace=True,
            ),
        )
