"""The typed, immutable shape of one stack's configuration (the `platform:` namespace of Pulumi.<stack>.yaml).

Field docstrings become the descriptions of the published JSON schema and of the config reference in
docs/configuration.md, so they are written for the person editing a stack file.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from ipaddress import IPv4Network
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, SecretStr, field_validator, model_validator

from components.catalog import Catalog, check_pinned_version
from components.config.base import MODEL_CONFIG
from components.config.clouds.aws import AwsSettings
from components.config.clouds.azure import AzureSettings
from components.config.clouds.existing import ExistingSettings
from components.config.clouds.gcp import GcpSettings
from components.config.environments import ENVIRONMENT_TABLE, Role
from components.naming import PLATFORM_PROJECT, check_dns_label, cluster_name, namespace
from components.pem import Certificate, KeyPairError, check_key_pair, read_certificate

__all__ = [
    "CLOUDS",
    "ENVIRONMENTS",
    "SECRET_KEYS",
    "ArgoCdSettings",
    "Cloud",
    "ClusterSettings",
    "CrossplaneSettings",
    "Domain",
    "Env",
    "GitCredential",
    "GitOpsSettings",
    "GitServerSettings",
    "NodePool",
    "NotificationSettings",
    "SealingKeyPair",
    "SealingKeys",
    "ServiceOverride",
    "SsoSettings",
    "StackConfig",
    "Topology",
]

Env = Literal["local", "mgmt", "dev", "staging", "prod"]
Cloud = Literal["gcp", "aws", "azure", "existing"]
ENVIRONMENTS: tuple[str, ...] = Env.__args__  # type: ignore[attr-defined]
CLOUDS: tuple[str, ...] = Cloud.__args__  # type: ignore[attr-defined]

_K8S_VERSION = re.compile(r"^1\.(\d+)(\.\d+)?$")
# A DNS name of two or more labels (RFC 1123), lower case: an ingress host and certificate name take no more.
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
# Plain http only to a Service inside the cluster (the local Git server): the traffic never leaves the node.
_GIT_URL = re.compile(
    r"^(https://[^\s]+|ssh://[^\s]+|git@[^\s:]+:[^\s]+|http://[a-z0-9.-]+\.svc\.cluster\.local(:\d+)?/[^\s]+)$"
)


def _dns_label(value: str) -> str:
    return check_dns_label(value)


def _git_url(value: str) -> str:
    if not _GIT_URL.match(value):
        raise ValueError(
            f"'{value}' is not a Git URL; use https://..., ssh://..., git@host:path, or http:// to a "
            "*.svc.cluster.local Service"
        )
    return value


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
GitUrl = Annotated[str, AfterValidator(_git_url)]
PinnedVersion = Annotated[str, AfterValidator(check_pinned_version)]


class _Model(BaseModel):
    model_config = MODEL_CONFIG


# ---------------------------------------------------------------------------------------------------------
# Cluster
# ---------------------------------------------------------------------------------------------------------


class NodePool(_Model):
    machine_type: str
    """Cloud machine type: `e2-standard-4` (GCP), `m6i.xlarge` (AWS), `Standard_D4s_v5` (Azure)."""
    min_size: int = Field(ge=0)
    """Fewest nodes the autoscaler keeps (per zone on GKE)."""
    max_size: int = Field(ge=1)
    """Most nodes the autoscaler may add (per zone on GKE)."""
    disk_size_gb: int = Field(default=100, ge=20, le=4096)
    """Boot disk size of each node, GiB."""
    spot: bool = False
    """Spot / preemptible capacity: cheaper, may be reclaimed at any time."""

    @model_validator(mode="after")
    def _bounds(self) -> NodePool:
        if self.min_size > self.max_size:
            raise ValueError(
                f"minSize {self.min_size} is greater than maxSize {self.max_size}; minSize must be <= maxSize"
            )
        return self


class ClusterSettings(_Model):
    name: DnsLabel | None = None
    """Cluster name; defaults to `cluster-{env}`. A second cluster of an env needs its own (never an env's name)."""
    kubernetes_version: str | None = None
    """Kubernetes minor version (`1.33`) or exact version (`1.33.5`); required on gcp, aws and azure."""
    node_pools: dict[DnsLabel, NodePool] | None = None
    """Node pools keyed by name; defaults to `system` and `general` sized for the environment."""
    authorized_networks: list[IPv4Network] = []
    """CIDRs allowed to reach the Kubernetes API (your CI runners and VPN); a spoke adds its hub's egress by itself.
    Empty on a hub or standalone stack means private access only."""
    gcp: GcpSettings | None = None
    """GKE settings; required when `cloud` is gcp."""
    aws: AwsSettings | None = None
    """EKS settings; used when `cloud` is aws."""
    azure: AzureSettings | None = None
    """AKS settings; used when `cloud` is azure."""
    existing: ExistingSettings | None = None
    """An existing cluster (kind, k3d, minikube, any kubeconfig context); required when `cloud` is existing."""

    @field_validator("name")
    @classmethod
    def _not_an_env(cls, value: str | None) -> str | None:
        # Platform Applications end with the env for a `cluster-{env}` and with the cluster name otherwise
        # (components/gitops/registration.app_suffix): a cluster named like an env would take that env's names.
        if value in ENVIRONMENTS:
            raise ValueError(f"'{value}' is an environment's name; name the cluster e.g. cluster-{value}-2")
        return value

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _not_a_number(cls, value: Any) -> Any:
        # YAML reads an unquoted 1.30 as the number 1.3: refuse it rather than guess the minor version.
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(
                'a number, not a version (YAML reads an unquoted 1.30 as 1.3); quote it, e.g. kubernetesVersion: "1.30"'
            )
        return value

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        if value is not None and not _K8S_VERSION.match(value):
            raise ValueError(f"'{value}' is not a Kubernetes version; use 1.MINOR or 1.MINOR.PATCH, e.g. 1.33")
        return value


# ---------------------------------------------------------------------------------------------------------
# GitOps, domains, services
# ---------------------------------------------------------------------------------------------------------


class Topology(_Model):
    mode: Literal["hub", "standalone"]
    """`hub`: the mgmt stack runs Argo CD and every other stack registers with it. `standalone`: own Argo CD."""
    hub_stack: str | None = Field(default=None, pattern=r"^([\w.-]+/){0,2}[\w.-]+$")
    """Fully qualified name (`org/platform/mgmt`) of the hub stack a workload stack registers with."""


class GitOpsSettings(_Model):
    repo_url: GitUrl
    """The platform GitOps repository Argo CD reads (root app, platform values)."""
    revision: str = Field(default="main", min_length=1)
    """Branch, tag or commit of that repository."""
    apps_path: str = "argocd"
    """Folder the root Application syncs: anything teams add there is picked up."""
    values_path: str = "k8s/platform"
    """Folder holding `_base/`, `_cloud/{cloud}/` and `{cluster}/` values of platform services."""


GIT_SERVER_SERVICE = "gitserver"
"""The in-cluster Git server's service in the semantic key: namespace `platform-{env}-gitserver`."""
GIT_SERVER_RELEASE = "forgejo"
"""Helm release name of the Git server; the chart names its HTTP Service `{release}-http`."""
GIT_SERVER_HTTP_PORT = 3000
"""The chart's `service.http.port` default (forgejo-helm values.yaml)."""
GIT_SERVER_OWNER = "platform"
"""The Git server account that owns the seeded repositories (and pushes them)."""
PLATFORM_REPOSITORY = "platform-gitops"
"""Name of the seeded platform GitOps repository on the Git server."""


def git_server_namespace(env: str) -> str:
    return namespace(PLATFORM_PROJECT, env, GIT_SERVER_SERVICE)


def git_server_base_url(env: str) -> str:
    """Where Argo CD's repo-server and the seeding Job reach the Git server: its HTTP Service, inside the cluster."""
    return f"http://{GIT_SERVER_RELEASE}-http.{git_server_namespace(env)}.svc.cluster.local:{GIT_SERVER_HTTP_PORT}"


def git_server_repo_url(env: str, repository: str) -> str:
    return f"{git_server_base_url(env)}/{GIT_SERVER_OWNER}/{repository}.git"


def domain_repository(domain: str) -> str:
    """A seeded domain repository is named like the domain starter's convention, `{domain}-gitops`."""
    return f"{domain}-gitops"


class GitServerSettings(_Model):
    platform_folder: str = Field(default="starters/platform-gitops", min_length=1)
    """Folder (relative to the project, or absolute) seeded as the platform repository; `gitops.repoUrl` then
    points at it inside the cluster."""
    domain_folders: dict[DnsLabel, str] = {}
    """Folders seeded as domain repositories `{name}-gitops`, keyed by domain name; each becomes a domain."""


class Domain(_Model):
    name: DnsLabel = Field(max_length=30)
    """Domain (Argo CD project, Backstage domain); namespaces are `{name}-{env}-{service}`. Not `platform`,
    `default` or `argocd`, and not starting with `platform-` (the platform's namespaces)."""
    repo_url: GitUrl
    """The domain's `{domain}-gitops` repository with `k8s/{env}/{service}/` and `crossplane/claims/{env}/`."""
    revision: str = "main"
    """Branch, tag or commit of the domain repository."""
    admin_groups: list[str] = []
    """SSO groups that may sync, roll back and delete the domain's applications."""
    viewer_groups: list[str] = []
    """SSO groups with read-only access to the domain's applications."""

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in {PLATFORM_PROJECT, "default", "argocd"}:
            raise ValueError(f"'{value}' is reserved; choose another domain name")
        # Namespaces starting `platform-` are the platform's: the domain Pod Security policy does not guard them.
        if value.startswith(f"{PLATFORM_PROJECT}-"):
            raise ValueError(
                f"'{value}' starts with '{PLATFORM_PROJECT}-', which is reserved for the platform's namespaces; "
                f"choose a domain name that does not start with '{PLATFORM_PROJECT}-'"
            )
        return value


class ServiceOverride(_Model):
    enabled: bool | None = None
    """Turn a platform service on or off on this stack's cluster."""
    version: PinnedVersion | None = None
    """Pin another chart version on this stack's cluster."""


class CrossplaneSettings(_Model):
    roles: list[str] = []
    """Cloud roles Crossplane's providers hold on the mgmt cluster's account, through workload identity: GCP role
    names (`roles/cloudsql.admin`), AWS policy ARNs, or Azure role definition ids. mgmt only; defaults per cloud
    (databases, buckets, caches) come from defaults.yaml."""


# ---------------------------------------------------------------------------------------------------------
# Argo CD
# ---------------------------------------------------------------------------------------------------------


class SsoSettings(_Model):
    issuer: str = Field(pattern=r"^https://\S+$")
    """OIDC issuer URL (https)."""
    client_id: str = Field(min_length=1)
    """OIDC client id; the client secret is the secret key `argocdOidcClientSecret`."""
    name: str = "SSO"
    """Label of the login button."""
    admin_groups: list[str] = Field(default=[], min_length=0)
    """SSO groups that get Argo CD's admin role."""
    readonly_groups: list[str] = []
    """SSO groups that get read-only access."""


class NotificationSettings(_Model):
    slack_channel: str | None = None
    """Slack channel that gets platform sync and health events; the token is `notificationsToken`."""
    webhook_url: str | None = Field(default=None, pattern=r"^https://\S+$")
    """A generic webhook instead of Slack; a bearer token, if any, is `notificationsToken`."""

    @model_validator(mode="after")
    def _one_target(self) -> NotificationSettings:
        if (self.slack_channel is None) == (self.webhook_url is None):
            raise ValueError("set exactly one of slackChannel or webhookUrl")
        return self


class ArgoCdSettings(_Model):
    ha: bool
    """Several replicas of the controller, repo server and API server, and redis-ha."""
    admin_enabled: bool
    """Keep the local `admin` user; off in staging, mgmt and prod, where SSO is required instead."""
    sso: SsoSettings | None = None
    """OIDC single sign-on; required when `adminEnabled` is false."""
    hostname: str | None = None
    """Public host name of the Argo CD UI (e.g. argocd.example.com), served through the platform's ingress (kong)
    with a cert-manager certificate, and the URL of SSO callbacks and notification links; required with `sso`.
    Unset keeps the server internal (`kubectl port-forward`)."""
    notifications: NotificationSettings | None = None
    """Where sync failures, degraded health, stuck waves and syncs of platform apps are reported."""
    controller_shards: int = Field(default=1, ge=1, le=10)
    """Application controller replicas the registered clusters are spread over with Argo CD's consistent-hashing
    sharding; 1 (the default) runs one unsharded controller. Pays from about 50 clusters (docs/ordering.md)."""
    adopt_release: bool = False
    """Take over the Helm release `argocd` that an earlier `pulumi destroy` left on the cluster (it is kept on
    delete) instead of installing it: set it when `up` fails with `cannot re-use a name that is still in use`."""

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, value: str | None) -> str | None:
        if value is not None and not _HOSTNAME.match(value):
            raise ValueError(
                f"'{value}' is not a host name; use a DNS name such as argocd.example.com, without scheme, port or path"
            )
        return value

    """Where sync failures, degraded health and syncs of platform apps are reported."""
    node_port: int | None = Field(default=None, ge=30000, le=32767)
    """Also expose the Argo CD UI on this NodePort of every node (a kind cluster maps it to localhost)."""


class GitCredential(_Model):
    username: str = "git"
    """User name (for GitHub tokens any non-empty name works)."""
    password: SecretStr
    """Token or password."""


# ---------------------------------------------------------------------------------------------------------
# Sealed Secrets
# ---------------------------------------------------------------------------------------------------------

UNREADABLE_SECRET = "plan-placeholder-secret"
"""What the credential-free plan stands in for a secret it cannot decrypt (tools/plan/stackfile.py PLACEHOLDER):
such a private key is checked only where the stack's secrets provider can decrypt it, under `pulumi up`."""


class SealingKeyPair(_Model):
    certificate: str
    """PEM certificate of the key pair (public: `kubeseal --cert` seals with it); set it without `--secret`."""
    private_key: SecretStr
    """PEM RSA private key, unencrypted PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`); set it with `--secret`."""

    @model_validator(mode="after")
    def _pair(self) -> SealingKeyPair:
        private_key = self.private_key.get_secret_value()
        try:
            if private_key == UNREADABLE_SECRET:
                read_certificate(self.certificate)
            else:
                check_key_pair(self.certificate, private_key)
        except KeyPairError as error:
            raise ValueError(str(error)) from None
        return self

    @property
    def facts(self) -> Certificate:
        """Fingerprint and validity of the certificate (checked when the config loaded)."""
        return read_certificate(self.certificate)


class SealingKeys(SealingKeyPair):
    retired: list[SealingKeyPair] = []
    """Earlier key pairs: they no longer seal, but still decrypt what was sealed with them until it is re-sealed."""

    @model_validator(mode="after")
    def _active_is_newest(self) -> SealingKeys:
        active = self.facts
        if active.not_after <= datetime.now(UTC):
            raise ValueError(
                f"certificate expired on {active.not_after:%Y-%m-%d}; kubeseal refuses to seal with an expired "
                "certificate: issue a new one for the same private key"
            )
        seen = {active.fingerprint}
        for index, pair in enumerate(self.retired):
            facts = pair.facts
            if facts.fingerprint in seen:
                raise ValueError(f"retired[{index}] is the same key as another entry; list each key pair once")
            seen.add(facts.fingerprint)
            # The controller seals with the certificate whose NotBefore is latest (--key-order-priority default).
            if facts.not_before >= active.not_before:
                raise ValueError(
                    f"retired[{index}] has a certificate no older than the active one; the controller seals with the "
                    "newest certificate (latest NotBefore), so the active pair must be the newest"
                )
        return self


# ---------------------------------------------------------------------------------------------------------
# The stack
# ---------------------------------------------------------------------------------------------------------


def _secret(description: str) -> Any:
    return Field(default=None, description=description, json_schema_extra={"secret": True})


class StackConfig(_Model):
    env: Env
    """Environment of this stack: local, mgmt, dev, staging or prod."""
    cloud: Cloud
    """Where the cluster runs: gcp (GKE), aws (EKS), azure (AKS) or existing (a kubeconfig context)."""
    region: str | None = None
    """Cloud region or Azure location, e.g. europe-west1, eu-west-1, westeurope; required unless existing. One of
    the cloud's list in components/config/regions.yaml."""
    protect: bool
    """Guard the cluster, its network and node pools against deletion and replacement."""
    cluster: ClusterSettings
    """The Kubernetes cluster of this stack."""
    topology: Topology
    """Hub and spoke (one Argo CD on mgmt) or standalone (this cluster runs its own Argo CD)."""
    gitops: GitOpsSettings
    """The platform GitOps repository."""
    git_server: GitServerSettings | None = None
    """An in-cluster Git server (Forgejo) seeded from folders of this project; Argo CD reads the platform and
    domain repositories from it, so no hosted Git account is needed (the local stack)."""
    domains: list[Domain] = []
    """Domain teams: each gets an Argo CD project and an ApplicationSet over its gitops repository."""
    services: dict[str, ServiceOverride] = {}
    """Per-stack overrides of the platform service catalog, keyed by service name."""
    argocd: ArgoCdSettings
    """Argo CD install settings."""
    crossplane: CrossplaneSettings = CrossplaneSettings()
    """The cloud identity of Crossplane's providers on mgmt."""

    argocd_admin_password: SecretStr | None = _secret(
        "Secret. Password of the local admin user where it stays enabled; unset, Argo CD generates one."
    )
    argocd_oidc_client_secret: SecretStr | None = _secret("Secret. OIDC client secret for `argocd.sso`.")
    notifications_token: SecretStr | None = _secret(
        "Secret. Slack bot token (or webhook bearer token) for `argocd.notifications`."
    )
    git_credentials: dict[str, GitCredential] | None = _secret(
        "Secret. Credential templates keyed by URL prefix, e.g. https://github.com/myorg, for private repos."
    )
    sealed_secrets_key: SealingKeys | None = _secret(
        "Secret. The Sealed Secrets sealing key pair of this environment (`certificate`, `privateKey`, and "
        "`retired` pairs that still decrypt); unset, the program generates one once and keeps it in the stack state."
    )

    @property
    def cluster_name(self) -> str:
        return self.cluster.name or cluster_name(self.env)

    @property
    def role(self) -> Role:
        """The hub where the environment's row says so (mgmt); else as the topology says: standalone, or a spoke."""
        if ENVIRONMENT_TABLE[self.env].role == "hub":
            return "hub"
        return "standalone" if self.topology.mode == "standalone" else "spoke"

    @property
    def prod_like(self) -> bool:
        """The environment's row refuses what is fine on a laptop (components/config/environments.py)."""
        return ENVIRONMENT_TABLE[self.env].prod_like

    @property
    def is_hub(self) -> bool:
        """This stack runs the Argo CD that deploys to its cluster (the mgmt hub, or a standalone stack)."""
        return self.role != "spoke"

    def service_enabled(self, name: str, default: bool) -> bool:
        override = self.services.get(name)
        return default if override is None or override.enabled is None else override.enabled

    def enabled_services(self, catalog: Catalog, hub: bool) -> frozenset[str]:
        """The catalog's services turned on for this stack's cluster: Tier A by default, Tier B by default where
        `hub` (the cluster runs the Argo CD); `services[name].enabled` overrides either."""
        return frozenset(
            s.name for s in catalog.services.values() if self.service_enabled(s.name, hub or not s.management_only)
        )


SECRET_KEYS: frozenset[str] = frozenset(
    field.alias or name
    for name, field in StackConfig.model_fields.items()
    if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("secret")
)
