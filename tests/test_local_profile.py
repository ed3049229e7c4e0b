"""The lean local profile: what it requests fits the budget docs/local.md states, heavy services are off unless a
stack turns them on, and Argo CD's UI is reachable on localhost through the kind port mapping."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from components.argocd.values import argocd_url
from components.config import load_stack_config
from tests.conftest import CATALOG, base_config, raw_config
from tools.local import budget
from tools.local.budget import BUDGET_CPU_MILLI, BUDGET_MEMORY_MI, NODE, cpu_milli, lines, local_config, memory_mi
from tools.plan.runner import Plan
from tools.plan.stackfile import read_stack_file

PROJECT = Path(__file__).resolve().parents[1]
HEAVY = {"ollama", "n8n", "pgadmin", "redisinsight"}


def totals(found: list[budget.Line]) -> tuple[int, int]:
    return (
        sum(line.cpu_milli * line.replicas for line in found),
        sum(line.memory_mi * line.replicas for line in found),
    )


def test_the_local_profile_fits_the_documented_budget() -> None:
    found = lines()
    cpu, memory = totals(found)
    assert cpu <= BUDGET_CPU_MILLI, f"{cpu}m CPU requested"
    assert memory <= BUDGET_MEMORY_MI, f"{memory}Mi requested"
    owners = {line.owner for line in found}
    assert {"argocd", "gitserver", "kind", "kube-prometheus-stack", "redis"} <= owners
    assert not owners & HEAVY


def test_the_local_page_states_the_budget_the_test_holds() -> None:
    page = (PROJECT / "docs" / "local.md").read_text()
    assert f"{NODE} kind node" in page
    assert f"at most {BUDGET_CPU_MILLI / 1000:g} CPUs and {BUDGET_MEMORY_MI // 1024} GiB requested" in page
    cpu, memory = totals(lines())
    assert f"today about {cpu / 1000:.1f} CPUs and {memory / 1024:.1f} GiB" in " ".join(page.split())


def test_a_heavier_starter_value_breaks_the_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "platform"
    shutil.copytree(budget.VALUES_ROOT, copy)
    layer = copy / "cluster-local" / "kube-prometheus-stack" / "values.yaml"
    values = yaml.safe_load(layer.read_text())
    values["prometheus"]["prometheusSpec"]["resources"]["requests"]["memory"] = "4Gi"
    layer.write_text(yaml.safe_dump(values))
    monkeypatch.setattr(budget, "VALUES_ROOT", copy)
    assert totals(lines())[1] > BUDGET_MEMORY_MI, "the sum reads the starter's values, not a copy of them"


def test_turning_a_heavy_service_on_must_size_it_first() -> None:
    raw, secret_keys = read_stack_file(PROJECT / "Pulumi.local.yaml")
    raw["platform:services"] = json.dumps({"ollama": {"enabled": True}})
    on = load_stack_config(raw, secret_keys, CATALOG)
    with pytest.raises(KeyError, match=r"ollama: enabled on cluster-local but not sized in tools/local/requests\.yaml"):
        lines(on)


def test_every_chart_default_says_where_it_was_read() -> None:
    data = yaml.safe_load(budget.REQUESTS_FILE.read_text())
    for service, pods in data["services"].items():
        for pod in pods:
            assert "replicasValues" in pod or pod.get("source"), (service, pod["pod"])
            for container in pod["containers"]:
                assert "values" in container or container.get("source") or pod.get("source"), (service, container)
    assert all(pod["source"] for pod in data["system"])


def test_quantities_read_as_kubernetes_writes_them() -> None:
    assert [cpu_milli(q) for q in ("100m", "0.5", "1", "0")] == [100, 500, 1000, 0]
    assert [memory_mi(q) for q in ("64Mi", "1Gi", "512Ki", "0")] == [64, 1024, 0, 0]
    with pytest.raises(ValueError, match="not a memory quantity"):
        memory_mi("1G")


def test_heavy_services_are_off_on_local_only() -> None:
    local = load_stack_config(raw_config(base_config("existing", "local")), (), CATALOG)
    assert {name for name, o in local.services.items() if o.enabled is False} == HEAVY
    mgmt = load_stack_config(raw_config(base_config("existing", "mgmt")), ["platform:argocdOidcClientSecret"], CATALOG)
    assert not mgmt.services
    again = load_stack_config(
        raw_config(base_config("existing", "local", services={"ollama": {"enabled": True}})), (), CATALOG
    )
    assert again.service_enabled("ollama", default=True)


def test_argo_cd_answers_on_localhost_through_the_kind_port_mapping(shipped_plans: dict[str, Plan]) -> None:
    kind = yaml.safe_load((PROJECT / "tools/local/kind.yaml").read_text())
    (node,) = kind["nodes"]
    (mapping,) = node["extraPortMappings"]
    config = local_config()
    assert mapping["containerPort"] == config.argocd.node_port, "kind maps the node port the Service opens"
    assert f"https://localhost:{mapping['hostPort']}" == argocd_url(config)
    assert mapping["listenAddress"] == "127.0.0.1", "this machine only"
    assert "@sha256:" in node["image"], "the node image pinned by digest"
    (service,) = [r for r in shipped_plans["local"].by_type("kubernetes:core/v1:Service")]
    spec = service.inputs["spec"]
    assert spec["type"] == "NodePort"
    assert spec["selector"] == {"app.kubernetes.io/name": "argocd-server", "app.kubernetes.io/instance": "argocd"}
    assert spec["ports"] == [{"name": "https", "port": 443, "targetPort": 8080, "nodePort": 30443, "protocol": "TCP"}]
    assert not shipped_plans["mgmt"].by_type("kubernetes:core/v1:Service"), "only where argocd.nodePort is set"


def test_the_e2e_workflow_runs_the_readmes_two_commands_and_always_tears_down() -> None:
    workflow = yaml.safe_load((PROJECT / ".github/workflows/e2e-local.yml").read_text())
    (job,) = workflow["jobs"].values()
    runs = [step.get("run", "") for step in job["steps"]]
    readme = (PROJECT / "README.md").read_text()
    for command in ("make up-local", "make test"):
        assert f"{command}   #" in readme or f"{command}       #" in readme
        assert any(run.startswith(command) for run in runs), command
    assert any("--summary ${GITHUB_STEP_SUMMARY}" in run for run in runs), "the measured time in the job summary"
    assert any("tools.local.ready" in run for run in runs), "asserts every Application Synced and Healthy"
    destroy = job["steps"][-1]
    assert destroy["run"] == "make destroy-local" and destroy["if"] == "always()"
    assert workflow["permissions"] == {} and job["permissions"] == {"contents": "read"}


def test_the_readmes_first_screen_gives_the_url_the_login_and_a_labelled_time_to_ready() -> None:
    first_screen = "\n".join((PROJECT / "README.md").read_text().splitlines()[:30])
    assert "make up-local" in first_screen and "make test" in first_screen
    assert argocd_url(local_config()) == "https://localhost:8080"
    assert "https://localhost:8080" in first_screen
    assert "user `admin`, password from\n  `make local-password`" in first_screen
    assert "local-password:" in (PROJECT / "Makefile").read_text(), "the login command the README names exists"
    label = re.search(r"Time to ready:[^\n]{0,60}\((measured|estimated)\b", first_screen)
    assert label is not None, "the time to ready must say whether it was measured or estimated"


def test_the_seeded_domains_service_is_counted_from_its_manifests() -> None:
    shop = [line for line in lines() if line.owner == "shop"]
    assert [(line.pod, line.replicas, line.cpu_milli, line.memory_mi) for line in shop] == [("api/api", 1, 50, 64)]
    assert shop[0].source == "k8s/local/api"


def test_a_domain_manifest_edit_changes_the_sum(tmp_path: Path) -> None:
    copy = tmp_path / "domain"
    shutil.copytree(PROJECT / "starters" / "domain-gitops", copy)
    local = copy / "k8s" / "local" / "api" / "kustomization.yaml"
    kustomization = yaml.safe_load(local.read_text())
    kustomization["replicas"][0]["count"] = 3
    local.write_text(yaml.safe_dump(kustomization))
    deployment = copy / "k8s" / "_base" / "api" / "deployment.yaml"
    deployment.write_text(deployment.read_text().replace("cpu: 50m", "cpu: 200m"))
    config = local_config()
    assert config.git_server is not None
    moved = config.model_copy(
        update={"git_server": config.git_server.model_copy(update={"domain_folders": {"shop": str(copy)}})}
    )
    [api] = budget.domain_lines(moved)
    assert (api.replicas, api.cpu_milli, api.memory_mi) == (3, 200, 64), "the env's replicas, the base's requests"
    (copy / "k8s" / "local" / "api" / "Chart.yaml").write_text("name: api\n")
    with pytest.raises(ValueError, match="a Helm chart"):
        budget.domain_lines(moved)
