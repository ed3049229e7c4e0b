"""An existing cluster reached through a kubeconfig context: kind, k3d, minikube or any real cluster."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.clusters.base import (
    ArgoCdClusterConfig,
    Cluster,
    ClusterArgs,
    ClusterMetadata,
    HubIdentity,
    KubeAccess,
)
from components.naming import part_of_argocd_labels

__all__ = ["ARGOCD_MANAGER", "ExistingCluster", "context_kubeconfig"]

ARGOCD_MANAGER = "argocd-manager"
"""The service account `argocd cluster add` would create, in the same place (kube-system)."""
_MANAGER_NAMESPACE = "kube-system"


def context_kubeconfig(path: Path, context: str) -> str:
    """The kubeconfig reduced to `context`: its cluster, its user and itself, as the `kubeconfig` output. The rest
    of the file (every other context's credentials) never reaches the stack state. Empty when the file or the
    context is absent."""
    if not path.is_file():
        return ""
    document = yaml.safe_load(path.read_text()) or {}
    contexts = [c for c in document.get("contexts") or [] if c.get("name") == context]
    if not contexts:
        return ""
    entry = contexts[0].get("context") or {}
    clusters = [c for c in document.get("clusters") or [] if c.get("name") == entry.get("cluster")]
    users = [u for u in document.get("users") or [] if u.get("name") == entry.get("user")]
    reduced = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters,
        "users": users,
        "contexts": contexts,
        "current-context": context,
    }
    return yaml.safe_dump(reduced, sort_keys=True)


def _context_facts(path: Path, context: str) -> tuple[str, str]:
    """Server URL and CA of a kubeconfig context; empty strings when the file or context is absent."""
    if not path.is_file():
        return "", ""
    document = yaml.safe_load(path.read_text()) or {}
    contexts = {c["name"]: c["context"] for c in document.get("contexts") or []}
    clusters = {c["name"]: c["cluster"] for c in document.get("clusters") or []}
    cluster = clusters.get(contexts.get(context, {}).get("cluster", ""), {})
    return cluster.get("server", ""), cluster.get("certificate-authority-data", "")


class ExistingCluster(Cluster):
    """Nothing is created in a cloud: the program adopts the cluster a kubeconfig context points at.

    Empty values of the output contract: `oidc_issuer_url` and `metadata.account` are empty, and endpoint and
    CA are empty when the kubeconfig file is not on this machine (a plan in CI); `pulumi up` then fails in the
    Kubernetes provider with its own message, before anything is created.
    """

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:clusters:ExistingCluster", name, None, opts)
        existing = args.settings.existing
        if existing is None:  # load_stack_config requires it on existing; this narrows the type
            raise ValueError("cluster.existing is required for an existing cluster")
        path = Path(existing.kubeconfig).expanduser()
        server, ca_data = _context_facts(path, existing.context)
        self._name = name
        self._kubeconfig_ca = ca_data
        if not server:
            pulumi.log.warn(
                f"kubeconfig {existing.kubeconfig} has no context '{existing.context}' on this machine; "
                "`pulumi up` needs it (`make local-cluster` creates the kind cluster of the local stack)",
                resource=self,
            )
        # The provider reads the file itself, by the path as configured, so the provider's inputs are the
        # same on every machine and a teammate's `pulumi up` does not replace it (pulumi-kubernetes#4019).
        # The context names the cluster: the identifier is the same on every machine, and only pointing the stack
        # at another context replaces the provider (pulumi-kubernetes 4.34.2 DiffConfig, `clusterIdentifier`).
        identifier = f"kubeconfig-context/{existing.context}"
        provider = k8s.Provider(
            f"{args.name}-k8s",
            k8s.ProviderArgs(
                kubeconfig=existing.kubeconfig,
                context=existing.context,
                cluster_identifier=identifier,
                enable_server_side_apply=True,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._publish(
            cluster_name=args.name,
            endpoint=server,
            ca_data=ca_data,
            access=KubeAccess(
                server=pulumi.Output.from_input(server), ca_data=pulumi.Output.from_input(ca_data), auth=None
            ),
            kubeconfig=context_kubeconfig(path, existing.context),
            oidc_issuer_url="",
            metadata=ClusterMetadata(
                cloud="existing",
                region=args.region,
                env=args.env,
                cluster_name=args.name,
                account="",
                storage_class="standard",
                load_balancer="none",
                oidc_issuer_url="",
            ),
            # Its egress is whatever the machine's network is; nothing this program could publish.
            egress_cidrs=[],
            cluster_identifier=identifier,
            provider=provider,
        )

    def grant_argocd_access(self, hub: HubIdentity) -> ArgoCdClusterConfig:
        """A service account with cluster-admin and a long-lived token for it: a cluster outside the clouds has no
        issuer the hub's identity could federate with, so this is the one static credential of the platform. The
        token lives only in Kubernetes Secrets and in Pulumi state as a secret; deleting the token Secret (or this
        stack) revokes it."""
        labels = part_of_argocd_labels()
        in_cluster = pulumi.ResourceOptions(parent=self, provider=self.provider)
        account = k8s.core.v1.ServiceAccount(
            f"{self._name}-argocd-manager",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ARGOCD_MANAGER, namespace=_MANAGER_NAMESPACE, labels=labels),
            opts=in_cluster,
        )
        binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{self._name}-argocd-manager",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ARGOCD_MANAGER, labels=labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="cluster-admin"
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=ARGOCD_MANAGER, namespace=_MANAGER_NAMESPACE)
            ],
            opts=in_cluster,
        )
        # Since Kubernetes 1.24 a service account gets no token Secret by itself; the token controller fills this one
        # in, and the provider waits for it (pulumi-kubernetes#2048).
        token = k8s.core.v1.Secret(
            f"{self._name}-argocd-manager-token",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{ARGOCD_MANAGER}-token",
                namespace=_MANAGER_NAMESPACE,
                labels=labels,
                annotations={"kubernetes.io/service-account.name": ARGOCD_MANAGER},
            ),
            type="kubernetes.io/service-account-token",
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[account]),
        )
        bearer = pulumi.Output.secret(token.data.apply(lambda data: _decoded(data, "token")))
        # The kubeconfig's CA where it has one; else the cluster CA the token controller put beside the token.
        ca_data: pulumi.Input[str] = self._kubeconfig_ca or pulumi.Output.unsecret(
            token.data.apply(lambda data: (data or {}).get("ca.crt", ""))
        )
        return ArgoCdClusterConfig(
            config=self._argocd_cluster_config({"bearerToken": bearer}, ca_data=ca_data),
            grants=[account, binding, token],
        )

    def workload_identity(self, name: str, namespace: str, service_account: str, roles: Sequence[str]) -> None:
        """None: an existing cluster has no cloud account to hold roles in."""
        return None


def _decoded(data: Mapping[str, str] | None, key: str) -> str:
    """A value of a Secret's `data`, base64-decoded; empty while the token controller has not filled it in."""
    encoded = (data or {}).get(key, "")
    return base64.b64decode(encoded).decode() if encoded else ""
