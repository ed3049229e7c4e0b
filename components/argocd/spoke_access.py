"""What the hub's Argo CD pods carry so spokes on any cloud can let them in without a stored key.

One projected service-account token per cloud a spoke may run on, each with the audience that cloud's identity
federation expects (`FEDERATED_TOKEN_AUDIENCES`), and the per-spoke credential files some clouds need (a Google
external-account configuration names its pool), from one ConfigMap that each spoke stack adds its own key to.
Both go into the application controller (syncs) and the API server (logs, resource actions, the UI's live view),
the two service accounts the spokes trust. The kubelet rotates the tokens; nothing here is a secret.
"""

from __future__ import annotations

from typing import Any

from components.hub_contract import FEDERATED_TOKEN_AUDIENCES, FederatedToken

__all__ = [
    "ARGOCD_SPOKE_SERVICE_ACCOUNTS",
    "CLUSTER_FILES_CONFIG_MAP",
    "CLUSTER_FILES_DIR",
    "TOKENS_DIR",
    "federated_tokens",
    "spoke_access_values",
]

ARGOCD_SPOKE_SERVICE_ACCOUNTS = ("argocd-application-controller", "argocd-server")
"""The chart's service accounts of the two components that talk to clusters (argo-cd values.yaml defaults)."""
TOKENS_DIR = "/var/run/secrets/platform/federation"
CLUSTER_FILES_DIR = "/etc/platform/clusters"
CLUSTER_FILES_CONFIG_MAP = "argocd-cluster-files"
"""ConfigMap in the hub's `argocd` namespace: one key per spoke that needs a file (e.g. `cluster-dev.json`)."""
# The kubelet refreshes a projected token at 80% of its life; an hour is the shortest most clouds accept.
TOKEN_SECONDS = 3600
_TOKENS_VOLUME = "platform-federation-tokens"
_FILES_VOLUME = "platform-cluster-files"
_COMPONENTS = ("controller", "server")


def federated_tokens() -> dict[str, FederatedToken]:
    """Per spoke cloud, the token the hub's Argo CD presents and where it finds it."""
    return {
        cloud: FederatedToken(audience=audience, path=f"{TOKENS_DIR}/{cloud}/token")
        for cloud, audience in sorted(FEDERATED_TOKEN_AUDIENCES.items())
    }


def spoke_access_values() -> dict[str, Any]:
    """Chart values adding the token volume and the cluster-files volume to the controller and the server."""
    tokens = federated_tokens()
    volumes = [
        {
            "name": _TOKENS_VOLUME,
            "projected": {
                "sources": [
                    {
                        "serviceAccountToken": {
                            "audience": token.audience,
                            "expirationSeconds": TOKEN_SECONDS,
                            "path": token.path.removeprefix(f"{TOKENS_DIR}/"),
                        }
                    }
                    for token in tokens.values()
                ]
            },
        },
        # Optional: the ConfigMap may be empty or, for a moment at install, absent; the kubelet picks up new keys.
        {"name": _FILES_VOLUME, "configMap": {"name": CLUSTER_FILES_CONFIG_MAP, "optional": True}},
    ]
    mounts = [
        {"name": _TOKENS_VOLUME, "mountPath": TOKENS_DIR, "readOnly": True},
        {"name": _FILES_VOLUME, "mountPath": CLUSTER_FILES_DIR, "readOnly": True},
    ]
    return {component: {"volumes": volumes, "volumeMounts": mounts} for component in _COMPONENTS}
