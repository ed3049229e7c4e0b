"""The platform-services ApplicationSet and the hub's cluster registration, as the program registers them.

Golden file: tests/golden/platform-services.local.yaml is the ApplicationSet of the local stack. After an
intended change, regenerate it with `UPDATE_GOLDEN=1 pytest tests/test_platform_services.py` and review the diff.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
import yaml

from components import catalog as catalog_module
from components.catalog import Catalog, load_catalog
from components.cluster_secret import enable_label
from components.clusters.base import ClusterMetadata
from components.config import ConfigError, load_stack_config
from components.gitops import appsets, registration
from components.gitops.registration import cluster_registration
from tests.conftest import (
    CATALOG,
    SHIPPED_STACKS,
    argocd_release,
    assert_golden,
    base_config,
    configured_repo_url,
    raw_config,
)
from tests.strict_crd import problems
from tools.gitops_init import PLATFORM_STARTER
from tools.plan.applications import (
    APPLICATIONSET,
    application_rows,
    chart_children,
    cluster_params,
    cluster_secret,
    expand,
    rendered_applications,
)
from tools.plan.runner import Plan
from tools.plan.writer import helm_release_of

BRIEF_WAVES = [-20, -10, -5, 0, 5, 10]


def appset_of(plan: Plan) -> dict[str, Any]:
    """The platform-services ApplicationSet (a hub with domains has theirs too)."""
    (found,) = [r for r in plan.by_type(APPLICATIONSET) if r.name == appsets.APPSET_NAME]
    return found.inputs


def test_template_project_is_literal(shipped_plans: dict[str, Plan]) -> None:
    spec = appset_of(shipped_plans["mgmt"])["spec"]
    assert spec["template"]["spec"]["project"] == "platform"
    # Domain rows (expanded from the domain starter, marked `example`) are in their domain's project.
    assert all(r["project"] == "platform" for r in application_rows(shipped_plans["mgmt"]) if not r.get("example"))


def test_go_templates_fail_on_missing_keys(shipped_plans: dict[str, Plan]) -> None:
    spec = appset_of(shipped_plans["local"])["spec"]
    assert spec["goTemplate"] is True
    assert spec["goTemplateOptions"] == ["missingkey=error"]


def platform_applications(plan: Plan, spokes: Sequence[Plan] = ()) -> list[dict[str, Any]]:
    return [a for a in rendered_applications(plan, spokes) if a["metadata"]["labels"]["project"] == "platform"]


def fleet(plans: dict[str, Plan]) -> tuple[Plan, list[Plan]]:
    hub = plans["mgmt"]
    return hub, [plan for plan in plans.values() if plan.hub is hub]


def test_one_parent_per_cluster_holds_that_clusters_services_in_wave_order(shipped_plans: dict[str, Plan]) -> None:
    hub, spokes = fleet(shipped_plans)
    spec = appset_of(hub)["spec"]
    assert "strategy" not in spec, "no RollingSync: it forces automated sync off (Progressive-Syncs.md)"
    applications = platform_applications(hub, spokes)
    parents = [a for a in applications if a["spec"].get("source", {}).get("path") == appsets.ORDER_CHART_PATH]
    clusters = {c["name"] for plan in (hub, *spokes) for c in cluster_params(plan)}
    assert sorted(p["metadata"]["name"] for p in parents) == sorted(f"platform-{c}" for c in clusters)
    catalog = load_catalog()
    for parent in parents:
        # Deleting a parent deletes its children.
        assert parent["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
        # The children are Applications beside Argo CD on the hub.
        assert parent["spec"]["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "argocd"}
        cluster = parent["metadata"]["labels"]["cluster"]
        children = chart_children(parent)
        assert children, cluster
        for child in children:
            service = catalog.services[child["metadata"]["labels"]["service"]]
            assert child["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": str(service.wave)}
            assert child["metadata"]["labels"]["wave"] == appsets.wave_label(service.wave)
            assert child["metadata"]["labels"]["cluster"] == cluster, "a parent holds only its own cluster"
            assert child["metadata"]["namespace"] == "argocd"
            assert "finalizers" not in child["metadata"], "a hub's destroy must not wait on every service"
        waves = [int(c["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for c in children]
        assert waves == sorted(waves)
    assert {
        int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        for a in applications
        if "annotations" in a["metadata"]
    } == set(BRIEF_WAVES)


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_shipped_stack_plans_its_ordering_on_the_fixed_argo_cd(
    stack: str, shipped_plans: dict[str, Plan]
) -> None:
    """What Argo CD needs for the order, in the plan of the hub that serves the stack's cluster: the parent of
    that cluster, the Application health check, and the pinned release."""
    plan = shipped_plans[stack]
    hub = plan if plan.hub is None else plan.hub
    (own,) = cluster_params(plan)
    parents = [
        a
        for a in platform_applications(hub, [] if plan.hub is None else [plan])
        if a["metadata"]["name"] == f"platform-{own['name']}"
    ]
    assert len(parents) == 1 and chart_children(parents[0]), stack
    values = helm_release_of(argocd_release(hub))["values"]
    assert values["global"]["image"]["tag"] == "v3.4.7"
    assert "resource.customizations.health.argoproj.io_Application" in values["configs"]["cm"]


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_self_heal_and_prune_on_every_platform_application(stack: str, shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans[stack]
    hub = plan if plan.hub is None else plan.hub
    applications = platform_applications(hub, [] if plan.hub is None else [plan])
    assert len(applications) > 1
    for application in applications:
        automated = application["spec"]["syncPolicy"]["automated"]
        assert automated == {"prune": True, "selfHeal": True}, application["metadata"]["name"]


def test_a_parent_retries_its_sync_without_end_and_its_children_keep_the_normal_limit(
    shipped_plans: dict[str, Plan],
) -> None:
    """A Degraded child fails its parent's sync; a spent retry budget would leave the later waves waiting for the
    next commit (auto-sync does not retry a failed revision), so only the parents retry without end."""
    hub, spokes = fleet(shipped_plans)
    applications = platform_applications(hub, spokes)
    parents = [a for a in applications if a["spec"].get("source", {}).get("path") == appsets.ORDER_CHART_PATH]
    children = [a for a in applications if a not in parents]
    assert parents and children
    backoff = {"duration": "5s", "factor": 2, "maxDuration": "3m"}
    for parent in parents:
        # Below 0 is unlimited (controller/appcontroller.go:1579, v3.4.7); the backoff keeps retries 3m apart.
        assert parent["spec"]["syncPolicy"]["retry"] == {"limit": -1, "backoff": backoff}, parent["metadata"]
    for child in children:
        assert child["spec"]["syncPolicy"]["retry"] == {"limit": 5, "backoff": backoff}, child["metadata"]["name"]


def test_charts_that_stay_out_of_sync_ignore_those_fields(shipped_plans: dict[str, Plan]) -> None:
    children = {a["metadata"]["labels"]["service"]: a for a in platform_applications(shipped_plans["local"])}
    webhook = ".webhooks[]?.clientConfig.caBundle"
    expected = {
        "cert-manager": {
            ("ValidatingWebhookConfiguration", "cert-manager-webhook"),
            ("MutatingWebhookConfiguration", "cert-manager-webhook"),
        },
        "cloudnative-pg": {
            ("MutatingWebhookConfiguration", "cnpg-mutating-webhook-configuration"),
            ("ValidatingWebhookConfiguration", "cnpg-validating-webhook-configuration"),
        },
        # Kong 3.4.1 puts the namespace into the webhook's name (kong.fullname is kong-kong).
        "kong": {
            ("ValidatingWebhookConfiguration", "kong-kong-platform-local-ingress-validations"),
            ("Secret", "kong-kong-validation-webhook-ca-keypair"),
            ("Secret", "kong-kong-validation-webhook-keypair"),
        },
        "kube-prometheus-stack": {
            ("MutatingWebhookConfiguration", "kube-prometheus-stack-admission"),
            ("ValidatingWebhookConfiguration", "kube-prometheus-stack-admission"),
            ("Secret", "kube-prometheus-stack-grafana"),
        },
    }
    for service, objects in expected.items():
        spec = children[service]["spec"]
        assert {(d["kind"], d["name"]) for d in spec["ignoreDifferences"]} == objects, service
        for entry in spec["ignoreDifferences"]:
            if entry["kind"].endswith("WebhookConfiguration"):
                assert (entry["group"], entry["jqPathExpressions"]) == ("admissionregistration.k8s.io", [webhook])
            if service == "kong" and entry["kind"] == "Secret":
                # The CA and certificate the chart generates on every render, kept with the caBundle as one set.
                assert entry["jsonPointers"] == ["/data/tls.crt", "/data/tls.key"], entry
        # A later sync keeps the injected value instead of writing Git's back.
        assert "RespectIgnoreDifferences=true" in spec["syncPolicy"]["syncOptions"], service
    for service, child in children.items():
        if service not in expected:
            assert "ignoreDifferences" not in child["spec"], service
            assert "RespectIgnoreDifferences=true" not in child["spec"]["syncPolicy"]["syncOptions"], service


def test_the_plan_replays_the_shipped_chart() -> None:
    """`chart_children` replays charts/platform-waves; if the chart's template changes, so must the replay."""
    chart = PLATFORM_STARTER / appsets.ORDER_CHART_PATH
    template = (chart / "templates" / "applications.yaml").read_text()
    assert template == (
        "{{- range .Values.applications }}\n"
        "{{- if eq .enabled .when }}\n"
        "---\n"
        "{{ toYaml .application }}\n"
        "{{- end }}\n"
        "{{- end }}\n"
    )
    assert [p.relative_to(chart).as_posix() for p in sorted(chart.rglob("*")) if p.is_file()] == [
        "Chart.yaml",
        "templates/applications.yaml",
        "values.yaml",
    ]
    assert yaml.safe_load((chart / "values.yaml").read_text()) == {"applications": []}


def test_tier_b_needs_the_hub_env_even_when_a_spoke_enables_it(run_config: Callable[..., Plan]) -> None:
    hub = run_config(base_config("existing", "mgmt"))
    spoke = run_config(base_config("aws", "dev", services={"loki": {"enabled": True}, "kong": {"enabled": False}}))
    assert cluster_secret(spoke).inputs["metadata"]["labels"]["enable_loki"] == "true"
    on_dev = {r["service"] for r in application_rows(hub, [spoke]) if r["cluster"] == "cluster-dev"}
    tier_a = {n for n, s in load_catalog().services.items() if s.tier == "A"}
    assert on_dev == tier_a - {"kong"}, "loki is Tier B: only the hub's env gets it; kong is off on dev"


def test_a_hub_with_two_dev_spokes_names_every_application_once(run_config: Callable[..., Plan]) -> None:
    hub = run_config(base_config("existing", "mgmt"))
    first = run_config(base_config("aws", "dev"))
    second_config = base_config("aws", "dev")
    second_config["cluster"] = {**second_config["cluster"], "name": "cluster-dev-eu"}
    second = run_config(second_config)
    rows = [r for r in application_rows(hub, [first, second]) if not r.get("example")]
    names = [r["name"] for r in rows]
    assert len(names) == len(set(names)), "Argo CD refuses a second Application of one name"
    tier_a = {n for n, s in load_catalog().services.items() if s.tier == "A"}
    by_cluster = {c: {r["name"] for r in rows if r["cluster"] == c} for c in ("cluster-dev", "cluster-dev-eu")}
    # The default-named cluster of the env keeps the semantic `{service}-{env}`; the other ends with its name.
    assert by_cluster["cluster-dev"] == {f"{s}-dev" for s in tier_a}
    assert by_cluster["cluster-dev-eu"] == {f"{s}-cluster-dev-eu" for s in tier_a}
    assert {r["parent"] for r in rows if r["cluster"] == "cluster-dev-eu"} == {"platform-cluster-dev-eu"}


def test_app_suffix_is_the_env_only_for_the_default_cluster_name() -> None:
    assert registration.app_suffix("dev", "cluster-dev") == "dev"
    assert registration.app_suffix("dev", "cluster-dev-eu") == "cluster-dev-eu"
    assert registration.app_suffix("dev", "cluster-prod") == "cluster-prod", "never another env's suffix"


def test_a_cluster_registered_before_app_suffix_keeps_its_names(run_config: Callable[..., Plan]) -> None:
    plan = run_config(base_config("existing", "mgmt"))
    (cluster,) = cluster_params(plan)
    del cluster["metadata"]["labels"]["app_suffix"]
    (parent,) = expand(appset_of(plan)["spec"], [cluster])
    assert {c["metadata"]["name"] for c in chart_children(parent)} == {
        f"{s.name}-mgmt" for s in appsets.ordered_services(load_catalog())
    }


def test_a_cluster_named_like_an_env_is_refused() -> None:
    config = base_config("aws", "dev")
    config["cluster"] = {**config["cluster"], "name": "prod"}
    with pytest.raises(ConfigError, match=r"cluster\.name.*'prod' is an environment's name"):
        load_stack_config(raw_config(config), [], CATALOG)


def replay(rows: list[dict[str, Any]], unhealthy: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """(cluster, service) pairs a parent applies while `unhealthy` ones never turn Healthy: an Application is
    applied once everything it is gated by is applied and Healthy (sync waves, docs/user-guide/sync-waves.md)."""
    by_name = {(r["cluster"], r["name"]): r for r in rows}
    applied: set[tuple[str, str]] = set()

    def healthy(row: dict[str, Any]) -> bool:
        key = (row["cluster"], row["service"])
        return key in applied and key not in unhealthy

    for row in sorted(rows, key=lambda r: r["wave"]):
        if all(healthy(by_name[(row["cluster"], name)]) for name in row["gatedBy"]):
            applied.add((row["cluster"], row["service"]))
    return applied


def test_an_unhealthy_wave_holds_only_its_own_cluster(shipped_plans: dict[str, Plan]) -> None:
    hub, spokes = fleet(shipped_plans)
    rows = [r for r in application_rows(hub, spokes) if not r.get("example")]
    everything = {(r["cluster"], r["service"]) for r in rows}
    assert replay(rows, set()) == everything
    # cloudnative-pg (wave -5) never turns Healthy on cluster-dev.
    applied = replay(rows, {("cluster-dev", "cloudnative-pg")})
    on_dev = {s for c, s in applied if c == "cluster-dev"}
    assert on_dev == {"sealed-secrets", "cert-manager", "reflector", "cloudnative-pg"}, "waves up to -5 only"
    assert {p for p in applied if p[0] != "cluster-dev"} == {p for p in everything if p[0] != "cluster-dev"}
    # The same service failing on the hub holds the hub's later waves, Tier B included, and no spoke.
    applied = replay(rows, {("cluster-mgmt", "cert-manager")})
    assert {s for c, s in applied if c == "cluster-mgmt"} == {"sealed-secrets", "cert-manager", "reflector"}
    assert {p for p in applied if p[0] != "cluster-mgmt"} == {p for p in everything if p[0] != "cluster-mgmt"}


def test_a_disabled_service_does_not_hold_its_wave(run_config: Callable[..., Plan]) -> None:
    plan = run_config(base_config("existing", "mgmt", services={"cloudnative-pg": {"enabled": False}}))
    rows = application_rows(plan)
    assert "cloudnative-pg" not in {r["service"] for r in rows}
    kong = next(r for r in rows if r["service"] == "kong")
    assert kong["gatedBy"] == ["crossplane-mgmt"], "wave 0 waits for what wave -5 holds on this cluster"
    assert replay(rows, set()) == {(r["cluster"], r["service"]) for r in rows}


def test_applicationset_lives_on_the_hub_cluster(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["mgmt"]
    (appset,) = [r for r in plan.by_type(APPLICATIONSET) if r.name == appsets.APPSET_NAME]
    secret = cluster_secret(plan)
    assert appset.inputs["metadata"]["namespace"] == secret.inputs["metadata"]["namespace"] == "argocd"
    assert appset.provider_urn == secret.provider_urn
    assert "cluster-mgmt-k8s" in str(appset.provider_urn), "the hub cluster's own provider, not the ambient one"


def test_hub_registration_labels(shipped_plans: dict[str, Plan]) -> None:
    labels = cluster_secret(shipped_plans["mgmt"]).inputs["metadata"]["labels"]
    assert labels["argocd.argoproj.io/secret-type"] == "cluster"
    assert (labels["env"], labels["cloud"], labels["region"], labels["cluster-name"]) == (
        "mgmt",
        "gcp",
        "europe-west1",
        "cluster-mgmt",
    )
    assert {k for k in labels if k.startswith("enable_")} == {enable_label(n) for n in load_catalog().services}
    assert labels["app_suffix"] == "mgmt", "the env's default-named cluster keeps {service}-{env}"
    annotations = cluster_secret(shipped_plans["mgmt"]).inputs["metadata"]["annotations"]
    assert annotations["server"] == "https://kubernetes.default.svc"
    assert annotations["account"] == "example-platform-mgmt"
    assert annotations["gitops_repo_url"] == configured_repo_url("mgmt")


def test_spoke_registration_defaults_tier_b_off() -> None:
    config = load_stack_config(
        raw_config(base_config("existing", "dev", services={"loki": {"enabled": True}})), [], CATALOG
    )
    metadata = ClusterMetadata("existing", "local", "dev", "cluster-dev", "", "standard", "none", "")
    labels = cluster_registration(metadata, config, server="https://x", hub=False, catalog=CATALOG).labels
    for service in load_catalog().services.values():
        expected = service.tier == "A" or service.name == "loki"
        assert labels[enable_label(service.name)] == str(expected).lower(), service.name


def bigger_catalog(extra: int) -> Catalog:
    catalog = load_catalog()
    template = catalog.services["alloy"]
    services = dict(catalog.services)
    for index in range(extra):
        name = f"synthetic-{index}"
        services[name] = template.model_copy(update={"name": name, "tier": "AB"[index % 2]})
    return Catalog(services=services)


def test_resource_count_does_not_grow_with_services(
    run_config: Callable[..., Plan], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = base_config("existing", "mgmt")
    before = run_config(config)
    # The program loads the catalog once (__main__.py) and passes it on.
    monkeypatch.setattr(catalog_module, "load_catalog", lambda: bigger_catalog(12))
    after = run_config(config)
    assert sorted((r.type, r.name) for r in after.resources) == sorted((r.type, r.name) for r in before.resources)
    assert len(application_rows(after)) == len(application_rows(before)) + 12


@pytest.mark.parametrize("stack", ["local", "mgmt"])
def test_appset_and_generated_applications_validate_strictly(
    stack: str, shipped_plans: dict[str, Plan], validators: dict[str, Any]
) -> None:
    plan = shipped_plans[stack]
    documents = [appset_of(plan), *rendered_applications(plan)]
    assert [error for document in documents for error in problems(validators, document)] == []


def test_golden_local_applicationset(shipped_plans: dict[str, Plan]) -> None:
    assert_golden("platform-services.local.yaml", yaml.safe_dump(appset_of(shipped_plans["local"]), sort_keys=True))
