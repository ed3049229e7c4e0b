"""`python -m tools.preview_guard [--stack S] [--allow-destructive] PREVIEW.json`: stop a pull request that would
replace or delete what a protected platform (staging, prod, the mgmt hub) stands on.

Reads the document `pulumi preview --json` prints (the engine's `PreviewDigest`: `config`, `steps` with `op`, `urn`,
`oldState`/`newState`, `diffReasons`, `replaceReasons`, `detailedDiff`; pulumi/pulumi pkg/display/json.go) and
prints one line per step that replaces or deletes a guarded resource. Exit codes: 0 nothing guarded is destroyed (or
`--allow-destructive`), 1 a guarded resource would be destroyed, 2 the document cannot be read (fail closed).

`protect=True` already makes the engine refuse such a step, but only on `up` and only for what the program protects;
the Kubernetes provider and Argo CD's objects are not protected, and replacing the provider replaces everything on
it (pulumi-kubernetes#2294, #4019). So the guard reads the plan, not the options.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.config.environments import envs_where
from components.config.load import envs_named_by

__all__ = [
    "CRITICAL_RESOURCES",
    "DESTRUCTIVE_OPS",
    "GUARDED",
    "PROTECTED_ENVS",
    "Blocked",
    "Guarded",
    "blocked_steps",
    "guarded_envs",
    "main",
]

# The environments whose row in components/config/environments.py is protected (mgmt included: it hosts the Argo CD
# that deploys to prod).
PROTECTED_ENVS = envs_where(protected=True)
# Step ops that end with the old resource gone (pulumi/pulumi pkg/resource/deploy/step.go). `--json` shows a
# replacement as one `replace` step, or as the create-replacement/delete-replaced pair with --show-replacement-steps.
DESTRUCTIVE_OPS = frozenset({"replace", "create-replacement", "delete-replaced", "delete", "import-replacement"})


@dataclass(frozen=True)
class Guarded:
    """A kind of resource whose replacement or deletion takes a platform down."""

    type: str
    """The type token; a trailing `*` matches every type of the module (e.g. all Argo CD kinds)."""
    what: str
    namespace: str | None = None
    """Only objects installed into this namespace (a Helm release's `namespace` input)."""
    name: str | None = None
    """Only the object of this name (`metadata.name`)."""

    def matches(self, type_token: str, state: Mapping[str, Any]) -> bool:
        if self.type.endswith("*"):
            if not type_token.startswith(self.type[:-1]):
                return False
        elif type_token != self.type:
            return False
        if self.namespace is not None and _namespace_of(state) != self.namespace:
            return False
        return self.name is None or _name_of(state) == self.name


def _load_guarded(path: Path) -> tuple[Guarded, ...]:
    """The guarded kinds listed in `path` (every entry, protected by the program or not)."""
    return tuple(
        Guarded(type=entry["type"], what=entry["what"], namespace=entry.get("namespace"), name=entry.get("name"))
        for entry in yaml.safe_load(path.read_text())
    )


CRITICAL_RESOURCES = Path(__file__).resolve().parents[1] / "policy" / "critical_resources.yaml"
"""The one list of what the guard protects, shared with the policy pack's `production-protected`."""
GUARDED: tuple[Guarded, ...] = _load_guarded(CRITICAL_RESOURCES)


@dataclass(frozen=True)
class Blocked:
    op: str
    type: str
    urn: str
    what: str

    def line(self) -> str:
        return f"{self.op} {self.type} {self.urn} ({self.what})"


def _namespace_of(state: Mapping[str, Any]) -> str | None:
    for props in (state.get("inputs") or {}, state.get("outputs") or {}):
        namespace = props.get("namespace") or (props.get("metadata") or {}).get("namespace")
        if isinstance(namespace, str) and namespace:
            return namespace
    return None


def _name_of(state: Mapping[str, Any]) -> str | None:
    for props in (state.get("inputs") or {}, state.get("outputs") or {}):
        name = (props.get("metadata") or {}).get("name")
        if isinstance(name, str) and name:
            return name
    return None


def _type_of(step: Mapping[str, Any]) -> str:
    """The step's type token: from its state, else from the URN (`urn:pulumi:stack::project::parent$type::name`)."""
    for key in ("newState", "oldState"):
        type_token = (step.get(key) or {}).get("type")
        if type_token:
            return str(type_token)
    qualified = str(step.get("urn", "")).split("::")
    return qualified[2].rsplit("$", 1)[-1] if len(qualified) > 3 else ""


def _stack_of_urn(urn: str) -> str | None:
    parts = urn.split("::")
    return parts[0].removeprefix("urn:pulumi:") if urn.startswith("urn:pulumi:") else None


def guarded_envs(digest: Mapping[str, Any], stack: str | None) -> set[str]:
    """Every name this preview goes by that could be a protected environment: the environments the stack name given
    and the stack in the steps' URNs name (`prod`, `org/platform/prod`, `prod-eu`: the config loader's rule), and
    `platform:env` from the preview's config."""
    names: set[str] = set()
    if stack:
        names |= envs_named_by(stack)
    for step in digest.get("steps") or []:
        urn_stack = _stack_of_urn(str(step.get("urn", "")))
        if urn_stack:
            names |= envs_named_by(urn_stack)
    env = (digest.get("config") or {}).get("platform:env")
    if isinstance(env, str):
        names.add(env)
    return names & PROTECTED_ENVS


def blocked_steps(digest: Mapping[str, Any], stack: str | None = None) -> list[Blocked]:
    """The steps that would replace or delete a guarded resource, if the preview is of a protected environment."""
    if not guarded_envs(digest, stack):
        return []
    blocked: list[Blocked] = []
    steps: Sequence[Mapping[str, Any]] = digest.get("steps") or []
    for step in steps:
        op = str(step.get("op", ""))
        if op not in DESTRUCTIVE_OPS:
            continue
        type_token = _type_of(step)
        # A deletion only has the old state; a replacement is judged by what exists now.
        state = step.get("oldState") or step.get("newState") or {}
        for guarded in GUARDED:
            if guarded.matches(type_token, state):
                blocked.append(Blocked(op, type_token, str(step.get("urn", "")), guarded.what))
                break
    return blocked


def _read(path: Path) -> Mapping[str, Any]:
    text = sys.stdin.read() if str(path) == "-" else path.read_text()
    if not text.strip():
        raise ValueError("empty document: did `pulumi preview --json` fail before printing?")
    digest = json.loads(text)
    if not isinstance(digest, dict):
        raise ValueError("not a `pulumi preview --json` document (expected an object with `steps`)")
    return digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.preview_guard",
        description="Fail when a staging or prod preview replaces or deletes a cluster, node pool, network, "
        "KMS key, Kubernetes provider or the Argo CD install.",
    )
    parser.add_argument("preview", type=Path, help="output of `pulumi preview --json` (`-` for stdin)")
    parser.add_argument("--stack", help="stack name (`prod` or `org/platform/prod`); the URNs name it too")
    parser.add_argument(
        "--allow-destructive",
        action="store_true",
        help="report but do not fail (the pull request carries the `allow-destructive-change` label)",
    )
    args = parser.parse_args(argv)
    try:
        digest = _read(args.preview)
    except (OSError, ValueError) as error:  # json.JSONDecodeError is a ValueError
        print(f"error: {args.preview}: {error}", file=sys.stderr)
        return 2
    blocked = blocked_steps(digest, args.stack)
    prefix = "allowed" if args.allow_destructive else "blocked"
    for item in blocked:
        print(f"{prefix}: {item.line()}")
    if not blocked:
        print("preview guard: no guarded resource is replaced or deleted", file=sys.stderr)
        return 0
    if args.allow_destructive:
        print(f"preview guard: {len(blocked)} destructive step(s) allowed by override", file=sys.stderr)
        return 0
    print(
        f"preview guard: {len(blocked)} destructive step(s) in a protected environment; if intended, add the "
        "`allow-destructive-change` label to the pull request",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
