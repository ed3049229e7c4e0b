"""Shared fixtures: run the real program under the mocks of tools/plan/mocks, which answer like the real
providers, for a shipped stack or for a config written in the test."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from components.catalog import load_catalog
from tools.plan.plan import plan_stack, shipped_stacks, stack_file
from tools.plan.runner import Plan, RecordedResource, run_program
from tools.plan.stackfile import read_stack_file

SHIPPED_STACKS = shipped_stacks()
CATALOG = load_catalog()
"""The shipped service catalog, as the program loads it."""


def raw_config(values: Mapping[str, Any]) -> dict[str, str]:
    """`{"env": "dev", ...}` -> the flat `platform:` map Pulumi hands a program (objects as JSON text)."""
    return {
        (key if ":" in key else f"platform:{key}"): (value if isinstance(value, str) else json.dumps(value))
        for key, value in values.items()
    }


def base_config(cloud: str = "gcp", env: str = "dev", **overrides: Any) -> dict[str, Any]:
    """A valid minimal stack config for `cloud` and `env`; keyword arguments replace top-level keys."""
    cloud_blocks: dict[str, dict[str, Any]] = {
        "gcp": {"gcp": {"project": "acme-platform-dev"}},
        "aws": {"aws": {}},
        "azure": {"azure": {}},
    }
    if cloud == "existing":
        cluster: dict[str, Any] = {"existing": {"context": "kind-platform"}}
    else:
        cluster = {
            "kubernetesVersion": "1.33",
            "authorizedNetworks": ["203.0.113.0/24"],
            **cloud_blocks[cloud],
        }
    config: dict[str, Any] = {
        "env": env,
        "cloud": cloud,
        "region": {"gcp": "europe-west1", "aws": "eu-west-1", "azure": "westeurope"}.get(cloud),
        "cluster": cluster,
        "gitops": {"repoUrl": "https://github.com/acme/platform-gitops"},
    }
    if env not in {"mgmt", "local"}:
        config["topology"] = {"hubStack": "acme/platform/mgmt"}
    if env in {"mgmt", "staging", "prod"}:
        config["argocd"] = {"sso": {"issuer": "https://login.acme.test", "clientId": "argocd"}}
        if env == "mgmt":
            config["argocd"]["hostname"] = "argocd.acme.test"  # SSO needs a callback URL on the hub
        config["argocdOidcClientSecret"] = "s3cret-oidc"
    if config["region"] is None:
        del config["region"]
    config.update(overrides)
    return config


def configured_repo_url(stack: str) -> str:
    """The platform repository a shipped stack file names: `python -m tools.gitops_init --repo-url` rewrites it,
    as docs/getting-started.md says to, so tests read it rather than spell the example URL."""
    raw, _ = read_stack_file(stack_file(stack))
    return json.loads(raw["platform:gitops"])["repoUrl"]


def secret_keys_of(values: Mapping[str, Any]) -> list[str]:
    from components.config import SECRET_KEYS  # noqa: PLC0415

    return [f"platform:{k}" for k in values if k in SECRET_KEYS]


@pytest.fixture
def run_config() -> Callable[..., Plan]:
    """Run the program for a config dict (see `base_config`); secret keys are passed as secrets."""

    def run(values: Mapping[str, Any], stack: str = "test") -> Plan:
        return run_program(stack, raw_config(values), secret_keys_of(values))

    return run


@pytest.fixture(scope="session")
def validators() -> dict[str, Any]:
    """Strict validators of Argo CD's Application, ApplicationSet and AppProject (tests/strict_crd.py)."""
    from tests.strict_crd import load_validators  # noqa: PLC0415

    return load_validators()


@pytest.fixture(scope="session")
def shipped_plans() -> dict[str, Plan]:
    """Every shipped stack planned once per test session (hubs first, so spokes reuse their plans)."""
    plans: dict[str, Plan] = {}
    for stack in sorted(SHIPPED_STACKS, key=lambda s: s != "mgmt"):
        plans[stack] = plan_stack(stack, planned=plans)
    return plans


def one(plan: Plan, type_token: str) -> RecordedResource:
    """The single resource of a type; fails naming what was there instead."""
    found = plan.by_type(type_token)
    assert len(found) == 1, f"expected one {type_token}, found {[r.name for r in found]}"
    return found[0]


def argocd_release(plan: Plan) -> RecordedResource:
    """The Argo CD bootstrap release (a local plan also has the Git server's)."""
    found = [r for r in plan.by_type("kubernetes:helm.sh/v3:Release") if r.name == "argocd"]
    assert len(found) == 1, f"expected one argocd release, found {[r.name for r in found]}"
    return found[0]


GOLDEN_DIR = Path(__file__).with_name("golden")


def assert_golden(name: str, text: str) -> None:
    """Compare rendered text with tests/golden/NAME; `UPDATE_GOLDEN=1 pytest` rewrites the file to review its diff."""
    golden = GOLDEN_DIR / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert golden.is_file(), f"{golden} is missing; run the test with UPDATE_GOLDEN=1 to create it"
    assert text == golden.read_text(), f"{name} changed; if intended, rerun with UPDATE_GOLDEN=1 and review the diff"
