"""An existing cluster reached through a kubeconfig context: kind, k3d, minikube or any real cluster."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.clusters.base import Cluster, ClusterArgs, ClusterMetadata

__all__ = ["ExistingCluster"]


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
        if existing is None:  # guarded by config validation; kept for the type checker
            raise ValueError("cluster.existing is required for an existing cluster")
        path = Path(existing.kubeconfig).expanduser()
        server, ca_data = _context_facts(path, existing.context)
        if not server:
            pulumi.log.warn(
                f"kubeconfig {existing.kubeconfig} has no context '{existing.context}' on this machine; "
                "`pulumi up` needs it (see README: the local cluster)",
                resource=self,
            )
        # The provider reads the file itself, by the path as configured, so the provider's inputs are the
        # same on every machine and a teammate's `pulumi up` does not replace it (pulumi-kubernetes#4019).
        provider = k8s.Provider(
            f"{args.name}-k8s",
            k8s.ProviderArgs(kubeconfig=existing.kubeconfig, context=existing.context, enable_server_side_apply=True),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._publish(
            cluster_name=args.name,
            endpoint=server,
            ca_data=ca_data,
            kubeconfig=path.read_text() if path.is_file() else "",
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
            provider=provider,
        )
