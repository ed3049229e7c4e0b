"""Production resources are protected: in staging, prod and the mgmt hub (`PROTECTED_ENVS`), every cluster, node
pool, network, KMS key and the argocd Namespace carries `protect=True`, so no deployment can delete or replace them
(Pulumi "Protecting against undesired changes"; `pulumi state protect` alone is undone by the next `up` unless the
program sets it)."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import PROTECTED_ENVS, envs_of, get

__all__ = ["PROTECTED_TYPES", "production_protected"]

PROTECTED_TYPES = frozenset(
    {
        "gcp:container/cluster:Cluster",
        "gcp:container/nodePool:NodePool",
        "gcp:compute/network:Network",
        "gcp:compute/subnetwork:Subnetwork",
        "gcp:kms/cryptoKey:CryptoKey",
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:kms/key:Key",
        "azure-native:containerservice:ManagedCluster",
        "azure-native:containerservice:AgentPool",
        "azure-native:network:VirtualNetwork",
        "azure-native:network:Subnet",
        # The fixed egress addresses every spoke's API admits.
        "gcp:compute/address:Address",
        "aws:ec2/eip:Eip",
        "azure-native:network:PublicIPAddress",
        # The Sealed Secrets sealing key: a new one leaves every SealedSecret already in Git undecryptable.
        "tls:index/privateKey:PrivateKey",
    }
)
# The seed creates `argocd` as a NamespacePatch (a kept cluster may still have it); either kind is protected.
NAMESPACES = ("kubernetes:core/v1:Namespace", "kubernetes:core/v1:NamespacePatch")
ARGOCD_NAMESPACE = "argocd"


def _must_be_protected(resource_type: str, props: object) -> bool:
    if resource_type in PROTECTED_TYPES:
        return True
    return resource_type in NAMESPACES and get(props, "metadata.name") == ARGOCD_NAMESPACE


def validate_protected(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    if not args.resources:
        return
    envs = envs_of(args.resources[0].urn)
    protected = sorted(envs & PROTECTED_ENVS)
    if not protected:
        args.not_applicable(f"{', '.join(sorted(envs))} is not a protected environment; its resources may be torn down")
    env = protected[0]
    for resource in args.resources:
        if _must_be_protected(resource.resource_type, resource.props) and not resource.opts.protect:
            report_violation(f"{resource.resource_type} {resource.name} must have protect=True in {env}", resource.urn)


production_protected = StackValidationPolicy(
    name="production-protected",
    description=(
        "In staging, prod and mgmt, clusters, node pools, networks, KMS keys, the sealing key and the argocd Namespace "
        "are protected."
    ),
    validate=validate_protected,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Create the resource with ClusterArgs.resource_options(...) (protect=config.protect).",
)
