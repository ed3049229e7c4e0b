"""Register a cluster with Argo CD: a declarative cluster Secret whose labels select platform services and whose
annotations carry the metadata their templates read (the GitOps-bridge pattern).

Labels (selection, known when planning): `env`, `cloud`, `region`, `cluster-name`, `app_suffix` (see
`app_suffix`), and `enable_<service>` = "true"/"false" for every catalog service. Annotations (values, some
only known after the cloud answers): `account`, `oidc_issuer_url`, `storage_class`, `load_balancer`,
`identity_<addon>`, `server`, the GitOps repo (`gitops_repo_url`, `gitops_revision`, `gitops_values_path`) and
`version_<service>` where the stack pins another chart version. Keys use `_`, not `-`, so Go templates reach
them as `.metadata.annotations.key`.

The hub registers its own cluster (in-cluster address, no credential); each spoke stack registers its cluster in
the hub's `argocd` namespace, with the credentials `Cluster.grant_argocd_access` returns (see `hub` for how the
two stacks meet and how teardown is ordered).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import naming
from components.catalog import Catalog, Service
from components.clusters.base import ClusterMetadata
from components.config.model import StackConfig
from components.hub_contract import ArgoCdClusterConfig, HubIdentity
from components.naming import ARGOCD_NAMESPACE, MANAGED_BY
from components.secret_data import b64

__all__ = [
    "APP_SUFFIX_LABEL",
    "IN_CLUSTER_SERVER",
    "ClusterRegistration",
    "ClusterRegistrationArgs",
    "Registration",
    "app_suffix",
    "cluster_registration",
    "enable_label",
    "label_safe",
    "pod_security_label",
    "version_annotation",
]

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
"""How Argo CD reaches the cluster it runs in (docs/operator-manual/declarative-setup.md, clusters)."""
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
APP_SUFFIX_LABEL = "app_suffix"
"""Cluster label the platform Applications of that cluster are named with: `{service}-{app_suffix}`."""


def label_safe(name: str) -> str:
    """`cert-manager` -> `cert_manager`: a key Go templates can reach with `.a.b` (a `-` would need `index`)."""
    return name.replace("-", "_")


def enable_label(service: str) -> str:
    """The cluster label that turns a platform service on (`"true"`) or off (`"false"`) for that cluster."""
    return f"enable_{label_safe(service)}"


def pod_security_label(service: Service) -> str:
    """The cluster label holding the Pod Security level of `service`'s namespace on that cluster (the group's, for
    a shared namespace): only the services enabled there count (`Catalog.namespace_pod_security`)."""
    return f"pod_security_{label_safe(service.group or service.name)}"


def version_annotation(service: str) -> str:
    """The cluster annotation that pins another chart version of a service on that cluster."""
    return f"version_{label_safe(service)}"


def app_suffix(env: str, cluster_name: str) -> str:
    """What a cluster's platform Application names end with, unique per cluster of one Argo CD.

    The cluster of an env under its default name `cluster-{env}` keeps the semantic `{service}-{env}`. Any other
    cluster (a second cluster of an env must be given its own name, `cluster.name`) ends with its whole name:
    `kong-cluster-dev-eu`. Cluster names are unique among one Argo CD's cluster Secrets, and a whole cluster name
    never equals an env, so two clusters never share a suffix.
    """
    return env if cluster_name == naming.cluster_name(env) else cluster_name


@dataclass(frozen=True)
class Registration:
    """What Argo CD learns about one cluster."""

    labels: dict[str, str]
    annotations: pulumi.Output[dict[str, str]]


def cluster_registration(
    metadata: ClusterMetadata,
    config: StackConfig,
    *,
    server: pulumi.Input[str],
    hub: bool,
    catalog: Catalog,
) -> Registration:
    """Labels and annotations of the cluster Secret of `metadata`'s cluster, from the stack's config.

    `hub`: the cluster runs the Argo CD (the mgmt hub, or a standalone stack), so Tier B services default on.
    Tier A services default on everywhere; `config.services[name].enabled` overrides either.
    """
    labels = {
        SECRET_TYPE_LABEL: "cluster",
        "env": metadata.env,
        "cloud": metadata.cloud,
        "region": metadata.region,
        "cluster-name": metadata.cluster_name,
        APP_SUFFIX_LABEL: app_suffix(metadata.env, metadata.cluster_name),
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }
    enabled = config.enabled_services(catalog, hub)
    for service in catalog.services.values():
        labels[enable_label(service.name)] = str(service.name in enabled).lower()
        labels[pod_security_label(service)] = catalog.namespace_pod_security(service, enabled)
    plain = {
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
        "server": server,
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
    catalog: Catalog
    hub: bool
    """The cluster runs this Argo CD (Tier B services default on)."""
    server: pulumi.Input[str] = IN_CLUSTER_SERVER
    """API server URL Argo CD uses; the in-cluster address for the hub itself."""
    access: ArgoCdClusterConfig | None = None
    """How the hub's Argo CD gets in (a spoke); None for the cluster Argo CD runs in (its own service account)."""
    spoke_of: HubIdentity | None = None
    """The hub a spoke registers with: where its credential files go."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist for as long as the registration does (the cluster, the sealing key): the registration is
    created after them and, on `pulumi destroy`, deleted before them. The access grants are added to it."""


def _secret_data(name: str, server: str, config: dict[str, Any]) -> dict[str, str]:
    # `data`, not `stringData`, which server-side apply keeps diffing (pulumi-kubernetes#2507).
    return {"name": b64(name), "server": b64(server), "config": b64(json.dumps(config, sort_keys=True))}


class ClusterRegistration(pulumi.ComponentResource):
    """A declarative Argo CD cluster Secret in the hub's `argocd` namespace (provider from `opts`).

    The hub's own registration holds no credential: Argo CD reaches its own cluster through its service account,
    and `config` only pins TLS verification on. A spoke's holds what `Cluster.grant_argocd_access` returned: a
    keyless exec plugin on the clouds, a bearer token on an existing cluster, with the spoke's CA; its whole `data`
    is a Pulumi secret, and the provider applies it server-side, so no last-applied annotation copies it
    (CVE-2023-40029). Files the hub needs for the spoke are patched into the hub's cluster-files ConfigMap.
    """

    secret: k8s.core.v1.Secret

    def __init__(self, name: str, args: ClusterRegistrationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:gitops:ClusterRegistration", name, None, opts)
        registration = cluster_registration(
            args.metadata, args.config, server=args.server, hub=args.hub, catalog=args.catalog
        )
        cluster_name = args.metadata.cluster_name
        after: list[pulumi.Resource] = [*args.depends_on]
        config: pulumi.Input[dict[str, Any]] = {"tlsClientConfig": {"insecure": False}}
        if args.access is not None:
            config = args.access.config
            after += args.access.grants
            if args.access.hub_files:
                if args.spoke_of is None:
                    raise ValueError("a registration with hub files needs the hub it registers with (spoke_of)")
                after.append(
                    k8s.core.v1.ConfigMapPatch(
                        f"{name}-files",
                        metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                            name=args.spoke_of.files_config_map, namespace=args.spoke_of.namespace
                        ),
                        # Only this spoke's keys: the patch's own field manager gives them back on delete.
                        data=dict(args.access.hub_files),
                        opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.access.grants)),
                    )
                )
        data = pulumi.Output.all(pulumi.Output.from_input(args.server), pulumi.Output.from_input(config)).apply(
            lambda values: _secret_data(cluster_name, values[0], values[1])
        )
        self.secret = k8s.core.v1.Secret(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=cluster_name,
                namespace=ARGOCD_NAMESPACE,
                labels=registration.labels,
                annotations=registration.annotations,
            ),
            type="Opaque",
            data=pulumi.Output.secret(data),
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )
        self.register_outputs({"secretName": self.secret.metadata.apply(lambda m: m.name)})
