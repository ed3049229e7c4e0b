"""The environment table (components/config/environments.py) is the one home of an environment's role and tier:
every copy the program cannot avoid (defaults.yaml, the policy pack, the preview guard) is held to it here."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from components.config import load_stack_config
from components.config.environments import ENVIRONMENT_TABLE, envs_where
from components.config.load import DEFAULTS_FILE
from components.config.model import ENVIRONMENTS
from policy.policies import common as pack
from tests.conftest import CATALOG, base_config, raw_config
from tools import preview_guard

DEFAULTS: dict[str, Any] = yaml.safe_load(DEFAULTS_FILE.read_text())["environments"]


def test_the_table_has_one_row_per_environment_in_order() -> None:
    assert tuple(ENVIRONMENT_TABLE) == ENVIRONMENTS
    assert tuple(DEFAULTS) != () and set(DEFAULTS) == set(ENVIRONMENTS)
    assert len(envs_where(role="hub")) == 1  # spokes name one hub stack, and the topology checks assume one


def test_the_policy_packs_copy_matches_the_table() -> None:
    assert pack.ENVIRONMENTS == ENVIRONMENTS
    assert envs_where(policy="exempt") == pack.EXEMPT_ENVS
    assert envs_where(policy="advisory") == pack.ADVISORY_ENVS
    assert envs_where(role="hub") == pack.HUB_ENVS
    assert envs_where(protected=True) == pack.PROTECTED_ENVS
    levels = {env: pack.level_for(env) for env in ENVIRONMENTS}
    assert {env for env, level in levels.items() if level is None} == envs_where(policy="exempt")
    assert {env for env, level in levels.items() if level == pack.EnforcementLevel.MANDATORY} == envs_where(
        policy="mandatory"
    )


def test_the_preview_guard_protects_the_tables_protected_environments() -> None:
    digest = {"steps": [], "config": {}}
    guarded = {env for env in ENVIRONMENTS if preview_guard.guarded_envs(digest, f"acme/platform/{env}")}
    assert guarded == envs_where(protected=True) == {"staging", "mgmt", "prod"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_defaults_agree_with_the_row(env: str) -> None:
    row, defaults = ENVIRONMENT_TABLE[env], DEFAULTS[env]
    assert defaults["protect"] is row.protected
    assert (defaults["topology"]["mode"] == "standalone") is (row.role == "standalone")
    # A prod-like environment refuses the admin login, so its default must not turn it on.
    assert not (row.prod_like and defaults["argocd"]["adminEnabled"])


@pytest.mark.parametrize(
    ("env", "overrides", "role", "is_hub"),
    [
        ("mgmt", {}, "hub", True),
        ("prod", {}, "spoke", False),
        ("dev", {"topology": {"mode": "standalone"}}, "standalone", True),
        ("local", {}, "standalone", True),
    ],
)
def test_a_stacks_role_comes_from_its_row_then_its_topology(
    env: str, overrides: dict[str, Any], role: str, is_hub: bool
) -> None:
    values = base_config("existing" if env == "local" else "gcp", env, **overrides)
    secret_keys = tuple(f"platform:{key}" for key in values if key == "argocdOidcClientSecret")
    config = load_stack_config(raw_config(values), secret_keys, CATALOG)
    assert (config.role, config.is_hub) == (role, is_hub)
