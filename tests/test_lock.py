"""The hash-pinned lock files (`make lock`) are current: every requirement of requirements*.txt is pinned in its lock
at a version it allows, every pin carries hashes, and the three locks agree. `make setup` and CI install only the
locks, with `pip install --require-hashes`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# lock file -> the requirements file it is compiled from (Makefile `lock`).
LOCKS = {
    "requirements-dev.lock": "requirements-dev.txt",
    "requirements.lock": "requirements.txt",
    "policy/requirements.lock": "policy/requirements.txt",
}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def requirements(path: Path) -> list[Requirement]:
    """The requirements of `path`, following `-r` includes."""
    found: list[Requirement] = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            found += requirements(path.parent / line[3:].strip())
        else:
            found.append(Requirement(line))
    return found


def pins(lock: Path) -> dict[str, tuple[str, int]]:
    """`{name: (version, number of hashes)}` of a lock file."""
    result: dict[str, tuple[str, int]] = {}
    current: str | None = None
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match[1])
            result[current] = (match[2], 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = result[current]
            result[current] = (version, hashes + 1)
    return result


def stale(lock: Path, source: Path) -> list[str]:
    """The requirements of `source` that `lock` does not pin at a version they allow."""
    pinned = pins(lock)
    found = []
    for requirement in requirements(source):
        if requirement.marker and not requirement.marker.evaluate({"python_version": "3.11"}):
            continue
        version = pinned.get(canonicalize_name(requirement.name), (None, 0))[0]
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            found.append(f"{requirement} (locked: {version})")
    return found


@pytest.mark.parametrize(("lock", "source"), LOCKS.items())
def test_every_requirement_is_pinned_in_its_lock_at_an_allowed_version(lock: str, source: str) -> None:
    assert stale(ROOT / lock, ROOT / source) == [], f"{lock} is stale: run `make lock`"


def test_an_added_or_narrowed_requirement_makes_the_lock_stale(tmp_path: Path) -> None:
    (tmp_path / "requirements.lock").write_text("pulumi==3.272.0 \\\n    --hash=sha256:00\n")
    (tmp_path / "requirements.txt").write_text("pulumi>=3.273.0,<3.274\nkubernetes>=33\n")
    assert stale(tmp_path / "requirements.lock", tmp_path / "requirements.txt") == [
        "pulumi<3.274,>=3.273.0 (locked: 3.272.0)",
        "kubernetes>=33 (locked: None)",
    ]


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pin_carries_hashes(lock: str) -> None:
    pinned = pins(ROOT / lock)
    assert pinned
    assert [name for name, (_, hashes) in pinned.items() if hashes == 0] == []


def test_the_runtime_and_policy_locks_pin_what_the_dev_lock_pins() -> None:
    dev = {name: version for name, (version, _) in pins(ROOT / "requirements-dev.lock").items()}
    for lock in ("requirements.lock", "policy/requirements.lock"):
        differ = {n: v for n, (v, _) in pins(ROOT / lock).items() if dev.get(n) != v}
        assert differ == {}, f"{lock} differs from requirements-dev.lock; run `make lock`"


def test_setup_installs_the_dev_lock_with_hash_checking() -> None:
    makefile = (ROOT / "Makefile").read_text()
    installs = re.findall(r"pip install[^\n]*", makefile.split("\nsetup:", 1)[0])
    assert installs == ["pip install --quiet --require-hashes -r requirements-dev.lock"]
    assert "uv pip compile --quiet --generate-hashes" in makefile
