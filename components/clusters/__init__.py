"""Kubernetes clusters behind one interface: GKE, EKS, AKS, or an existing cluster.

`create_cluster` is the only place that knows which class serves which cloud; each cloud's module is
imported only when a stack uses it, so a GKE stack never loads the AWS or Azure SDKs.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module

import pulumi

from components.clusters.base import (
    ArgoCdClusterConfig,
    Cluster,
    ClusterArgs,
    ClusterMetadata,
    ExecAuth,
    FederatedToken,
    HubIdentity,
    KubeAccess,
    WorkloadIdentity,
    exec_kubeconfig,
    host_cidrs,
)
from components.config.model import StackConfig

__all__ = [
    "CLUSTER_CLASSES",
    "ArgoCdClusterConfig",
    "Cluster",
    "ClusterArgs",
    "ClusterMetadata",
    "ExecAuth",
    "FederatedToken",
    "HubIdentity",
    "KubeAccess",
    "WorkloadIdentity",
    "create_cluster",
    "exec_kubeconfig",
    "host_cidrs",
]

# cloud -> (module, class) of its cluster component.
CLUSTER_CLASSES: dict[str, tuple[str, str]] = {
    "existing": ("components.clusters.existing", "ExistingCluster"),
    "gcp": ("components.clusters.gke", "GkeCluster"),
    "aws": ("components.clusters.eks", "EksCluster"),
    "azure": ("components.clusters.aks", "AksCluster"),
}


def create_cluster(
    config: StackConfig, hub_egress: Sequence[str] = (), opts: pulumi.ResourceOptions | None = None
) -> Cluster:
    """The cluster of this stack, on the cloud its config names; on a spoke, its API admits `hub_egress` too."""
    module_name, class_name = CLUSTER_CLASSES[config.cloud]
    cluster_class: type[Cluster] = getattr(import_module(module_name), class_name)
    args = ClusterArgs.from_config(config, hub_egress)
    return cluster_class(args.name, args, opts)  # type: ignore[call-arg]
