"""The one interface every cluster satisfies, whatever cloud it runs on.

Everything above this package (the Argo CD seed, cluster registration, ApplicationSets) consumes a `Cluster`
and its `ClusterMetadata` and never asks which cloud it is. A cloud's component fills the same outputs and
documents the empty value where the cloud lacks a feature.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.config.model import ClusterSettings, StackConfig
from components.naming import MANAGED_BY

__all__ = [
    "Cluster",
    "ClusterArgs",
    "ClusterMetadata",
    "ExecAuth",
    "exec_kubeconfig",
]


@dataclass(frozen=True)
class ClusterArgs:
    """What a cluster component needs from the stack config, and nothing else."""

    name: str
    """Cluster name, `cluster-{env}` unless configured."""
    env: str
    region: str
    """Region or Azure location; `local` for an existing cluster that has none."""
    settings: ClusterSettings
    protect: bool
    """Guard the cluster, network and node pools against deletion and replacement."""
    tags: Mapping[str, str]
    """`project`, `env` and `managed-by`, put on every cloud resource that takes labels or tags."""

    @classmethod
    def from_config(cls, config: StackConfig) -> ClusterArgs:
        return cls(
            name=config.cluster_name,
            env=config.env,
            region=config.region or "local",
            settings=config.cluster,
            protect=config.protect,
            tags={"project": "platform", "env": config.env, "managed-by": MANAGED_BY},
        )

    def resource_options(self, parent: pulumi.Resource, **kwargs: object) -> pulumi.ResourceOptions:
        """Options for a child whose loss takes the cluster down: protected, and never replaced silently."""
        return pulumi.ResourceOptions(parent=parent, protect=self.protect, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ClusterMetadata:
    """The typed facts about a cluster that become labels and annotations of its Argo CD registration.

    Strings known at plan time are plain; values a cloud returns are Outputs. Empty string means the cloud
    has no such thing (an existing cluster has no account and may have no OIDC issuer).
    """

    cloud: str
    """gcp, aws, azure or existing."""
    region: str
    env: str
    cluster_name: str
    account: pulumi.Input[str]
    """GCP project id, AWS account id or Azure subscription id; empty for an existing cluster."""
    storage_class: str
    """Default block storage class for platform services (premium-rwo, gp3, managed-csi-premium, standard)."""
    load_balancer: str
    """Load balancer flavour the ingress uses: gcp-l4, aws-nlb, azure-standard, or none."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's service-account token issuer, for workload identity; empty where there is none."""
    identities: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Cloud identities created for add-ons, keyed by add-on (e.g. `crossplane`)."""


@dataclass(frozen=True)
class ExecAuth:
    """A kubeconfig `exec` credential plugin: short-lived tokens from the cloud's CLI, never static keys."""

    command: str
    args: Sequence[str] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    install_hint: str = ""


def exec_kubeconfig(
    name: str, endpoint: pulumi.Input[str], ca_data: pulumi.Input[str], auth: ExecAuth
) -> pulumi.Output[str]:
    """A kubeconfig built only from the endpoint, the CA and an exec plugin, so it changes only when the
    cluster's identity does. A kubeconfig that a cloud recomputes on every update (a raw admin config) would
    replace the Kubernetes provider, and every resource on it, on an innocent change (pulumi-azure#467)."""

    def render(values: list[str]) -> str:
        server, ca = values
        user: dict[str, object] = {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": auth.command,
            "args": list(auth.args),
            "interactiveMode": "Never",
            "provideClusterInfo": False,
        }
        if auth.env:
            user["env"] = [{"name": k, "value": v} for k, v in sorted(auth.env.items())]
        if auth.install_hint:
            user["installHint"] = auth.install_hint
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": ca}}],
            "users": [{"name": name, "user": {"exec": user}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
        }
        return json.dumps(document, indent=2, sort_keys=True)

    return pulumi.Output.secret(pulumi.Output.all(endpoint, ca_data).apply(render))


class Cluster(pulumi.ComponentResource):
    """Base of every cluster component. Subclasses create the cloud resources, then call `_publish`."""

    cluster_name: pulumi.Output[str]
    """The cloud's name of the cluster."""
    endpoint: pulumi.Output[str]
    """HTTPS URL of the Kubernetes API."""
    ca_data: pulumi.Output[str]
    """Base64 PEM of the cluster CA."""
    kubeconfig: pulumi.Output[str]
    """A secret kubeconfig that authenticates with the cloud's short-lived credentials."""
    oidc_issuer_url: pulumi.Output[str]
    """Service-account token issuer URL; empty string where the cluster has none."""
    provider: k8s.Provider
    """The Kubernetes provider every in-cluster resource of this stack uses."""
    metadata: ClusterMetadata
    """Typed facts for the Argo CD cluster registration."""

    def _publish(
        self,
        *,
        cluster_name: pulumi.Input[str],
        endpoint: pulumi.Input[str],
        ca_data: pulumi.Input[str],
        kubeconfig: pulumi.Input[str],
        oidc_issuer_url: pulumi.Input[str],
        metadata: ClusterMetadata,
        provider: k8s.Provider | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> None:
        """Set the output contract, build the provider (unless given) and register the outputs."""
        self.cluster_name = pulumi.Output.from_input(cluster_name)
        self.endpoint = pulumi.Output.from_input(endpoint)
        self.ca_data = pulumi.Output.from_input(ca_data)
        self.kubeconfig = pulumi.Output.secret(kubeconfig)
        self.oidc_issuer_url = pulumi.Output.from_input(oidc_issuer_url)
        self.metadata = metadata
        self.provider = provider or k8s.Provider(
            f"{metadata.cluster_name}-k8s",
            k8s.ProviderArgs(kubeconfig=self.kubeconfig, enable_server_side_apply=True),
            # The provider must wait for the node pools too: Argo CD pods need somewhere to run.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "endpoint": self.endpoint,
                "caData": self.ca_data,
                "kubeconfig": self.kubeconfig,
                "oidcIssuerUrl": self.oidc_issuer_url,
            }
        )
