"""Each private part of the Pulumi SDK the project uses (components/pulumi_seams.py) is still there, so an
upgrade that moves one fails here, by name, rather than somewhere in the plan."""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi.runtime import rpc

from components import pulumi_seams
from components.pulumi_seams import SEAMS, is_resource_reference, is_secret, missing_seams, secret


@pytest.mark.parametrize("purpose", list(SEAMS))
def test_the_seam_exists_in_the_installed_pulumi(purpose: str) -> None:
    module, path = SEAMS[purpose]
    gone = [line for line in missing_seams() if line.startswith(f"{module}.{path} ")]
    assert not gone, gone[0]


def test_a_removed_seam_is_named_with_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(rpc, "_special_secret_sig")
    (line,) = missing_seams()
    assert line.startswith("pulumi.runtime.rpc._special_secret_sig (the wire signature of a secret) is gone")
    assert "components/pulumi_seams.py" in line


PRIVATE_USES = (
    "._special_",
    "._SECRET_KEYS",
    "settings.ROOT",
    "settings.SETTINGS",
    "._take_async_program(",
    "._add_program_outputs(",
    "._finish(",
)


def test_no_other_module_reaches_into_pulumi() -> None:
    project = Path(__file__).resolve().parents[1]
    files = [p for folder in ("components", "tools", "benchmarks", "tests") for p in (project / folder).rglob("*.py")]
    own = {Path(pulumi_seams.__file__).resolve(), Path(__file__).resolve()}
    offenders = {
        str(path.relative_to(project)): use
        for path in [*files, project / "__main__.py"]
        if path.resolve() not in own
        for use in PRIVATE_USES
        if use in path.read_text()
    }
    assert not offenders, f"private Pulumi SDK use outside components/pulumi_seams.py: {offenders}"


def test_wire_forms() -> None:
    assert is_secret(secret("x"))
    assert not is_secret({"value": "x"})
    assert is_resource_reference({rpc._special_sig_key: rpc._special_resource_sig, "urn": "urn:x"})  # pyright: ignore[reportPrivateUsage]
    assert not is_resource_reference(secret("x"))
