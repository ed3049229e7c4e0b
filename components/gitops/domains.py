"""Domain flows: what a domain team's `{domain}-gitops` repository deploys, read by Argo CD with no `pulumi up`.

Per domain, on the hub, two ApplicationSets (so Pulumi's resource count grows with domains only):

`{domain}-services`: a git directory generator over `k8s/{env}/{service}/` (one directory pattern per environment
the domain's AppProject allows), crossed with the clusters generator whose selector takes `env` from the path's
second segment (`index .path.segments 1`, Generators-Git.md). Each directory becomes Application
`{domain}-{service}-{env}` on the cluster of that env, in namespace `{domain}-{env}-{service}`. The component is
the Backstage component id `{domain}-{service}` (naming.backstage_component): derived from the path alone, and
unique across domains, where a bare `{service}-{env}` would collide between two domains' `api`.

`{domain}-crossplane-claims`: a git directory generator over `crossplane/claims/{env}/`; one Application per env,
`{domain}-infra-{env}`, syncs every claim under it (recursively, so `{type}-{name}.yaml` files and `{type}/`
folders both work) to the hub itself, where Crossplane runs, into `{domain}-{env}-infra`, where the connection
secrets land. `infra` is therefore reserved: `k8s/{env}/infra` is excluded from the services generator.

Both ApplicationSets name their project literally (never templated: a template must not choose the project that
bounds its permissions, applicationset/Security.md), use Go templates with `missingkey=error`, and give every
namespace the semantic labels through managed namespace metadata.

Deleting is where the two differ. Services use the shared sync policy: a removed folder removes its service.
Claims stand for cloud resources with data, so nothing deletes them implicitly: their Applications do not prune
(a claim removed from Git shows OutOfSync until someone prunes it on purpose), and the ApplicationSet preserves
resources on deletion (removing the domain, or the ApplicationSet, never cascades into Crossplane deleting a
database; Application-Deletion.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.argocd.projects import domain_envs
from components.argocd.sync import sync_policy
from components.cluster_secret import ENV, IN_CLUSTER_SERVER, NAME_PARAM, SERVER_PARAM
from components.config.model import Domain, StackConfig
from components.gitops.appsets import application_labels, applicationset_resource
from components.naming import DOMAIN_POD_SECURITY, pod_security_labels, semantic_labels_of

__all__ = [
    "CLAIMS_PATH",
    "CLAIMS_SERVICE",
    "CROSSPLANE_SERVICE",
    "SERVICES_PATH",
    "DomainFlows",
    "DomainFlowsArgs",
    "claims_appset",
    "claims_appset_name",
    "services_appset",
    "services_appset_name",
]

SERVICES_PATH = "k8s"
"""`k8s/{env}/{service}/`: one folder of manifests (plain YAML, Kustomize or a Helm chart) per service and env."""
CLAIMS_PATH = "crossplane/claims"
"""`crossplane/claims/{env}/`: the Crossplane claims of one environment."""
CLAIMS_SERVICE = "infra"
"""The semantic `service` of a domain's claims: namespace `{domain}-{env}-infra` holds their connection secrets."""
CROSSPLANE_SERVICE = "crossplane"
"""The catalog entry whose presence on the hub the claims need."""

_ENV_SEGMENT = "{{index .path.segments 1}}"  # k8s/{env}/{service}: segment 0 is `k8s`
_SERVICE = "{{.path.basename}}"
_CLAIMS_ENV = "{{.path.basename}}"  # crossplane/claims/{env}


def services_appset_name(domain: str) -> str:
    return f"{domain}-services"


def claims_appset_name(domain: str) -> str:
    return f"{domain}-crossplane-claims"


def _go_template() -> dict[str, Any]:
    return {"goTemplate": True, "goTemplateOptions": ["missingkey=error"]}


def _git(domain: Domain, directories: list[dict[str, Any]]) -> dict[str, Any]:
    return {"git": {"repoURL": domain.repo_url, "revision": domain.revision, "directories": directories}}


def _namespace_labels(domain: str, env: str, service: str) -> dict[str, str]:
    # `service` may be a template, so the component id is built as naming.backstage_component would, unchecked.
    return {
        **semantic_labels_of(domain, env, service, f"{domain}-{service}"),
        # The admission policy of components/gitops/pod_security.py keeps a domain's own Namespace object from
        # lowering this.
        **pod_security_labels(DOMAIN_POD_SECURITY),
    }


def _source(domain: Domain, **extra: Any) -> dict[str, Any]:
    return {"repoURL": domain.repo_url, "targetRevision": domain.revision, "path": "{{.path.path}}", **extra}


def services_appset(domain: Domain, envs: tuple[str, ...]) -> dict[str, Any]:
    """The `spec` of a domain's services ApplicationSet; `envs` are the environments its AppProject allows."""
    name = domain.name
    directories: list[dict[str, Any]] = [{"path": f"{SERVICES_PATH}/{env}/*"} for env in envs]
    directories.append({"path": f"{SERVICES_PATH}/*/{CLAIMS_SERVICE}", "exclude": True})
    return {
        **_go_template(),
        "generators": [
            {
                "matrix": {
                    "generators": [
                        _git(domain, directories),
                        # The matrix renders this selector with the git parameters (applicationset/utils
                        # RenderGeneratorParams): the env folder picks the cluster registered with that env.
                        {"clusters": {"selector": {"matchLabels": {ENV: _ENV_SEGMENT}}}},
                    ]
                }
            }
        ],
        "template": {
            "metadata": {
                "name": f"{name}-{_SERVICE}-{_ENV_SEGMENT}",
                "labels": application_labels(name, _ENV_SEGMENT, _SERVICE, NAME_PARAM),
            },
            "spec": {
                "project": name,
                "source": _source(domain),
                "destination": {"server": SERVER_PARAM, "namespace": f"{name}-{_ENV_SEGMENT}-{_SERVICE}"},
                "syncPolicy": {
                    **sync_policy(),
                    "managedNamespaceMetadata": {"labels": _namespace_labels(name, _ENV_SEGMENT, _SERVICE)},
                },
            },
        },
    }


def claims_appset(domain: Domain, envs: tuple[str, ...], hub_cluster: str) -> dict[str, Any]:
    """The `spec` of a domain's Crossplane claims ApplicationSet, syncing to the hub (`hub_cluster`) itself."""
    name = domain.name
    policy = sync_policy()
    # A claim removed from Git would otherwise be pruned, and Crossplane would delete the cloud resource.
    policy["automated"]["prune"] = False
    return {
        **_go_template(),
        "generators": [_git(domain, [{"path": f"{CLAIMS_PATH}/{env}"} for env in envs])],
        # No resources finalizer on the generated Applications: deleting one never deletes its claims.
        "syncPolicy": {"preserveResourcesOnDeletion": True},
        "template": {
            "metadata": {
                "name": f"{name}-{CLAIMS_SERVICE}-{_CLAIMS_ENV}",
                "labels": application_labels(name, _CLAIMS_ENV, CLAIMS_SERVICE, hub_cluster),
            },
            "spec": {
                "project": name,
                "source": _source(domain, directory={"recurse": True}),
                "destination": {"server": IN_CLUSTER_SERVER, "namespace": f"{name}-{_CLAIMS_ENV}-{CLAIMS_SERVICE}"},
                "syncPolicy": {
                    **policy,
                    "managedNamespaceMetadata": {"labels": _namespace_labels(name, _CLAIMS_ENV, CLAIMS_SERVICE)},
                },
            },
        },
    }


@dataclass(frozen=True)
class DomainFlowsArgs:
    domain: Domain
    config: StackConfig
    """The config of the stack running this Argo CD (the hub, or a standalone stack)."""


class DomainFlows(pulumi.ComponentResource):
    """A domain's two ApplicationSets in the hub's `argocd` namespace. The domain's AppProject (created by the Argo
    CD seed) must exist first: the ApplicationSet controller refuses a generator whose literal project is missing.

    Protected where the stack is: removing a domain from a protected stack's config must be a deliberate step,
    because deleting the services ApplicationSet deletes every Application it generated, and their workloads.
    """

    services: k8s.apiextensions.CustomResource
    claims: k8s.apiextensions.CustomResource | None
    """None when Crossplane is switched off on this cluster: there is nothing to reconcile claims."""

    def __init__(self, name: str, args: DomainFlowsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:gitops:DomainFlows", name, None, opts)
        domain, config = args.domain, args.config
        envs = domain_envs(config)
        child = pulumi.ResourceOptions(parent=self, protect=config.protect)
        self.services = applicationset_resource(
            services_appset_name(domain.name), domain.name, services_appset(domain, envs), child
        )
        self.claims = None
        if config.service_enabled(CROSSPLANE_SERVICE, default=True):
            spec = claims_appset(domain, envs, config.cluster_name)
            self.claims = applicationset_resource(claims_appset_name(domain.name), domain.name, spec, child)
        self.register_outputs(
            {
                "servicesApplicationSet": services_appset_name(domain.name),
                "claimsApplicationSet": claims_appset_name(domain.name) if self.claims is not None else "",
            }
        )
