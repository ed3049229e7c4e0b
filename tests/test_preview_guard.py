"""The preview guard on recorded `pulumi preview --json` documents (tests/fixtures/preview/)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from policy.policies.production import PROTECTED
from tools.preview_guard import CRITICAL_RESOURCES, GUARDED, blocked_steps, main

FIXTURES = Path(__file__).parent / "fixtures" / "preview"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    code = main(list(argv))
    return code, capsys.readouterr().out.splitlines()


def test_replacing_the_prod_cluster_fails_naming_urn_type_and_op(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run(capsys, str(FIXTURES / "prod_cluster_replace.json"), "--stack", "prod")
    assert code == 1
    assert lines == [
        "blocked: replace aws:eks/cluster:Cluster "
        "urn:pulumi:prod::platform::platform:clusters:EksCluster$aws:eks/cluster:Cluster::cluster-prod-cluster "
        "(EKS cluster)",
        "blocked: replace pulumi:providers:kubernetes "
        "urn:pulumi:prod::platform::platform:clusters:EksCluster$pulumi:providers:kubernetes::cluster-prod-k8s "
        "(Kubernetes provider (everything on it is replaced with it))",
    ]


def test_the_override_reports_but_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run(capsys, str(FIXTURES / "prod_cluster_replace.json"), "--stack", "prod", "--allow-destructive")
    assert code == 0
    assert len(lines) == 2
    assert all(line.startswith("allowed: replace ") for line in lines)


def test_replacement_steps_pair_is_caught_step_by_step() -> None:
    blocked = blocked_steps(load("staging_replacement_pair.json"), "staging")
    assert [b.op for b in blocked] == ["create-replacement", "replace", "delete-replaced"]
    assert {b.type for b in blocked} == {"aws:eks/nodeGroup:NodeGroup"}


def test_in_place_update_passes_even_with_a_replaced_release_outside_argocd(capsys: pytest.CaptureFixture[str]) -> None:
    digest = load("prod_update_in_place.json")
    # The fixture really does replace a Helm release, only not the Argo CD one.
    assert any(step["op"] == "replace" and "helm.sh" in step["urn"] for step in digest["steps"])
    code, lines = run(capsys, str(FIXTURES / "prod_update_in_place.json"), "--stack", "prod")
    assert (code, lines) == (0, [])


def test_deleting_a_dev_cluster_passes() -> None:
    digest = load("dev_cluster_delete.json")
    assert {step["op"] for step in digest["steps"]} >= {"delete"}
    assert blocked_steps(digest, "dev") == []


def test_the_same_deletes_in_prod_fail() -> None:
    digest = json.loads(json.dumps(load("dev_cluster_delete.json")).replace("urn:pulumi:dev::", "urn:pulumi:prod::"))
    blocked = blocked_steps(digest)  # no --stack: the URNs name the stack
    assert [b.type for b in blocked] == [
        "azure-native:containerservice:AgentPool",
        "azure-native:containerservice:ManagedCluster",
    ]


def test_the_same_deletes_on_the_mgmt_hub_fail() -> None:
    # mgmt is protected like prod (components/config/environments.py): losing it stops delivery to every cluster.
    digest = json.loads(json.dumps(load("dev_cluster_delete.json")).replace("urn:pulumi:dev::", "urn:pulumi:mgmt::"))
    assert [b.type for b in blocked_steps(digest)] == [
        "azure-native:containerservice:AgentPool",
        "azure-native:containerservice:ManagedCluster",
    ]


def test_argocd_namespace_and_release_are_guarded() -> None:
    blocked = blocked_steps(load("prod_argocd_destroyed.json"), "prod")
    assert [(b.op, b.type) for b in blocked] == [
        ("replace", "kubernetes:core/v1:Namespace"),
        ("delete", "kubernetes:helm.sh/v3:Release"),
    ]


def test_the_argocd_namespace_patch_and_the_egress_addresses_are_guarded() -> None:
    digest = load("prod_argocd_destroyed.json")
    for step in digest["steps"]:
        for key in ("oldState", "newState"):
            if step.get(key, {}).get("type") == "kubernetes:core/v1:Namespace":
                step[key]["type"] = "kubernetes:core/v1:NamespacePatch"
    egress = {"op": "replace", "urn": "urn:pulumi:prod::platform::aws:ec2/eip:Eip::cluster-prod-nat-a-ip"}
    digest["steps"].append({**egress, "oldState": {"type": "aws:ec2/eip:Eip", "inputs": {}}})
    assert [(b.op, b.type) for b in blocked_steps(digest, "prod")] == [
        ("replace", "kubernetes:core/v1:NamespacePatch"),
        ("delete", "kubernetes:helm.sh/v3:Release"),
        ("replace", "aws:ec2/eip:Eip"),
    ]


def test_a_namespace_other_than_argocd_may_be_replaced() -> None:
    digest = load("prod_argocd_destroyed.json")
    for step in digest["steps"]:
        for key in ("oldState", "newState"):
            if step.get(key, {}).get("type") == "kubernetes:core/v1:Namespace":
                step[key]["inputs"]["metadata"]["name"] = "payments-prod-api"
    assert [b.type for b in blocked_steps(digest, "prod")] == ["kubernetes:helm.sh/v3:Release"]


def test_env_from_the_preview_config_protects_an_unconventionally_named_stack() -> None:
    digest = json.loads(json.dumps(load("prod_cluster_replace.json")).replace("urn:pulumi:prod::", "urn:pulumi:eu1::"))
    assert len(blocked_steps(digest, "acme/platform/eu1")) == 2
    digest["config"]["platform:env"] = "dev"
    assert blocked_steps(digest, "acme/platform/eu1") == []


def test_a_stack_naming_prod_as_a_word_is_guarded_whatever_its_config_says() -> None:
    text = json.dumps(load("prod_cluster_replace.json"))
    digest = json.loads(text.replace("urn:pulumi:prod::", "urn:pulumi:prod-eu::"))
    digest["config"]["platform:env"] = "local"
    assert len(blocked_steps(digest, "acme/platform/prod-eu")) == 2


def test_argo_cd_applications_of_any_kind_are_guarded() -> None:
    digest = copy.deepcopy(load("prod_update_in_place.json"))
    app = next(s for s in digest["steps"] if "argoproj.io" in s["urn"])
    app["op"] = "delete"
    app["oldState"] = app.pop("newState")
    assert [b.type for b in blocked_steps(digest, "prod")] == ["kubernetes:argoproj.io/v1alpha1:Application"]


@pytest.mark.parametrize("text", ["", "not json", "[]"])
def test_an_unreadable_document_fails_closed(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "preview.json"
    path.write_text(text)
    assert main([str(path), "--stack", "prod"]) == 2
    assert "error:" in capsys.readouterr().err


def test_the_critical_resources_file_is_well_formed() -> None:
    entries = yaml.safe_load(CRITICAL_RESOURCES.read_text())
    for entry in entries:
        assert {"type", "what", "protect"} <= set(entry) <= {"type", "what", "protect", "namespace", "name"}, entry
        assert isinstance(entry["protect"], bool), entry
        # The policy matches exact types only; protect=True on a whole module is not what the program does.
        assert not (entry["protect"] and entry["type"].endswith("*")), entry
    keys = [(e["type"], e.get("namespace"), e.get("name")) for e in entries]
    assert len(keys) == len(set(keys)) == len(GUARDED)


def test_the_guard_blocks_every_kind_the_policy_demands_protected() -> None:
    # One list (policy/critical_resources.yaml): the pack demands protect=True on a subset of what the guard blocks.
    guarded = {(g.type, g.namespace, g.name) for g in GUARDED}
    demanded = {(p.type, p.namespace, p.name) for p in PROTECTED}
    assert demanded < guarded
    assert {g.type for g in GUARDED} - {p.type for p in PROTECTED} == {
        "pulumi:providers:kubernetes",
        "kubernetes:argoproj.io/v1alpha1:*",
    }


def test_every_guarded_type_is_a_real_token_shape() -> None:
    for guarded in GUARDED:
        package, _, rest = guarded.type.partition(":")
        assert package and rest.count(":") == 1, guarded.type
