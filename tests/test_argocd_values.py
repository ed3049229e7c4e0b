"""The argo-cd chart values built from stack config: pure tests, plus golden files of the shipped stacks.

Keys are checked against the real values.yaml of argo-cd 10.1.1, read from the file named by the environment
variable PLATFORM_ARGOCD_VALUES (default: ../shared/charts/argo-cd/values.yaml from the project root); the
tests that need it skip, saying so, where it is absent.

Golden files: tests/golden/argocd-values.<stack>.yaml hold the rendered release (chart, repository, version,
namespace, values) of the local and mgmt stacks. After an intended change, regenerate them with
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_argocd_values.py` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.argocd.values import ARGOCD_IMAGE_TAG, HA_REPLICAS, argocd_values
from components.config import ConfigError, StackConfig, load_stack_config
from tests.conftest import CATALOG, argocd_release, assert_golden, base_config, raw_config, secret_keys_of
from tests.strict_crd import SCHEMA_DIR
from tests.test_argocd_bootstrap import FULL_CONFIGS, SECRETS
from tools.plan.plan import PROJECT_DIR
from tools.plan.runner import Plan
from tools.plan.stackfile import PLACEHOLDER, read_stack_file
from tools.plan.writer import helm_release_of

VALUES_FILE = Path(os.environ.get("PLATFORM_ARGOCD_VALUES", PROJECT_DIR.parent / "shared/charts/argo-cd/values.yaml"))

# Maps of argocd-cm, argocd-cmd-params-cm and argocd-rbac-cm: their keys are Argo CD settings, not chart keys.
FREE_FORM: set[tuple[str, ...]] = {("configs", "cm"), ("configs", "params"), ("configs", "rbac")}
# Keys of the redis-ha subchart, which argo-cd's values.yaml does not repeat. Checked in DandyDeveloper/charts
# charts/redis-ha/values.yaml at tag redis-ha-4.38.0 (the dependency in argo-cd 10.1.1's Chart.yaml).
SUBCHART_KEYS: set[tuple[str, ...]] = {
    ("redis-ha", "redis", "resources"),
    ("redis-ha", "sentinel", "resources"),
    ("redis-ha", "splitBrainDetection", "resources"),
    ("redis-ha", "init", "resources"),
    ("redis-ha", "haproxy", "resources"),
    ("redis-ha", "haproxy", "init", "resources"),
    # templates/redis-ha-network-policy.yaml and redis-haproxy-network-policy.yaml of the same tag.
    ("redis-ha", "networkPolicy"),
    ("redis-ha", "haproxy", "networkPolicy"),
}
COMPONENTS = ("controller", "server", "repoServer", "applicationSet")


def stack_config(values: Mapping[str, Any]) -> StackConfig:
    return load_stack_config(raw_config(values), secret_keys_of(values), CATALOG)


def env_config(env: str) -> StackConfig:
    """The config of an env with its defaults (HA, admin) on a cloud where that env is valid."""
    return stack_config(base_config("existing" if env == "local" else "aws", env))


@pytest.fixture(scope="module")
def chart_values() -> dict[str, Any]:
    if not VALUES_FILE.is_file():
        pytest.skip(f"argo-cd values.yaml not found at {VALUES_FILE}; set PLATFORM_ARGOCD_VALUES to check chart keys")
    return yaml.safe_load(VALUES_FILE.read_text())


def unknown_keys(ours: Mapping[str, Any], chart: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Dotted paths of `ours` that the chart does not define (Helm would ignore them without a word).

    Below a map that is empty in the chart (`resources: {}`, `annotations: {}`), and below the free-form maps,
    any key is the chart's intent; a list is taken whole.
    """
    for key, value in ours.items():
        here = (*path, key)
        if here in FREE_FORM:
            continue
        if not isinstance(chart, dict) or key not in chart:
            if any(known[: len(here)] == here for known in SUBCHART_KEYS):
                if here not in SUBCHART_KEYS and isinstance(value, dict):
                    yield from unknown_keys(value, {}, here)
                continue
            yield ".".join(here)
            continue
        default = chart[key]
        if isinstance(value, dict) != isinstance(default, dict):
            yield f"{'.'.join(here)} (a {type(value).__name__} where the chart has a {type(default).__name__})"
        elif isinstance(value, dict) and default:
            yield from unknown_keys(value, default, here)


def merged(chart: Any, ours: Any) -> Any:
    """Helm's merge of user values over chart defaults: maps merge, anything else replaces."""
    if isinstance(chart, dict) and isinstance(ours, dict):
        return {**chart, **{k: merged(chart.get(k), v) for k, v in ours.items()}}
    return ours


CONFIGS = {
    "local": base_config("existing", "local"),
    "mgmt": base_config("existing", "mgmt"),
    "prod": base_config("aws", "prod"),
    **FULL_CONFIGS,
}


@pytest.mark.parametrize("case", list(CONFIGS))
def test_every_key_exists_in_the_chart(case: str, chart_values: dict[str, Any]) -> None:
    assert list(unknown_keys(argocd_values(stack_config(CONFIGS[case])), chart_values)) == []


def test_the_key_check_catches_a_misspelt_key(chart_values: dict[str, Any]) -> None:
    values = argocd_values(stack_config(CONFIGS["mgmt"]))
    values["controler"] = {"replicas": 2}
    values["server"]["ingres"] = {"enabled": True}
    values["redis-ha"]["haproxy"]["resorces"] = {}
    values["global"]["domain"] = {"name": "x"}
    assert sorted(unknown_keys(values, chart_values)) == [
        "controler",
        "global.domain (a dict where the chart has a str)",
        "redis-ha.haproxy.resorces",
        "server.ingres",
    ]


def test_prod_like_argocd_is_highly_available() -> None:
    for env in ("prod", "mgmt"):
        values = argocd_values(env_config(env))
        for component in COMPONENTS:
            assert values[component]["replicas"] >= 2, (env, component)
            assert values[component]["pdb"] == {"enabled": True, "minAvailable": 1}, (env, component)
        assert values["redis-ha"]["enabled"] is True
        assert "redis" not in values, "redis-ha replaces the single redis"
        assert values["server"]["autoscaling"] == {"enabled": False}
        assert values["repoServer"]["autoscaling"] == {"enabled": False}
    assert HA_REPLICAS == 2


def test_dev_and_local_argocd_run_single_replicas() -> None:
    for env in ("dev", "local"):
        values = argocd_values(env_config(env))
        for component in COMPONENTS:
            assert values[component]["replicas"] == 1, (env, component)
            assert "pdb" not in values[component], "a PDB over one pod blocks node drains"
        assert values["redis-ha"] == {"enabled": False}
        assert "resources" in values["redis"]


def test_admin_is_off_where_sso_is_required_and_on_in_dev_and_local() -> None:
    for env in ("staging", "prod", "mgmt"):
        assert argocd_values(env_config(env))["configs"]["cm"]["admin.enabled"] == "false", env
    for env in ("dev", "local"):
        assert argocd_values(env_config(env))["configs"]["cm"]["admin.enabled"] == "true", env


@pytest.mark.parametrize("case", list(CONFIGS))
def test_policy_default_grants_nothing(case: str) -> None:
    rbac = argocd_values(stack_config(CONFIGS[case]))["configs"]["rbac"]
    assert rbac["policy.default"] == ""
    assert "role:admin" not in rbac["policy.default"]
    assert rbac["scopes"] == "[groups]"


def test_sso_groups_map_to_roles_and_the_client_secret_is_a_reference() -> None:
    values = argocd_values(stack_config(FULL_CONFIGS["mgmt-full"]))
    assert values["configs"]["rbac"]["policy.csv"] == "g, platform-admins, role:admin\ng, engineering, role:readonly\n"
    oidc = yaml.safe_load(values["configs"]["cm"]["oidc.config"])
    assert oidc == {
        "name": "SSO",
        "issuer": "https://login.acme.test",
        "clientID": "argocd",
        "clientSecret": "$argocd-oidc:clientSecret",
    }
    assert values["dex"] == {"enabled": False}


def test_a_group_that_would_break_policy_csv_is_refused() -> None:
    config = base_config("existing", "mgmt")
    config["argocd"] = {**config["argocd"], "sso": {**config["argocd"]["sso"], "adminGroups": ["admins, role:admin"]}}
    with pytest.raises(ValueError, match=r"argocd.sso.adminGroups: group 'admins, role:admin'"):
        argocd_values(stack_config(config))


@pytest.mark.parametrize("case", list(CONFIGS))
def test_no_secret_is_in_the_values(case: str) -> None:
    text = yaml.safe_dump(argocd_values(stack_config(CONFIGS[case])))
    assert not [name for name, secret in SECRETS.items() if secret in text]


def test_the_server_is_internal_unless_a_hostname_puts_it_behind_a_tls_ingress() -> None:
    internal = argocd_values(stack_config(CONFIGS["local"]))
    assert internal["server"]["service"] == {"type": "ClusterIP"}
    assert "ingress" not in internal["server"]
    assert internal["configs"]["params"]["server.insecure"] == "false"
    assert internal["global"]["domain"] == "localhost:8080"

    exposed = argocd_values(stack_config(FULL_CONFIGS["local-full"]))
    ingress = exposed["server"]["ingress"]
    assert exposed["server"]["service"] == {"type": "ClusterIP"}
    assert (ingress["enabled"], ingress["tls"], ingress["hostname"]) == (True, True, "argocd.acme.test")
    assert ingress["annotations"] == {"cert-manager.io/cluster-issuer": "platform-tls"}
    # Plain HTTP behind the ingress only because the ingress terminates TLS (HARDENING #25).
    assert exposed["configs"]["params"]["server.insecure"] == "true"
    assert exposed["global"]["domain"] == "argocd.acme.test"


@pytest.mark.parametrize("case", ["local", "mgmt"])
def test_every_component_requests_resources(case: str) -> None:
    values = argocd_values(stack_config(CONFIGS[case]))
    containers = [values[c]["resources"] for c in (*COMPONENTS, "notifications", "redisSecretInit")]
    if values["redis-ha"]["enabled"]:
        redis_ha = values["redis-ha"]
        containers += [redis_ha[c]["resources"] for c in ("redis", "sentinel", "splitBrainDetection", "init")]
        containers += [redis_ha["haproxy"]["resources"], redis_ha["haproxy"]["init"]["resources"]]
    else:
        containers.append(values["redis"]["resources"])
    for resources in containers:
        assert set(resources["requests"]) == {"cpu", "memory"}
        assert set(resources["limits"]) == {"memory"}, "memory limits only: CPU limits throttle the controllers"


@pytest.mark.parametrize("case", ["local", "mgmt"])
def test_every_container_is_non_root_with_a_read_only_root_file_system(case: str, chart_values: dict[str, Any]) -> None:
    values = merged(chart_values, argocd_values(stack_config(CONFIGS[case])))
    for component in (*COMPONENTS, "notifications", "redisSecretInit"):
        context = values[component]["containerSecurityContext"]
        assert context["runAsNonRoot"] is True, component
        assert context["readOnlyRootFilesystem"] is True, component
        assert context["allowPrivilegeEscalation"] is False, component
        assert context["capabilities"] == {"drop": ["ALL"]}, component
    if values["redis-ha"]["enabled"]:
        # runAsNonRoot comes from the subchart's own defaults (redis-ha 4.38.0 values.yaml: securityContext and
        # containerSecurityContext runAsNonRoot: true, haproxy runAsNonRoot: true); argo-cd adds the rest.
        assert values["redis-ha"]["containerSecurityContext"]["readOnlyRootFilesystem"] is True
        assert values["redis-ha"]["haproxy"]["containerSecurityContext"]["readOnlyRootFilesystem"] is True
    else:
        assert values["redis"]["securityContext"]["runAsNonRoot"] is True
        assert values["redis"]["containerSecurityContext"]["readOnlyRootFilesystem"] is True
    assert values["dex"]["enabled"] is False
    assert values["commitServer"]["enabled"] is False


def test_application_health_for_health_gated_waves_and_no_progressive_syncs() -> None:
    values = argocd_values(stack_config(CONFIGS["local"]))
    # Ordering comes from one parent Application per cluster; RollingSync would switch self-heal off.
    assert not any("progressive" in key for key in values["configs"]["params"])
    health = values["configs"]["cm"]["resource.customizations.health.argoproj.io_Application"]
    assert "hs.status = obj.status.health.status" in health and health.rstrip().endswith("return hs")
    # Argo CD 3.x tracks by annotation by default (upgrading/2.14-3.0.md); the default is kept.
    assert "application.resourceTrackingMethod" not in values["configs"]["cm"]


def _notifications(case: str) -> dict[str, Any]:
    return argocd_values(stack_config(FULL_CONFIGS[case]))["notifications"]


def test_slack_and_webhook_notifications_reference_the_token_and_subscribe_platform_apps() -> None:
    slack = _notifications("mgmt-full")
    assert slack["notifiers"] == {"service.slack": "token: $slack-token\n"}
    webhook = _notifications("local-full")
    notifier = yaml.safe_load(webhook["notifiers"]["service.webhook.platform"])
    assert notifier == {
        "url": "https://hooks.acme.test/argocd",
        "headers": [{"name": "Authorization", "value": "Bearer $webhook-token"}],
    }
    for notifications, recipient in ((slack, "slack:platform-alerts"), (webhook, "platform")):
        assert notifications["secret"] == {"create": False}
        assert notifications["subscriptions"] == [
            {
                "recipients": [recipient],
                "triggers": ["on-sync-failed", "on-health-degraded", "on-sync-succeeded", "on-sync-stuck"],
                "selector": "project=platform",
            }
        ]
        for trigger in notifications["subscriptions"][0]["triggers"]:
            (rule,) = yaml.safe_load(notifications["triggers"][f"trigger.{trigger}"])
            for template in rule["send"]:
                assert "message" in yaml.safe_load(notifications["templates"][f"template.{template}"])
    failed = yaml.safe_load(webhook["triggers"]["trigger.on-sync-failed"])[0]["when"]
    assert "phase in ['Error', 'Failed']" in failed


def test_a_stuck_wave_notifies_once_per_sync_naming_cluster_and_waiting_child() -> None:
    notifications = _notifications("mgmt-full")
    (rule,) = yaml.safe_load(notifications["triggers"]["trigger.on-sync-stuck"])
    assert rule["when"].startswith(
        "app.status.operationState != nil and app.status.operationState.phase in ['Running']"
    )
    assert "time.Parse(app.status.operationState.startedAt).Add(30 * time.Minute).Before(time.Now())" in rule["when"]
    # Once per sync operation: a new revision does not re-arm it, a new (retried) sync does.
    assert rule["oncePer"] == "app.status.operationState?.startedAt"
    (template,) = rule["send"]
    message = yaml.safe_load(notifications["templates"][f"template.{template}"])["message"]
    # The parent's operation message names the child Application it waits for (sync_context.go:470).
    assert '{{index .app.metadata.labels "cluster"}}' in message
    assert "{{.app.status.operationState.message}}" in message
    failed = yaml.safe_load(notifications["triggers"]["trigger.on-sync-failed"])[0]
    assert failed["oncePer"] == "app.status.operationState?.syncResult?.revision"
    # The webhook's body carries the same: which cluster, and the operation's message as a JSON string.
    webhook = _notifications("local-full")
    (body,) = (w["body"] for w in yaml.safe_load(webhook["templates"]["template.app-sync-stuck"])["webhook"].values())
    message = 'one or more synchronization tasks completed unsuccessfully, reason: "kong" <Degraded>\nRetrying'
    app = {
        "metadata": {"name": "platform-cluster-dev", "labels": {"cluster": "cluster-dev"}},
        "spec": {"project": "platform"},
        "status": {"operationState": {"message": message}},
    }
    sent = json.loads(_render_webhook_body(body, app))
    assert (sent["cluster"], sent["message"], sent["event"]) == ("cluster-dev", message, "on-sync-stuck")
    assert sent["application"] == "platform-cluster-dev"
    # No operation to report on a health change: the message is left out rather than failing the template.
    degraded = yaml.safe_load(webhook["templates"]["template.app-health-degraded"])["webhook"]["platform"]["body"]
    assert json.loads(_render_webhook_body(degraded, app))["cluster"] == "cluster-dev"
    assert "operationState" not in degraded


def _render_webhook_body(body: str, app: Mapping[str, Any]) -> str:
    """The template actions the webhook bodies use, as Go's text/template and Sprig's `toJson` (json.Marshal)
    evaluate them: a field path, `index MAP "key"`, and a pipe into `toJson`."""

    def value(expression: str) -> Any:
        if expression.startswith("index "):
            path, key = expression.removeprefix("index ").rsplit(" ", 1)
            return value(path)[json.loads(key)]
        node: Any = {"app": app, "context": {"argocdUrl": "https://argocd.test"}}
        for part in expression.removeprefix(".").split("."):
            node = node[part]
        return node

    def action(match: re.Match[str]) -> str:
        expression, _, function = match.group(1).partition(" | ")
        assert function in ("", "toJson"), match.group(0)
        return json.dumps(value(expression)) if function else str(value(expression))

    return re.sub(r"\{\{(.*?)\}\}", action, body)


def test_argo_cd_runs_the_fixed_release() -> None:
    for name, config in CONFIGS.items():
        values = argocd_values(stack_config(config))
        assert values["global"]["image"] == {"tag": "v3.4.7"}, name
        for component in COMPONENTS:
            assert "image" not in values[component], "one tag for every component, from global.image"


def test_the_pinned_release_keeps_the_crds_the_schemas_and_the_chart_were_taken_from() -> None:
    """v3.4.7's CRDs are byte-identical to v3.4.4's (argo-cd `git diff v3.4.4 v3.4.7 -- manifests/crds` is
    empty), which the chart installs and the strict checks use; a newer minor would need both replaced."""
    version_file, chart_file = SCHEMA_DIR / "VERSION", VALUES_FILE.with_name("Chart.yaml")
    if not version_file.is_file() or not chart_file.is_file():
        pytest.skip(f"{version_file} or {chart_file} not found; they hold the versions the checks were taken from")
    schemas = version_file.read_text().split("Argo CD ")[1].strip()
    app_version = yaml.safe_load(chart_file.read_text())["appVersion"]
    assert schemas == app_version == "v3.4.4"

    def minor(tag: str) -> tuple[int, int]:
        major, minor_, _ = tag.removeprefix("v").split(".")
        return int(major), int(minor_)

    assert minor(ARGOCD_IMAGE_TAG) == minor(app_version)
    assert int(ARGOCD_IMAGE_TAG.rsplit(".", 1)[1]) >= 7, "v3.4.6 and v3.4.7 carry the ApplicationSet fixes"


def sharded_config(shards: int) -> dict[str, Any]:
    config = base_config("aws", "mgmt")
    config["argocd"] = {**config["argocd"], "controllerShards": shards}
    return config


def test_controller_sharding_is_off_by_default_and_uses_consistent_hashing(chart_values: dict[str, Any]) -> None:
    plain = argocd_values(env_config("dev"))
    assert plain["controller"]["replicas"] == 1
    assert "controller.sharding.algorithm" not in plain["configs"]["params"]
    sharded = argocd_values(stack_config(sharded_config(4)))
    assert sharded["controller"]["replicas"] == 4
    assert sharded["configs"]["params"]["controller.sharding.algorithm"] == "consistent-hashing"
    # `controller.replicas` is the chart's; configs.params is argocd-cmd-params-cm, free-form.
    assert list(unknown_keys(sharded, chart_values)) == []
    # HA alone keeps its two replicas and the default (legacy) distribution.
    ha = argocd_values(env_config("prod"))
    assert ha["controller"]["replicas"] == 2
    assert "controller.sharding.algorithm" not in ha["configs"]["params"]


@pytest.mark.parametrize("shards", [0, 11])
def test_controller_shards_out_of_range_is_refused(shards: int) -> None:
    with pytest.raises(ConfigError, match="controllerShards"):
        stack_config(sharded_config(shards))


def test_no_notifications_configured_leaves_the_controller_idle() -> None:
    notifications = argocd_values(stack_config(CONFIGS["local"]))["notifications"]
    assert set(notifications) == {"resources", "secret"}


# ---------------------------------------------------------------------------------------------------------
# Golden files of the shipped stacks
# ---------------------------------------------------------------------------------------------------------


class _ReadableDumper(yaml.SafeDumper):
    """Multi-line strings (Lua, OIDC config, templates) as `|` blocks, so a golden diff reads line by line."""


_ReadableDumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None),
)


@pytest.mark.parametrize("stack", ["local", "mgmt"])
def test_release_values_match_the_golden_file(stack: str, shipped_plans: dict[str, Plan]) -> None:
    rendered = helm_release_of(argocd_release(shipped_plans[stack]))
    assert_golden(f"argocd-values.{stack}.yaml", yaml.dump(rendered, Dumper=_ReadableDumper, sort_keys=True, width=120))


def shipped_config(stack: str) -> StackConfig:
    """A shipped stack's config as the plan reads it: unset secrets become masked placeholders."""
    raw, secret_keys = read_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")
    try:
        return load_stack_config(raw, secret_keys, CATALOG)
    except ConfigError as error:
        raw.update(dict.fromkeys(error.missing_secrets, PLACEHOLDER))
        return load_stack_config(raw, [*secret_keys, *error.missing_secrets], CATALOG)


@pytest.mark.parametrize("stack", ["local", "mgmt"])
def test_the_release_carries_exactly_the_pure_values(stack: str, shipped_plans: dict[str, Plan]) -> None:
    values = argocd_release(shipped_plans[stack]).inputs["values"]
    assert values == argocd_values(shipped_config(stack))


@pytest.mark.parametrize("case", list(CONFIGS))
def test_every_argocd_pod_is_behind_a_network_policy(case: str, chart_values: dict[str, Any]) -> None:
    """Issue 16: a default deny of ingress in `argocd` (the only policy the ApplicationSet controller gets) on top of
    the chart's per-component policies, and redis-ha's own policies where it runs."""
    values = merged(chart_values, argocd_values(stack_config(CONFIGS[case])))
    assert values["global"]["networkPolicy"] == {"create": True, "defaultDenyIngress": True}
    if not values["redis-ha"]["enabled"]:
        return
    redis_ha = values["redis-ha"]
    assert redis_ha["networkPolicy"]["enabled"] is True
    dns = redis_ha["networkPolicy"]["egressRules"]
    assert [(p["port"], p["protocol"]) for rule in dns for p in rule["ports"]] == [(53, "UDP"), (53, "TCP")]
    haproxy = redis_ha["haproxy"]["networkPolicy"]
    assert haproxy["enabled"] is True
    # The chart labels each component's pods `app.kubernetes.io/name: <nameOverride>-<component name>`
    # (argo-cd 10.1.1 templates/_common.tpl `argo-cd.selectorLabels`).
    clients = {
        chart_values["nameOverride"] + "-" + chart_values[c]["name"] for c in ("server", "repoServer", "controller")
    }
    selected = {
        s["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for s in haproxy["ingressRules"][0]["selectors"]
    }
    assert selected == clients
