"""The Argo CD cluster-Secret contract: every label and annotation key the registration writes and the
ApplicationSets, the hub's teardown guard and the plan read.

The GitOps-bridge idea: a cluster's registration Secret is how this program tells the ApplicationSets about it. Labels
carry what generators select on (known when planning: env, cloud, `enable_<service>`); annotations carry values the
templates read (some only known once the cloud answers: account, identities, server). Keys use `_`, not `-`, so a
Go template reaches them as `.metadata.annotations.key`; `cluster-name` is the one `-` key, and it is only ever
selected on, never templated.

A leaf module (it imports no other package of components/): registration writes the Secret with these names, the
readers take the same names, and a test (tests/test_cluster_secret.py) fails if a key is spelled anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

__all__ = [
    "ACCOUNT",
    "APP_SUFFIX",
    "CLOUD",
    "CLUSTER_NAME",
    "CLUSTER_SECRET_TYPE",
    "ENV",
    "GITOPS_REPO_URL",
    "GITOPS_REVISION",
    "GITOPS_VALUES_PATH",
    "IN_CLUSTER_SERVER",
    "LOAD_BALANCER",
    "NAME_PARAM",
    "OIDC_ISSUER_URL",
    "REGION",
    "REPO_CREDS_SECRET_TYPE",
    "SECRET_TYPE_LABEL",
    "SERVER",
    "SERVER_PARAM",
    "STORAGE_CLASS",
    "annotation",
    "enable_label",
    "identity_annotation",
    "is_cluster_secret",
    "label",
    "label_expr",
    "label_safe",
    "optional_annotation_expr",
    "optional_label_expr",
    "pod_security_label",
    "version_annotation",
]

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
"""What an Argo CD Secret declares (docs/operator-manual/declarative-setup.md, Clusters and Repository Credentials)."""
CLUSTER_SECRET_TYPE = "cluster"
REPO_CREDS_SECRET_TYPE = "repo-creds"
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
"""How Argo CD reaches the cluster it runs in (declarative-setup.md, Clusters)."""

# What the clusters generator hands a template from the Secret's data
# (docs/operator-manual/applicationset/Generators-Cluster.md).
NAME_PARAM = "{{.name}}"
SERVER_PARAM = "{{.server}}"

# Labels: what the clusters generators select on.
ENV = "env"
CLOUD = "cloud"
REGION = "region"
CLUSTER_NAME = "cluster-name"
"""The cluster's name, as a label: the hub's teardown guard selects every cluster Secret but its own by it."""
APP_SUFFIX = "app_suffix"
"""What the platform Applications of that cluster are named with: `{service}-{app_suffix}`."""

# Annotations: values the templates read.
SERVER = "server"
"""The API server URL, also in the Secret's (secret) data; the plan reads it here, where it is not masked."""
ACCOUNT = "account"
OIDC_ISSUER_URL = "oidc_issuer_url"
STORAGE_CLASS = "storage_class"
LOAD_BALANCER = "load_balancer"
GITOPS_REPO_URL = "gitops_repo_url"
GITOPS_REVISION = "gitops_revision"
GITOPS_VALUES_PATH = "gitops_values_path"


class _Grouped(Protocol):
    """A catalog service, as far as its namespace goes (components.catalog.Service)."""

    @property
    def name(self) -> str: ...
    @property
    def group(self) -> str | None: ...


def label_safe(name: str) -> str:
    """`cert-manager` -> `cert_manager`: a key Go templates can reach with `.a.b` (a `-` would need `index`)."""
    return name.replace("-", "_")


def enable_label(service: str) -> str:
    """The cluster label that turns a platform service on (`"true"`) or off (`"false"`) for that cluster."""
    return f"enable_{label_safe(service)}"


def pod_security_label(service: _Grouped) -> str:
    """The cluster label holding the Pod Security level of `service`'s namespace on that cluster (the group's, for
    a shared namespace): only the services enabled there count (`Catalog.namespace_pod_security`)."""
    return f"pod_security_{label_safe(service.group or service.name)}"


def version_annotation(service: str) -> str:
    """The cluster annotation that pins another chart version of a service on that cluster."""
    return f"version_{label_safe(service)}"


def identity_annotation(addon: str) -> str:
    """The cluster annotation holding the cloud identity an add-on's service account runs as."""
    return f"identity_{label_safe(addon)}"


def label_expr(key: str) -> str:
    """The Go template expression of a label every registration has, e.g. `.metadata.labels.env`: with
    `missingkey=error`, a cluster Secret without it fails the ApplicationSet."""
    return ".metadata.labels." + key


def optional_label_expr(key: str) -> str:
    """The expression of a label a cluster registered by an older version may lack: `index` gives "" then, for a
    `default` to replace."""
    return f'(index .metadata.labels "{key}")'


def optional_annotation_expr(key: str) -> str:
    """The expression of an annotation a registration may lack (`index`, as `optional_label_expr`)."""
    return f'(index .metadata.annotations "{key}")'


def label(key: str) -> str:
    """A Go template reading a label of the cluster being templated, e.g. `{{.metadata.labels.env}}`."""
    return "{{" + label_expr(key) + "}}"


def annotation(key: str) -> str:
    """A Go template reading an annotation every registration has."""
    return "{{.metadata.annotations." + key + "}}"


def is_cluster_secret(labels: Mapping[str, str]) -> bool:
    """Whether a Secret with these labels registers a cluster with Argo CD."""
    return labels.get(SECRET_TYPE_LABEL) == CLUSTER_SECRET_TYPE
