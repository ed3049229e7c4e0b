"""An EKS cluster with its own VPC, private managed node groups, access entries and KMS-encrypted Secrets.

Built from plain `pulumi_aws` resources rather than `pulumi_eks`: its `eks.Cluster` is a remote component, so
under the mocks every resource inside it would be invisible (and untestable), and it brings a Node.js plugin
and defaults (aws-auth ConfigMap, a public endpoint) this program would have to override one by one.

What the cluster gets, and the benchmark each choice answers (CIS EKS numbering, kube-bench cfg/eks-1.8.0;
Checkov / Trivy ids from HARDENING.md): its own VPC over at least two availability zones with nodes only in
private subnets behind NAT; the private API endpoint always on and the public one only for the configured
networks, never 0.0.0.0/0 (5.4.1-5.4.2, CKV_AWS_38/39); Secrets envelope-encrypted with a rotating KMS key
(5.3.1, CKV_AWS_58); all five control-plane log types (2.1.1, CKV_AWS_37); access entries instead of the
aws-auth ConfigMap, with no implicit admin for the cluster creator (4.1.7); IRSA and EKS Pod Identity (5.2.1);
nodes with IMDSv2 only, encrypted root volumes and no SSH (CKV_AWS_100); deletion protection in prod.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network

import pulumi
import pulumi_aws as aws
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
from components.config.clouds.aws import AwsSettings
from components.config.model import NodePool
from components.naming import managed_by_labels

__all__ = [
    "ADDONS_BEFORE_NODES",
    "CONTROL_PLANE_LOG_TYPES",
    "OIDC_OWNER_TAG",
    "EksCluster",
    "ami_type",
    "split_vpc",
    "web_identity_trust",
]

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
# DaemonSets the nodes need to become Ready (networking, kube-proxy, Pod Identity credentials): installed
# before the node groups. The cluster is created without EKS's unmanaged copies of them
# (bootstrap_self_managed_addons=False), so every add-on is an EKS managed add-on this program owns.
ADDONS_BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
# The VPC CNI enforces Kubernetes NetworkPolicy itself (its network policy agent); off by default on EKS.
VPC_CNI_CONFIGURATION = json.dumps({"enableNetworkPolicy": "true"})
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
STORAGE_CLASS = "gp3"
ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
# AL2023's root device; the launch template sizes and encrypts it.
ROOT_DEVICE = "/dev/xvda"
# 1 blocks pods (which are one hop further away) from the node's instance metadata and so from the node role's
# credentials (EKS security best practices, "Restrict access to the instance profile"). Pods get AWS access
# only through IRSA or Pod Identity; the EBS CSI driver then reads its metadata from the Kubernetes API.
IMDS_HOP_LIMIT = 1
# Graviton instance families carry a `g` after the generation: m7g, c7gn, r8g, t4g, im4gn.
_ARM_FAMILY = re.compile(r"^[a-z]+\d+g")
OIDC_OWNER_TAG = "platform-owner-stack"
"""Tag naming the stack that created an IAM OIDC provider for a foreign issuer (the hub's): an account holds one
provider per issuer, and every spoke in the account needs it."""


def split_vpc(vpc_cidr: IPv4Network, zones: int) -> tuple[list[IPv4Network], list[IPv4Network]]:
    """Private and public subnets, one each per zone: the VPC in eighths, the first six for private subnets
    (pods take their IPs from them with the VPC CNI, so they get the room), the last eighth cut again in
    eighths for the public subnets, which hold only NAT gateways and load balancers. A /16 gives /19s and /22s;
    the config refuses a VPC this cannot split (config/clouds/aws.py `VPC_PREFIX_MIN`, `VPC_PREFIX_MAX`)."""
    eighths = list(vpc_cidr.subnets(prefixlen_diff=3))
    public = list(eighths[-1].subnets(prefixlen_diff=3))
    return eighths[:zones], public[:zones]


def ami_type(machine_type: str) -> str:
    """The EKS-optimized Amazon Linux 2023 AMI for the instance's architecture."""
    return "AL2023_ARM_64_STANDARD" if _ARM_FAMILY.match(machine_type) else "AL2023_x86_64_STANDARD"


def web_identity_trust(provider_arn: str, issuer_url: str, subjects: Sequence[str]) -> str:
    """A role trust policy for tokens of `issuer_url` (through its IAM OIDC provider) whose `sub` is one of
    `subjects` and whose `aud` is STS's, the IRSA form (docs/operator-manual/declarative-setup.md, EKS)."""
    issuer = issuer_url.removeprefix("https://")
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{issuer}:aud": "sts.amazonaws.com", f"{issuer}:sub": list(subjects)}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _minor(version: str) -> str:
    """EKS takes the minor version only (`1.33`); it picks the patch itself."""
    return ".".join(version.split(".")[:2])


def _assume_role_policy(service: str, *actions: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": list(actions)}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _allow_policy(actions: list[str], resources: pulumi.Output[str] | pulumi.Output[list[str]]) -> pulumi.Output[str]:
    """An identity policy allowing `actions` on `resources`, one ARN or a list (known once the resources exist)."""
    return resources.apply(
        lambda arns: json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": arns}]}
        )
    )


@dataclass(frozen=True)
class _Roles:
    """The cluster's IAM roles, each with the attachments that must exist before it is used."""

    cluster: aws.iam.Role
    cluster_grants: list[aws.iam.RolePolicyAttachment]
    nodes: aws.iam.Role
    node_grants: list[aws.iam.RolePolicyAttachment]
    ebs_csi: aws.iam.Role
    ebs_csi_grants: list[aws.iam.RolePolicyAttachment]


@dataclass(frozen=True)
class _Nodes:
    node_groups: list[aws.eks.NodeGroup]
    early_addons: list[aws.eks.Addon]
    """Installed before the node groups (networking, kube-proxy, Pod Identity)."""
    late_addons: list[aws.eks.Addon]
    """Deployments, installed once there are nodes (CoreDNS, the EBS CSI driver)."""


class EksCluster(Cluster):
    """An EKS cluster in its own VPC; node pool sizes are totals across the zones (one managed node group each).

    Empty values of the output contract: none. With no authorized networks the API endpoint is private only,
    so `pulumi up` then has to run from inside the VPC (or a peered network).
    """

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        version = args.settings.kubernetes_version
        if not version:  # load_stack_config requires it on aws; this narrows the type
            raise ValueError("cluster.kubernetesVersion is required for an EKS cluster")
        settings = args.settings.aws or AwsSettings()
        # Cloud calls before anything is registered: a region with too few zones registers nothing.
        zones = self._zones(args.region, settings.availability_zones)
        caller = aws.get_caller_identity()
        # The identity running this program needs an access entry of its own to install Argo CD, since the
        # cluster creator gets no implicit admin. An access entry takes an IAM role, not an STS session:
        # arn:aws:sts::ACCT:assumed-role/NAME/SESSION maps to arn:aws:iam::ACCT:role/PATH/NAME. The provider
        # looks the role up, because the session ARN drops the role's path and an entry without it is refused
        # (AWS SSO roles live under aws-reserved/sso.amazonaws.com/; terraform-aws-eks#2969).
        deployer_arn = aws.iam.get_session_context(arn=caller.arn).issuer_arn
        super().__init__("platform:clusters:EksCluster", name, None, opts)
        self._args = args
        self._name = name
        self._partition = caller.arn.split(":")[1]
        self._tags = dict(args.tags)

        private_subnets, network_ready, nat_addresses = self._network(settings.vpc_cidr, zones)
        roles = self._roles()
        cluster = self._control_plane(_minor(version), [subnet.id for subnet in private_subnets], roles)
        self._cluster = cluster
        self._issuer = cluster.identities.apply(_issuer)
        # IRSA: IAM trusts the cluster's service-account tokens. No thumbprint: IAM verifies this issuer's TLS
        # certificate against its own trusted CAs and ignores configured thumbprints for it.
        self._oidc_provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=self._issuer,
            client_id_lists=["sts.amazonaws.com"],
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        nodes = self._nodes_and_addons(cluster, _minor(version), private_subnets, network_ready, roles)
        access = self._access_entries(cluster, settings.admin_role_arns, deployer_arn)
        self._publish_outputs(
            cluster,
            account=caller.account_id,
            nat_addresses=nat_addresses,
            ebs_csi_role=roles.ebs_csi,
            # Nothing may act on the cluster before the program's own access entry, the nodes and DNS exist.
            depends_on=[*access, *nodes.node_groups, *nodes.early_addons, *nodes.late_addons],
        )
        self._storage_class(depends_on=nodes.late_addons)

    # --------------------------------------------------------------------------------------------------------
    # Steps of the constructor
    # --------------------------------------------------------------------------------------------------------

    def _roles(self) -> _Roles:
        """The control plane's role, the nodes' role, and the EBS CSI driver's Pod Identity role."""
        cluster, cluster_grants = self._role(
            "cluster",
            "the control plane",
            _assume_role_policy("eks.amazonaws.com", "sts:AssumeRole", "sts:TagSession"),
            ["AmazonEKSClusterPolicy"],
            protect=True,
        )
        # Pull-only ECR access is the narrower policy the EKS node role docs now name (no DescribeRepositories,
        # ListImages...). The CNI policy may stay on the node role: aws-node runs with host networking, so it
        # still reaches the node's credentials with the hop limit of 1 that shuts ordinary pods out.
        nodes, node_grants = self._role(
            "nodes",
            "the nodes of its managed node groups",
            _assume_role_policy("ec2.amazonaws.com", "sts:AssumeRole"),
            ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonEKS_CNI_Policy"],
            protect=True,
        )
        ebs_csi, ebs_csi_grants = self._role(
            "ebs-csi",
            "the EBS CSI driver's controller, through EKS Pod Identity",
            _assume_role_policy("pods.eks.amazonaws.com", "sts:AssumeRole", "sts:TagSession"),
            ["service-role/AmazonEBSCSIDriverPolicy"],
            protect=False,
        )
        return _Roles(cluster, cluster_grants, nodes, node_grants, ebs_csi, ebs_csi_grants)

    def _control_plane(self, version: str, subnet_ids: Sequence[pulumi.Output[str]], roles: _Roles) -> aws.eks.Cluster:
        """The cluster with its Secrets encryption key (KMS envelope encryption) and its control-plane log group."""
        args, name = self._args, self._name
        networks = args.api_allow_list
        # Retained on delete: losing the key makes every Secret in etcd (and in any etcd backup) unreadable.
        secrets_key = aws.kms.Key(
            f"{name}-secrets",
            region=args.region,
            description=f"Envelope encryption of the Kubernetes Secrets of EKS cluster {args.name}",
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=True),
        )
        key_grant = aws.iam.RolePolicy(
            f"{name}-cluster-secrets-key",
            role=roles.cluster.id,
            policy=_allow_policy(
                ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                secrets_key.arn,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Created here rather than by EKS, so the retention is set and the group belongs to the stack.
        log_group = self._log_group("control-plane-logs", f"/aws/eks/{args.name}/cluster")
        return aws.eks.Cluster(
            f"{name}-cluster",
            region=args.region,
            name=args.name,
            version=version,
            role_arn=roles.cluster.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=bool(networks),
                public_access_cidrs=networks or None,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                # A one-time grant EKS never shows again; the deployer's access entry below does it visibly.
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            bootstrap_self_managed_addons=False,
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=secrets_key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            # EKS refuses to delete the cluster until this is turned off: a guard outside Pulumi's state too.
            deletion_protection=args.protect,
            # STANDARD upgrades the control plane by itself at the end of standard support, behind the pinned
            # version's back; prod pays for extended support instead and upgrades when the config says so.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="EXTENDED" if args.protect else "STANDARD"),
            tags=self._tags,
            opts=args.resource_options(
                self,
                # EKS needs the role's permissions for as long as the cluster exists, including its deletion.
                depends_on=[*roles.cluster_grants, key_grant, log_group],
                # Both only matter at creation, EKS does not report them back, and a change to either replaces
                # the cluster: ignored, so an imported cluster or a provider default can never trigger that
                # (terraform-aws-eks ignores them for the same reason).
                ignore_changes=["accessConfig.bootstrapClusterCreatorAdminPermissions", "bootstrapSelfManagedAddons"],
            ),
        )

    def _nodes_and_addons(
        self,
        cluster: aws.eks.Cluster,
        version: str,
        private_subnets: Sequence[aws.ec2.Subnet],
        network_ready: Sequence[pulumi.Resource],
        roles: _Roles,
    ) -> _Nodes:
        """The node groups, with the add-ons nodes need to become Ready before them and the Deployments after."""
        early_addons = {addon: self._addon(addon, cluster) for addon in ADDONS_BEFORE_NODES}
        node_groups = [
            self._node_group(
                pool_name,
                pool,
                cluster=cluster,
                node_role=roles.nodes,
                subnet_ids=[subnet.id for subnet in private_subnets],
                version=version,
                depends_on=[*roles.node_grants, *network_ready, *early_addons.values()],
            )
            for pool_name, pool in (self._args.settings.node_pools or {}).items()
        ]
        # Deployments, after the nodes: an add-on whose pods cannot be scheduled never becomes ACTIVE.
        late_addons = [
            self._addon("coredns", cluster, depends_on=node_groups),
            self._addon(
                "aws-ebs-csi-driver",
                cluster,
                pod_identity=aws.eks.AddonPodIdentityAssociationArgs(
                    role_arn=roles.ebs_csi.arn, service_account=EBS_CSI_SERVICE_ACCOUNT
                ),
                depends_on=[*node_groups, early_addons["eks-pod-identity-agent"], *roles.ebs_csi_grants],
            ),
        ]
        return _Nodes(node_groups, list(early_addons.values()), late_addons)

    def _access_entries(
        self, cluster: aws.eks.Cluster, admin_role_arns: Sequence[str], deployer_arn: str
    ) -> list[pulumi.Resource]:
        """Cluster-admin access entries for the configured roles and for the identity running this program."""
        name = self._name
        admins = {f"{name}-admin-{_principal_key(arn)}": arn for arn in dict.fromkeys(admin_role_arns)}
        if deployer_arn not in admins.values():
            # A fixed name: when another identity runs `pulumi up`, the preview shows this entry being replaced.
            admins[f"{name}-deployer"] = deployer_arn
        return [grant for key, arn in admins.items() for grant in self._cluster_admin(key, arn, cluster)]

    def _publish_outputs(
        self,
        cluster: aws.eks.Cluster,
        *,
        account: str,
        nat_addresses: Sequence[aws.ec2.Eip],
        ebs_csi_role: aws.iam.Role,
        depends_on: Sequence[pulumi.Resource],
    ) -> None:
        """The output contract: endpoint, CA, `aws eks get-token` access, metadata and the NAT egress."""
        args = self._args
        endpoint = cluster.endpoint
        ca_data = cluster.certificate_authority.apply(lambda authority: authority.data or "")
        self._publish(
            cluster_name=cluster.name,
            endpoint=endpoint,
            ca_data=ca_data,
            access=KubeAccess(
                server=endpoint,
                ca_data=ca_data,
                auth=pulumi.Output.from_input(
                    ExecAuth(
                        command="aws",
                        # `--output json`: kubectl reads the ExecCredential as JSON, whatever the user's CLI default.
                        args=(
                            "eks",
                            "get-token",
                            "--cluster-name",
                            args.name,
                            "--region",
                            args.region,
                            "--output",
                            "json",
                        ),
                        install_hint=(
                            "Install the AWS CLI v2 and sign in (aws sso login or credentials of a role with an EKS "
                            "access entry): https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
                        ),
                    )
                ),
            ),
            oidc_issuer_url=self._issuer,
            metadata=ClusterMetadata(
                cloud="aws",
                region=args.region,
                env=args.env,
                cluster_name=args.name,
                account=account,
                storage_class=STORAGE_CLASS,
                load_balancer="aws-nlb",
                oidc_issuer_url=self._issuer,
                identities={"aws-ebs-csi-driver": ebs_csi_role.arn},
            ),
            egress_cidrs=pulumi.Output.all(*[address.public_ip for address in nat_addresses]),
            cluster_identifier=cluster.arn,
            replace_with=[cluster],
            depends_on=depends_on,
        )

    # --------------------------------------------------------------------------------------------------------
    # Pieces
    # --------------------------------------------------------------------------------------------------------

    def _log_group(self, resource: str, log_name: str) -> aws.cloudwatch.LogGroup:
        """A CloudWatch log group the stack owns: kept for the environment's retention, and, where protected,
        neither deletable in AWS nor dropped from AWS when the stack lets go of it."""
        args = self._args
        return aws.cloudwatch.LogGroup(
            f"{self._name}-{resource}",
            region=args.region,
            name=log_name,
            retention_in_days=args.log_retention_days,
            deletion_protection_enabled=args.protect,
            tags=self._tags,
            opts=args.resource_options(self, retain_on_delete=args.protect),
        )

    @staticmethod
    def _zones(region: str, count: int) -> list[str]:
        """The first `count` zones of the region, by name, so the choice is the same on every run. Local and
        Wavelength zones (opt-in) are left out: EKS cannot place its control-plane ENIs there."""
        available = aws.get_availability_zones(
            region=region,
            state="available",
            filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
        )
        names = sorted(available.names)
        if len(names) < count:
            # Known only from the cloud, so not a rule of config/clouds/aws.py. A RunError ends the program
            # "without the usual verbose unhandled error logic" (pulumi 3.272.0 pulumi/errors.py): the language
            # host logs str(error) alone, any other exception with its traceback
            # (pulumi/pulumi sdk/python/cmd/pulumi-language-python-exec; pulumi/automation/_server.py alike).
            raise pulumi.RunError(
                f"platform:cluster.aws.availabilityZones: {count} zones requested but {region} has "
                f"{len(names)} available ({', '.join(names)}); use at most {len(names)}"
            )
        return names[:count]

    def _network(
        self, vpc_cidr: IPv4Network, zones: Sequence[str]
    ) -> tuple[list[aws.ec2.Subnet], list[pulumi.Resource], list[aws.ec2.Eip]]:
        """Own VPC, per zone a public and a private subnet, NAT for the private ones; returns the private subnets,
        what must exist before nodes can pull images, and the NAT gateways' Elastic IPs: the fixed addresses pods
        leave from."""
        args, name = self._args, self._name
        private_cidrs, public_cidrs = split_vpc(vpc_cidr, len(zones))

        def tags(resource: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
            return {**self._tags, "Name": f"{args.name}-{resource}", **(extra or {})}

        # How load balancer controllers find subnets: the role tags pick public or internal ones; older
        # cloud-provider-aws releases (Service type LoadBalancer without the AWS Load Balancer Controller) also
        # need the cluster tag, or they fall back to the node's own, private, subnet.
        cluster_tag = {f"kubernetes.io/cluster/{args.name}": "shared"}

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            region=args.region,
            cidr_block=str(vpc_cidr),
            # EKS needs both for the private endpoint and for nodes to register by their DNS names.
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=tags("vpc"),
            opts=args.resource_options(self),
        )
        self._vpc_guards(vpc)
        gateway = aws.ec2.InternetGateway(
            f"{name}-igw",
            region=args.region,
            vpc_id=vpc.id,
            tags=tags("igw"),
            opts=args.resource_options(self),
        )
        public_routes = aws.ec2.RouteTable(
            f"{name}-public-rt",
            region=args.region,
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
            tags=tags("public-rt"),
            opts=args.resource_options(self),
        )
        # One NAT gateway per zone where the environment is protected: with a single one, losing its zone
        # cuts every node off from image registries and AWS APIs, and traffic from other zones pays cross-zone
        # charges. Elsewhere one NAT gateway (about 32 USD a month each, plus data) is worth the risk.
        nat_zones = list(zones) if args.protect else list(zones[:1])
        nats: dict[str, aws.ec2.NatGateway] = {}
        addresses: list[aws.ec2.Eip] = []
        private_subnets: list[aws.ec2.Subnet] = []
        ready: list[pulumi.Resource] = []
        for zone, private_cidr, public_cidr in zip(zones, private_cidrs, public_cidrs, strict=True):
            suffix = zone.removeprefix(args.region) or zone
            public = aws.ec2.Subnet(
                f"{name}-public-{suffix}",
                region=args.region,
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=str(public_cidr),
                # Only NAT gateways and load balancers live here; nothing gets a public IP by default.
                map_public_ip_on_launch=False,
                tags=tags(f"public-{suffix}", {"kubernetes.io/role/elb": "1", **cluster_tag}),
                opts=args.resource_options(self),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{suffix}-rt-link",
                region=args.region,
                subnet_id=public.id,
                route_table_id=public_routes.id,
                opts=args.resource_options(self),
            )
            if zone in nat_zones:
                address = aws.ec2.Eip(
                    f"{name}-nat-{suffix}-ip",
                    region=args.region,
                    domain="vpc",
                    tags=tags(f"nat-{suffix}"),
                    opts=args.resource_options(self),
                )
                addresses.append(address)
                nats[zone] = aws.ec2.NatGateway(
                    f"{name}-nat-{suffix}",
                    region=args.region,
                    subnet_id=public.id,
                    allocation_id=address.allocation_id,
                    connectivity_type="public",
                    tags=tags(f"nat-{suffix}"),
                    opts=args.resource_options(self, depends_on=[gateway]),
                )
            private = aws.ec2.Subnet(
                f"{name}-private-{suffix}",
                region=args.region,
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=str(private_cidr),
                map_public_ip_on_launch=False,
                tags=tags(f"private-{suffix}", {"kubernetes.io/role/internal-elb": "1", **cluster_tag}),
                opts=args.resource_options(self),
            )
            # A route table per zone even with one NAT gateway, so moving to one per zone changes only routes.
            nat = nats.get(zone) or nats[nat_zones[0]]
            private_routes = aws.ec2.RouteTable(
                f"{name}-private-{suffix}-rt",
                region=args.region,
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags=tags(f"private-{suffix}-rt"),
                opts=args.resource_options(self),
            )
            association = aws.ec2.RouteTableAssociation(
                f"{name}-private-{suffix}-rt-link",
                region=args.region,
                subnet_id=private.id,
                route_table_id=private_routes.id,
                opts=args.resource_options(self),
            )
            private_subnets.append(private)
            ready.append(association)
        return private_subnets, [*ready, *nats.values()], addresses

    def _vpc_guards(self, vpc: aws.ec2.Vpc) -> None:
        """What every VPC of the platform carries beside its network: its default security group closed, and flow
        logs of all its traffic in CloudWatch, kept as long as the control-plane logs."""
        args, name = self._args, self._name
        # Managing the default security group with no rules removes the ones AWS creates (all traffic within the
        # group, all egress), so nothing that falls back to it is reachable (CKV2_AWS_12; pulumi-aws
        # ec2.DefaultSecurityGroup: "removes all ingress and egress rules" when none are given).
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            region=args.region,
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags={**self._tags, "Name": f"{args.name}-default-closed"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        # VPC flow logs (CKV2_AWS_11, Trivy AWS-0178), delivered by the flow-logs service with a role of its own.
        log_group = self._log_group("flow-logs", f"/aws/vpc/{args.name}/flow-logs")
        role, _ = self._role(
            "flow-logs",
            "VPC flow log delivery",
            _assume_role_policy("vpc-flow-logs.amazonaws.com", "sts:AssumeRole"),
            (),
            protect=False,
        )
        delivery = aws.iam.RolePolicy(
            f"{name}-flow-logs-delivery",
            role=role.id,
            policy=_allow_policy(
                ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
                log_group.arn.apply(lambda arn: [arn, f"{arn}:*"]),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            region=args.region,
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[delivery]),
        )

    def _role(
        self, purpose: str, who: str, assume_role_policy: str, managed_policies: Sequence[str], *, protect: bool
    ) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
        """An IAM role with AWS managed policies attached as separate resources, never through the role's own
        `managed_policy_arns`/`inline_policies`, which would fight them (awsguard
        iam-role-no-policy-management-conflicts)."""
        args, name = self._args, self._name
        role = aws.iam.Role(
            f"{name}-{purpose}-role",
            description=f"EKS cluster {args.name}: {who}",
            assume_role_policy=assume_role_policy,
            tags=self._tags,
            # The cluster's and the nodes' role ARNs cannot change without replacing the cluster or node groups.
            opts=args.resource_options(self) if protect else pulumi.ResourceOptions(parent=self),
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-{purpose}-{policy.rsplit('/', 1)[-1]}",
                role=role.name,
                policy_arn=f"arn:{self._partition}:iam::aws:policy/{policy}",
                opts=pulumi.ResourceOptions(parent=self),
            )
            for policy in managed_policies
        ]
        return role, attachments

    def _addon(
        self,
        addon: str,
        cluster: aws.eks.Cluster,
        *,
        pod_identity: aws.eks.AddonPodIdentityAssociationArgs | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> aws.eks.Addon:
        # No addon_version: EKS installs its default version for the cluster's Kubernetes version, and the
        # state keeps it until someone changes it; a version list kept here would go stale with every release.
        return aws.eks.Addon(
            f"{self._name}-{addon}",
            region=self._args.region,
            cluster_name=cluster.name,
            addon_name=addon,
            configuration_values=VPC_CNI_CONFIGURATION if addon == "vpc-cni" else None,
            pod_identity_associations=[pod_identity] if pod_identity else None,
            # The add-ons' settings are this program's: an edit in the cluster is reverted, as Argo CD would.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )

    def _node_group(
        self,
        pool_name: str,
        pool: NodePool,
        *,
        cluster: aws.eks.Cluster,
        node_role: aws.iam.Role,
        subnet_ids: Sequence[pulumi.Output[str]],
        version: str,
        depends_on: Sequence[pulumi.Resource],
    ) -> aws.eks.NodeGroup:
        args, name = self._args, self._name
        node_tags = {**self._tags, "Name": f"{args.name}-{pool_name}"}
        # A launch template, because EKS's own cannot require IMDSv2 tokens or set the hop limit; the disk is
        # sized here too, so a new size rolls the nodes instead of replacing the node group.
        template = aws.ec2.LaunchTemplate(
            f"{name}-{pool_name}-nodes",
            region=args.region,
            description=f"Nodes of pool {pool_name} of EKS cluster {args.name}",
            update_default_version=True,
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=pool.disk_size_gb,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=IMDS_HOP_LIMIT,
                instance_metadata_tags="disabled",
            ),
            # Node group tags stay on the node group; these reach the instances and their disks.
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=node_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # No node_group_name: Pulumi names it `{resource}-{random}`, so a change that replaces the group (machine
        # type, spot) creates the new one before draining the old; prod refuses the replacement (protect).
        return aws.eks.NodeGroup(
            f"{name}-{pool_name}",
            region=args.region,
            cluster_name=cluster.name,
            version=version,
            node_role_arn=node_role.arn,
            subnet_ids=list(subnet_ids),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=pool.min_size, max_size=pool.max_size, desired_size=pool.min_size
            ),
            instance_types=[pool.machine_type],
            capacity_type="SPOT" if pool.spot else "ON_DEMAND",
            ami_type=ami_type(pool.machine_type),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            # No remote_access: no SSH key, no port 22 (CKV_AWS_100); use SSM Session Manager if ever needed.
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            # EKS labels nodes with the node group's name, which carries a random suffix; this one is stable.
            labels={"node-pool": pool_name},
            tags=self._tags,
            opts=args.resource_options(
                self,
                depends_on=list(depends_on),
                # The cluster autoscaler owns the node count between min and max.
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )

    def _cluster_admin(
        self, key: str, principal_arn: pulumi.Input[str], cluster: aws.eks.Cluster
    ) -> tuple[aws.eks.AccessEntry, aws.eks.AccessPolicyAssociation]:
        args = self._args
        entry = aws.eks.AccessEntry(
            key,
            region=args.region,
            cluster_name=cluster.name,
            principal_arn=principal_arn,
            type="STANDARD",
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        association = aws.eks.AccessPolicyAssociation(
            f"{key}-cluster-admin",
            region=args.region,
            cluster_name=cluster.name,
            principal_arn=entry.principal_arn,
            policy_arn=f"arn:{self._partition}:eks::aws:cluster-access-policy/{ADMIN_POLICY}",
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return entry, association

    def _storage_class(self, depends_on: Sequence[pulumi.Resource]) -> None:
        """`gp3`, the storage class the cluster metadata promises: EKS creates none (and marks none default
        since 1.30). In protected environments a deleted claim (an Argo CD prune) keeps its EBS volume."""
        k8s.storage.v1.StorageClass(
            f"{self._name}-{STORAGE_CLASS}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=STORAGE_CLASS,
                annotations={"storageclass.kubernetes.io/is-default-class": "true"},
                labels=managed_by_labels(),
            ),
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"},
            # EBS volumes are zonal: create the volume where the pod is scheduled.
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            reclaim_policy="Retain" if self._args.protect else "Delete",
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=list(depends_on)),
        )

    # --------------------------------------------------------------------------------------------------------
    # Identities for the hub's Argo CD and for add-ons
    # --------------------------------------------------------------------------------------------------------

    def grant_argocd_access(self, hub: HubIdentity) -> ArgoCdClusterConfig:
        """An IAM role that the hub's Argo CD service accounts assume with their own tokens
        (AssumeRoleWithWebIdentity, through an IAM OIDC provider for the hub's issuer), made cluster-admin by an
        access entry. Argo CD runs `argocd-k8s-auth aws` with AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE per
        cluster, which the AWS SDK's default chain turns into web-identity credentials: the hub needs no AWS
        identity of its own, so this works from a GKE, AKS or EKS hub alike. (`awsAuthConfig` cannot say which
        token to use: it relies on credentials the controller already has, i.e. a hub on AWS.)"""
        token = hub.federated_token("aws")
        args, name = self._args, self._name
        provider_arn, created = self._hub_oidc_provider(hub)
        role = aws.iam.Role(
            f"{name}-argocd-hub-role",
            description=f"EKS cluster {args.name}: Argo CD of the hub cluster {hub.cluster_name}",
            assume_role_policy=pulumi.Output.from_input(provider_arn).apply(
                lambda arn: web_identity_trust(arn, hub.oidc_issuer_url, hub.subjects)
            ),
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        entry, association = self._cluster_admin(f"{name}-argocd-hub", role.arn, self._cluster)
        env = {
            "AWS_REGION": args.region,
            "AWS_ROLE_ARN": role.arn,
            "AWS_WEB_IDENTITY_TOKEN_FILE": token.path,
            "AWS_ROLE_SESSION_NAME": f"argocd-{hub.cluster_name}",
        }
        return ArgoCdClusterConfig(
            config=self._argocd_cluster_config(argocd_exec(["aws", "--cluster-name", args.name], env)),
            grants=[*created, role, entry, association],
        )

    def _hub_oidc_provider(self, hub: HubIdentity) -> tuple[pulumi.Input[str], list[pulumi.Resource]]:
        """The IAM OIDC provider for the hub's issuer, and what this stack creates for it. IAM allows one per
        issuer and account, and every spoke in the account needs it: the first stack creates it (tagged with its
        name, retained on delete so the others keep working), the others use it as it is."""
        url = hub.oidc_issuer_url
        owner = f"{pulumi.get_project()}/{pulumi.get_stack()}"
        try:
            existing = aws.iam.get_open_id_connect_provider(url=url)
        except Exception as error:  # the SDK raises a plain Exception; only not-found is expected
            if not _is_not_found(error):
                raise
            existing = None
        if existing is not None and (existing.tags or {}).get(OIDC_OWNER_TAG) != owner:
            return existing.arn, []
        # No thumbprint: IAM validates Google's (and AWS's own) issuers against its trusted CAs, and fetches the
        # intermediate CA's thumbprint itself for any other issuer when none is given.
        provider = aws.iam.OpenIdConnectProvider(
            f"{self._name}-hub-oidc",
            url=url,
            client_id_lists=["sts.amazonaws.com"],
            tags={**self._tags, OIDC_OWNER_TAG: owner},
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        return provider.arn, [provider]

    def workload_identity(
        self, name: str, namespace: str, service_account: str, roles: Sequence[str]
    ) -> WorkloadIdentity:
        """IRSA: a role trusting this cluster's own issuer for `namespace/service_account`, with the managed
        policies `roles` (ARNs) attached."""
        key = f"{self._name}-{name}"
        subject = f"system:serviceaccount:{namespace}:{service_account}"
        role = aws.iam.Role(
            f"{key}-role",
            description=f"EKS cluster {self._args.name}: {name} ({namespace}/{service_account}) through IRSA",
            assume_role_policy=pulumi.Output.all(self._oidc_provider.arn, self._issuer).apply(
                lambda values: web_identity_trust(values[0], values[1], [subject])
            ),
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{key}-{arn.rsplit('/', 1)[-1]}",
                role=role.name,
                policy_arn=arn,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for arn in roles
        ]
        return WorkloadIdentity(
            identity=role.arn,
            grants=[role, *attachments],
        )


_NOT_FOUND = ("couldn't find resource", "empty result")
"""How the provider's data source says it found nothing: terraform-plugin-sdk's retry.NotFoundError and
terraform-provider-aws's tfresource.NotFoundError/EmptyResultError messages. Any other failure (no permission
to list providers, throttling, a network error) must stop the program, not create a second provider."""


def _is_not_found(error: Exception) -> bool:
    return any(marker in str(error) for marker in _NOT_FOUND)


def _issuer(identities: Sequence[aws.eks.outputs.ClusterIdentity]) -> str:
    """The service-account token issuer EKS reports in `identity[0].oidc[0].issuer`."""
    return next((oidc.issuer or "" for identity in identities for oidc in identity.oidcs or []), "")


def _principal_key(arn: str) -> str:
    """`123456789012-platform-admins` for `arn:aws:iam::123456789012:role/platform-admins`: a resource name that
    stays the same when other roles are added to or removed from the list."""
    account, resource = arn.split(":", 5)[4:]
    return f"{account}-{resource.rsplit('/', 1)[-1]}"
