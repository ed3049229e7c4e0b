"""The platform GitOps repository starter (`starters/platform-gitops/`), the domain starter
(`starters/domain-gitops/`) and the command that copies them: laid out exactly as the Applications of every
shipped stack read it, nothing dead, every chart key backed by evidence from the chart, and a working copy."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.argocd import value_files
from components.catalog import load_catalog
from components.config import ConfigError, load_stack_config
from components.config.model import GitOpsSettings
from tests.conftest import SHIPPED_STACKS, configured_repo_url
from tools import gitops_init
from tools.chart_keys import FIXTURES, VALUES_ROOT, unverified_keys
from tools.gitops_init import (
    DOMAIN_STARTER,
    PLATFORM_STARTER,
    Fleet,
    dead_value_files,
    fleet_value_files,
    missing_value_files,
    set_repo_url,
    stack_fleets,
)
from tools.plan.plan import plan_stack, stack_file
from tools.plan.runner import Plan
from tools.plan.stackfile import PLACEHOLDER, read_stack_file

CATALOG = load_catalog()
SHIPPED_CLUSTERS = {"cluster-local", "cluster-mgmt", "cluster-dev", "cluster-staging", "cluster-prod"}


@pytest.fixture(scope="module")
def read_files(shipped_plans: dict[str, Plan]) -> dict[str, set[str]]:
    """Cluster -> every values file its Applications read, over every shipped fleet."""
    found: dict[str, set[str]] = {}
    for fleet in stack_fleets(SHIPPED_STACKS):
        found.update(fleet_value_files(fleet, dict(shipped_plans)))
    return found


def all_read(read_files: dict[str, set[str]]) -> set[str]:
    return set().union(*read_files.values())


def disabled_layers() -> set[str]:
    """The layers of services a shipped stack turns off (the local profile's heavy ones): read once a stack turns
    the service back on, so they are kept, not dead."""
    layers: set[str] = set()
    for stack in SHIPPED_STACKS:
        raw, secret_keys = read_stack_file(stack_file(stack))
        try:
            config = load_stack_config(raw, secret_keys, CATALOG)
        except ConfigError as error:  # secrets a plan stands in for, as tools/plan does
            raw.update(dict.fromkeys(error.missing_secrets, PLACEHOLDER))
            config = load_stack_config(raw, [*secret_keys, *error.missing_secrets], CATALOG)
        for name, override in config.services.items():
            if override.enabled is False:
                layers.update(f.removeprefix("$values/") for f in value_files(config, name))
    return layers


# ---------------------------------------------------------------------------------------------------------
# Laid out as the Applications read it
# ---------------------------------------------------------------------------------------------------------


def test_shipped_stacks_form_a_hub_fleet_and_a_standalone_one() -> None:
    assert stack_fleets(SHIPPED_STACKS) == [Fleet("local"), Fleet("mgmt", ("dev", "prod", "staging"))]


def test_every_cluster_reads_three_layers_of_each_of_its_services(read_files: dict[str, set[str]]) -> None:
    assert set(read_files) == SHIPPED_CLUSTERS
    for cluster, files in read_files.items():
        services = {f.split("/")[-2] for f in files}
        assert len(files) == 3 * len(services), cluster
        assert "argocd" in services or cluster not in {"cluster-mgmt", "cluster-local"}, "Argo CD's own layers"


def test_every_values_file_an_application_names_exists_in_the_starter(read_files: dict[str, set[str]]) -> None:
    assert missing_value_files(all_read(read_files), PLATFORM_STARTER) == []


def test_every_values_file_in_the_starter_is_read_by_an_application(read_files: dict[str, set[str]]) -> None:
    assert dead_value_files(all_read(read_files) | disabled_layers(), PLATFORM_STARTER) == []


def test_removing_a_base_values_file_is_caught(read_files: dict[str, set[str]], tmp_path: Path) -> None:
    copy = tmp_path / "gitops"
    shutil.copytree(PLATFORM_STARTER, copy)
    (copy / "k8s/platform/_base/kong/values.yaml").unlink()
    assert missing_value_files(all_read(read_files), copy) == ["k8s/platform/_base/kong/values.yaml"]


def test_a_misspelt_cluster_folder_is_missing_and_dead(read_files: dict[str, set[str]], tmp_path: Path) -> None:
    copy = tmp_path / "gitops"
    shutil.copytree(PLATFORM_STARTER, copy)
    (copy / "k8s/platform/cluster-prod").rename(copy / "k8s/platform/cluster-prd")
    missing = missing_value_files(all_read(read_files), copy)
    dead = dead_value_files(all_read(read_files) | disabled_layers(), copy)
    assert missing and all(f.startswith("k8s/platform/cluster-prod/") for f in missing)
    assert [f.replace("cluster-prd", "cluster-prod") for f in dead] == missing


def test_the_folders_the_program_points_at_exist() -> None:
    defaults = GitOpsSettings(repo_url="https://example.test/platform-gitops")
    assert (PLATFORM_STARTER / defaults.apps_path / "README.md").is_file(), "the root Application's folder"
    assert (PLATFORM_STARTER / defaults.values_path / "_base").is_dir()
    # The root Application applies every YAML file under argocd/: the starter ships none.
    assert not [p for p in (PLATFORM_STARTER / defaults.apps_path).rglob("*") if p.suffix in {".yaml", ".yml", ".json"}]


def test_every_catalog_service_has_base_values() -> None:
    assert {p.name for p in (VALUES_ROOT / "_base").iterdir()} == set(CATALOG.services)


# ---------------------------------------------------------------------------------------------------------
# Valid YAML, keys the charts read
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    # A Helm chart's templates are Go templates, not YAML, until Argo CD renders them.
    sorted(
        p
        for starter in (PLATFORM_STARTER, DOMAIN_STARTER)
        for p in starter.rglob("*")
        if p.suffix == ".yaml" and "templates" not in p.parts
    ),
    ids=lambda p: str(p.relative_to(PLATFORM_STARTER.parent)),
)
def test_every_starter_file_is_valid_yaml(path: Path) -> None:
    documents = list(yaml.safe_load_all(path.read_text()))
    assert documents
    if path.name == "values.yaml":
        (values,) = documents
        assert isinstance(values, dict), "a values file is a map (`{}` when empty)"


CHECKED = sorted(p.name for p in (VALUES_ROOT / "_base").iterdir())


@pytest.mark.parametrize("service", CHECKED)
def test_every_key_is_one_the_pinned_chart_reads(service: str) -> None:
    fixture = json.loads((FIXTURES / f"{service}.json").read_text())
    chart = CATALOG.services[service].chart
    assert (fixture["chart"], fixture["version"]) == (chart.name, chart.version), (
        f"{service}: the catalog pins {chart.name} {chart.version}; re-run `python -m tools.chart_keys` against it"
    )
    assert unverified_keys(service, fixture["keys"]) == [], "run `python -m tools.chart_keys` against the chart"


def test_a_misspelt_key_has_no_evidence(tmp_path: Path) -> None:
    root = tmp_path / "platform"
    shutil.copytree(VALUES_ROOT, root)
    base = root / "_base/kong/values.yaml"
    base.write_text(base.read_text().replace("resources:", "resource:", 1))
    fixture = json.loads((FIXTURES / "kong.json").read_text())
    assert "_base/kong/values.yaml: resource" in unverified_keys("kong", fixture["keys"], root)


# ---------------------------------------------------------------------------------------------------------
# The domain starter
# ---------------------------------------------------------------------------------------------------------


def manifests(folder: Path) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for p in sorted(folder.glob("*.yaml")) for doc in yaml.safe_load_all(p.read_text())}


def test_the_example_service_is_hardened() -> None:
    objects = manifests(DOMAIN_STARTER / "k8s/_base/api")
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    assert ":" in container["image"] and not container["image"].endswith(":latest")
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert objects["Service"]["spec"]["type"] == "ClusterIP"
    policy = objects["NetworkPolicy"]["spec"]
    assert policy["podSelector"] == {} and policy["policyTypes"] == ["Ingress", "Egress"]
    workloads = [doc for kind, doc in objects.items() if kind != "Kustomization"]
    assert all("namespace" not in doc["metadata"] for doc in workloads), "the Application chooses it"


def test_every_env_folder_builds_on_the_base() -> None:
    envs = sorted(p.parent.name for p in DOMAIN_STARTER.glob("k8s/*/api") if p.parent.name != "_base")
    assert envs == ["dev", "local", "prod", "staging"]
    for env in envs:
        kustomization = yaml.safe_load((DOMAIN_STARTER / f"k8s/{env}/api/kustomization.yaml").read_text())
        assert kustomization["resources"] == ["../../_base/api"]


def test_example_claims_name_no_namespace() -> None:
    claims = sorted(DOMAIN_STARTER.glob("crossplane/claims/*/*.yaml"))
    assert [p.parent.name for p in claims] == ["dev", "prod", "staging"]
    for path in claims:
        claim = yaml.safe_load(path.read_text())
        assert {"apiVersion", "kind", "metadata", "spec"} <= set(claim)
        assert "namespace" not in claim["metadata"], "it lands in {domain}-{env}-infra, the Application's"


# ---------------------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------------------


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}


def test_the_command_copies_the_starter_into_a_new_repository(tmp_path: Path) -> None:
    dest = tmp_path / "platform-gitops"
    assert gitops_init.main(["--dest", str(dest)]) == 0
    assert files_under(dest) == files_under(PLATFORM_STARTER)
    if shutil.which("git"):
        assert subprocess.run(["git", "-C", str(dest), "rev-parse"], check=False).returncode == 0
    # Never overwrites: a second run keeps what the repository changed.
    edited = dest / "k8s/platform/_base/kong/values.yaml"
    edited.write_text("replicaCount: 5\n")
    assert gitops_init.main(["--dest", str(dest)]) == 0
    assert edited.read_text() == "replicaCount: 5\n"


def test_the_command_starts_a_domain_repository(tmp_path: Path) -> None:
    dest = tmp_path / "payments-gitops"
    assert gitops_init.main(["--dest", str(dest), "--domain", "payments"]) == 0
    assert files_under(dest) == files_under(DOMAIN_STARTER)
    assert gitops_init.main(["--dest", str(dest), "--domain", "Payments"]) == 2, "not a DNS label"


def test_the_command_refuses_a_repo_url_that_is_not_git(tmp_path: Path) -> None:
    assert gitops_init.main(["--dest", str(tmp_path / "x"), "--repo-url", "ftp://example.test/x"]) == 2


@pytest.fixture
def stack_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped stack files in a tmp directory, plus `qa`: a spoke whose cluster no starter folder names."""
    directory = tmp_path / "stacks"
    directory.mkdir()
    for stack in SHIPPED_STACKS:
        shutil.copyfile(gitops_init.stack_file(stack), directory / f"Pulumi.{stack}.yaml")
    qa = yaml.safe_load((directory / "Pulumi.staging.yaml").read_text())
    qa["config"]["platform:cluster"]["name"] = "cluster-qa"
    (directory / "Pulumi.qa.yaml").write_text(yaml.safe_dump(qa))
    monkeypatch.setattr(gitops_init, "stack_file", lambda stack: directory / f"Pulumi.{stack}.yaml")
    monkeypatch.setattr(gitops_init, "plan_stack", lambda stack: plan_stack(stack, directory / f"Pulumi.{stack}.yaml"))
    return directory


def test_the_command_points_the_stacks_at_the_repository(stack_dir: Path, tmp_path: Path) -> None:
    before = (stack_dir / "Pulumi.prod.yaml").read_text()
    url = "https://git.example.com/platform/gitops.git"
    assert gitops_init.main(["--dest", str(tmp_path / "repo"), "--stack", "prod", "--repo-url", url]) == 0
    after = (stack_dir / "Pulumi.prod.yaml").read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    # The shipped URL, or the one an earlier run of the command wrote there.
    assert changed == [(f"    repoUrl: {configured_repo_url('prod')}", f"    repoUrl: {url}")]
    assert yaml.safe_load(after)["config"]["platform:gitops"]["repoUrl"] == url


def test_a_stack_file_without_a_repo_url_line_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    text = "config:\n  platform:gitops: {repoUrl: https://example.test/a}\n"
    path.write_text(text)
    assert set_repo_url(path, "https://example.test/b") is False
    assert path.read_text() == text


def test_a_new_cluster_gets_empty_layers_for_what_it_reads(stack_dir: Path, tmp_path: Path) -> None:
    dest = tmp_path / "repo"
    assert gitops_init.main(["--dest", str(dest), "--stack", "qa"]) == 0
    created = sorted(files_under(dest) - files_under(PLATFORM_STARTER))
    tier_a = sorted(name for name, s in CATALOG.services.items() if s.tier == "A")
    assert created == [f"k8s/platform/cluster-qa/{service}/values.yaml" for service in tier_a]
    assert yaml.safe_load((dest / created[0]).read_text()) == {}
