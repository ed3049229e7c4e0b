"""`make up-local` checks Docker, kind and the Pulumi CLI at once, before building anything; kind and pulumi are
installed pinned with their published checksums verified (offline here: the downloads are stand-ins)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from tools.local import prereqs
from tools.local.prereqs import (
    KIND_VERSION,
    PULUMI_VERSION,
    ChecksumError,
    Platform,
    check,
    expected_sha256,
    install_kind,
    install_pulumi,
    verified,
)

PROJECT = Path(__file__).resolve().parents[1]
LINUX = Platform("linux", "amd64")


def bare_path(tmp_path: Path, *tools: str) -> str:
    """A PATH with only the named tools (and none of docker, kind, pulumi unless named)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in tools:
        # The interpreter itself, not a version manager's shim that needs its own PATH.
        found = str(Path(sys.base_prefix) / "bin" / "python3") if tool == "python3" else shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def run_make(target: str, path: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`make TARGET` with only `path` on PATH and a tools folder of its own: a clone that ran `make up-local`
    before has .tools/bin, and the check must not find kind there."""
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(PROJECT), target],
        env={"PATH": path, "HOME": str(tmp_path), "PLATFORM_TOOLS_DIR": str(tmp_path / "tools")},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def fake_docker(tmp_path: Path, exit_code: int) -> str:
    """A `docker` whose `info` answers (exit 0) or fails like a stopped daemon."""
    bin_dir = tmp_path / "docker-bin"
    bin_dir.mkdir()
    script = bin_dir / "docker"
    script.write_text(f"#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit {exit_code}\n")
    script.chmod(0o755)
    return str(bin_dir)


def test_make_up_local_names_every_missing_tool_within_5_s_and_builds_nothing(tmp_path: Path) -> None:
    path = bare_path(tmp_path, "make", "python3", "sh", "bash", "env")
    started = time.monotonic()
    result = run_make("up-local", path, tmp_path)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert elapsed < 5, f"took {elapsed:.1f} s"
    lines = output.splitlines()
    for tool in ("docker", "kind", "pulumi"):
        assert any(line.startswith(f"{tool}: not installed") for line in lines), output
    assert "https://docs.docker.com/" in output
    assert f"kind/releases/download/{KIND_VERSION}/kind-" in output and ".sha256sum" in output
    assert f"--version {PULUMI_VERSION}" in output
    # Nothing heavy first: no venv build, no cluster, no download.
    assert "venv" not in output and "pip" not in output and "kind create" not in output
    assert not (tmp_path / ".pulumi").exists()


def test_a_stopped_docker_daemon_is_named_and_nothing_is_downloaded(tmp_path: Path) -> None:
    path = os.pathsep.join([fake_docker(tmp_path, 1), bare_path(tmp_path)])
    fetched: list[str] = []
    lines: list[str] = []
    code = check(
        path,
        allow_install=True,
        dest=tmp_path / "tools",
        fetch=lambda url: fetched.append(url) or b"",
        out=lines.append,
    )
    assert code == 1
    assert fetched == [], "with Docker down, no download"
    assert lines[0].startswith("docker: installed, but its daemon is not reachable (Cannot connect")
    assert [line.split(":")[0] for line in lines[1:3]] == ["kind", "pulumi"]


def stand_in_release() -> dict[str, bytes]:
    """What the release pages would serve: kind's binary and .sha256sum, Pulumi's archive and checksums file."""
    kind_binary = b"\x7fELF stand-in kind"
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, data in (("pulumi/pulumi", b"stand-in pulumi"), ("pulumi/pulumi-language-python", b"py")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    pulumi_archive = archive.getvalue()
    kind_url = prereqs.kind_url(LINUX)
    archive_url, checksums_url, archive_name = prereqs.pulumi_urls(LINUX)
    return {
        kind_url: kind_binary,
        f"{kind_url}.sha256sum": f"{hashlib.sha256(kind_binary).hexdigest()}  kind-linux-amd64\n".encode(),
        archive_url: pulumi_archive,
        checksums_url: (
            f"{'0' * 64}  pulumi-v{PULUMI_VERSION}-darwin-arm64.tar.gz\n"
            f"{hashlib.sha256(pulumi_archive).hexdigest()}  {archive_name}\n"
        ).encode(),
    }


def test_missing_kind_and_pulumi_are_installed_into_tools_with_the_checksum_verified(tmp_path: Path) -> None:
    served = stand_in_release()
    dest = tmp_path / "tools"
    lines: list[str] = []
    path = os.pathsep.join([fake_docker(tmp_path, 0), bare_path(tmp_path)])
    assert check(path, allow_install=True, plat=LINUX, dest=dest, fetch=served.__getitem__, out=lines.append) == 0
    assert (dest / "kind").read_bytes() == served[prereqs.kind_url(LINUX)]
    assert os.access(dest / "kind", os.X_OK) and os.access(dest / "pulumi", os.X_OK)
    assert (dest / "pulumi").read_bytes() == b"stand-in pulumi"
    assert (dest / "pulumi-language-python").is_file(), "the language host Pulumi runs Python programs with"
    assert all("installing" in line for line in lines)


def test_a_tampered_download_is_refused_and_the_command_printed(tmp_path: Path) -> None:
    served = stand_in_release()
    served[prereqs.kind_url(LINUX)] = b"something else"
    dest = tmp_path / "tools"
    lines: list[str] = []
    path = os.pathsep.join([fake_docker(tmp_path, 0), bare_path(tmp_path)])
    assert check(path, allow_install=True, plat=LINUX, dest=dest, fetch=served.__getitem__, out=lines.append) == 1
    assert not (dest / "kind").exists(), "nothing unverified is written"
    assert any("kind: install failed: kind-linux-amd64: sha256" in line for line in lines)
    assert any(line.startswith("kind: not installed; install v0.32.0 with: mkdir -p") for line in lines)
    assert (dest / "pulumi").is_file()


def test_a_failed_download_prints_the_command_instead(tmp_path: Path) -> None:
    def offline(url: str) -> bytes:
        raise OSError(f"no network for {url}")

    lines: list[str] = []
    path = os.pathsep.join([fake_docker(tmp_path, 0), bare_path(tmp_path)])
    assert check(path, allow_install=True, plat=LINUX, dest=tmp_path / "t", fetch=offline, out=lines.append) == 1
    expected = f"pulumi: not installed; install v{PULUMI_VERSION} with: {prereqs.pulumi_install_command()}"
    assert expected in lines, lines


def test_checksum_files_are_read_by_file_name() -> None:
    text = "a" * 64 + "  kind-darwin-arm64\n" + "b" * 64 + " *dist/kind-linux-amd64\n"
    assert expected_sha256(text, "kind-linux-amd64") == "b" * 64
    with pytest.raises(ChecksumError, match="not listed"):
        expected_sha256(text, "kind-linux-arm64")
    data = b"payload"
    assert verified(data, f"{hashlib.sha256(data).hexdigest()}  f\n", "f") == data
    with pytest.raises(ChecksumError, match="is not the published"):
        verified(b"other", f"{hashlib.sha256(data).hexdigest()}  f\n", "f")


def test_installers_use_the_release_asset_names() -> None:
    assert prereqs.kind_url(Platform("darwin", "arm64")).endswith(f"/{KIND_VERSION}/kind-darwin-arm64")
    archive, checksums, _ = prereqs.pulumi_urls(LINUX)
    assert archive.endswith(f"/v{PULUMI_VERSION}/pulumi-v{PULUMI_VERSION}-linux-x64.tar.gz")
    assert checksums.endswith(f"/v{PULUMI_VERSION}/pulumi-{PULUMI_VERSION}-checksums.txt")
    assert "shasum -a 256" in prereqs.kind_install_command(Platform("darwin", "arm64"))


def test_the_installers_write_where_they_are_told(tmp_path: Path) -> None:
    served = stand_in_release()
    assert install_kind(LINUX, tmp_path, served.__getitem__) == tmp_path / "kind"
    assert install_pulumi(LINUX, tmp_path, served.__getitem__) == tmp_path / "pulumi"


def test_the_pinned_pulumi_cli_matches_the_sdk_line() -> None:
    requirement = next(
        line for line in (PROJECT / "requirements.txt").read_text().splitlines() if line.startswith("pulumi>=")
    )
    assert requirement.startswith(f"pulumi>={PULUMI_VERSION},"), requirement


def test_the_script_needs_only_the_standard_library() -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(PROJECT / "tools/local/prereqs.py"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def fake_tool(tmp_path: Path, name: str, version_line: str) -> str:
    bin_dir = tmp_path / f"{name}-bin"
    bin_dir.mkdir()
    script = bin_dir / name
    script.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    script.chmod(0o755)
    return str(bin_dir)


def test_another_kind_release_is_replaced_by_the_pinned_one_but_any_kind_deletes(tmp_path: Path) -> None:
    served = stand_in_release()
    dest = tmp_path / "tools"
    path = os.pathsep.join(
        [
            fake_docker(tmp_path, 0),
            fake_tool(tmp_path, "kind", "kind v0.20.0 go1.20.4 linux/amd64"),
            fake_tool(tmp_path, "pulumi", f"v{PULUMI_VERSION[:-1]}9"),
            bare_path(tmp_path),
        ]
    )
    lines: list[str] = []
    assert check(path, allow_install=False, plat=LINUX, dest=dest, fetch=served.__getitem__, out=lines.append) == 0
    assert lines == [], "make destroy-local: the kind at hand deletes the cluster"
    assert check(path, allow_install=True, plat=LINUX, dest=dest, fetch=served.__getitem__, out=lines.append) == 0
    assert lines == [
        f"kind: v0.20.0 found at {tmp_path}/kind-bin/kind, but the local cluster needs {KIND_VERSION}; "
        f"installing {KIND_VERSION} into {dest} (checksum verified)"
    ]
    assert (dest / "kind").is_file() and not (dest / "pulumi").exists(), "another patch of the pinned line will do"


def test_a_pulumi_cli_older_than_the_pinned_line_is_replaced_or_named(tmp_path: Path) -> None:
    served = stand_in_release()
    dest = tmp_path / "tools"
    old = fake_tool(tmp_path, "pulumi", "v3.200.0")
    path = os.pathsep.join([fake_docker(tmp_path, 0), fake_tool(tmp_path, "kind", f"kind {KIND_VERSION}"), old])
    lines: list[str] = []
    assert check(path, allow_install=False, plat=LINUX, dest=dest, fetch=served.__getitem__, out=lines.append) == 1
    major_minor = ".".join(PULUMI_VERSION.split(".")[:2])
    assert lines[0] == (
        f"pulumi: v3.200.0 found at {old}/pulumi, but this program needs pulumi >= {major_minor}; "
        f"install v{PULUMI_VERSION} with: {prereqs.pulumi_install_command()}"
    )
    lines.clear()
    assert check(path, allow_install=True, plat=LINUX, dest=dest, fetch=served.__getitem__, out=lines.append) == 0
    assert lines[0].startswith("pulumi: v3.200.0 found at") and lines[0].endswith("(checksum verified)")
    assert (dest / "pulumi").read_bytes() == b"stand-in pulumi"


def test_an_old_python_is_named_with_the_other_missing_tools_and_nothing_is_downloaded(tmp_path: Path) -> None:
    fetched: list[str] = []
    lines: list[str] = []
    code = check(
        bare_path(tmp_path),
        allow_install=True,
        plat=LINUX,
        dest=tmp_path / "tools",
        fetch=lambda url: fetched.append(url) or b"",
        out=lines.append,
        python=(3, 9, 6),
    )
    assert code == 1 and fetched == []
    assert lines[0].startswith(f"python: 3.9.6 at {sys.executable}, but the program needs Python >= 3.11; install")
    assert lines[0].endswith("run: make up-local PYTHON=python3.11")
    assert [line.split(":")[0] for line in lines[1:4]] == ["docker", "kind", "pulumi"]
    assert lines[-1].startswith("4 prerequisite(s) missing")
    assert prereqs.python_problem((3, 11, 0), "python3") is None


def test_the_python_minimum_is_the_one_the_project_declares() -> None:
    declared = next(
        line for line in (PROJECT / "pyproject.toml").read_text().splitlines() if line.startswith("requires-python")
    )
    assert declared == f'requires-python = ">={".".join(map(str, prereqs.PYTHON_MINIMUM))}"', declared
    assert "Python 3.11+" in (PROJECT / "README.md").read_text()


def test_make_destroy_local_names_a_missing_tool_and_touches_nothing(tmp_path: Path) -> None:
    path = os.pathsep.join([fake_docker(tmp_path, 0), bare_path(tmp_path, "make", "python3", "sh", "bash", "env")])
    result = run_make("destroy-local", path, tmp_path)
    assert result.returncode != 0
    assert [line.split(":")[0] for line in result.stdout.splitlines()[:2]] == ["kind", "pulumi"]
    assert "pulumi destroy" not in result.stdout + result.stderr
    assert not (tmp_path / "tools").exists()


def logging_tool(bin_dir: Path, name: str, log: Path, script: str) -> None:
    """A stand-in CLI that appends its arguments to `log`, then runs `script` (sh)."""
    bin_dir.mkdir(exist_ok=True)
    tool = bin_dir / name
    tool.write_text(f'#!/bin/sh\necho "{name} $*" >> {log}\n{script}\n')
    tool.chmod(0o755)


@pytest.mark.parametrize("destroy_exit", [0, 1])
def test_make_destroy_local_deletes_the_cluster_even_when_pulumi_destroy_fails(
    tmp_path: Path, destroy_exit: int
) -> None:
    log = tmp_path / "calls.log"
    fakes = tmp_path / "fakes"
    logging_tool(
        fakes,
        "kind",
        log,
        f'case "$1" in version) echo "kind {KIND_VERSION} go1.25 linux/amd64";; get) echo platform;; esac',
    )
    # A destroy that fails the way a hung finalizer ends: Pulumi gives up on a resource it cannot delete.
    logging_tool(
        fakes,
        "pulumi",
        log,
        f'case "$1" in version) echo v{PULUMI_VERSION};; '
        f'destroy) echo "error: finalizer" >&2; exit {destroy_exit};; esac',
    )
    path = os.pathsep.join(
        [str(fakes), fake_docker(tmp_path, 0), bare_path(tmp_path, "make", "python3", "sh", "bash", "env", "grep")]
    )
    result = run_make("destroy-local", path, tmp_path)
    calls = [line for line in log.read_text().splitlines() if not line.endswith(" version")]
    assert calls[:3] == [
        "kind get clusters",
        "pulumi destroy --yes --stack local",
        "kind delete cluster --name platform",
    ]
    if destroy_exit == 0:
        assert result.returncode == 0, result.stdout + result.stderr
        assert len(calls) == 3, "a clean destroy leaves the (empty) stack in place"
        return
    assert result.returncode != 0
    assert "pulumi destroy failed (above); deleting the kind cluster 'platform'" in result.stdout
    # --preserve-config: without it `pulumi stack rm` deletes the committed Pulumi.local.yaml.
    assert calls[3:] == ["pulumi stack rm --force --yes --preserve-config local"]
    assert (PROJECT / "Pulumi.local.yaml").is_file()
