"""The service catalog: the brief's tier and wave table, pinned upstream charts, one namespace rule each."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from components.catalog import (
    CATALOG_FILE,
    Catalog,
    ChartSource,
    IgnoreDifference,
    check_pinned_version,
    load_catalog,
    retired_repositories,
)
from tools.chart_keys import starter_values

# The brief's table (shared/BRIEF.md, "Platform services: tiers and waves"), written out once here as the
# specification the data file is checked against.
BRIEF_TABLE = {
    "sealed-secrets": ("A", -20),
    "cert-manager": ("A", -10),
    "reflector": ("A", -10),
    "cloudnative-pg": ("A", -5),
    "kong": ("A", 0),
    "kube-prometheus-stack": ("A", 0),
    "redis": ("B", 0),
    "alloy": ("A", 5),
    "loki": ("B", 5),
    "pgadmin": ("B", 5),
    "redisinsight": ("B", 5),
    "headlamp": ("B", 10),
    "n8n": ("B", 10),
    "ollama": ("B", 10),
}


def test_catalog_matches_the_brief_table_exactly() -> None:
    catalog = load_catalog()
    table = {name: (s.tier, s.wave) for name, s in catalog.services.items() if name not in {"argocd", "crossplane"}}
    assert table == BRIEF_TABLE


def test_argocd_and_crossplane_are_management_services_in_fixed_namespaces() -> None:
    services = load_catalog().services
    assert (services["argocd"].tier, services["argocd"].namespace, services["argocd"].self_managed) == (
        "B",
        "argocd",
        True,
    )
    assert (services["crossplane"].tier, services["crossplane"].namespace) == ("B", "crossplane-system")


def test_argocd_chart_matches_the_reference_chart() -> None:
    chart = load_catalog().services["argocd"].chart
    assert (chart.repository, chart.name, chart.version) == (
        "https://argoproj.github.io/argo-helm",
        "argo-cd",
        "10.1.1",
    )


def test_by_wave_orders_ascending() -> None:
    waves = [s.wave for s in load_catalog().by_wave()]
    assert waves == sorted(waves)


@pytest.mark.parametrize("version", ["latest", "*", "HEAD", "1.2", "^1.2.3", "~1.2.3", ">=1.0.0", "1.x"])
def test_floating_versions_are_refused(version: str) -> None:
    with pytest.raises(ValueError, match="not a pinned chart version"):
        check_pinned_version(version)


@pytest.mark.parametrize("version", ["1.2.3", "v1.21.1", "2.0.0-rc.1"])
def test_exact_versions_are_accepted(version: str) -> None:
    assert check_pinned_version(version) == version


def test_oci_repository_becomes_a_scheme_less_argo_cd_repo_url() -> None:
    chart = ChartSource(repository="oci://quay.io/jetstack/charts", name="cert-manager", version="v1.21.1")
    assert chart.argocd_repo_url == "quay.io/jetstack/charts"


def test_a_service_needs_exactly_one_namespace_rule() -> None:
    service = {
        "tier": "A",
        "wave": 0,
        "description": "x",
        "chart": {"repository": "https://example.com/charts", "name": "x", "version": "1.0.0"},
    }
    with pytest.raises(ValidationError, match="namespace group or a fixed namespace"):
        Catalog.model_validate({"services": {"x": service}})
    with pytest.raises(ValidationError, match="namespace group or a fixed namespace"):
        Catalog.model_validate({"services": {"x": {**service, "group": "a", "namespace": "b"}}})


def test_plain_http_repositories_are_refused() -> None:
    with pytest.raises(ValidationError, match="https:// or oci://"):
        ChartSource(repository="http://charts.example.com", name="x", version="1.0.0")


def test_every_shipped_service_states_its_pod_security_level_and_why() -> None:
    catalog = load_catalog()
    missing = [s.name for s in catalog.services.values() if s.pod_security is None]
    assert missing == []
    # The collectors that read the node need privileged; Argo CD and cert-manager run under restricted.
    levels = {name: catalog.namespace_pod_security(s) for name, s in catalog.services.items()}
    assert levels["alloy"] == levels["kube-prometheus-stack"] == "privileged"
    assert levels["argocd"] == levels["cert-manager"] == "restricted"
    # A shared namespace runs at the least strict level of its group: loki shares alloy's.
    assert catalog.services["loki"].pod_security_level == "restricted" and levels["loki"] == "privileged"


# Where a chart takes its pod's and its main container's security context, for the services whose starter values
# set the restricted fields themselves (the others meet them by chart defaults, cited in the catalog's reason).
SECURITY_CONTEXTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sealed-secrets": (("podSecurityContext",), ("containerSecurityContext",)),
    "reflector": (("podSecurityContext",), ("securityContext",)),
    "headlamp": (("podSecurityContext",), ("securityContext",)),
    "ollama": (("podSecurityContext",), ("securityContext",)),
    "pgadmin": (("securityContext",), ("containerSecurityContext",)),
    "redisinsight": (
        ("defaultPodOptions", "securityContext"),
        ("controllers", "redisinsight", "containers", "app", "securityContext"),
    ),
    "crossplane": (("podSecurityContextCrossplane",), ("securityContextCrossplane",)),
}


def _merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """Helm's merge of a later values file over an earlier one: maps merge, anything else is replaced."""
    merged = dict(base)
    for key, value in layer.items():
        old = merged.get(key)
        merged[key] = _merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return merged


def _at(values: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for key in path:
        values = values.get(key) or {}
    return values


def _meets_restricted(values: dict[str, Any], pod_path: tuple[str, ...], container_path: tuple[str, ...]) -> bool:
    """runAsNonRoot and a RuntimeDefault seccomp profile (the container's or else the pod's), no privilege
    escalation and drop ALL: what the restricted Pod Security Standard asks of a container beyond baseline."""
    pod, container = _at(values, pod_path), _at(values, container_path)
    non_root = container.get("runAsNonRoot", pod.get("runAsNonRoot")) is True
    seccomp = (container.get("seccompProfile") or pod.get("seccompProfile") or {}).get("type") == "RuntimeDefault"
    drop = (container.get("capabilities") or {}).get("drop") or []
    return non_root and seccomp and container.get("allowPrivilegeEscalation") is False and "ALL" in drop


def _every_clusters_values(service: str) -> list[dict[str, Any]]:
    """The merged starter values of `service` for every cloud layer and every cluster folder over its _base."""
    read = starter_values(service)
    base = read[f"_base/{service}/values.yaml"]
    clouds = [v for f, v in read.items() if f.startswith("_cloud/")] or [{}]
    clusters = [v for f, v in read.items() if not f.startswith("_")] or [{}]
    return [_merge(_merge(base, cloud), cluster) for cloud in clouds for cluster in clusters]


def test_the_restricted_check_reads_every_field() -> None:
    values = {"pod": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}}
    full = {**values, "c": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}
    assert _meets_restricted(full, ("pod",), ("c",))
    assert not _meets_restricted({**full, "c": {"allowPrivilegeEscalation": False}}, ("pod",), ("c",))
    assert not _meets_restricted({**full, "pod": {"runAsNonRoot": True}}, ("pod",), ("c",))
    assert not _meets_restricted({**full, "c": {**full["c"], "runAsNonRoot": False}}, ("pod",), ("c",))


def test_a_service_whose_starter_values_meet_restricted_is_not_catalogued_below_it() -> None:
    catalog = load_catalog()
    met = {
        name
        for name, (pod, container) in SECURITY_CONTEXTS.items()
        if all(_meets_restricted(values, pod, container) for values in _every_clusters_values(name))
    }
    # crossplane's starter leaves privilege escalation to the chart; its providers keep it baseline anyway.
    assert met == set(SECURITY_CONTEXTS) - {"crossplane"}
    below = {name: catalog.services[name].pod_security_level for name in met}
    assert {name: level for name, level in below.items() if level != "restricted"} == {}


def test_only_the_services_enabled_on_a_cluster_set_a_shared_namespaces_level() -> None:
    catalog = load_catalog()
    loki = catalog.services["loki"]
    assert catalog.namespace_pod_security(loki, {"loki", "alloy"}) == "privileged"
    # alloy (privileged) is off on that cluster: it no longer weakens the logging namespace.
    assert catalog.namespace_pod_security(loki, {"loki", "kong"}) == loki.pod_security_level == "restricted"
    # The service itself always counts, even when the caller's set leaves it out.
    assert catalog.namespace_pod_security(catalog.services["alloy"], set()) == "privileged"


def test_an_ignored_difference_names_a_path_and_why() -> None:
    entry = {"group": "admissionregistration.k8s.io", "kind": "MutatingWebhookConfiguration", "name": "x-webhook"}
    with pytest.raises(ValidationError, match="give jsonPointers or jqPathExpressions"):
        IgnoreDifference.model_validate({**entry, "why": "a controller injects it"})
    with pytest.raises(ValidationError, match="why"):
        IgnoreDifference.model_validate({**entry, "jqPathExpressions": [".webhooks[]?.clientConfig.caBundle"]})
    with pytest.raises(ValidationError, match="extra"):
        IgnoreDifference.model_validate({**entry, "jsonPointers": ["/a"], "why": "w", "managedFields": ["x"]})
    parsed = IgnoreDifference.model_validate(
        {**entry, "jsonPointers": ["/webhooks/0/clientConfig/caBundle"], "why": "w"}
    )
    # `why` documents the catalog; Argo CD gets only its own fields.
    assert parsed.to_argocd("ns") == {**entry, "jsonPointers": ["/webhooks/0/clientConfig/caBundle"]}
    # `{namespace}` in a name is the service's namespace on the cluster (Kong names its webhook after it).
    templated = IgnoreDifference.model_validate(
        {**entry, "name": "kong-kong-{namespace}-validations", "jsonPointers": ["/a"], "why": "w"}
    )
    assert templated.to_argocd("platform-dev-ingress")["name"] == "kong-kong-platform-dev-ingress-validations"


# ---------------------------------------------------------------------------------------------------------
# Repositories that stopped serving charts (components/catalog/retired.yaml, docs/catalog-sources.md)
# ---------------------------------------------------------------------------------------------------------


def test_no_catalog_chart_comes_from_a_retired_repository() -> None:
    retired = retired_repositories()
    # The 2026 moves: a first wave pulling from one of these fails on every cluster and holds every later wave.
    assert {"https://bitnami-labs.github.io/sealed-secrets", "https://cloudnative-pg.github.io/charts"} <= set(retired)
    catalog = yaml.safe_load(CATALOG_FILE.read_text())["services"]
    used = {name: entry["chart"]["repository"].rstrip("/") for name, entry in catalog.items()}
    assert {name: url for name, url in used.items() if url in retired} == {}
    assert load_catalog().services["sealed-secrets"].chart.repository == "https://bitnami.github.io/sealed-secrets"


@pytest.mark.parametrize(
    "url", ["https://bitnami-labs.github.io/sealed-secrets", "https://headlamp-k8s.github.io/headlamp/"]
)
def test_a_retired_repository_is_refused_naming_where_the_charts_went(url: str) -> None:
    moved_to = retired_repositories()[url.rstrip("/")].moved_to
    with pytest.raises(ValidationError, match=f"no longer serves its charts .*; use {re.escape(moved_to)}"):
        ChartSource(repository=url, name="x", version="1.0.0")


def test_every_retired_entry_names_its_successor_and_evidence() -> None:
    for url, entry in retired_repositories().items():
        assert url.startswith(("https://", "oci://")), url
        assert entry.moved_to and re.match(r"^\d{4}-\d{2}-\d{2}$", entry.since), url
        assert re.search(r"#\d+", entry.evidence), f"{url}: cite the issue or PR"
