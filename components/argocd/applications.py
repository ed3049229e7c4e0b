"""The two Applications the seed creates, as pure manifests: the root app of apps, and Argo CD managing itself.

Neither carries the `resources-finalizer.argocd.argoproj.io` finalizer: deleting one of these objects (a removed
stack, a mistaken `kubectl delete`) must orphan what it deployed, never cascade into deleting Argo CD itself or
every platform service.
"""

from __future__ import annotations

from typing import Any

from components.argocd.sync import sync_policy
from components.catalog import Catalog, ChartSource
from components.cluster_secret import IN_CLUSTER_SERVER
from components.config.model import StackConfig
from components.naming import ARGOCD_NAMESPACE, PLATFORM_PROJECT, fixed_namespace_labels, semantic_labels

__all__ = [
    "ARGOCD_SERVICE",
    "RELEASE_NAME",
    "ROOT_APPLICATION",
    "application",
    "pinned_chart",
    "root_application",
    "self_application",
    "value_files",
]

ARGOCD_SERVICE = "argocd"
"""The catalog entry of Argo CD, and the name of its Application."""
RELEASE_NAME = "argocd"
"""Helm release name of the bootstrap install and of the Application's render: the same name renders the same
object names (argocd-server, ...), so Argo CD adopts the bootstrap objects instead of creating twins."""
ROOT_APPLICATION = "root"


def pinned_chart(config: StackConfig, catalog: Catalog, service: str) -> ChartSource:
    """The catalog's chart of `service`, at this stack's pinned version override if it has one."""
    chart = catalog.services[service].chart
    override = config.services.get(service)
    if override is not None and override.version is not None:
        return chart.model_copy(update={"version": override.version})
    return chart


def value_files(config: StackConfig, service: str) -> list[str]:
    """The GitOps repo's values layers of a platform service, most general first: base, cloud, cluster
    (`$values/{valuesPath}/_base/{service}/values.yaml`, then `_cloud/{cloud}/`, then `{cluster}/`)."""
    root = f"$values/{config.gitops.values_path.strip('/')}"
    return [
        f"{root}/_base/{service}/values.yaml",
        f"{root}/_cloud/{config.cloud}/{service}/values.yaml",
        f"{root}/{config.cluster_name}/{service}/values.yaml",
    ]


def application(name: str, labels: dict[str, str], spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": ARGOCD_NAMESPACE, "labels": labels},
        "spec": {**spec, "syncPolicy": sync_policy()},
    }


def root_application(config: StackConfig) -> dict[str, Any]:
    """The app of apps: every manifest under the GitOps repo's `appsPath`, recursively, into `argocd`."""
    gitops = config.gitops
    return application(
        ROOT_APPLICATION,
        semantic_labels(PLATFORM_PROJECT, config.env, ROOT_APPLICATION),
        {
            "project": PLATFORM_PROJECT,
            "source": {
                "repoURL": gitops.repo_url,
                "targetRevision": gitops.revision,
                "path": gitops.apps_path,
                "directory": {"recurse": True},
            },
            "destination": {"server": IN_CLUSTER_SERVER, "namespace": ARGOCD_NAMESPACE},
        },
    )


def self_application(config: StackConfig, chart: ChartSource, values: dict[str, Any]) -> dict[str, Any]:
    """Argo CD's own install as an Application: the bootstrap chart, version and values, then the GitOps repo's
    values layers. `valuesObject` outranks `valueFiles` (docs/user-guide/helm.md), so the keys this program
    derives from stack config stay owned by stack config; the layers add everything else."""
    gitops = config.gitops
    return application(
        ARGOCD_SERVICE,
        fixed_namespace_labels(ARGOCD_SERVICE, config.env),
        {
            "project": PLATFORM_PROJECT,
            "sources": [
                {
                    "repoURL": chart.argocd_repo_url,
                    "chart": chart.name,
                    "targetRevision": chart.version,
                    "helm": {
                        "releaseName": RELEASE_NAME,
                        "valuesObject": values,
                        "valueFiles": value_files(config, ARGOCD_SERVICE),
                        # Like the platform ApplicationSet: every layer must exist (an empty file is fine), so a
                        # misspelt folder fails the sync instead of silently dropping a layer.
                        "ignoreMissingValueFiles": False,
                    },
                },
                {"repoURL": gitops.repo_url, "targetRevision": gitops.revision, "ref": "values"},
            ],
            "destination": {"server": IN_CLUSTER_SERVER, "namespace": ARGOCD_NAMESPACE},
        },
    )
