"""Parse a stack's raw config once into a validated `StackConfig`, or fail with one line per problem.

Pure: the input is the flat `{"platform:key": "value"}` map Pulumi hands a program (objects as JSON text) and
the set of keys that were stored as secrets. `pulumi_source()` reads that map from the Pulumi runtime; the
credential-free plan reads it from a stack file.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from components.catalog import Catalog
from components.config.base import NAMESPACE
from components.config.base import config_key as _key
from components.config.clouds import CLOUD_RULES
from components.config.clouds.common import open_api_errors
from components.config.environments import ENVIRONMENT_TABLE
from components.config.model import (
    CLOUDS,
    ENVIRONMENTS,
    PLATFORM_REPOSITORY,
    SECRET_KEYS,
    StackConfig,
    domain_repository,
    git_server_repo_url,
)

__all__ = [
    "NAMESPACE",
    "PROJECT_DIR",
    "PROVIDER_NAMESPACES",
    "SEED_MAX_BYTES",
    "ConfigError",
    "envs_named_by",
    "load_stack_config",
    "pulumi_source",
    "seed_folder",
    "set_secret_hint",
]

# Config of the providers themselves (`gcp:project`, `aws:region`, ...) is theirs to check.
PROVIDER_NAMESPACES = frozenset({"pulumi", "gcp", "aws", "azure-native", "kubernetes"})
DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")
PROJECT_DIR = Path(__file__).resolve().parents[2]
"""Where `pulumi up` runs the program; relative seed folders of `gitServer` start here."""
SEED_MAX_BYTES = 512 * 1024
"""Most bytes of files the seed folders may hold together: they travel in one ConfigMap, which Kubernetes caps at
1 MiB, and base64 of the archives adds a third."""
_SECRET_MASK = "[secret]"


class ConfigError(Exception):
    """Stack config that cannot be used. Each line names the key, the bad value and what is allowed."""

    def __init__(self, lines: Iterable[str], missing_secrets: Iterable[str] = ()) -> None:
        self.lines = list(lines)
        self.missing_secrets = list(missing_secrets)
        """Secret keys that are required but unset; the credential-free plan stands in placeholders."""
        super().__init__("\n".join(self.lines))


def _show(value: Any, path: tuple[Any, ...]) -> str:
    if path and path[0] in SECRET_KEYS:
        return _SECRET_MASK
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ---------------------------------------------------------------------------------------------------------
# Raw values
# ---------------------------------------------------------------------------------------------------------


def _decode(value: Any) -> Any:
    """Pulumi passes objects, lists and booleans as JSON text; plain strings stay strings."""
    if not isinstance(value, str):
        return value
    stripped = value.strip()
    if stripped[:1] in "{[" or stripped in {"true", "false"} or stripped.lstrip("-").isdigit():
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return value
    return value


def _split(raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Keys of this program's namespace, decoded; and one error line per key of an unknown namespace."""
    ours: dict[str, Any] = {}
    errors: list[str] = []
    for full_key, value in raw.items():
        namespace, _, key = full_key.partition(":")
        if namespace == NAMESPACE:
            ours[key] = _decode(value)
        elif namespace not in PROVIDER_NAMESPACES:
            errors.append(
                f"{full_key}: unknown config namespace '{namespace}'; allowed: "
                f"{NAMESPACE}, {', '.join(sorted(PROVIDER_NAMESPACES))}"
            )
    return ours, errors


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _unknown_top_level(values: Mapping[str, Any]) -> list[str]:
    allowed = _allowed_keys(StackConfig)
    errors = []
    for key in values:
        if key not in allowed:
            hint = difflib.get_close_matches(key, allowed, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            errors.append(f"{_key([key])}: unknown key{suggestion}; allowed: {', '.join(allowed)}")
    return errors


# How to set each secret key. `gitCredentials` is a map of URL prefix to credential: its password is set with
# `--path`, each part in brackets since the prefix holds dots (pulumi.com/docs/iac/cli/commands/pulumi_config_set).
_SET_SECRET = {
    "gitCredentials": "pulumi config set --path --secret "
    '\'platform:gitCredentials["https://github.com/acme"]["password"]\' <token>',
}


def set_secret_hint(key: str) -> str:
    """The `pulumi config set` command line that stores `key` encrypted."""
    return _SET_SECRET.get(key, f"pulumi config set --secret {_key([key])} <value>")


def _plain_secrets(values: Mapping[str, Any], secret_keys: set[str]) -> list[str]:
    return [
        f"{_key([key])}: is plain text but must be a secret; set it with `{set_secret_hint(key)}`"
        for key in values
        if key in SECRET_KEYS and f"{NAMESPACE}:{key}" not in secret_keys
    ]


def envs_named_by(stack: str) -> set[str]:
    """The environments a stack's name names: its last `org/project/stack` segment, whole or as a `-`, `_` or
    `.` separated word (`prod`, `acme/platform/prod`, `prod-eu`). The policy pack reads the same words from the
    URN (policy/policies/common.py `envs_named_by`, held equal by tests/test_policy_pack.py)."""
    words = set(re.split(r"[-_.]", stack.rsplit("/", 1)[-1].lower()))
    return words & set(ENVIRONMENTS)


def _stack_name_check(env: Any, stack: str | None) -> list[str]:
    """A stack named after one environment cannot be configured as another: the policy pack and the preview guard
    take the stricter of the two, and a silent mismatch is how a prod stack would end up treated as local."""
    named = envs_named_by(stack) if stack else set()
    if not named or env in named:
        return []
    return [
        f"{_key(['env'])}: {_show(env, ('env',))} does not match the stack {stack!r}, which names "
        f"{' and '.join(sorted(named))}; set {_key(['env'])} to {' or '.join(sorted(named))} or rename the stack"
    ]


# ---------------------------------------------------------------------------------------------------------
# Per-environment defaults (data in defaults.yaml)
# ---------------------------------------------------------------------------------------------------------


@cache
def _defaults() -> dict[str, Any]:
    return yaml.safe_load(DEFAULTS_FILE.read_text())


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _with_defaults(values: dict[str, Any]) -> dict[str, Any]:
    defaults = _defaults()
    env_defaults = dict(defaults["environments"][values["env"]])
    profile = defaults["nodePoolProfiles"][env_defaults.pop("nodePoolProfile")]
    merged = _merge(env_defaults, values)
    cluster = merged.get("cluster")
    cloud = merged.get("cloud")
    machine_classes = defaults["machineClasses"].get(cloud)
    if machine_classes and isinstance(cluster, Mapping) and "nodePools" not in cluster:
        pools = {
            name: {
                "machineType": machine_classes[pool["machineClass"]],
                "minSize": pool["minSize"],
                "maxSize": pool["maxSize"],
            }
            for name, pool in profile.items()
        }
        merged["cluster"] = {**cluster, "nodePools": pools}
    crossplane = merged.get("crossplane")
    roles = defaults["crossplaneRoles"].get(cloud)
    on_hub = ENVIRONMENT_TABLE[values["env"]].role == "hub"
    if on_hub and roles and not (isinstance(crossplane, Mapping) and "roles" in crossplane):
        merged["crossplane"] = {**(crossplane if isinstance(crossplane, Mapping) else {}), "roles": roles}
    return merged


def _with_git_server(values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """With `gitServer` set, the platform and domain repositories are the ones it serves: fill in their URLs."""
    server = values.get("gitServer")
    if not isinstance(server, Mapping) or not isinstance(values.get("env"), str):
        return values, []
    env = values["env"]
    errors: list[str] = []
    values = dict(values)
    raw_gitops = values.get("gitops")
    gitops: Mapping[str, Any] = raw_gitops if isinstance(raw_gitops, Mapping) else {}
    served = git_server_repo_url(env, PLATFORM_REPOSITORY)
    if "repoUrl" in gitops and gitops["repoUrl"] != served:
        errors.append(
            f"{_key(['gitops', 'repoUrl'])}: {_show(gitops['repoUrl'], ('gitops',))} is set but gitServer serves the "
            f"platform repository at {served}; remove gitops.repoUrl, or remove gitServer to use a hosted repository"
        )
    values["gitops"] = {**gitops, "repoUrl": served}
    folders = server.get("domainFolders")
    if isinstance(folders, Mapping):
        domains = list(values.get("domains") or [])
        listed = {d.get("name") for d in domains if isinstance(d, Mapping)}
        for name in folders:
            if name in listed:
                errors.append(
                    f"{_key(['domains'])}: '{name}' is also in gitServer.domainFolders, which makes it a domain "
                    "served in-cluster; list it in one place"
                )
            else:
                domains.append({"name": name, "repoUrl": git_server_repo_url(env, domain_repository(str(name)))})
        values["domains"] = domains
    return values, errors


def seed_folder(folder: str) -> Path:
    """A `gitServer` seed folder as a path: relative ones start at the project."""
    path = Path(folder).expanduser()
    return path if path.is_absolute() else PROJECT_DIR / path


def _seed_folder_size(key: list[Any], folder: str) -> tuple[int, str | None]:
    """Bytes of the files a seed folder holds (a `.git` folder in it is not content), or the error that it has none."""
    path = seed_folder(folder)
    if not path.is_dir():
        return (
            0,
            f"{_key(key)}: '{folder}' is not a folder ({path}); name a folder of files to seed the repository with",
        )
    sizes = [f.stat().st_size for f in path.rglob("*") if f.is_file() and ".git" not in f.relative_to(path).parts]
    if not sizes:
        return 0, f"{_key(key)}: '{folder}' holds no files; a repository needs at least one"
    return sum(sizes), None


def _git_server_checks(config: StackConfig) -> list[str]:
    server = config.git_server
    if server is None:
        return []
    if not config.is_hub:
        return [
            f"{_key(['gitServer'])}: needs this cluster's own Argo CD (standalone topology, or mgmt); a spoke reads "
            "the hub's repositories"
        ]
    folders = [(["gitServer", "platformFolder"], server.platform_folder)]
    folders += [(["gitServer", "domainFolders", name], folder) for name, folder in server.domain_folders.items()]
    checked = [_seed_folder_size(key, folder) for key, folder in folders]
    errors = [error for _, error in checked if error is not None]
    total = sum(size for size, _ in checked)
    if total > SEED_MAX_BYTES:
        errors.append(
            f"{_key(['gitServer'])}: the seed folders hold {total} bytes; at most {SEED_MAX_BYTES} fit the seeding "
            "ConfigMap, so push larger repositories to a hosted Git server instead"
        )
    return errors


# ---------------------------------------------------------------------------------------------------------
# Errors from the model
# ---------------------------------------------------------------------------------------------------------


def _model_at(path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class a config path points into, to list its allowed keys."""
    model: type[BaseModel] | None = StackConfig
    for part in path:
        if model is None:
            return None
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None if isinstance(part, str) else model
        model = _inner_model(field.annotation)
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _format(error: Any) -> str:
    path = tuple(error["loc"])
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        parent = _model_at(path[:-1])
        allowed = _allowed_keys(parent) if parent else []
        hint = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        return f"{_key(path)}: unknown key{suggestion}; allowed: {', '.join(allowed)}"
    if kind == "missing":
        return f"{_key(path)}: is required but not set"
    if kind == "literal_error":
        expected = message.removeprefix("Input should be ")
        return f"{_key(path)}: {_show(error['input'], path)} is not allowed; expected {expected}"
    if isinstance(error["input"], dict | list):
        return f"{_key(path)}: {message}"
    return f"{_key(path)}: {_show(error['input'], path)} is invalid: {message}"


# ---------------------------------------------------------------------------------------------------------
# Rules across fields
# ---------------------------------------------------------------------------------------------------------


def _cluster_checks(config: StackConfig) -> list[str]:
    cluster = config.cluster
    cloud = config.cloud
    errors = [
        f"{_key(['cluster', other])}: is set but cloud is '{cloud}'; only cluster.{cloud} applies"
        for other in CLOUDS
        if other != cloud and getattr(cluster, other) is not None
    ]
    errors += CLOUD_RULES[cloud].rules(config)
    if config.prod_like:
        errors += open_api_errors(config)
    return errors


def _topology_checks(config: StackConfig) -> list[str]:
    errors: list[str] = []
    topology = config.topology
    if config.role == "spoke" and not topology.hub_stack:
        errors.append(
            f"{_key(['topology', 'hubStack'])}: is required in hub topology; name the management stack, "
            "e.g. myorg/platform/mgmt"
        )
    if config.role == "hub" and topology.hub_stack:
        errors.append(f"{_key(['topology', 'hubStack'])}: must not be set on mgmt, which is the hub")
    if config.role == "hub" and topology.mode != "hub":
        errors.append(f"{_key(['topology', 'mode'])}: 'standalone' is not allowed on mgmt; expected 'hub'")
    return errors


def _repository_checks(config: StackConfig) -> list[str]:
    errors: list[str] = []
    seen: set[str] = set()
    for index, domain in enumerate(config.domains):
        if domain.name in seen:
            errors.append(f"{_key(['domains', index, 'name'])}: '{domain.name}' is listed twice")
        # Namespaces are `{domain}-{env}-{service}`: `pay` would reach into the namespaces of a domain `pay-dev`.
        overlapping = [
            other for other in seen if domain.name.startswith(f"{other}-") or other.startswith(f"{domain.name}-")
        ]
        if overlapping:
            errors.append(
                f"{_key(['domains', index, 'name'])}: '{domain.name}' and '{overlapping[0]}' overlap; a domain name "
                "must not be another's prefix followed by '-'"
            )
        seen.add(domain.name)
    for prefix in config.git_credentials or {}:
        authority = prefix.removeprefix("https://").split("/", 1)[0]
        if not prefix.startswith(("https://", "ssh://", "git@")) or (
            prefix.startswith("https://") and "@" in authority
        ):
            # The prefix is a Secret's `url`, which the plan and Argo CD's UI show: no credentials in it.
            errors.append(
                f"{_key(['gitCredentials'])}: a URL prefix must be a plain https://, ssh:// or git@ URL without "
                "credentials in it; put the token in the password field"
            )
    return errors


def _argocd_and_service_checks(config: StackConfig, catalog: Catalog) -> list[str]:
    errors: list[str] = []
    argocd = config.argocd
    if config.is_hub and not argocd.admin_enabled and argocd.sso is None:
        errors.append(f"{_key(['argocd', 'sso'])}: is required when argocd.adminEnabled is false, or nobody can log in")
    if config.is_hub and argocd.sso is not None and argocd.hostname is None:
        errors.append(
            f"{_key(['argocd', 'hostname'])}: is required when argocd.sso is set: the OIDC provider sends users back "
            "to https://<hostname>/auth/callback; set the UI's public host name, e.g. argocd.example.com"
        )
    if not config.is_hub and argocd.adopt_release:
        errors.append(
            f"{_key(['argocd', 'adoptRelease'])}: true is not allowed on a spoke, which installs no Argo CD; "
            "set it on the hub (mgmt) or a standalone stack"
        )
    if config.prod_like and argocd.admin_enabled:
        errors.append(f"{_key(['argocd', 'adminEnabled'])}: true is not allowed in {config.env}; use SSO (argocd.sso)")

    for name, override in config.services.items():
        service = catalog.services.get(name)
        if service is None:
            errors.append(f"{_key(['services', name])}: is not a platform service; known: {', '.join(catalog.names())}")
        elif service.self_managed and override.enabled is False:
            errors.append(f"{_key(['services', name, 'enabled'])}: false is not allowed; Argo CD runs the hub")
    return errors


def _cross_checks(config: StackConfig, catalog: Catalog) -> list[str]:
    return [
        *_cluster_checks(config),
        *_topology_checks(config),
        *_repository_checks(config),
        *_argocd_and_service_checks(config, catalog),
    ]


def _crossplane_checks(config: StackConfig) -> list[str]:
    """Crossplane runs on mgmt only; the role spellings are each cloud's rules (config/clouds/)."""
    if config.crossplane.roles and config.role != "hub":
        return [f"{_key(['crossplane', 'roles'])}: applies to mgmt only, where Crossplane runs; remove it here"]
    return []


def _missing_secrets(config: StackConfig) -> dict[str, str]:
    """Secret keys that the rest of the config makes required, with the reason."""
    missing = {}
    if config.is_hub and config.argocd.sso is not None and config.argocd_oidc_client_secret is None:
        missing["argocdOidcClientSecret"] = "argocd.sso is set"
    if config.is_hub and config.argocd.notifications is not None and config.notifications_token is None:
        missing["notificationsToken"] = "argocd.notifications is set"
    return missing


def _needs_secret(key: str, because: str) -> str:
    return f"{_key([key])}: is required because {because}; set it with `{set_secret_hint(key)}`"


_STAND_IN_ENV = "dev"


# ---------------------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------------------


def load_stack_config(
    raw: Mapping[str, Any],
    secret_keys: Iterable[str],
    catalog: Catalog,
    *,
    stack: str | None = None,
) -> StackConfig:
    """Validate a stack's raw config map into a `StackConfig` (services checked against `catalog`); raise
    `ConfigError` listing every problem. `stack` is the stack's name, checked against `platform:env`."""
    values, errors = _split(raw)
    errors += _unknown_top_level(values)
    errors += _plain_secrets(values, set(secret_keys))
    env = values.get("env")
    if env not in ENVIRONMENTS:
        shown = "not set" if env is None else f"{_show(env, ('env',))} is not allowed"
        errors.append(f"{_key(['env'])}: {shown}; expected one of {', '.join(ENVIRONMENTS)}")
        # The rest is still checked, against a stand-in env's defaults, so a bad env hides no other mistake.
        values = {**values, "env": _STAND_IN_ENV}
    else:
        errors += _stack_name_check(env, stack)
    values, server_errors = _with_git_server(values)
    errors += server_errors
    # Unknown top-level keys are reported above already; the model checks everything else.
    known = {key: value for key, value in values.items() if key in _allowed_keys(StackConfig)}
    try:
        config = StackConfig.model_validate(_with_defaults(known))
    except ValidationError as error:
        raise ConfigError([*errors, *(_format(e) for e in error.errors())]) from None
    if errors:
        # Rules across fields need the real env (and a config free of the mistakes above) to say anything true. A
        # cloud's own rules still run: those that read the env are laxest on the stand-in, so they add no false line.
        raise ConfigError([*errors, *CLOUD_RULES[config.cloud].rules(config)])
    errors = _cross_checks(config, catalog) + _crossplane_checks(config) + _git_server_checks(config)
    missing = _missing_secrets(config)
    errors += [_needs_secret(key, because) for key, because in missing.items()]
    if errors:
        raise ConfigError(errors, missing_secrets=[f"{NAMESPACE}:{key}" for key in missing])
    return config


def pulumi_source() -> tuple[dict[str, Any], set[str]]:
    """The raw config map and secret keys of the running Pulumi program (language host or mocks)."""
    # Only the program needs Pulumi.
    from pulumi.runtime import config as runtime_config  # noqa: PLC0415

    from components.pulumi_seams import config_secret_keys  # noqa: PLC0415

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return raw, config_secret_keys()
