"""The platform service catalog: which upstream Helm chart each platform service deploys, where and when.

The data lives in `services.yaml` beside this file, so adding a service or bumping a chart is a data change.
This module only loads and checks it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "CATALOG_FILE",
    "POD_SECURITY_ORDER",
    "RETIRED_FILE",
    "Catalog",
    "ChartSource",
    "IgnoreDifference",
    "PodSecurity",
    "PodSecurityLevel",
    "RetiredRepository",
    "Service",
    "check_pinned_version",
    "load_catalog",
    "retired_repositories",
]

CATALOG_FILE = Path(__file__).with_name("services.yaml")
RETIRED_FILE = Path(__file__).with_name("retired.yaml")

# A pinned chart version: an exact SemVer, optionally with a leading `v` (cert-manager publishes `v1.x.y`).
_PINNED = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def check_pinned_version(version: str) -> str:
    """Return `version` if it names exactly one chart release; ranges, `latest`, `*` and `HEAD` float."""
    if not _PINNED.match(version):
        raise ValueError(f"'{version}' is not a pinned chart version; use an exact version such as 1.2.3")
    return version


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class RetiredRepository(_Model):
    moved_to: str
    """Where the charts are published now."""
    since: str
    """Date from which the old URL stopped serving them."""
    evidence: str


@cache
def retired_repositories(path: Path = RETIRED_FILE) -> dict[str, RetiredRepository]:
    """Chart repositories that no longer serve their charts (retired.yaml), by URL without a trailing slash."""
    data = yaml.safe_load(path.read_text())["retired"]
    return {url.rstrip("/"): RetiredRepository.model_validate(entry) for url, entry in data.items()}


class ChartSource(_Model):
    repository: str
    """Helm repository: an `https://` index URL, or an `oci://` registry path."""
    name: str
    version: str

    @field_validator("repository")
    @classmethod
    def _repository_scheme(cls, value: str) -> str:
        if not value.startswith(("https://", "oci://")):
            raise ValueError(f"'{value}' must start with https:// or oci://")
        value = value.rstrip("/")
        retired = retired_repositories().get(value)
        if retired is not None:
            raise ValueError(
                f"'{value}' no longer serves its charts (since {retired.since}: {retired.evidence}); "
                f"use {retired.moved_to}"
            )
        return value

    @field_validator("version")
    @classmethod
    def _pinned(cls, value: str) -> str:
        return check_pinned_version(value)

    @property
    def argocd_repo_url(self) -> str:
        """The `repoURL` an Argo CD Helm source takes: an OCI registry path without its scheme, because Argo CD
        3.4 treats an `oci://` repoURL as a plain OCI artifact and ignores `chart` (docs/user-guide/helm.md)."""
        return self.repository.removeprefix("oci://")


PodSecurityLevel = Literal["privileged", "baseline", "restricted"]
POD_SECURITY_ORDER: tuple[PodSecurityLevel, ...] = ("privileged", "baseline", "restricted")
"""Pod Security Standards levels, least strict first (kubernetes.io/docs/concepts/security/pod-security-standards)."""


class PodSecurity(_Model):
    level: PodSecurityLevel
    """The strictest Pod Security Standard every pod of the chart (as the platform deploys it) passes."""
    reason: str = Field(min_length=1)
    """Why not stricter: which pod needs what (or what was checked that it passes)."""


class IgnoreDifference(_Model):
    """A field of one of the chart's objects that something other than Argo CD writes after the sync (a webhook's
    `caBundle` injected by a controller, a password generated at render time), so Argo CD must not compare it:
    otherwise the Application stays OutOfSync forever and self-heal re-syncs it over and over (Argo CD's
    `spec.ignoreDifferences`, docs/user-guide/diffing.md). Waves gate on health only, so it would not hold them."""

    group: str = ""
    """API group of the object; empty for the core group (Secret)."""
    kind: str = Field(min_length=1)
    name: str = Field(min_length=1)
    """The object's name as the chart renders it with the service's release name; `{namespace}` stands for the
    service's namespace on the cluster, for a chart that puts it into a cluster-scoped object's name (kong)."""
    json_pointers: tuple[str, ...] = ()
    jq_path_expressions: tuple[str, ...] = ()
    why: str = Field(min_length=1)
    """Who writes the field, with the source it was checked in (kept out of the Application)."""

    @model_validator(mode="after")
    def _one_path(self) -> IgnoreDifference:
        if not self.json_pointers and not self.jq_path_expressions:
            raise ValueError(f"{self.kind}/{self.name}: give jsonPointers or jqPathExpressions to ignore")
        return self

    def to_argocd(self, namespace: str) -> dict[str, object]:
        """The entry of an Application's `spec.ignoreDifferences`; `namespace` replaces `{namespace}` in the name
        (Argo CD matches the name exactly, util/argo/normalizers/diff_normalizer.go, v3.4.7)."""
        name = self.name.replace("{namespace}", namespace)
        entry: dict[str, object] = {"group": self.group, "kind": self.kind, "name": name}
        if self.json_pointers:
            entry["jsonPointers"] = list(self.json_pointers)
        if self.jq_path_expressions:
            entry["jqPathExpressions"] = list(self.jq_path_expressions)
        return entry


class Service(_Model):
    name: str = ""
    tier: Literal["A", "B"]
    """A: every cluster. B: the management cluster only."""
    wave: int
    """Order of installation; a wave starts once every service of the waves before it is healthy."""
    group: str | None = None
    """Namespace group: the service runs in `platform-{env}-{group}`."""
    namespace: str | None = None
    """A fixed namespace (argocd, crossplane-system) instead of the semantic one."""
    self_managed: bool = False
    """Installed by this program, then handed to Argo CD (only Argo CD itself)."""
    description: str
    chart: ChartSource
    pod_security: PodSecurity | None = None
    """The Pod Security Standard its pods pass, with the reason; unset means `restricted` (the shipped catalog sets
    it on every service, tests/test_catalog.py checks)."""
    ignore_differences: tuple[IgnoreDifference, ...] = ()
    """Fields of the chart's objects that stay different from Git by design (see `IgnoreDifference`)."""

    @property
    def pod_security_level(self) -> PodSecurityLevel:
        return self.pod_security.level if self.pod_security else "restricted"

    @model_validator(mode="after")
    def _one_namespace_rule(self) -> Service:
        if (self.group is None) == (self.namespace is None):
            raise ValueError("a service has either a namespace group or a fixed namespace, not both or none")
        return self

    @property
    def management_only(self) -> bool:
        return self.tier == "B"


class Catalog(_Model):
    services: dict[str, Service] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_from_keys(self) -> Catalog:
        # The map key is the name; copying it in keeps one spelling of it.
        object.__setattr__(
            self,
            "services",
            {key: svc.model_copy(update={"name": key}) for key, svc in self.services.items()},
        )
        return self

    def names(self) -> list[str]:
        return list(self.services)

    def namespace_pod_security(self, service: Service, enabled: Collection[str] | None = None) -> PodSecurityLevel:
        """The enforce level of `service`'s namespace: a namespace shared by a group runs at the least strict
        level among the group's services, or one of them could not start. `enabled`: the services turned on for
        the cluster; only they (and `service`) count, so a service the stack turns off cannot weaken its group's
        namespace. None counts every catalogued service (a cluster that does not say which run)."""
        sharing = [
            s
            for s in self.services.values()
            if (s.group, s.namespace) == (service.group, service.namespace)
            and (enabled is None or s.name in enabled or s.name == service.name)
        ]
        return POD_SECURITY_ORDER[min(POD_SECURITY_ORDER.index(s.pod_security_level) for s in sharing)]

    def by_wave(self) -> list[Service]:
        """Services in installation order: by wave, then by name for a stable order."""
        return sorted(self.services.values(), key=lambda s: (s.wave, s.name))


@cache
def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    """Load and check the catalog once per process."""
    return Catalog.model_validate(yaml.safe_load(path.read_text()))
