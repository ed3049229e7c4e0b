"""applications.json: the Applications the plan's ApplicationSets generate, expanded from the registered objects."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.catalog import load_catalog
from components.clusters.base import ClusterMetadata
from components.config import load_stack_config
from components.gitops.registration import cluster_registration
from components.naming import POD_SECURITY_ENFORCE
from tests.conftest import base_config, one, raw_config, secret_keys_of
from tools.plan.applications import (
    APPLICATIONSET,
    ExpansionError,
    application_rows,
    chart_children,
    cluster_params,
    cluster_secret,
    expand,
    stack_rows,
)
from tools.plan.gotemplate import TemplateError, render_string
from tools.plan.runner import Plan
from tools.plan.writer import write_plan

CATALOG = load_catalog()
GENERATED = {s.name: s for s in CATALOG.services.values() if not s.self_managed}
TIER_A = {name for name, s in GENERATED.items() if s.tier == "A"}


def expected_namespace(service: str, env: str) -> str:
    entry = GENERATED[service]
    return entry.namespace or f"platform-{env}-{entry.group}"


def assert_hub_rows(rows: list[dict[str, Any]], cluster: str, env: str, disabled: frozenset[str] = frozenset()) -> None:
    on_cluster = [r for r in rows if r["cluster"] == cluster and r["project"] == "platform"]
    expected = set(GENERATED) - disabled
    assert {r["service"] for r in on_cluster} == expected, "hub must get exactly Tier A + Tier B, less what it disables"
    assert len(on_cluster) == len(expected)
    for row in on_cluster:
        service = GENERATED[row["service"]]
        assert row["wave"] == service.wave
        assert row["namespace"] == expected_namespace(row["service"], env)
        assert row["name"] == f"{row['service']}-{env}"
        assert row["env"] == env
        assert row["project"] == "platform"
        assert (row["repoURL"], row["chart"], row["version"]) == (
            service.chart.argocd_repo_url,
            service.chart.name,
            service.chart.version,
        )
        assert not row["repoURL"].startswith("oci://")
        assert row["valueFiles"] == [
            f"$values/k8s/platform/_base/{row['service']}/values.yaml",
            f"$values/k8s/platform/_cloud/{row['valueFiles'][1].split('/')[4]}/{row['service']}/values.yaml",
            f"$values/k8s/platform/{cluster}/{row['service']}/values.yaml",
        ]


def test_local_stack_puts_tier_a_and_b_on_its_own_cluster(shipped_plans: dict[str, Plan]) -> None:
    rows = [r for r in application_rows(shipped_plans["local"]) if r["project"] == "platform"]
    # The laptop profile's heavy services are off by default (defaults.yaml, environments.local.services).
    assert_hub_rows(rows, "cluster-local", "local", frozenset({"ollama", "n8n", "pgadmin", "redisinsight"}))
    assert all("/_cloud/existing/" in r["valueFiles"][1] for r in rows)


def test_mgmt_hub_puts_tier_a_and_b_on_cluster_mgmt(run_config: Callable[..., Plan]) -> None:
    rows = application_rows(run_config(base_config("existing", "mgmt")))
    assert_hub_rows(rows, "cluster-mgmt", "mgmt")


def test_argocd_itself_is_not_generated(shipped_plans: dict[str, Plan]) -> None:
    assert "argocd" not in {r["service"] for r in application_rows(shipped_plans["mgmt"])}


def test_spoke_stack_generates_nothing_itself(shipped_plans: dict[str, Plan]) -> None:
    assert application_rows(shipped_plans["dev"]) == []


def test_disabled_service_disappears_from_that_cluster_only(run_config: Callable[..., Plan]) -> None:
    plan = run_config(base_config("existing", "mgmt"))
    hub = cluster_params(plan)[0]
    # A spoke registered with the same contract, with kong switched off in its own stack config.
    spoke_config = load_stack_config(
        raw_config(base_config("existing", "dev", services={"kong": {"enabled": False}})),
        secret_keys_of({}),
        CATALOG,
    )
    metadata = ClusterMetadata(
        cloud="aws",
        region="eu-west-1",
        env="dev",
        cluster_name="cluster-dev",
        account="123456789012",
        storage_class="gp3",
        load_balancer="aws-nlb",
        oidc_issuer_url="",
    )
    labels = cluster_registration(
        metadata, spoke_config, server="https://dev.example", hub=False, catalog=CATALOG
    ).labels
    spoke = {
        "name": "cluster-dev",
        "server": "https://dev.example",
        "metadata": {"labels": labels, "annotations": {**hub["metadata"]["annotations"], "server": "https://dev"}},
    }
    spec = one(plan, APPLICATIONSET).inputs["spec"]
    by_cluster: dict[str, set[str]] = {}
    for parent in expand(spec, [hub, spoke]):
        for application in chart_children(parent):
            by_cluster.setdefault(application["metadata"]["labels"]["cluster"], set()).add(
                application["metadata"]["labels"]["service"]
            )
    assert by_cluster["cluster-mgmt"] == set(GENERATED)
    assert by_cluster["cluster-dev"] == TIER_A - {"kong"}, "Tier B stays on the hub; kong is off on dev only"


def test_disabled_service_on_the_hub_is_gone_from_the_hub(run_config: Callable[..., Plan]) -> None:
    plan = run_config(base_config("existing", "mgmt", services={"loki": {"enabled": False}}))
    assert cluster_secret(plan).inputs["metadata"]["labels"]["enable_loki"] == "false"
    assert {r["service"] for r in application_rows(plan)} == set(GENERATED) - {"loki"}


def test_a_service_turned_off_does_not_weaken_its_groups_namespace(run_config: Callable[..., Plan]) -> None:
    """loki shares platform-{env}-logging with alloy, which reads the node (privileged): with alloy off on the
    cluster, the namespace enforces loki's own level."""

    def loki_enforce(plan: Plan, strip_levels: bool = False) -> str:
        hub = cluster_params(plan)[0]
        if strip_levels:  # a cluster registered before its registration carried the levels
            labels = {k: v for k, v in hub["metadata"]["labels"].items() if not k.startswith("pod_security_")}
            hub = {**hub, "metadata": {**hub["metadata"], "labels": labels}}
        spec = one(plan, APPLICATIONSET).inputs["spec"]
        [loki] = [
            a
            for parent in expand(spec, [hub])
            for a in chart_children(parent)
            if a["metadata"]["labels"]["service"] == "loki"
        ]
        return loki["spec"]["syncPolicy"]["managedNamespaceMetadata"]["labels"][POD_SECURITY_ENFORCE]

    with_alloy = run_config(base_config("existing", "mgmt"))
    assert loki_enforce(with_alloy) == "privileged"
    assert loki_enforce(with_alloy, strip_levels=True) == "privileged"
    without_alloy = run_config(base_config("existing", "mgmt", services={"alloy": {"enabled": False}}))
    assert cluster_secret(without_alloy).inputs["metadata"]["labels"]["pod_security_logging"] == "restricted"
    assert loki_enforce(without_alloy) == CATALOG.services["loki"].pod_security_level == "restricted"
    # Without the label, the level that counts every catalogued service: never too strict for what runs.
    assert loki_enforce(without_alloy, strip_levels=True) == "privileged"


def test_version_override_reaches_the_application(run_config: Callable[..., Plan]) -> None:
    plan = run_config(base_config("existing", "mgmt", services={"kong": {"version": "3.5.0"}}))
    assert cluster_secret(plan).inputs["metadata"]["annotations"]["version_kong"] == "3.5.0"
    versions = {r["service"]: r["version"] for r in application_rows(plan)}
    assert versions["kong"] == "3.5.0"
    assert versions["alloy"] == GENERATED["alloy"].chart.version


def test_plan_writes_applications_json(shipped_plans: dict[str, Plan], tmp_path: Path) -> None:
    write_plan(shipped_plans["local"], tmp_path)
    rows = json.loads((tmp_path / "applications.json").read_text())
    assert rows == application_rows(shipped_plans["local"])
    assert set(rows[0]) == {
        "name",
        "parent",
        "gatedBy",
        "service",
        "cluster",
        "env",
        "namespace",
        "project",
        "wave",
        "repoURL",
        "chart",
        "version",
        "valueFiles",
    }


@pytest.mark.parametrize(
    "template",
    [
        "{{ .a | upper }}",
        "{{ if .a }}x{{ end }}",
        "{{ upper .a }}",
        "{{- .a }}",
        "{{ $x := .a }}",
        "{{ . }}",
        '{{ printf "%d" .a }}',
        "{{ .missing }}",
        "{{ .a.b }}",
        "{{ index .m }}",
    ],
)
def test_renderer_refuses_what_it_does_not_support(template: str) -> None:
    with pytest.raises(TemplateError):
        render_string(template, {"a": "x", "m": {}})


def test_renderer_evaluates_the_subset() -> None:
    params = {"s": "kong", "v": "1.0.0", "m": {"k": "2.0.0"}, "e": "dev", "g": "ingress", "n": ""}
    assert render_string("{{default .v (index .m .s)}}", params) == "1.0.0"
    assert render_string('{{default .v (index .m "k")}}', params) == "2.0.0"
    assert render_string('{{default (printf "platform-%s-%s" .e .g) .n}}', params) == "platform-dev-ingress"
    assert render_string("w{{.s}}-{{ .e }}", params) == "wkong-dev"


def test_expansion_refuses_unsupported_generators(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["local"]
    spec = next(r for r in plan.by_type(APPLICATIONSET) if r.name == "platform-services").inputs["spec"]
    clusters = cluster_params(plan)
    with_git = copy.deepcopy(spec)
    with_git["generators"].append({"git": {"repoURL": "https://example.test", "revision": "main"}})
    with_post_selector = copy.deepcopy(spec)
    with_post_selector["generators"][0]["selector"] = {"matchLabels": {"env": "local"}}
    without_missingkey = {**spec, "goTemplateOptions": []}
    for broken in (with_git, with_post_selector, without_missingkey, {**spec, "templatePatch": "x"}):
        with pytest.raises(ExpansionError):
            expand(broken, clusters)


def test_mermaid_draws_every_service_and_orders_waves(shipped_plans: dict[str, Plan], tmp_path: Path) -> None:
    write_plan(shipped_plans["mgmt"], tmp_path)
    picture = (tmp_path / "applications.mmd").read_text()
    assert picture.startswith("flowchart LR\n")
    for service in GENERATED:
        assert f"<br/>{service}" in picture
    arrows = [line.split(" -->|Healthy| ") for line in picture.splitlines() if " -->|Healthy| " in line]
    expected = ["wm20", "wm10", "wm5", "w0", "w5", "w10"]
    assert [(a.strip().rsplit("_", 1)[1], b.rsplit("_", 1)[1]) for a, b in arrows] == list(itertools.pairwise(expected))


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_a_spoke_plan_shows_what_the_hub_deploys_to_its_cluster(stack: str, shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans[stack]
    assert plan.hub is not None, "a shipped spoke is planned with its shipped hub"
    rows = [row for row in stack_rows(plan) if not row.get("example")]
    assert {row["cluster"] for row in rows} == {f"cluster-{stack}"}
    tier_a = {name for name, service in load_catalog().services.items() if service.tier == "A"}
    assert {row["service"] for row in rows} == tier_a
    assert all(row["env"] == stack for row in rows)
