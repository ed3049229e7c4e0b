"""Properties of the delivery workflows that actionlint and zizmor do not know to ask for."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import ci_stack
from tools.ci_stack import main as ci_stack_main
from tools.ci_stack import stack_facts
from tools.plan.plan import shipped_stacks

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"
ROLLOUT = ["mgmt", "dev", "staging", "prod"]


def load(name: str) -> dict[str, Any]:
    # PyYAML reads the `on:` key as True.
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True)
    return document


def steps_of(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_every_action_is_pinned_to_a_commit_and_permissions_start_empty(name: str) -> None:
    workflow = load(name)
    assert workflow["permissions"] == {}
    assert "pull_request_target" not in workflow["on"]
    for job_name, job in workflow["jobs"].items():
        assert "permissions" in job, f"{name}: job {job_name} declares no permissions"
        for step in steps_of(job):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


def test_only_jobs_that_reach_a_cloud_get_an_oidc_token() -> None:
    for name in ("pull-request.yml", "deploy.yml", "drift.yml"):
        for job_name, job in load(name)["jobs"].items():
            reaches_cloud = any("pulumi/actions" in step.get("uses", "") for step in steps_of(job))
            assert (job["permissions"].get("id-token") == "write") == reaches_cloud, f"{name}: {job_name}"


def test_rollout_is_chained_mgmt_dev_staging_prod_each_in_its_environment() -> None:
    jobs = load("deploy.yml")["jobs"]
    assert list(jobs) == ROLLOUT
    for previous, stack in zip([None, *ROLLOUT], ROLLOUT, strict=False):
        job = jobs[stack]
        assert job["environment"] == stack
        assert job.get("needs") == previous
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        commands = [step["with"]["command"] for step in steps_of(job) if "pulumi/actions" in step.get("uses", "")]
        assert commands == ["up", "preview"]
        idempotence = next(s for s in steps_of(job) if s.get("with", {}).get("command") == "preview")
        assert idempotence["with"]["expect-no-changes"] is True


def test_previews_and_drift_cover_every_cloud_stack() -> None:
    cloud_stacks = [s for s in shipped_stacks() if s != "local"]
    preview = load("pull-request.yml")["jobs"]["preview"]
    drift = load("drift.yml")["jobs"]["drift"]
    assert sorted(preview["strategy"]["matrix"]["stack"]) == sorted(cloud_stacks)
    assert sorted(drift["strategy"]["matrix"]["stack"]) == sorted(cloud_stacks)
    assert drift["concurrency"]["group"] == "pulumi-${{ matrix.stack }}"
    assert "schedule" in load("drift.yml")["on"]


def test_forks_get_the_plan_but_no_preview_and_no_comment() -> None:
    jobs = load("pull-request.yml")["jobs"]
    fork_guard = "${{ !github.event.pull_request.head.repo.fork }}"
    assert jobs["preview"]["if"] == fork_guard
    assert jobs["comment"]["if"] == fork_guard
    assert "if" not in jobs["plan"]
    assert jobs["plan"]["permissions"] == {"contents": "read"}


def test_the_preview_guard_runs_with_the_override_label() -> None:
    steps = steps_of(load("pull-request.yml")["jobs"]["preview"])
    guard = next(s for s in steps if "tools.preview_guard" in s.get("run", ""))
    assert "allow-destructive-change" in guard["env"]["ALLOW_DESTRUCTIVE"]
    assert "--json" in guard["run"]
    assert "labeled" in load("pull-request.yml")["on"]["pull_request"]["types"]


@pytest.mark.parametrize(
    ("stack", "backend", "expected"),
    [
        ("mgmt", "", {"cloud": "gcp", "region": "europe-west1", "state": "", "aws_region": "us-east-1"}),
        ("prod", "gs://acme-pulumi-state", {"cloud": "aws", "region": "eu-west-1", "state": "gcp"}),
        (
            "dev",
            "s3://acme-state?region=eu-central-1",
            {"cloud": "azure", "state": "aws", "aws_region": "eu-central-1"},
        ),
        ("staging", "azblob://state", {"cloud": "aws", "state": "azure", "aws_region": "eu-west-1"}),
    ],
)
def test_ci_stack_names_the_clouds_a_job_signs_in_to(stack: str, backend: str, expected: dict[str, str]) -> None:
    facts = stack_facts(stack, backend)
    assert {key: facts[key] for key in expected} == expected


def test_ci_stack_prints_github_output_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert ci_stack_main(["prod"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == ["cloud=aws", "region=eu-west-1"]


def test_the_credentialed_preview_waits_for_a_maintainer_in_its_own_read_only_environment() -> None:
    """Item 7: the pull request's own code runs with decrypt rights only in `<stack>-pr-preview`, an environment
    distinct from the deploy (`<stack>`, writing) and drift (`<stack>-preview`, main only) ones, whose required
    reviewers and OIDC trust docs/delivery.md and docs/getting-started.md set up."""
    preview = load("pull-request.yml")["jobs"]["preview"]
    assert preview["environment"] == "${{ matrix.stack }}-pr-preview"
    assert load("drift.yml")["jobs"]["drift"]["environment"] == "${{ matrix.stack }}-preview"
    assert {job["environment"] for job in load("deploy.yml")["jobs"].values()} == set(ROLLOUT)
    commands = [s["with"]["command"] for s in steps_of(preview) if "pulumi/actions" in s.get("uses", "")]
    assert commands == ["preview"]
    writes = re.compile(r"pulumi (up|refresh|destroy|import|state)\b")
    assert not any(writes.search(s.get("run", "")) for s in steps_of(preview))
    docs = WORKFLOWS.parents[1] / "docs"
    setup = (docs / "delivery.md").read_text().split("\n## Pull-request previews\n", 1)[1].split("\n## ", 1)[0]
    for phrase in ("Required reviewers", "Prevent self-review", "environment:prod-pr-preview", "Deployment branches"):
        assert phrase in setup, phrase
    # A repository-level secret reaches every branch's workflows; the bootstrap keeps them in environments.
    bootstrap = (docs / "getting-started.md").read_text()
    assert "| `PULUMI_CONFIG_PASSPHRASE` | secret | each environment |" in bootstrap
    assert "| secret | repository" not in bootstrap


def test_the_plan_job_holds_no_credentials() -> None:
    plan = load("pull-request.yml")["jobs"]["plan"]
    assert "environment" not in plan
    assert "secrets." not in yaml.safe_dump(plan)


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_every_install_is_hash_checked_from_a_lock(name: str) -> None:
    """Item 8: CI installs only the hash-pinned locks (`make lock`), as `make setup` does."""
    runs = [s.get("run", "") for job in load(name)["jobs"].values() for s in steps_of(job)]
    installs = [line.strip() for run in runs for line in run.splitlines() if "pip install" in line]
    for line in installs:
        assert re.search(r"pip install --require-hashes -r [\w/]*requirements\.lock$", line), line


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        # A spoke writes its registration through the hub's kubeconfig (GKE: gke-gcloud-auth-plugin), so it signs
        # in to the hub's cloud and installs its plugin as well as its own.
        ("dev", {"hub_cloud": "gcp", "gcp": "true", "gke_plugin": "true", "azure": "true", "kubelogin": "true"}),
        ("staging", {"hub_cloud": "gcp", "gcp": "true", "gke_plugin": "true", "aws": "true", "azure": "false"}),
        ("mgmt", {"hub_cloud": "", "gcp": "true", "aws": "false", "azure": "false", "kubelogin": "false"}),
    ],
)
def test_ci_stack_signs_a_spoke_in_to_its_hubs_cloud_too(stack: str, expected: dict[str, str]) -> None:
    facts = stack_facts(stack, "")
    assert {key: facts[key] for key in expected} == expected


def test_ci_stack_names_the_key_when_the_hubs_stack_file_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  platform:env: dev\n  platform:cloud: aws\n  platform:region: eu-west-1\n"
        "  platform:topology: {hubStack: acme/platform/hub}\n"
    )
    monkeypatch.setattr(ci_stack, "PROJECT_DIR", tmp_path)
    assert ci_stack_main(["dev"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: platform:topology.hubStack: 'acme/platform/hub' names stack 'hub'")


def test_jobs_that_reach_a_cluster_run_where_the_runner_label_says() -> None:
    label = "${{ fromJSON(vars.PULUMI_RUNS_ON || '\"ubuntu-24.04\"') }}"
    for name in ("pull-request.yml", "deploy.yml", "drift.yml"):
        for job_name, job in load(name)["jobs"].items():
            reaches_cluster = any("pulumi/actions" in step.get("uses", "") for step in steps_of(job))
            assert (job["runs-on"] == label) == reaches_cluster, f"{name}: {job_name}"


def test_sign_in_steps_read_what_ci_stack_prints() -> None:
    printed = set(stack_facts("dev", ""))
    for name in ("pull-request.yml", "deploy.yml", "drift.yml"):
        for job in load(name)["jobs"].values():
            read = {key for step in steps_of(job) for key in re.findall(r"steps\.stack\.outputs\.(\w+)", str(step))}
            assert read <= printed, f"{name} reads {read - printed}, which tools/ci_stack.py never prints"
            if read:
                assert {"gcp", "aws", "azure", "gke_plugin", "kubelogin"} <= read, name


def test_e2e_local_runs_on_every_change_to_the_local_platform() -> None:
    paths = load("e2e-local.yml")["on"]["pull_request"]["paths"]
    project = WORKFLOWS.parents[1]
    required = {
        "starters/**",
        "components/**",
        "__main__.py",
        "requirements*.txt",
        "Pulumi.yaml",
        "Pulumi.local.yaml",
        "Makefile",
        "tools/local/**",
    }
    assert required <= set(paths), sorted(required - set(paths))
    for pattern in paths:
        assert list(project.glob(pattern)), f"{pattern} matches no file: a stale filter"
    # What the local targets run (Makefile: prereqs.py, `-m tools.local.ready`) imports from the rest of tools/.
    imported = {
        match.replace(".", "/") + ".py"
        for name in ("prereqs.py", "ready.py")
        for match in re.findall(r"^\s*from (tools\.[\w.]+) import", (project / "tools/local" / name).read_text(), re.M)
        if not match.startswith("tools.local")
    }
    assert imported == {"tools/plan/stackfile.py"}
    assert imported <= set(paths)


def test_the_job_running_make_test_runs_the_integration_layer_without_a_silent_skip() -> None:
    """GitHub has no ../shared: the pull-request job that runs `make test` fetches the envtest binaries and the
    argo-cd chart in earlier steps, hands both to the tests, and makes anything still missing a failure, not a
    skip. (e2e-local's `make test` follows a kind cluster's start-up; the pull-request checks carry this layer.)"""
    (job,) = [
        job
        for job in load("pull-request.yml")["jobs"].values()
        if any("make test" in s.get("run", "") for s in steps_of(job))
    ]
    steps = steps_of(job)
    at = next(i for i, s in enumerate(steps) if "make test" in s.get("run", ""))
    before = {s["id"]: s for s in steps[:at] if "id" in s}
    env = steps[at].get("env", {})
    assert env.get("PLATFORM_REQUIRE_INTEGRATION") == "1"
    assert env.get("KUBEBUILDER_ASSETS") == "${{ steps.envtest.outputs.assets }}"
    assert env.get("PLATFORM_ARGOCD_CHART") == "${{ steps.chart.outputs.chart }}"
    assert any(s.get("uses", "").startswith("actions/setup-go@") for s in steps[:at])
    envtest = before["envtest"]["run"]
    assert re.search(r"go install sigs\.k8s\.io/controller-runtime/tools/setup-envtest@v\d+\.\d+\.\d+\n", envtest)
    assert re.search(r'setup-envtest" use 1\.36\.\d+ .*-p path\)', envtest)
    assert 'echo "assets=$assets" >> "$GITHUB_OUTPUT"' in envtest
    chart = before["chart"]["run"]
    assert "pull argo-cd --repo https://argoproj.github.io/argo-helm --version 10.1.1" in chart
    assert 'echo "chart=$RUNNER_TEMP/charts/argo-cd-10.1.1.tgz" >> "$GITHUB_OUTPUT"' in chart


def test_ci_requires_the_integration_layer() -> None:
    script = (WORKFLOWS.parents[1] / ".ci" / "run").read_text()
    assert 'PLATFORM_REQUIRE_INTEGRATION="${PLATFORM_REQUIRE_INTEGRATION:-1}" make test' in script
