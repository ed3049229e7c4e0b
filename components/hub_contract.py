"""The hub-spoke contract: what the hub's Argo CD presents to a spoke's cloud, and what a spoke hands back.

A leaf module (it imports no other package of components/): the cluster components fill it in, the Argo CD seed
(components/argocd/) and the registration read it, and neither side imports the other for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

__all__ = [
    "ARGOCD_K8S_AUTH",
    "FEDERATED_TOKEN_AUDIENCES",
    "ArgoCdClusterConfig",
    "FederatedToken",
    "HubIdentity",
    "argocd_exec",
]


FEDERATED_TOKEN_AUDIENCES: Mapping[str, str] = {
    # The audience STS AssumeRoleWithWebIdentity expects (IRSA's own).
    "aws": "sts.amazonaws.com",
    # The audience Entra ID expects of a federated credential's token (workload identity's default).
    "azure": "api://AzureADTokenExchange",
    # Any string a Workload Identity Federation provider lists in `allowedAudiences`; this one names the exchange.
    "gcp": "sts.googleapis.com",
}
"""Audience of the token the hub's Argo CD presents to each cloud a spoke may run on. The hub mounts one
projected service-account token per entry, so a spoke on any cloud can trust it without a stored key."""
ARGOCD_K8S_AUTH = "argocd-k8s-auth"
"""The credential plugin shipped in the Argo CD image (cmd/argocd-k8s-auth: `aws`, `gcp`, `azure`)."""


@dataclass(frozen=True)
class FederatedToken:
    """A projected service-account token the hub's Argo CD pods carry for one cloud."""

    audience: str
    path: str
    """File path inside the application controller and server containers."""


@dataclass(frozen=True)
class HubIdentity:
    """Who the hub's Argo CD is, as a spoke's cloud must trust it: the hub stack's `hub` output, typed."""

    cluster_name: str
    cloud: str
    account: str
    oidc_issuer_url: str
    """The hub cluster's service-account token issuer; empty when it has none (an existing cluster)."""
    namespace: str
    service_accounts: tuple[str, ...]
    """The Argo CD service accounts that talk to spokes (application controller, API server)."""
    tokens: Mapping[str, FederatedToken]
    """Per spoke cloud, the token the hub presents."""
    files_dir: str
    """Directory in the hub's Argo CD pods where per-spoke credential files (not secrets) appear."""
    files_config_map: str
    """The ConfigMap in `namespace` behind `files_dir`: a spoke adds its files there as keys."""
    egress_cidrs: tuple[str, ...]
    """The fixed addresses the hub's pods (Argo CD) leave from, as /32 CIDRs; empty for an existing cluster."""
    cluster_identifier: str
    """The hub cluster's cloud resource id: the `clusterIdentifier` of the spoke's provider for the hub."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig of the hub cluster, for the spoke to write its cluster Secret there (a Pulumi secret)."""

    @property
    def subjects(self) -> list[str]:
        """The `sub` claims of the hub's tokens: `system:serviceaccount:{namespace}:{name}`."""
        return [f"system:serviceaccount:{self.namespace}:{account}" for account in self.service_accounts]

    def federated_token(self, cloud: str) -> FederatedToken:
        """The token the hub presents to `cloud`; fails when the hub cannot be trusted keylessly."""
        if not self.oidc_issuer_url:
            raise pulumi.RunError(
                f"platform:topology.hubStack: the hub cluster {self.cluster_name} has no public OIDC issuer, so a "
                f"{cloud} spoke cannot trust its Argo CD without a stored key; run the hub on GKE, EKS or AKS"
            )
        token = self.tokens.get(cloud)
        if token is None:
            raise pulumi.RunError(
                f"platform:topology.hubStack: the hub's Argo CD mounts no token for {cloud}; run `pulumi up` on the "
                "hub stack with this version of the program first"
            )
        return token


@dataclass(frozen=True)
class ArgoCdClusterConfig:
    """What the hub's Argo CD needs to reach a spoke, and what grants it.

    `config` is the `config` field of the Argo CD cluster Secret (docs/operator-manual/declarative-setup.md,
    Clusters): credentials plus `tlsClientConfig` with TLS verification on. It is a Pulumi secret where it holds a
    credential. `grants` are the resources in the spoke's cloud that let the hub in; the registration depends on
    them, so `pulumi destroy` removes the registration before the access. `hub_files` are files (not secrets) the
    hub's Argo CD must be able to read, by file name: they land in the hub's credentials directory.
    """

    config: pulumi.Output[dict[str, Any]]
    grants: Sequence[pulumi.Resource]
    hub_files: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


def argocd_exec(args: Sequence[str], env: Mapping[str, pulumi.Input[str]]) -> dict[str, Any]:
    """`execProviderConfig` running argocd-k8s-auth: Argo CD passes `env` on top of its own environment."""
    return {
        "execProviderConfig": {
            "command": ARGOCD_K8S_AUTH,
            "args": list(args),
            "env": dict(env),
            "apiVersion": "client.authentication.k8s.io/v1beta1",
        }
    }
