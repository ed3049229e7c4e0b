"""Register a cluster with Argo CD: a declarative cluster Secret whose labels select platform services and whose
annotations carry the metadata their templates read (the GitOps-bridge pattern).

The keys, and what each carries, are the contract in components/cluster_secret.py; labels select, annotations
carry values, and every catalog service gets its `enable_<service>` label ("true"/"false").

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

from components import cluster_secret as contract
from components import naming
from components.catalog import Catalog
from components.cluster_secret import IN_CLUSTER_SERVER, enable_label, pod_security_label, version_annotation
from components.clusters.base import ClusterMetadata
from components.config.model import StackConfig
from components.hub_contract import ArgoCdClusterConfig, HubIdentity
from components.naming import ARGOCD_NAMESPACE, managed_by_labels
from components.secret_data import b64

__all__ = [
    "ClusterRegistration",
    "ClusterRegistrationArgs",
    "Registration",
    "SpokeConnection",
    "app_suffix",
    "cluster_registration",
]


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
        contract.SECRET_TYPE_LABEL: contract.CLUSTER_SECRET_TYPE,
        contract.ENV: metadata.env,
        contract.CLOUD: metadata.cloud,
        contract.REGION: metadata.region,
        contract.CLUSTER_NAME: metadata.cluster_name,
        contract.APP_SUFFIX: app_suffix(metadata.env, metadata.cluster_name),
        **managed_by_labels(),
    }
    enabled = config.enabled_services(catalog, hub)
    for service in catalog.services.values():
        labels[enable_label(service.name)] = str(service.name in enabled).lower()
        labels[pod_security_label(service)] = catalog.namespace_pod_security(service, enabled)
    plain = {
        contract.STORAGE_CLASS: metadata.storage_class,
        contract.LOAD_BALANCER: metadata.load_balancer,
        contract.GITOPS_REPO_URL: config.gitops.repo_url,
        contract.GITOPS_REVISION: config.gitops.revision,
        contract.GITOPS_VALUES_PATH: config.gitops.values_path.strip("/"),
    }
    for name, override in config.services.items():
        if override.version is not None:
            plain[version_annotation(name)] = override.version
    computed: dict[str, pulumi.Input[str]] = {
        contract.SERVER: server,
        contract.ACCOUNT: metadata.account,
        contract.OIDC_ISSUER_URL: metadata.oidc_issuer_url,
        **{contract.identity_annotation(addon): identity for addon, identity in metadata.identities.items()},
    }
    annotations = pulumi.Output.all(**computed).apply(lambda values: {**plain, **values})
    return Registration(labels=labels, annotations=annotations)


@dataclass(frozen=True)
class SpokeConnection:
    """How the hub's Argo CD reaches a spoke, and where the spoke's files go: one value, so a registration has all
    of it or none."""

    server: pulumi.Input[str]
    """The spoke's API server URL."""
    access: ArgoCdClusterConfig
    """What `Cluster.grant_argocd_access` returned: the credential config, the grants, the files for the hub."""
    hub: HubIdentity
    """The hub the spoke registers with."""


@dataclass(frozen=True)
class ClusterRegistrationArgs:
    metadata: ClusterMetadata
    config: StackConfig
    catalog: Catalog
    spoke: SpokeConnection | None
    """None for the cluster this Argo CD runs in (the hub, or a standalone stack): the in-cluster address, Argo CD's
    own service account, and Tier B services on by default. Else how the hub's Argo CD reaches this spoke."""
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
        spoke = args.spoke
        server = IN_CLUSTER_SERVER if spoke is None else spoke.server
        registration = cluster_registration(
            args.metadata, args.config, server=server, hub=spoke is None, catalog=args.catalog
        )
        cluster_name = args.metadata.cluster_name
        after: list[pulumi.Resource] = [*args.depends_on]
        config: pulumi.Input[dict[str, Any]] = {"tlsClientConfig": {"insecure": False}}
        if spoke is not None:
            config = spoke.access.config
            after += spoke.access.grants
            if spoke.access.hub_files:
                after.append(
                    k8s.core.v1.ConfigMapPatch(
                        f"{name}-files",
                        metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                            name=spoke.hub.files_config_map, namespace=spoke.hub.namespace
                        ),
                        # Only this spoke's keys: the patch's own field manager gives them back on delete.
                        data=dict(spoke.access.hub_files),
                        opts=pulumi.ResourceOptions(parent=self, depends_on=list(spoke.access.grants)),
                    )
                )
        data = pulumi.Output.all(pulumi.Output.from_input(server), pulumi.Output.from_input(config)).apply(
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
