"""`python3 tools/local/prereqs.py`: check Python, Docker, kind and the Pulumi CLI at once, before anything is built.

Runs on the system Python with the standard library only, so `make up-local` can call it before the venv exists.
- The Python running this (the one `make setup` builds the venv with) must be 3.11 or newer, the README's
  requirement (pyproject.toml `requires-python`); and Docker must be installed and its daemon reachable. Nothing
  here installs either.
- A Pulumi CLI older than the pinned release's major.minor is replaced like a missing one: Pulumi ships the CLI and
  the Python SDK together, and requirements.txt pins the SDK to that line, which may call engine features an older
  CLI lacks (pulumi/pulumi#21337 added such a call); that line is the one this program is tested with.
- kind and the Pulumi CLI may come from PATH or from `.tools/bin`. A missing one is installed there, pinned, and
  checked against the checksum its release publishes (kind: `kind-<os>-<arch>.sha256sum` beside each binary,
  hack/release/build/cross.sh; Pulumi: `pulumi-<version>-checksums.txt` of goreleaser, .goreleaser.yml `checksum`).
- With Docker missing or Python too old nothing is downloaded (the platform could not start anyway), and where a
  download fails, each missing tool gets one line with the exact command that installs it. The exit status is then 1.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "KIND_VERSION",
    "PULUMI_VERSION",
    "PYTHON_MINIMUM",
    "TOOLS_DIR",
    "ChecksumError",
    "Platform",
    "check",
    "docker_problem",
    "expected_sha256",
    "install_kind",
    "install_pulumi",
    "kind_install_command",
    "main",
    "pulumi_install_command",
    "python_problem",
    "verified",
]

PROJECT_DIR = Path(__file__).resolve().parents[2]
TOOLS_DIR = Path(os.environ.get("PLATFORM_TOOLS_DIR", PROJECT_DIR / ".tools" / "bin"))
"""Where kind and pulumi are installed (the Makefile puts it first on PATH); the tests point it elsewhere."""
KIND_VERSION = "v0.32.0"
"""kubernetes-sigs/kind tag v0.32.0 (2026-06-02); its default node image is pinned in tools/local/kind.yaml."""
PULUMI_VERSION = "3.272.0"
"""The CLI release of the `pulumi` SDK line requirements.txt pins (3.272)."""
PULUMI_MINIMUM = tuple(int(part) for part in PULUMI_VERSION.split(".")[:2])
"""The oldest CLI line accepted (see the module's docstring)."""
PYTHON_MINIMUM = (3, 11)
DOCKER_TIMEOUT_SECONDS = 4.0
"""`docker info` against a stopped Desktop VM can hang; the whole check stays under five seconds."""
DOWNLOAD_TIMEOUT_SECONDS = 120.0

Fetch = Callable[[str], bytes]


class ChecksumError(ValueError):
    """A download does not match the checksum its release publishes."""


@dataclass(frozen=True)
class Platform:
    os: str
    """linux or darwin."""
    arch: str
    """amd64 or arm64."""

    @classmethod
    def current(cls) -> Platform:
        machine = platform.machine().lower()
        arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
        return cls(os=sys.platform, arch=arch)

    @property
    def pulumi_arch(self) -> str:
        # goreleaser `name_template`: amd64 is spelt x64 in Pulumi's archive names.
        return "x64" if self.arch == "amd64" else self.arch


def kind_url(plat: Platform, version: str = KIND_VERSION) -> str:
    return f"https://github.com/kubernetes-sigs/kind/releases/download/{version}/kind-{plat.os}-{plat.arch}"


def pulumi_urls(plat: Platform, version: str = PULUMI_VERSION) -> tuple[str, str, str]:
    """(archive URL, checksums URL, archive name) of a Pulumi CLI release on GitHub."""
    base = f"https://github.com/pulumi/pulumi/releases/download/v{version}"
    archive = f"pulumi-v{version}-{plat.os}-{plat.pulumi_arch}.tar.gz"
    return f"{base}/{archive}", f"{base}/pulumi-{version}-checksums.txt", archive


def kind_install_command(plat: Platform, dest: Path = TOOLS_DIR) -> str:
    url = kind_url(plat)
    target = dest / "kind"
    sha256sum = "shasum -a 256" if plat.os == "darwin" else "sha256sum"  # macOS has no sha256sum
    return (
        f'mkdir -p {dest} && curl -fsSLo {target} {url} && echo "$(curl -fsSL {url}.sha256sum | cut -d" " -f1)  '
        f'{target}" | {sha256sum} -c - && chmod +x {target}'
    )


def pulumi_install_command() -> str:
    # get.pulumi.com's install.sh takes --version and installs into ~/.pulumi/bin.
    return f"curl -fsSL https://get.pulumi.com | sh -s -- --version {PULUMI_VERSION}"


# ---------------------------------------------------------------------------------------------------------
# Checksums
# ---------------------------------------------------------------------------------------------------------


def expected_sha256(checksums: str, name: str) -> str:
    """The hex digest `checksums` (sha256sum format, `<hex>  <file>` per line) gives for `name`."""
    for line in checksums.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*").rsplit("/", 1)[-1] == name and len(parts[0]) == 64:
            return parts[0].lower()
    raise ChecksumError(f"{name}: not listed in the published checksums")


def verified(data: bytes, checksums: str, name: str) -> bytes:
    """`data` if its SHA-256 is the one published for `name`, else ChecksumError."""
    expected = expected_sha256(checksums, name)
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ChecksumError(f"{name}: sha256 {actual} is not the published {expected}")
    return data


# ---------------------------------------------------------------------------------------------------------
# Installers (network only through `fetch`, so the tests run offline)
# ---------------------------------------------------------------------------------------------------------


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
        return response.read()


def _write_executable(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
        handle.write(data)
    os.chmod(handle.name, 0o755)
    Path(handle.name).replace(path)


def install_kind(plat: Platform, dest: Path = TOOLS_DIR, fetch: Fetch = _fetch) -> Path:
    url = kind_url(plat)
    name = url.rsplit("/", 1)[-1]
    binary = verified(fetch(url), fetch(f"{url}.sha256sum").decode(), name)
    _write_executable(dest / "kind", binary)
    return dest / "kind"


def install_pulumi(plat: Platform, dest: Path = TOOLS_DIR, fetch: Fetch = _fetch) -> Path:
    archive_url, checksums_url, name = pulumi_urls(plat)
    archive = verified(fetch(archive_url), fetch(checksums_url).decode(), name)
    # goreleaser `wrap_in_directory: pulumi`: the CLI and its language hosts sit in pulumi/.
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if member.isfile() and len(parts) == 2 and parts[0] == "pulumi":
                source = tar.extractfile(member)
                if source is not None:
                    _write_executable(dest / parts[1], source.read())
    if not (dest / "pulumi").is_file():
        raise ChecksumError(f"{name}: no pulumi/pulumi in the archive")
    return dest / "pulumi"


# ---------------------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------------------


def _which(name: str, path: str, dest: Path = TOOLS_DIR) -> str | None:
    # ~/.pulumi/bin: where Pulumi's own installer (pulumi_install_command) puts the CLI.
    return shutil.which(name, path=os.pathsep.join([str(dest), str(Path.home() / ".pulumi" / "bin"), path]))


def python_problem(version: Sequence[int], executable: str) -> str | None:
    """None when `version` (sys.version_info of the Python that builds the venv) is new enough; else the line."""
    if tuple(version[:2]) >= PYTHON_MINIMUM:
        return None
    wanted = ".".join(map(str, PYTHON_MINIMUM))
    found = ".".join(map(str, version[:3]))
    return (
        f"python: {found} at {executable}, but the program needs Python >= {wanted}; install it "
        f"(https://www.python.org/downloads/) and run: make up-local PYTHON=python{wanted}"
    )


def docker_problem(path: str) -> str | None:
    """None when Docker is installed and its daemon answers; else the line that says what to do."""
    docker = shutil.which("docker", path=path)
    if docker is None:
        return (
            "docker: not installed; install Docker Desktop or Docker Engine: "
            "https://docs.docker.com/get-started/get-docker/"
        )
    try:
        result = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=DOCKER_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"docker: the daemon did not answer within {DOCKER_TIMEOUT_SECONDS:.0f} s; start Docker and retry"
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"docker: installed, but its daemon is not reachable ({reason}); start Docker and retry"
    return None


@dataclass(frozen=True)
class _Tool:
    name: str
    version: str
    install: Callable[[Platform, Path, Fetch], Path]
    command: Callable[[Platform], str]
    exact: bool
    """Another version will not do: kind's node images are built for one kind release (kind.yaml pins one)."""
    minimum: tuple[int, ...] | None = None
    """major.minor below which the tool is replaced, whatever the run."""


_TOOLS = (
    _Tool("kind", KIND_VERSION, install_kind, kind_install_command, exact=True),
    _Tool(
        "pulumi",
        f"v{PULUMI_VERSION}",
        install_pulumi,
        lambda _plat: pulumi_install_command(),
        exact=False,
        minimum=PULUMI_MINIMUM,
    ),
)
_VERSION = re.compile(r"\bv?(\d+)\.(\d+)\.(\d+)\S*")


def found_version(binary: str) -> str:
    """The first version in `<tool> version` (`kind v0.32.0 go1.25 linux/amd64`, pulumi's `v3.272.0`), or
    `unknown`."""
    try:
        result = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=3, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = _VERSION.search(result.stdout)
    return match.group(0) if match else "unknown"


def _release(version: str) -> tuple[int, ...] | None:
    match = _VERSION.search(version)
    return tuple(int(part) for part in match.groups()) if match else None


def _unusable(tool: _Tool, path: str, dest: Path, *, exact: bool) -> str | None:
    """Why `tool` cannot be used as found (None when it can): absent, another version where one is pinned, or
    older than its minimum."""
    binary = _which(tool.name, path, dest)
    if binary is None:
        return "not installed"
    if exact and tool.exact and (version := found_version(binary)) != tool.version:
        return f"{version} found at {binary}, but the local cluster needs {tool.version}"
    if tool.minimum is not None:
        version = found_version(binary)
        release = _release(version)
        if release is None or release[: len(tool.minimum)] < tool.minimum:
            wanted = ".".join(map(str, tool.minimum))
            return f"{version} found at {binary}, but this program needs {tool.name} >= {wanted}"
    return None


def check(
    path: str,
    *,
    allow_install: bool,
    plat: Platform | None = None,
    dest: Path = TOOLS_DIR,
    fetch: Fetch = _fetch,
    out: Callable[[str], None] = print,
    python: Sequence[int] = sys.version_info[:3],
) -> int:
    """Report every missing tool at once; install kind and pulumi when Docker is there and `allow_install`."""
    plat = plat or Platform.current()
    problems: list[str] = []
    if (old_python := python_problem(python, sys.executable)) is not None:
        problems.append(old_python)
    docker = docker_problem(path)
    if docker is not None:
        problems.append(docker)
    # With Docker or Python unusable nothing is downloaded: the platform could not start anyway.
    install = allow_install and not problems
    # Only a cluster about to be created needs the pinned kind; any kind deletes one (`--no-install`).
    unusable = {tool: _unusable(tool, path, dest, exact=allow_install) for tool in _TOOLS}
    for tool, reason in unusable.items():
        if reason is None:
            continue
        if install:
            out(f"{tool.name}: {reason}; installing {tool.version} into {dest} (checksum verified)")
            try:
                tool.install(plat, dest, fetch)
                continue
            except (OSError, ChecksumError) as error:
                out(f"{tool.name}: install failed: {error}")
        problems.append(f"{tool.name}: {reason}; install {tool.version} with: {tool.command(plat)}")
    for line in problems:
        out(line)
    if problems:
        out(f"{len(problems)} prerequisite(s) missing; nothing was built. Fix the lines above and run it again.")
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/local/prereqs.py", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--no-install", action="store_true", help="only report; never download kind or pulumi")
    args = parser.parse_args(argv)
    return check(os.environ.get("PATH", ""), allow_install=not args.no_install)


if __name__ == "__main__":
    sys.exit(main())
