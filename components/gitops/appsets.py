"""The platform services as ONE ApplicationSet that generates one parent Application per registered cluster; each
parent holds that cluster's platform Applications, ordered by `argocd.argoproj.io/sync-wave`.

Why a parent per cluster (docs/ordering.md has the whole decision): a sync of one Application applies its
resources wave by wave and starts a wave only when every resource of the earlier waves is Healthy
(docs/user-guide/sync-waves.md, Argo CD v3.4.7). With the health of `argoproj.io/Application` restored in argocd-cm
(components/argocd/values.py), the parent's sync waits for each wave of child Applications to be Healthy. The
parent of one cluster knows nothing of the others, so an unhealthy service holds only its own cluster, and every
child keeps `automated` with prune and selfHeal (RollingSync would switch them off).

The children are rendered here, from the catalog, into the parent's `helm.valuesObject`; the ApplicationSet
templates their strings per cluster (applicationset/utils/utils.go renders inside RawExtension fields too). The
chart `charts/platform-waves` of the platform GitOps repository (shipped in `starters/platform-gitops/`) prints only
the entries whose `enabled` equals `when`: `when` is "true" for Tier A, and "{hub env}/true" for Tier B, whose
`enabled` also carries the cluster's env, so Tier B lands only on the hub's cluster.

The number of Pulumi resources does not grow with services or clusters: a service is a catalog entry inside this
object, a spoke is a cluster Secret the clusters generator picks up, and gets its parent from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.argocd.sync import RESPECT_IGNORE_DIFFERENCES, sync_policy
from components.catalog import Catalog, PodSecurityLevel, Service
from components.cluster_secret import (
    APP_SUFFIX,
    CLOUD,
    ENV,
    GITOPS_REPO_URL,
    GITOPS_REVISION,
    GITOPS_VALUES_PATH,
    IN_CLUSTER_SERVER,
    NAME_PARAM,
    SERVER_PARAM,
    annotation,
    enable_label,
    label,
    label_expr,
    optional_annotation_expr,
    optional_label_expr,
    pod_security_label,
    version_annotation,
)
from components.config.model import StackConfig
from components.naming import (
    APPLICATION_CLUSTER_LABEL,
    ARGOCD_NAMESPACE,
    ENV_LABEL,
    PLATFORM_PROJECT,
    PROJECT_LABEL,
    SERVICE_LABEL,
    backstage_component,
    managed_by_labels,
    pod_security_labels,
    semantic_labels_of,
)

__all__ = [
    "APPSET_NAME",
    "ORDER_CHART_PATH",
    "PARENT_PREFIX",
    "PARENT_RETRY_LIMIT",
    "RESOURCES_FINALIZER",
    "WAVE_ANNOTATION",
    "WAVE_LABEL",
    "PlatformServices",
    "PlatformServicesArgs",
    "application_labels",
    "applicationset_resource",
    "child_application",
    "namespace_pod_security_template",
    "ordered_services",
    "platform_services_appset",
    "wave_label",
]

APPSET_NAME = "platform-services"
PARENT_PREFIX = "platform-"
"""A cluster's parent Application is `platform-{cluster name}`."""
PARENT_RETRY_LIMIT = -1
"""A parent retries its failed sync without end, so a wave held by a Degraded child resumes when the child heals."""
ORDER_CHART_PATH = "charts/platform-waves"
"""The chart in the platform GitOps repository printing a parent's children (starters/platform-gitops has one)."""
WAVE_LABEL = "wave"
WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
"""Deleting an Application with it deletes its resources first (docs/user-guide/app_deletion.md)."""


def wave_label(wave: int) -> str:
    """`-20` -> `w-20`: a label value must start with a letter or digit."""
    return f"w{wave}"


def application_labels(project: str, env: str, service: str, cluster: str) -> dict[str, str]:
    """The labels of a generated Application: its semantic key and the cluster it deploys to (the plan's rows and
    the notifications read them). No managed-by label: Pulumi does not manage what Argo CD creates."""
    return {
        PROJECT_LABEL: project,
        ENV_LABEL: env,
        SERVICE_LABEL: service,
        APPLICATION_CLUSTER_LABEL: cluster,
    }


def ordered_services(catalog: Catalog) -> list[Service]:
    """The services a parent holds, in wave order. Argo CD itself is excluded: its seed owns its Application."""
    return [s for s in catalog.by_wave() if not s.self_managed]


def _namespace(service: Service) -> str:
    # platform-{env}-{group}, resolved per cluster; a fixed namespace (crossplane-system) is literal.
    if service.namespace is not None:
        return service.namespace
    return '{{printf "' + PLATFORM_PROJECT + "-%s-" + str(service.group) + '" ' + label_expr(ENV) + "}}"


def child_application(service: Service, pod_security: PodSecurityLevel | str | None = None) -> dict[str, Any]:
    """The Application of one service on one cluster, with the cluster's values left as Go templates for the
    ApplicationSet to fill in (`.name`, `.server`, `.metadata.labels.*`, `.metadata.annotations.*`).
    `pod_security`: the Pod Security Standard its namespace enforces, or a template that picks it per cluster
    (`namespace_pod_security_template`); the service's own level if not given."""
    env = label(ENV)
    values = "$values/" + annotation(GITOPS_VALUES_PATH)
    # A shared group namespace carries the group as its semantic `service`, so every Application writing its
    # managed metadata agrees; a fixed namespace keeps the service's own name.
    group = service.group or service.name
    policy = sync_policy()
    if service.ignore_differences:
        # A later sync keeps the live value of an ignored field instead of writing Git's back over it.
        policy["syncOptions"].append(RESPECT_IGNORE_DIFFERENCES)
    policy["managedNamespaceMetadata"] = {
        "labels": {
            **semantic_labels_of(PLATFORM_PROJECT, env, group, backstage_component(PLATFORM_PROJECT, group)),
            **pod_security_labels(pod_security or service.pod_security_level),
        }
    }
    spec: dict[str, Any] = {
        # Literal, never templated: a template must not choose the project that bounds its permissions.
        "project": PLATFORM_PROJECT,
        "sources": [
            {
                "repoURL": service.chart.argocd_repo_url,
                "chart": service.chart.name,
                # The catalog's pin unless the cluster's registration pins another version.
                "targetRevision": '{{default "'
                + service.chart.version
                + '" '
                + optional_annotation_expr(version_annotation(service.name))
                + "}}",
                "helm": {
                    "releaseName": service.name,
                    "valueFiles": [
                        f"{values}/_base/{service.name}/values.yaml",
                        f"{values}/_cloud/{label(CLOUD)}/{service.name}/values.yaml",
                        f"{values}/{NAME_PARAM}/{service.name}/values.yaml",
                    ],
                    # Every layer must exist (the starter repo ships them, its test checks them): a typo in a
                    # folder name must fail the sync, not silently drop a cloud's storage class.
                    "ignoreMissingValueFiles": False,
                },
            },
            {"repoURL": annotation(GITOPS_REPO_URL), "targetRevision": annotation(GITOPS_REVISION), "ref": "values"},
        ],
        "destination": {"server": SERVER_PARAM, "namespace": _namespace(service)},
        "syncPolicy": policy,
    }
    if service.ignore_differences:
        spec["ignoreDifferences"] = [d.to_argocd(_namespace(service)) for d in service.ignore_differences]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            # A cluster registered before `app_suffix` existed keeps the env: the names it always had.
            "name": service.name + "-{{default " + label_expr(ENV) + " " + optional_label_expr(APP_SUFFIX) + "}}",
            "namespace": ARGOCD_NAMESPACE,
            "labels": {
                **application_labels(PLATFORM_PROJECT, env, service.name, NAME_PARAM),
                WAVE_LABEL: wave_label(service.wave),
            },
            # The parent applies a wave only once every Application of the waves before it is Healthy.
            "annotations": {WAVE_ANNOTATION: str(service.wave)},
            # No cascading finalizer: deleting a child leaves its workloads, as the ApplicationSet's Applications
            # did before, so a hub's destroy never waits on Argo CD deleting every platform service first.
        },
        "spec": spec,
    }


def _enabled(service: Service) -> str:
    # `index` with a default: a cluster registered before the service was catalogued has no label for it.
    enabled = '{{default "false" ' + optional_label_expr(enable_label(service.name)) + "}}"
    return enabled if not service.management_only else f"{label(ENV)}/{enabled}"


def namespace_pod_security_template(service: Service, catalog: Catalog) -> str:
    """The level of `service`'s namespace on the cluster being templated: its registration's label, computed from
    the services enabled there; a cluster registered before that label existed gets the level counting every
    catalogued service, which is never stricter than what its services need."""
    level = optional_label_expr(pod_security_label(service))
    return '{{default "' + catalog.namespace_pod_security(service) + '" ' + level + "}}"


def _entry(service: Service, hub_env: str, catalog: Catalog) -> dict[str, Any]:
    return {
        "service": service.name,
        "enabled": _enabled(service),
        "when": "true" if not service.management_only else f"{hub_env}/true",
        "application": child_application(service, namespace_pod_security_template(service, catalog)),
    }


def _parent_template(catalog: Catalog, hub_env: str) -> dict[str, Any]:
    cluster = NAME_PARAM
    return {
        "metadata": {
            "name": PARENT_PREFIX + cluster,
            "labels": application_labels(PLATFORM_PROJECT, label(ENV), APPSET_NAME, cluster),
            # Deleting a cluster's parent (its cluster Secret is gone) deletes its child Applications, none left
            # pointing at a cluster that no longer exists; they hold no finalizer, so this takes seconds.
            "finalizers": [RESOURCES_FINALIZER],
        },
        "spec": {
            "project": PLATFORM_PROJECT,
            "source": {
                "repoURL": annotation(GITOPS_REPO_URL),
                "targetRevision": annotation(GITOPS_REVISION),
                "path": ORDER_CHART_PATH,
                "helm": {
                    "releaseName": APPSET_NAME,
                    "valuesObject": {"applications": [_entry(s, hub_env, catalog) for s in ordered_services(catalog)]},
                },
            },
            # The children are Applications: they live beside Argo CD on the hub, whatever cluster they target.
            "destination": {"server": IN_CLUSTER_SERVER, "namespace": ARGOCD_NAMESPACE},
            "syncPolicy": _parent_sync_policy(),
        },
    }


def _parent_sync_policy() -> dict[str, Any]:
    # A Degraded child fails the parent's sync (gitops-engine/pkg/sync/sync_context.go:548, v3.4.7), and once the
    # retries are spent auto-sync never retries the same revision (controller/appcontroller.go:2300), so the later
    # waves would wait for the next commit. A negative limit retries without end (appcontroller.go:1579; "unlimited
    # number of attempts if less than 0", docs/operator-manual/application.yaml): the operation stays Running, at
    # most 3m apart, on-sync-stuck fires, and the wave goes on once the child is Healthy again.
    policy = sync_policy()
    policy["retry"]["limit"] = PARENT_RETRY_LIMIT
    return policy


def platform_services_appset(catalog: Catalog, hub_env: str) -> dict[str, Any]:
    """The `spec` of the platform-services ApplicationSet. `hub_env`: the env of the cluster running this Argo CD
    (mgmt, or a standalone stack's own env), the only one Tier B services go to."""
    return {
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        # Every cluster this program registered (they carry `env`; Argo CD's implicit in-cluster entry has no
        # labels). What runs there is decided per service by its enable label.
        "generators": [{"clusters": {"selector": {"matchExpressions": [{"key": ENV, "operator": "Exists"}]}}}],
        "template": _parent_template(catalog, hub_env),
    }


@dataclass(frozen=True)
class PlatformServicesArgs:
    config: StackConfig
    catalog: Catalog


def applicationset_resource(
    name: str, project: str, spec: dict[str, Any], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """An ApplicationSet in the hub's `argocd` namespace, labelled with the Argo CD project it generates into."""
    return k8s.apiextensions.CustomResource(
        name,
        api_version="argoproj.io/v1alpha1",
        kind="ApplicationSet",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name,
            namespace=ARGOCD_NAMESPACE,
            labels={"project": project, **managed_by_labels()},
        ),
        spec=spec,
        opts=opts,
    )


class PlatformServices(pulumi.ComponentResource):
    """The platform-services ApplicationSet in the hub's `argocd` namespace."""

    appset: k8s.apiextensions.CustomResource

    def __init__(self, name: str, args: PlatformServicesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:gitops:PlatformServices", name, None, opts)
        self.appset = applicationset_resource(
            APPSET_NAME,
            PLATFORM_PROJECT,
            platform_services_appset(args.catalog, args.config.env),
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"applicationSet": APPSET_NAME})
