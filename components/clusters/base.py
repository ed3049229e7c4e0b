"""The one interface every cluster satisfies, whatever cloud it runs on.

Everything above this package (the Argo CD seed, cluster registration, ApplicationSets) consumes a `Cluster`
and its `ClusterMetadata` and never asks which cloud it is. A cloud's component fills the same outputs and
documents the empty value where the cloud lacks a feature.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config.model import ClusterSettings, StackConfig
from components.hub_contract import (  # its own leaf module; re-exported for the cluster components
    ARGOCD_K8S_AUTH,
    FEDERATED_TOKEN_AUDIENCES,
    ArgoCdClusterConfig,
    FederatedToken,
    HubIdentity,
    argocd_exec,
)
from components.naming import MANAGED_BY

__all__ = [
    "ARGOCD_K8S_AUTH",
    "FEDERATED_TOKEN_AUDIENCES",
    "ArgoCdClusterConfig",
    "Cluster",
    "ClusterArgs",
    "ClusterMetadata",
    "ExecAuth",
    "FederatedToken",
    "HubIdentity",
    "KubeAccess",
    "WorkloadIdentity",
    "argocd_exec",
    "exec_kubeconfig",
    "host_cidrs",
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
    hub_egress: tuple[str, ...] = ()
    """On a spoke, the CIDRs the hub's Argo CD leaves from (the hub document's `egressCidrs`): the API allows them
    next to the configured networks, so the hub reaches this cluster without anyone copying addresses."""

    @classmethod
    def from_config(cls, config: StackConfig, hub_egress: Sequence[str] = ()) -> ClusterArgs:
        return cls(
            name=config.cluster_name,
            env=config.env,
            region=config.region or "local",
            settings=config.cluster,
            protect=config.protect,
            tags={"project": "platform", "env": config.env, "managed-by": MANAGED_BY},
            hub_egress=tuple(hub_egress),
        )

    @property
    def api_allow_list(self) -> list[str]:
        """Who may reach the public API endpoint: the configured networks, then the hub's egress addresses, each
        once. Empty means a private endpoint. Plain strings: the hub document is read before the cluster is built,
        so a preview never sees an unknown here."""
        configured = [str(network) for network in self.settings.authorized_networks]
        return list(dict.fromkeys([*configured, *self.hub_egress]))

    @property
    def log_retention_days(self) -> int:
        """Days the control-plane, audit and flow logs are kept: a year where the environment is protected, else a
        month (Log Analytics' PerGB2018 tier keeps at least 30 days)."""
        return 365 if self.protect else 30

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

    def to_document(self) -> dict[str, Any]:
        """Plain data for the hub document: a command line, no credential."""
        return {
            "command": self.command,
            "args": list(self.args),
            "env": dict(self.env),
            "installHint": self.install_hint,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> ExecAuth:
        return cls(
            command=str(document["command"]),
            args=tuple(document.get("args") or ()),
            env=dict(document.get("env") or {}),
            install_hint=str(document.get("installHint") or ""),
        )


@dataclass(frozen=True)
class KubeAccess:
    """How a client outside the cluster (this program, CI, a spoke stack writing to the hub) reaches its API:
    the server URL, the CA to verify it with (empty where the server presents a publicly trusted certificate, as
    GKE's DNS endpoint does), and the exec plugin that gets a short-lived token. None of it is a credential."""

    server: pulumi.Output[str]
    ca_data: pulumi.Output[str]
    auth: pulumi.Output[ExecAuth] | None
    """None on an existing cluster, whose kubeconfig may hold anything, including static credentials. An Output
    because a cloud may name the tenant only at run time (AKS's kubelogin takes the Entra ID tenant)."""


def host_cidrs(addresses: Sequence[str]) -> list[str]:
    """`203.0.113.7` -> `203.0.113.7/32`: how an allow-list names one egress address."""
    return [address if "/" in address else f"{address}/32" for address in addresses]


def exec_kubeconfig(
    name: str, endpoint: pulumi.Input[str], ca_data: pulumi.Input[str], auth: ExecAuth
) -> pulumi.Output[str]:
    """A kubeconfig built only from the endpoint, the CA and an exec plugin, so it changes only when the
    cluster's identity does. A kubeconfig that a cloud recomputes on every update (a raw admin config) would
    replace the Kubernetes provider, and every resource on it, on an innocent change (pulumi-azure#467).
    An empty CA leaves verification to the system's trusted roots (GKE's DNS endpoint, which gcloud writes the
    same way: googlecloudsdk/api_lib/container/kubeconfig.py `Cluster(..., has_dns_endpoint=True)`)."""

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
            "clusters": [
                {"name": name, "cluster": {"server": server, **({"certificate-authority-data": ca} if ca else {})}}
            ],
            "users": [{"name": name, "user": {"exec": user}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
        }
        return json.dumps(document, indent=2, sort_keys=True)

    return pulumi.Output.secret(pulumi.Output.all(endpoint, ca_data).apply(render))


# ---------------------------------------------------------------------------------------------------------
# Add-ons: cloud identities for pods of the hub
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkloadIdentity:
    """A cloud identity that pods of one Kubernetes service account act as, with no key."""

    identity: pulumi.Output[str]
    """The principal: a Google service account email, an IAM role ARN, or a managed identity's client id."""
    grants: Sequence[pulumi.Resource]


class Cluster(pulumi.ComponentResource, ABC):
    """Base of every cluster component. Subclasses create the cloud resources, then call `_publish`; after that,
    `grant_argocd_access` (on a spoke) and `workload_identity` (on the hub) add what the hub and add-ons need."""

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
    egress_cidrs: pulumi.Output[list[str]]
    """The fixed public addresses the cluster's pods leave from (/32 CIDRs): what a spoke's API must admit when
    this cluster is the hub. Empty for an existing cluster, whose egress this program does not control."""
    cluster_identifier: pulumi.Output[str]
    """What identifies the cluster to its Kubernetes provider (`clusterIdentifier`): the cloud's resource id."""
    access: KubeAccess
    """Server, CA and exec plugin of `kubeconfig`, as plain data for the hub document."""

    def _publish(
        self,
        *,
        cluster_name: pulumi.Input[str],
        endpoint: pulumi.Input[str],
        ca_data: pulumi.Input[str],
        access: KubeAccess,
        oidc_issuer_url: pulumi.Input[str],
        metadata: ClusterMetadata,
        egress_cidrs: pulumi.Input[Sequence[str]],
        cluster_identifier: pulumi.Input[str],
        replace_with: Sequence[pulumi.Resource] = (),
        kubeconfig: pulumi.Input[str] | None = None,
        provider: k8s.Provider | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> None:
        """Set the output contract, build the provider (unless given) and register the outputs. The kubeconfig is
        built from `access` unless given (an existing cluster's own).

        The provider's `clusterIdentifier` (pulumi-kubernetes 4.34.2, provider/pkg/provider/provider.go DiffConfig)
        makes it replaced only when the identifier changes, never because the kubeconfig changed or went unknown
        in a preview (azure-native previews an AKS update with an unknown `fqdn`). The identifier is the cloud's
        resource id, known in every preview of an update; a cluster recreated under the same id must still take
        its provider (and every object on it) along, which `replace_with` does (pulumi 3.272.0, resource.py)."""
        self.cluster_name = pulumi.Output.from_input(cluster_name)
        self.endpoint = pulumi.Output.from_input(endpoint)
        self.ca_data = pulumi.Output.from_input(ca_data)
        self.access = access
        if kubeconfig is None:
            if access.auth is None:  # a programming error: a cloud cluster always has its exec plugin
                raise ValueError("a kubeconfig or an exec plugin is required")
            kubeconfig = access.auth.apply(
                lambda auth: exec_kubeconfig(metadata.cluster_name, access.server, access.ca_data, auth)
            )
        self.kubeconfig = pulumi.Output.secret(kubeconfig)
        self.oidc_issuer_url = pulumi.Output.from_input(oidc_issuer_url)
        self.metadata = metadata
        self.egress_cidrs = pulumi.Output.from_input(egress_cidrs).apply(lambda cidrs: host_cidrs(list(cidrs)))
        self.cluster_identifier = pulumi.Output.from_input(cluster_identifier)
        self.provider = provider or k8s.Provider(
            f"{metadata.cluster_name}-k8s",
            k8s.ProviderArgs(
                kubeconfig=self.kubeconfig,
                cluster_identifier=self.cluster_identifier,
                enable_server_side_apply=True,
            ),
            # The provider must wait for the node pools too: Argo CD pods need somewhere to run.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on), replace_with=list(replace_with)),
        )
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "endpoint": self.endpoint,
                "caData": self.ca_data,
                "kubeconfig": self.kubeconfig,
                "oidcIssuerUrl": self.oidc_issuer_url,
                "egressCidrs": self.egress_cidrs,
            }
        )

    @abstractmethod
    def grant_argocd_access(self, hub: HubIdentity) -> ArgoCdClusterConfig:
        """Let the hub's Argo CD into this cluster, keylessly where the cloud allows: trust the hub's token in this
        cluster's cloud, give that identity cluster-admin here, and say how Argo CD obtains a credential."""

    @abstractmethod
    def workload_identity(
        self, name: str, namespace: str, service_account: str, roles: Sequence[str]
    ) -> WorkloadIdentity | None:
        """A cloud identity for the pods of `namespace/service_account`, holding `roles` on this cluster's account
        (GCP project, AWS account, Azure subscription); None where the cluster has no cloud."""

    def _argocd_cluster_config(
        self, credentials: Mapping[str, Any], ca_data: pulumi.Input[str] | None = None
    ) -> pulumi.Output[dict[str, Any]]:
        """The cluster Secret's `config`: `credentials` and TLS verified against this cluster's CA."""
        tls = {"insecure": False, "caData": self.ca_data if ca_data is None else ca_data}
        return pulumi.Output.from_input({**credentials, "tlsClientConfig": tls})  # type: ignore[return-value]
