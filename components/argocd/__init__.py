"""The Argo CD seed: a hardened install on the hub (or a standalone cluster), its projects, the root app of apps,
and the handover of Argo CD's own install to Git.

`sync` holds the one sync policy every Application and ApplicationSet template of this program uses; `values`,
`projects` and `applications` are pure functions from stack config to chart values and manifests; `bootstrap`
creates the resources.
"""

from components.argocd.applications import pinned_chart, root_application, self_application, value_files
from components.argocd.bootstrap import RELEASE_IGNORED_CHANGES, ArgoCd, ArgoCdArgs, RepositoryCredential
from components.argocd.projects import default_project, domain_project, platform_project
from components.argocd.sync import SYNC_POLICY, sync_policy
from components.argocd.values import argocd_values

__all__ = [
    "RELEASE_IGNORED_CHANGES",
    "SYNC_POLICY",
    "ArgoCd",
    "ArgoCdArgs",
    "RepositoryCredential",
    "argocd_values",
    "default_project",
    "domain_project",
    "pinned_chart",
    "platform_project",
    "root_application",
    "self_application",
    "sync_policy",
    "value_files",
]
