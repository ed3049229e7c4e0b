"""The platform-services ApplicationSet and the hub's cluster registration, as the program registers them.

Golden file: tests/golden/platform-services.local.yaml is the ApplicationSet of the local stack. After an
intended change, regenerate it with `UPDATE_GOLDEN=1 pytest tests/test_platform_services.py` and review the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from components.catalog import Catalog, load_catalog
from components.clusters.base import ClusterMetadata
from components.config import load_stack_config
from components.gitops import appsets, registration
from components.gitops.registration import cluster_registration, enable_label
from tests.conftest import assert_golden, base_config, raw_config
from tests.strict_crd import problems
from tools.plan.applications import APPLICATIONSET, application_rows, cluster_secret, rendered_applications
from tools.plan.runner import Plan

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


def test_rolling_sync_steps_ascend_by_wave_and_cover_every_wave(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["mgmt"]
    strategy = appset_of(plan)["spec"]["strategy"]
    assert strategy["type"] == "RollingSync"
    steps = strategy["rollingSync"]["steps"]
    step_waves = []
    for step in steps:
        (expression,) = step["matchExpressions"]
        assert (expression["key"], expression["operator"]) == ("wave", "In")
        (value,) = expression["values"]
        step_waves.append(int(value.removeprefix("w")))
        assert "maxUpdate" not in step, "a wave syncs on every cluster at once, then gates on health"
    assert step_waves == sorted(step_waves) == BRIEF_WAVES
    # Every generated Application is selected by exactly one step (one matched by none would never sync).
    for application in rendered_applications(plan):
        if application["metadata"]["labels"]["project"] != "platform":
            continue  # a domain's Applications come from its own ApplicationSets, which sync without waves
        wave = application["metadata"]["labels"]["wave"]
        assert sum(wave in s["matchExpressions"][0]["values"] for s in steps) == 1, application["metadata"]["name"]


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
    annotations = cluster_secret(shipped_plans["mgmt"]).inputs["metadata"]["annotations"]
    assert annotations["server"] == "https://kubernetes.default.svc"
    assert annotations["account"] == "example-platform-mgmt"
    assert annotations["gitops_repo_url"] == "https://github.com/example-org/platform-gitops"


def test_spoke_registration_defaults_tier_b_off() -> None:
    config = load_stack_config(raw_config(base_config("existing", "dev", services={"loki": {"enabled": True}})), [])
    metadata = ClusterMetadata("existing", "local", "dev", "cluster-dev", "", "standard", "none", "")
    labels = cluster_registration(metadata, config, server="https://x", hub=False).labels
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
    monkeypatch.setattr(appsets, "load_catalog", lambda: bigger_catalog(12))
    monkeypatch.setattr(registration, "load_catalog", lambda: bigger_catalog(12))
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
