"""The Git server's chart pin and values: Forgejo, one pod, SQLite on its volume, no external database or cache.

Facts checked against the chart's source, forgejo-helm (mirror project-mirrors/forgejo-helm; the 15.x line's
values.yaml and templates are identical from commit a7daa64, "update forgejo docker tag to v13", to the stored
head e78fa53, 2025-12-10):
- README "To v14": the PostgreSQL, PostgreSQL HA, Valkey and Valkey Cluster subcharts were removed, because
  Bitnami stopped its free images; Chart.yaml keeps only the `common` library chart (templates, no image).
- README "Database defaults" and templates/_helpers.tpl: DB_TYPE defaults to sqlite3, session and cache to memory.
- README "Installing": the chart is published only as OCI, oci://code.forgejo.org/forgejo-helm/forgejo.
- templates/_helpers.tpl `gitea.image`: registry/repository:tag plus `-rootless` when image.rootless (default).
- templates/gitea/deployment.yaml: GITEA_ADMIN_USERNAME/PASSWORD come from the keys `username` and `password` of
  `gitea.admin.existingSecret` (templates/gitea/admin-secret.yaml then renders no Secret of its own); the
  containers mount emptyDir /tmp and the data volume /data, so the `containerSecurityContext` example of
  values.yaml (read-only root file system, user 1000) runs.
- templates/gitea/http-svc.yaml: the HTTP Service is `{release}-http` on `service.http.port` (3000).
"""

from __future__ import annotations

from typing import Any

from components.config.model import GIT_SERVER_HTTP_PORT

__all__ = ["CHART", "CHART_VERSION", "IMAGE", "IMAGE_TAG", "forgejo_values"]

CHART = "oci://code.forgejo.org/forgejo-helm/forgejo"
CHART_VERSION = "15.0.2"
"""A published release of the 15.x line (Forgejo 13), whose values and templates are the ones verified above; other
users pin this exact version with its sha256 (found by searching public code). The OCI registry's tag list runs
to 17.x today; a bump re-runs `python -m tools.local.gitserver_keys` against the new chart."""
IMAGE = "code.forgejo.org/forgejo/forgejo"
IMAGE_TAG = "13.0.3"
"""Chart.yaml appVersion at e78fa53 (renovate's "update forgejo docker tag to v13.0.3", 3c7e404); pinned here, not
left to the chart's appVersion, so the server never moves without a change in this file. The chart appends
`-rootless`."""
ADMIN_EMAIL = "platform@local.domain"
"""In the domain of the chart's own default admin e-mail (values.yaml gitea.admin.email)."""

_RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "runAsGroup": 1000,
    "runAsNonRoot": True,
    "runAsUser": 1000,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def forgejo_values(admin_secret: str, root_url: str) -> dict[str, Any]:
    """Chart values of a lean in-cluster server: every key is read by forgejo-helm 15.x (see the module doc)."""
    return {
        "image": {"tag": IMAGE_TAG, "rootless": True},
        "replicaCount": 1,
        # SQLite on a ReadWriteOnce volume: never two pods on it, even during an upgrade.
        "strategy": {"type": "Recreate"},
        "containerSecurityContext": _RESTRICTED,
        "resources": {"requests": {"cpu": "50m", "memory": "192Mi"}, "limits": {"memory": "512Mi"}},
        "initContainers": {"resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}},
        "persistence": {"enabled": True, "size": "1Gi"},
        "service": {"http": {"type": "ClusterIP", "port": GIT_SERVER_HTTP_PORT}},
        # The chart's helm-test pod runs busybox:latest; `pulumi up` never runs it, so it is not rendered.
        "test": {"enabled": False},
        "gitea": {
            "admin": {"existingSecret": admin_secret, "email": ADMIN_EMAIL, "passwordMode": "keepUpdated"},
            "config": {
                "server": {"ROOT_URL": f"{root_url}/"},
                # The seeding Job creates a repository by pushing to it; it starts private.
                "repository": {"ENABLE_PUSH_CREATE_USER": True, "DEFAULT_PUSH_CREATE_PRIVATE": True},
                "service": {"DISABLE_REGISTRATION": True, "REQUIRE_SIGNIN_VIEW": True},
            },
        },
    }
