"""The credential-free plan: every shipped stack plans and writes its files; bad config stops everything."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
import yaml

from components.secret_data import b64
from tests.conftest import SHIPPED_STACKS, base_config, raw_config
from tools.plan.plan import PROJECT_DIR, plan_stack
from tools.plan.runner import SECRET_MASK, Plan, run_program
from tools.plan.stackfile import PLACEHOLDER, read_stack_file
from tools.plan.writer import SECRET_DATA_MASK, write_plan

SECRET = "kubernetes:core/v1:Secret"


def test_every_environment_has_a_shipped_stack() -> None:
    assert set(SHIPPED_STACKS) >= {"local", "mgmt", "dev", "staging", "prod"}


def test_shipped_stacks_use_every_cloud() -> None:
    clouds = {read_stack_file(PROJECT_DIR / f"Pulumi.{s}.yaml")[0]["platform:cloud"] for s in SHIPPED_STACKS}
    assert clouds == {"gcp", "aws", "azure", "existing"}


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_shipped_stack_writes_the_four_outputs(stack: str, shipped_plans: dict[str, Plan], tmp_path: Path) -> None:
    plan = shipped_plans[stack]
    write_plan(plan, tmp_path)
    resources = json.loads((tmp_path / "resources.json").read_text())
    assert resources, "no resources registered"
    for entry in resources:
        assert set(entry) >= {
            "type",
            "name",
            "parent",
            "provider",
            "dependsOn",
            "inputs",
            "protect",
            "retainOnDelete",
            "ignoreChanges",
        }
    names = {entry["name"] for entry in resources}
    for entry in resources:
        assert entry["parent"] is None or entry["parent"] in names | {f"platform-{stack}"}
        assert all(dep in names for dep in entry["dependsOn"]), entry["name"]
    assert (tmp_path / "manifests").is_dir()
    assert (tmp_path / "helm").is_dir()
    outputs = json.loads((tmp_path / "outputs.json").read_text())
    assert outputs["env"] == plan_stack_env(stack)
    assert outputs["kubeconfig"] == "[secret]"


def plan_stack_env(stack: str) -> str:
    raw, _ = read_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")
    return raw["platform:env"]


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_no_secret_reaches_a_written_file(stack: str, shipped_plans: dict[str, Plan], tmp_path: Path) -> None:
    plan = shipped_plans[stack]
    write_plan(plan, tmp_path)
    text = "\n".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    # Config secrets reach the program as placeholders in a plan; documents such as kubeconfigs are multi-line.
    # (Cluster names and server URLs also travel inside secret cluster Secrets, but are public facts.)
    sensitive = [PLACEHOLDER, *(s for s in plan.secret_values if "\n" in s.strip())]
    leaked = [s[:30] for s in sensitive if s in text]
    assert not leaked, f"secret values written in plain: {leaked}"


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_a_written_secret_keeps_its_keys_and_masks_every_value(
    stack: str, shipped_plans: dict[str, Plan], tmp_path: Path
) -> None:
    plan = shipped_plans[stack]
    write_plan(plan, tmp_path)
    secrets = [
        doc
        for path in sorted((tmp_path / "manifests").glob("*.yaml"))
        if (doc := yaml.safe_load(path.read_text()))["kind"] == "Secret"
    ]
    assert secrets, "every shipped stack writes Secrets (at least the sealing key)"
    planned = {(r.inputs["metadata"].get("namespace"), r.inputs["metadata"]["name"]): r for r in plan.by_type(SECRET)}
    for secret in secrets:
        metadata = secret["metadata"]
        inputs = planned[metadata.get("namespace"), metadata["name"]].inputs
        # A map, as the API server requires, with the program's keys; `data` holds base64 of the mask.
        assert set(secret.get("data") or {}) == set(inputs.get("data") or {})
        assert set(secret.get("stringData") or {}) == set(inputs.get("stringData") or {})
        assert set((secret.get("data") or {}).values()) <= {SECRET_DATA_MASK}
        assert set((secret.get("stringData") or {}).values()) <= {SECRET_MASK}
    assert base64.b64decode(SECRET_DATA_MASK) == SECRET_MASK.encode()


def test_bad_config_registers_nothing() -> None:
    plan = Plan(stack="test")
    values = {**base_config("gcp", "dev"), "cloud": "gpc"}
    with pytest.raises(pulumi.RunError, match=r"platform:cloud: 'gpc' is not allowed"):
        run_program("test", raw_config(values), [], plan)
    assert plan.resources == []


def test_cli_reports_bad_config_in_one_line_per_problem(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.bad.yaml"
    stack_file.write_text(
        yaml.safe_dump({"config": {"platform:env": "qa", "platform:cloud": "gcp", "platform:regoin": "x"}})
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "tools.plan", "--stack", "bad", "--config-file", str(stack_file), "--out", str(out)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "error: platform:regoin: unknown key (did you mean 'region'?); allowed: " + lines[0].split("allowed: ")[1],
        "error: platform:env: 'qa' is not allowed; expected one of local, mgmt, dev, staging, prod",
        # A bad env hides no other mistake.
        "error: platform:cluster: is required but not set",
        "error: platform:gitops: is required but not set",
    ]
    assert not out.exists()


def test_encrypted_stack_values_become_masked_placeholders(tmp_path: Path) -> None:
    # The shape of a passphrase provider's ciphertext: v1, a 12-byte nonce, the sealed value.
    sealed = f"v1:{b64(bytes(12))}:{b64(bytes(24))}"
    stack_file = tmp_path / "Pulumi.x.yaml"
    stack_file.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "platform:env": "local",
                    "platform:argocdAdminPassword": {"secure": sealed},
                    "platform:gitCredentials": {"https://github.com/acme": {"password": {"secure": sealed}}},
                }
            }
        )
    )
    raw, secret_keys = read_stack_file(stack_file)
    assert raw["platform:argocdAdminPassword"] == PLACEHOLDER
    assert PLACEHOLDER in raw["platform:gitCredentials"]
    assert set(secret_keys) == {"platform:argocdAdminPassword", "platform:gitCredentials"}


def test_unset_required_secrets_are_planned_with_placeholders_and_said(tmp_path: Path) -> None:
    values = {k: v for k, v in base_config("existing", "mgmt").items() if k != "argocdOidcClientSecret"}
    stack_file = tmp_path / "Pulumi.hub.yaml"
    stack_file.write_text(yaml.safe_dump({"config": {f"platform:{k}": v for k, v in values.items()}}))
    plan = plan_stack("hub", stack_file)
    assert any("platform:argocdOidcClientSecret" in note for note in plan.notes)


def test_two_plans_of_one_stack_write_the_same_files(tmp_path: Path) -> None:
    # The engine registers concurrently; the written plan must not depend on that order, or plan diffs are noise.
    for run in ("first", "second"):
        write_plan(plan_stack("mgmt"), tmp_path / run)
    first = {p.relative_to(tmp_path / "first"): p.read_text() for p in (tmp_path / "first").rglob("*") if p.is_file()}
    second = {
        p.relative_to(tmp_path / "second"): p.read_text() for p in (tmp_path / "second").rglob("*") if p.is_file()
    }
    assert first == second
