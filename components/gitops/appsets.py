"""The platform services as ONE ApplicationSet generated from the catalog, so the number of Pulumi resources does
not grow with services or clusters: adding a service is a catalog change inside the same object, adding a spoke
is a new cluster Secret the clusters generator picks up.

Generators: one matrix per tier, each a list of the tier's catalog services crossed with the clusters generator.
The clusters selector is templated per service (the matrix renders its second generator with the first one's
parameters, applicationset/utils RenderGeneratorParams), so a service lands only on clusters whose
`enable_<service>` label is "true"; Tier B also requires `env` to be the hub's env.

Order: one ApplicationSet (not one per tier) because RollingSync orders Applications only within an
ApplicationSet; its steps are the catalog's waves ascending, each gated on the health of the previous step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.argocd.sync import sync_policy
from components.catalog import Catalog, Service, load_catalog
from components.config.model import StackConfig
from components.gitops.registration import enable_label, version_annotation
from components.naming import ARGOCD_NAMESPACE, MANAGED_BY, PLATFORM_PROJECT, pod_security_labels

__all__ = [
    "APPSET_NAME",
    "PlatformServices",
    "PlatformServicesArgs",
    "applicationset_resource",
    "platform_services_appset",
    "rolling_sync_steps",
    "service_elements",
    "wave_label",
]

APPSET_NAME = "platform-services"
WAVE_LABEL = "wave"
NAMESPACE_TEMPLATE = '{{default (printf "' + PLATFORM_PROJECT + '-%s-%s" .metadata.labels.env .group) .namespace}}'


def wave_label(wave: int) -> str:
    """`-20` -> `w-20`: a label value must start with a letter or digit."""
    return f"w{wave}"


def _element(service: Service, catalog: Catalog) -> dict[str, str]:
    # All values are strings: Go templates print JSON numbers as float64 and list elements are untyped JSON.
    return {
        "service": service.name,
        "enableLabel": enable_label(service.name),
        "versionKey": version_annotation(service.name),
        "wave": str(service.wave),
        "repoURL": service.chart.argocd_repo_url,
        "chart": service.chart.name,
        "version": service.chart.version,
        # A shared group namespace carries the group as its semantic `service`, so every Application writing
        # its managed metadata agrees; a fixed namespace keeps the service's own name.
        "group": service.group or service.name,
        "namespace": service.namespace or "",
        # The Pod Security Standard its namespace enforces (the catalog's, the least strict of a shared group).
        "podSecurity": catalog.namespace_pod_security(service),
    }


def service_elements(catalog: Catalog, tier: str) -> list[dict[str, str]]:
    """List-generator elements of a tier, in wave order. Argo CD itself is excluded: its seed owns its Application."""
    return [_element(s, catalog) for s in catalog.by_wave() if s.tier == tier and not s.self_managed]


def rolling_sync_steps(catalog: Catalog) -> list[dict[str, Any]]:
    """One RollingSync step per wave, ascending: a step starts when every Application of the previous one is
    Healthy. An Application matched by no step would never sync, so every generated wave has a step."""
    waves = sorted({s.wave for s in catalog.services.values() if not s.self_managed})
    return [{"matchExpressions": [{"key": WAVE_LABEL, "operator": "In", "values": [wave_label(w)]}]} for w in waves]


def _matrix(elements: Sequence[Mapping[str, str]], match_labels: Mapping[str, str]) -> dict[str, Any]:
    return {
        "matrix": {
            "generators": [
                {"list": {"elements": [dict(e) for e in elements]}},
                {"clusters": {"selector": {"matchLabels": {**match_labels, "{{.enableLabel}}": "true"}}}},
            ]
        }
    }


def _template() -> dict[str, Any]:
    env = "{{.metadata.labels.env}}"
    values = "$values/{{.metadata.annotations.gitops_values_path}}"
    group_id = PLATFORM_PROJECT + "-{{.group}}"
    # No managed-by label on what the ApplicationSet controller and Argo CD create: Pulumi does not manage them.
    return {
        "metadata": {
            "name": "{{.service}}-" + env,
            "labels": {
                "project": PLATFORM_PROJECT,
                "env": env,
                "service": "{{.service}}",
                "cluster": "{{.name}}",
                WAVE_LABEL: "w{{.wave}}",
            },
        },
        "spec": {
            # Literal, never templated: a template must not choose the project that bounds its permissions.
            "project": PLATFORM_PROJECT,
            "sources": [
                {
                    "repoURL": "{{.repoURL}}",
                    "chart": "{{.chart}}",
                    # The catalog's pin unless the cluster's registration pins another version.
                    "targetRevision": "{{default .version (index .metadata.annotations .versionKey)}}",
                    "helm": {
                        "releaseName": "{{.service}}",
                        "valueFiles": [
                            values + "/_base/{{.service}}/values.yaml",
                            values + "/_cloud/{{.metadata.labels.cloud}}/{{.service}}/values.yaml",
                            values + "/{{.name}}/{{.service}}/values.yaml",
                        ],
                        # Every layer must exist (the starter repo ships them, its test checks them): a typo in a
                        # folder name must fail the sync, not silently drop a cloud's storage class.
                        "ignoreMissingValueFiles": False,
                    },
                },
                {
                    "repoURL": "{{.metadata.annotations.gitops_repo_url}}",
                    "targetRevision": "{{.metadata.annotations.gitops_revision}}",
                    "ref": "values",
                },
            ],
            "destination": {
                "server": "{{.server}}",
                # platform-{env}-{group}, unless the service has a fixed namespace (crossplane-system).
                "namespace": NAMESPACE_TEMPLATE,
            },
            # Under RollingSync the ApplicationSet controller drops `automated` from generated Applications and
            # triggers their syncs itself, keeping `automated.prune`, `retry` and `syncOptions` (Progressive-Syncs.md).
            "syncPolicy": {
                **sync_policy(),
                "managedNamespaceMetadata": {
                    "labels": {
                        "project": PLATFORM_PROJECT,
                        "env": env,
                        "service": "{{.group}}",
                        "backstage.io/component": group_id,
                        "backstage.io/kubernetes-id": group_id,
                        **pod_security_labels("{{.podSecurity}}"),
                    }
                },
            },
        },
    }


def platform_services_appset(catalog: Catalog, hub_env: str) -> dict[str, Any]:
    """The `spec` of the platform-services ApplicationSet. `hub_env`: the env of the cluster running this Argo CD
    (mgmt, or a standalone stack's own env), the only one Tier B services go to."""
    return {
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        "generators": [
            _matrix(service_elements(catalog, "A"), {}),
            _matrix(service_elements(catalog, "B"), {"env": hub_env}),
        ],
        "strategy": {
            "type": "RollingSync",
            # Teardown in reverse wave order: alloy goes before the cert-manager its TLS depends on.
            "deletionOrder": "Reverse",
            "rollingSync": {"steps": rolling_sync_steps(catalog)},
        },
        "template": _template(),
    }


@dataclass(frozen=True)
class PlatformServicesArgs:
    config: StackConfig
    catalog: Catalog | None = None
    """The service catalog; the shipped one unless given (tests pass a synthetic one)."""


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
            labels={"project": project, "app.kubernetes.io/managed-by": MANAGED_BY},
        ),
        spec=spec,
        opts=opts,
    )


class PlatformServices(pulumi.ComponentResource):
    """The platform-services ApplicationSet in the hub's `argocd` namespace."""

    appset: k8s.apiextensions.CustomResource

    def __init__(self, name: str, args: PlatformServicesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:gitops:PlatformServices", name, None, opts)
        catalog = args.catalog or load_catalog()
        self.appset = applicationset_resource(
            APPSET_NAME,
            PLATFORM_PROJECT,
            platform_services_appset(catalog, args.config.env),
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"applicationSet": APPSET_NAME})
