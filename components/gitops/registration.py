"""Register a cluster with Argo CD: a declarative cluster Secret whose labels select platform services and whose
annotations carry the metadata their templates read (the GitOps-bridge pattern).

Labels (selection, known when planning): `env`, `cloud`, `region`, `cluster-name`, and `enable_<service>` =
"true"/"false" for every catalog service. Annotations (values, some only known after the cloud answers):
`account`, `oidc_issuer_url`, `storage_class`, `load_balancer`, `identity_<addon>`, `server`, the GitOps repo
(`gitops_repo_url`, `gitops_revision`, `gitops_values_path`) and `version_<service>` where the stack pins
another chart version. Keys use `_`, not `-`, so Go templates reach them as `.metadata.annotations.key`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.catalog import Catalog, load_catalog
from components.clusters.base import ClusterMetadata
from components.config.model import StackConfig
from components.naming import ARGOCD_NAMESPACE, MANAGED_BY

__all__ = [
    "IN_CLUSTER_SERVER",
    "ClusterRegistration",
    "ClusterRegistrationArgs",
    "Registration",
    "cluster_registration",
    "enable_label",
    "label_safe",
    "version_annotation",
]

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
"""How Argo CD reaches the cluster it runs in (docs/operator-manual/declarative-setup.md, clusters)."""
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"


def label_safe(name: str) -> str:
    """`cert-manager` -> `cert_manager`: a key Go templates can reach with `.a.b` (a `-` would need `index`)."""
    return name.replace("-", "_")


def enable_label(service: str) -> str:
    """The cluster label that turns a platform service on (`"true"`) or off (`"false"`) for that cluster."""
    return f"enable_{label_safe(service)}"


def version_annotation(service: str) -> str:
    """The cluster annotation that pins another chart version of a service on that cluster."""
    return f"version_{label_safe(service)}"


@dataclass(frozen=True)
class Registration:
    """What Argo CD learns about one cluster."""

    labels: dict[str, str]
    annotations: pulumi.Output[dict[str, str]]


def cluster_registration(
    metadata: ClusterMetadata,
    config: StackConfig,
    *,
    server: str,
    hub: bool,
    catalog: Catalog | None = None,
) -> Registration:
    """Labels and annotations of the cluster Secret of `metadata`'s cluster, from the stack's config.

    `hub`: the cluster runs the Argo CD (the mgmt hub, or a standalone stack), so Tier B services default on.
    Tier A services default on everywhere; `config.services[name].enabled` overrides either.
    """
    catalog = catalog or load_catalog()
    labels = {
        SECRET_TYPE_LABEL: "cluster",
        "env": metadata.env,
        "cloud": metadata.cloud,
        "region": metadata.region,
        "cluster-name": metadata.cluster_name,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }
    for service in catalog.services.values():
        default = hub or not service.management_only
        labels[enable_label(service.name)] = str(config.service_enabled(service.name, default)).lower()
    plain = {
        "server": server,
        "storage_class": metadata.storage_class,
        "load_balancer": metadata.load_balancer,
        "gitops_repo_url": config.gitops.repo_url,
        "gitops_revision": config.gitops.revision,
        "gitops_values_path": config.gitops.values_path.strip("/"),
    }
    for name, override in config.services.items():
        if override.version is not None:
            plain[version_annotation(name)] = override.version
    computed: dict[str, pulumi.Input[str]] = {
        "account": metadata.account,
        "oidc_issuer_url": metadata.oidc_issuer_url,
        **{f"identity_{label_safe(addon)}": identity for addon, identity in metadata.identities.items()},
    }
    annotations = pulumi.Output.all(**computed).apply(lambda values: {**plain, **values})
    return Registration(labels=labels, annotations=annotations)


@dataclass(frozen=True)
class ClusterRegistrationArgs:
    metadata: ClusterMetadata
    config: StackConfig
    hub: bool
    """The cluster runs this Argo CD (Tier B services default on)."""
    server: str = IN_CLUSTER_SERVER
    """API server URL Argo CD uses; the in-cluster address for the hub itself."""


class ClusterRegistration(pulumi.ComponentResource):
    """A declarative Argo CD cluster Secret in the hub's `argocd` namespace.

    Only the hub's own registration exists so far: Argo CD reaches its own cluster through its service account,
    so the Secret holds no credentials (`config` only pins TLS verification on).
    """

    secret: k8s.core.v1.Secret

    def __init__(self, name: str, args: ClusterRegistrationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:gitops:ClusterRegistration", name, None, opts)
        registration = cluster_registration(args.metadata, args.config, server=args.server, hub=args.hub)
        self.secret = k8s.core.v1.Secret(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.metadata.cluster_name,
                namespace=ARGOCD_NAMESPACE,
                labels=registration.labels,
                annotations=registration.annotations,
            ),
            type="Opaque",
            string_data={
                "name": args.metadata.cluster_name,
                "server": args.server,
                "config": json.dumps({"tlsClientConfig": {"insecure": False}}),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"secretName": self.secret.metadata.apply(lambda m: m.name)})
