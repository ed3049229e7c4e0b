"""Typical create times per resource type, for the estimated time to a seeded platform.

Each figure is what one create of that type usually takes in the cloud, from a public source where one exists
(terraform/pulumi logs in provider issues, vendor announcements) and marked `estimate` where none was found. The
figures only have to be right in proportion: the estimate shows which chain of the program's graph dominates and
how much the program adds to the chain the clouds impose, not a promise of minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ARGOCD_TAIL",
    "CLOUD_CHAINS",
    "COMPONENT",
    "DEFAULT_UNKNOWN",
    "GIT_SERVER_LINKS",
    "KUBERNETES_OBJECT",
    "TYPICAL",
    "CreateTime",
    "create_time",
    "imposed_chain",
]


@dataclass(frozen=True)
class CreateTime:
    seconds: float
    source: str
    """A public source of the figure, or `estimate: <why>` where none was found."""


COMPONENT = CreateTime(0, "a component or provider registers in the engine; no cloud call")
KUBERNETES_OBJECT = CreateTime(
    2, "estimate: one API-server write, plus the provider's short readiness await (a Namespace waits for Active)"
)
DEFAULT_UNKNOWN = CreateTime(10, "estimate: no figure for this type yet; add one to benchmarks/create_times.py")

_TF_AWS_LOG = "https://github.com/turbot/steampipe-plugin-aws/pull/131 (terraform log)"

TYPICAL: dict[str, CreateTime] = {
    # ---- GCP --------------------------------------------------------------------------------------------------
    # GKE 2019 benchmark: create min 3m05s, avg 3m50s, max 5m39s (https://kubedex.com/is-azure-kubernetes-aks-any-less-terrible/);
    # a private, KMS-encrypted regional cluster with remove_default_node_pool (a default pool created then
    # deleted) takes longer: eclipse-theia/theia-cloud#336 shows `google_container_cluster` still creating at 8m.
    "gcp:container/cluster:Cluster": CreateTime(360, "kubedex GKE benchmark (avg 3m50s) + theia-cloud#336 (>8m)"),
    # hashicorp/terraform-provider-google#13178 logs a node pool still creating past 1m30s; VMs boot and join.
    "gcp:container/nodePool:NodePool": CreateTime(180, "estimate; terraform-provider-google#13178 (>1m30s)"),
    # opea-project/GenAIInfra#977: `google_compute_network` 22s; turbot/steampipe-plugin-gcp#214: 58s.
    "gcp:compute/network:Network": CreateTime(40, "GenAIInfra#977 (22s), steampipe-plugin-gcp#214 (58s)"),
    "gcp:compute/subnetwork:Subnetwork": CreateTime(20, "estimate: a regional compute operation like the network"),
    "gcp:compute/router:Router": CreateTime(20, "estimate: a regional compute operation"),
    "gcp:compute/address:Address": CreateTime(10, "estimate: a regional compute operation reserving an address"),
    "gcp:compute/routerNat:RouterNat": CreateTime(30, "estimate: a router patch operation"),
    # turbot/steampipe-plugin-gcp#214: `google_service_account` created after 6s.
    "gcp:serviceaccount/account:Account": CreateTime(6, "steampipe-plugin-gcp#214 (6s)"),
    # Enabling an API is a long-running operation on a fresh project (waprin/kubernetes_django_postgres_redis#2:
    # "a few minutes for a new project"); seconds when it is already on.
    "gcp:projects/service:Service": CreateTime(60, "estimate; kubernetes_django_postgres_redis#2"),
    "gcp:projects/iAMMember:IAMMember": CreateTime(10, "estimate: read-modify-write of the project policy"),
    "gcp:serviceaccount/iAMMember:IAMMember": CreateTime(10, "estimate: read-modify-write of the account policy"),
    "gcp:kms/keyRing:KeyRing": CreateTime(3, "estimate: a synchronous KMS API call"),
    "gcp:kms/cryptoKey:CryptoKey": CreateTime(3, "estimate: a synchronous KMS API call"),
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": CreateTime(10, "estimate: read-modify-write of the key policy"),
    # ---- AWS --------------------------------------------------------------------------------------------------
    # AWS, 2021-03: "create a new EKS cluster control plane in 9 minutes or less, on average"
    # (https://aws.amazon.com/about-aws/whats-new/2021/03/amazon-eks-reduces-cluster-creation-time-40-percent/,
    # quoted in aws-samples/eks-workshop#1101); aws/containers-roadmap#1227 reports 10-14 min since.
    "aws:eks/cluster:Cluster": CreateTime(600, "AWS what's-new 2021-03 (9 min avg); containers-roadmap#1227"),
    # umotif-public/terraform-aws-eks-node-group#7: "Creation complete after 2m50s"; eksctl-io/eksctl#482: 3m36s.
    "aws:eks/nodeGroup:NodeGroup": CreateTime(180, "terraform-aws-eks-node-group#7 (2m50s), eksctl#482 (3m36s)"),
    # vpc-cni/kube-proxy become ACTIVE once their pods are ready; coredns and the EBS CSI driver need nodes and
    # have been seen to take far longer (aws-ia/terraform-aws-eks-blueprints#642: coredns ~15 min in 2022).
    "aws:eks/addon:Addon": CreateTime(60, "estimate; slow cases in terraform-aws-eks-blueprints#642"),
    "aws:eks/accessEntry:AccessEntry": CreateTime(3, "estimate: a synchronous EKS API call"),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": CreateTime(3, "estimate: a synchronous EKS API call"),
    # kubernetes/kops#944: a NAT gateway "can take up to 10 min" to become available (up to 5 in the review);
    # hashicorp/terraform#8687 logs one still creating at 3m40s. Typical is one to two minutes.
    "aws:ec2/natGateway:NatGateway": CreateTime(100, "estimate; kops#944 (up to 5-10 min), terraform#8687"),
    # turbot/steampipe-plugin-aws#131 (terraform log): VPC 24s, subnet 7s, IAM role 7s, policy attachment 4s.
    "aws:ec2/vpc:Vpc": CreateTime(24, _TF_AWS_LOG),
    "aws:ec2/subnet:Subnet": CreateTime(7, _TF_AWS_LOG),
    "aws:iam/role:Role": CreateTime(7, _TF_AWS_LOG),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": CreateTime(4, _TF_AWS_LOG),
    "aws:iam/rolePolicy:RolePolicy": CreateTime(4, "estimate: like a policy attachment"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": CreateTime(3, "estimate: a synchronous IAM API call"),
    "aws:ec2/eip:Eip": CreateTime(3, "estimate: a synchronous EC2 API call"),
    "aws:ec2/internetGateway:InternetGateway": CreateTime(5, "estimate: create and attach"),
    "aws:ec2/routeTable:RouteTable": CreateTime(5, "estimate: a synchronous EC2 API call (with routes)"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": CreateTime(2, "estimate: a synchronous EC2 API call"),
    "aws:ec2/launchTemplate:LaunchTemplate": CreateTime(2, "estimate: a synchronous EC2 API call"),
    "aws:kms/key:Key": CreateTime(5, "estimate: a synchronous KMS API call plus rotation setting"),
    "aws:cloudwatch/logGroup:LogGroup": CreateTime(2, "estimate: a synchronous CloudWatch Logs API call"),
    "aws:ec2/flowLog:FlowLog": CreateTime(3, "estimate: a synchronous EC2 API call"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": CreateTime(3, "estimate: revoking the default rules"),
    # ---- Azure ------------------------------------------------------------------------------------------------
    # Azure announced 5-6 min AKS provisioning (kubedex 2019); the same benchmark measured 12m08s at best in 2018.
    "azure-native:containerservice:ManagedCluster": CreateTime(420, "kubedex AKS (claimed 5-6 min, measured more)"),
    "azure-native:containerservice:AgentPool": CreateTime(240, "estimate: a VM scale set that boots and joins"),
    # turbot/steampipe-plugin-azure#83 (terraform log): resource group created after 4s.
    "azure-native:resources:ResourceGroup": CreateTime(4, "steampipe-plugin-azure#83 (4s)"),
    "azure-native:network:VirtualNetwork": CreateTime(10, "estimate: an ARM long-running operation"),
    "azure-native:network:Subnet": CreateTime(10, "estimate: an ARM long-running operation"),
    "azure-native:network:PublicIPAddress": CreateTime(10, "estimate: an ARM long-running operation"),
    "azure-native:managedidentity:UserAssignedIdentity": CreateTime(5, "estimate: a synchronous ARM call"),
    "azure-native:managedidentity:FederatedIdentityCredential": CreateTime(5, "estimate: a synchronous ARM call"),
    "azure-native:authorization:RoleAssignment": CreateTime(20, "estimate: the assignment plus Entra propagation"),
    "azure-native:operationalinsights:Workspace": CreateTime(30, "estimate: an ARM long-running operation"),
    "azure-native:monitor:DiagnosticSetting": CreateTime(5, "estimate: a synchronous ARM call"),
    # ---- Computed locally by the tls provider (no cloud call; an RSA key takes a moment to generate) --------
    "tls:index/privateKey:PrivateKey": CreateTime(1, "estimate: local key generation"),
    "tls:index/selfSignedCert:SelfSignedCert": CreateTime(1, "estimate: local signing"),
    "random:index/randomPassword:RandomPassword": CreateTime(1, "estimate: local random bytes"),
    # ---- Kubernetes -------------------------------------------------------------------------------------------
    # The Release awaits every chart resource ready (pulumi_kubernetes helm.v3.Release `skip_await` docstring):
    # Argo CD's images pulled on fresh nodes and its pods Ready. The program's ceiling is HELM_TIMEOUT_SECONDS.
    "kubernetes:helm.sh/v3:Release": CreateTime(150, "estimate: image pulls and readiness of the argo-cd chart"),
    # pulumi-kubernetes awaits a Job's completion: the Git server's seed waits for Forgejo, then pushes each folder.
    "kubernetes:batch/v1:Job": CreateTime(30, "estimate: the seed Job's pushes once Forgejo answers"),
}

# The chain each cloud imposes from nothing to nodes that can run pods (issue 9: network -> cluster -> node pool),
# with the links that cloud itself requires spelled out; a stack that seeds Argo CD adds ARGOCD_TAIL.
CLOUD_CHAINS: dict[str, tuple[str, ...]] = {
    # A fresh project must enable the Compute/GKE APIs before the first network or cluster call.
    "gcp": (
        "gcp:projects/service:Service",
        "gcp:compute/network:Network",
        "gcp:compute/subnetwork:Subnetwork",
        "gcp:container/cluster:Cluster",
        "gcp:container/nodePool:NodePool",
    ),
    # The clusters are created without self-managed add-ons, so nodes only turn Ready after the VPC CNI add-on
    # (terraform-aws-eks creates it `before_compute` for the same reason); cluster DNS (CoreDNS), which Argo CD
    # and every platform service need, runs on those nodes.
    "aws": (
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:eks/cluster:Cluster",
        "aws:eks/addon:Addon",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:eks/addon:Addon",
    ),
    # AKS in a custom VNet needs its identity to hold Network Contributor on the node subnet before create.
    "azure": (
        "azure-native:resources:ResourceGroup",
        "azure-native:network:VirtualNetwork",
        "azure-native:network:Subnet",
        "azure-native:authorization:RoleAssignment",
        "azure-native:containerservice:ManagedCluster",
        "azure-native:containerservice:AgentPool",
    ),
    "existing": (),
}
ARGOCD_TAIL = ("kubernetes:helm.sh/v3:Release", "kubernetes:argoproj.io/v1alpha1:Application")
"""-> Argo CD release -> Argo CD objects."""
GIT_SERVER_LINKS = ("kubernetes:helm.sh/v3:Release", "kubernetes:batch/v1:Job")
"""-> the in-cluster Git server's release -> its seed Job: Argo CD is installed only once the repositories it reads
hold their content (`__main__.py`), so a stack that serves Git in-cluster waits for both."""


def imposed_chain(cloud: str, seeds_argocd: bool, serves_git: bool = False) -> tuple[str, ...]:
    return CLOUD_CHAINS[cloud] + (GIT_SERVER_LINKS if serves_git else ()) + (ARGOCD_TAIL if seeds_argocd else ())


def create_time(type_token: str, custom: bool) -> CreateTime:
    """The typical create time of one resource of `type_token`; components and providers cost nothing."""
    if not custom or type_token.startswith("pulumi:providers:"):
        return COMPONENT
    if type_token in TYPICAL:
        return TYPICAL[type_token]
    if type_token.startswith("kubernetes:"):
        return KUBERNETES_OBJECT
    return DEFAULT_UNKNOWN
