"""`python -m tools.gitops_init --dest DIR [--repo-url URL] [--stack S ...]`: start the platform GitOps repository.

Copies the starter (`starters/platform-gitops/`) into DIR, never overwriting a file that is already there, and runs
`git init` if DIR is not inside a Git work tree. With `--stack`, it also:
- plans each stack (offline, as `python -m tools.plan` does, with its hub when it is a spoke) and creates an
  empty layer for every values file that stack's Applications read and DIR lacks: the platform Applications fail
  on a missing values file by design, so a cluster or cloud the starter does not ship gets its folders here;
- with `--repo-url`, points the stack at the new repository: the `repoUrl:` line of `platform:gitops` in
  Pulumi.<stack>.yaml is rewritten in place, so every comment of the file stays. A stack file without that line
  is left alone and the `pulumi config set` command to run is printed instead.

`--domain NAME` starts a domain's `{NAME}-gitops` repository from `starters/domain-gitops/` instead
(`k8s/{env}/{service}/`, `crossplane/claims/{env}/`). Nothing is committed: review, commit and push, then `pulumi up`.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.venv import outside_the_venv

try:
    from pydantic import ValidationError

    from components.config.model import GitOpsSettings
    from components.naming import check_dns_label
    from tools.plan.applications import EXAMPLE_DOMAIN_REPO, application_rows, cluster_params
    from tools.plan.plan import PROJECT_DIR, plan_stack, stack_file
    from tools.plan.runner import Plan
    from tools.plan.stackfile import read_stack_file
except ModuleNotFoundError as missing:
    outside_the_venv(missing, "tools.gitops_init")

__all__ = [
    "APPLICATION",
    "DOMAIN_STARTER",
    "PLATFORM_STARTER",
    "VALUES_PREFIX",
    "Fleet",
    "copy_tree",
    "dead_value_files",
    "fleet_rows",
    "fleet_value_files",
    "main",
    "missing_value_files",
    "set_repo_url",
    "stack_fleets",
    "value_files",
]

PLATFORM_STARTER = PROJECT_DIR / "starters" / "platform-gitops"
DOMAIN_STARTER = EXAMPLE_DOMAIN_REPO  # the same tree the plan expands domain ApplicationSets against
VALUES_PREFIX = "$values/"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
"""How an Application names a file of the platform repository (its `ref: values` source)."""
_PLACEHOLDER = (
    "# {service} on {where}: created empty by tools.gitops_init, because the platform Applications read every\n"
    "# layer and fail on a missing one. Put the values that differ {scope} here.\n{{}}\n"
)


@dataclass(frozen=True)
class Fleet:
    """A hub (or standalone) stack and the spoke stacks that register their clusters with it."""

    hub: str
    spokes: tuple[str, ...] = ()


def _hub_of(stack: str) -> str | None:
    raw, _ = read_stack_file(stack_file(stack))
    topology = json.loads(raw.get("platform:topology", "{}"))
    hub_stack = topology.get("hubStack") if isinstance(topology, dict) else None
    # `org/project/stack`: the hub's stack name is the last segment.
    return hub_stack.rsplit("/", 1)[-1] if hub_stack else None


def stack_fleets(stacks: Iterable[str]) -> list[Fleet]:
    """Group stacks by the hub their config registers with (`topology.hubStack`); a stack without one is a hub."""
    members: dict[str, list[str]] = {}
    for stack in sorted(stacks):
        hub = _hub_of(stack)
        if hub is None:
            members.setdefault(stack, [])
        else:
            members.setdefault(hub, []).append(stack)
    return [Fleet(hub, tuple(spokes)) for hub, spokes in sorted(members.items())]


def fleet_rows(fleet: Fleet, plans: dict[str, Plan] | None = None) -> list[dict[str, Any]]:
    """Every Application a fleet's hub generates for its own cluster and its spokes' (applications.json rows)."""
    plans = {} if plans is None else plans

    def plan(stack: str) -> Plan:
        if stack not in plans:
            if not stack_file(stack).is_file():
                raise FileNotFoundError(f"{stack_file(stack)}: the fleet's stack file is missing")
            plans[stack] = plan_stack(stack)
        return plans[stack]

    return application_rows(plan(fleet.hub), [plan(spoke) for spoke in fleet.spokes])


def _repository_path(name: str, file: str) -> str:
    if not file.startswith(VALUES_PREFIX):
        raise ValueError(f"{name}: value file {file} is not in the platform repository ($values)")
    return file.removeprefix(VALUES_PREFIX)


def value_files(rows: Iterable[dict[str, Any]]) -> set[str]:
    """The repository paths of every values file the rows' Applications read."""
    return {_repository_path(row["name"], file) for row in rows for file in row["valueFiles"]}


def fleet_value_files(fleet: Fleet, plans: dict[str, Plan] | None = None) -> dict[str, set[str]]:
    """Cluster name -> the repository paths of the values files its Applications read: those the hub's
    ApplicationSets generate, and the hub's own Applications (Argo CD managing itself)."""
    plans = {} if plans is None else plans
    found: dict[str, set[str]] = {}
    for row in fleet_rows(fleet, plans):
        found.setdefault(row["cluster"], set()).update(value_files([row]))
    hub = plans[fleet.hub]
    for application in hub.by_type(APPLICATION):
        name = application.inputs["metadata"]["name"]
        for source in application.inputs["spec"].get("sources") or []:
            files = (source.get("helm") or {}).get("valueFiles") or []
            found.setdefault(_cluster_of(hub), set()).update(_repository_path(name, f) for f in files)
    return found


def missing_value_files(files: Iterable[str], root: Path) -> list[str]:
    """The files (repository paths) the repository at `root` lacks: each one fails an Application's sync."""
    return sorted(f for f in set(files) if not (root / f).is_file())


def dead_value_files(files: Iterable[str], root: Path, values_path: str = "k8s/platform") -> list[str]:
    """Values files under `values_path` of the repository at `root` that are not among `files`: read by nothing."""
    present = {p.relative_to(root).as_posix() for p in (root / values_path).rglob("values.yaml")}
    return sorted(present - set(files))


def copy_tree(source: Path, dest: Path) -> list[Path]:
    """Copy every file of `source` that `dest` lacks; return the files written. Never overwrites."""
    written = []
    for path in sorted(source.rglob("*")):
        target = dest / path.relative_to(source)
        if path.is_dir() or target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        written.append(target)
    return written


def _git_init(dest: Path) -> bool:
    """`git init` unless `dest` is already inside a work tree; False when it was."""
    inside = subprocess.run(
        ["git", "-C", str(dest), "rev-parse", "--is-inside-work-tree"], capture_output=True, text=True, check=False
    )
    if inside.returncode == 0 and inside.stdout.strip() == "true":
        return False
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main", str(dest)], check=True)
    return True


_BLOCK = re.compile(r"^(?P<indent>[ ]*)platform:gitops:[ ]*(#.*)?$")
_REPO_URL = re.compile(r"^(?P<head>[ ]+repoUrl:[ ]*)(?P<value>[^#\s]+)(?P<tail>[ ]*(#.*)?)$")


def set_repo_url(path: Path, url: str) -> bool:
    """Rewrite the `repoUrl:` line of the `platform:gitops` block of a stack file in place; False if the file has
    no such line (a flow mapping, or the key unset), and then nothing is written."""
    lines = path.read_text().splitlines(keepends=True)
    for start, line in enumerate(lines):
        block = _BLOCK.match(line.rstrip("\n"))
        if block is None:
            continue
        indent = len(block["indent"])
        for index in range(start + 1, len(lines)):
            text = lines[index].rstrip("\n")
            if text.strip() and not text.lstrip().startswith("#") and len(text) - len(text.lstrip()) <= indent:
                break  # the block ended without a repoUrl line
            match = _REPO_URL.match(text)
            if match:
                lines[index] = f"{match['head']}{url}{match['tail']}\n"
                path.write_text("".join(lines))
                return True
    return False


def _cluster_of(plan: Plan) -> str:
    names = [c["name"] for c in cluster_params(plan)]
    if len(names) != 1:
        raise ValueError(f"stack {plan.stack} registers {len(names)} clusters; expected its own only")
    return names[0]


def _placeholder(file: str) -> str:
    parts = file.split("/")  # k8s/platform/_cloud/aws/loki/values.yaml or k8s/platform/cluster-x/loki/values.yaml
    service = parts[-2]
    if parts[-4] == "_cloud":
        return _PLACEHOLDER.format(service=service, where=f"{parts[-3]} clusters", scope="on this cloud")
    return _PLACEHOLDER.format(service=service, where=parts[-3], scope="on this cluster")


def _stack_layers(stacks: Sequence[str], dest: Path) -> list[Path]:
    """Create the empty layers the stacks' Applications read and `dest` lacks."""
    plans: dict[str, Plan] = {}
    wanted = set(stacks)
    written = []
    for fleet in stack_fleets({*stacks, *(h for s in stacks if (h := _hub_of(s)) is not None)}):
        members = {fleet.hub, *fleet.spokes} & wanted
        if not members:
            continue
        files = fleet_value_files(fleet, plans)
        clusters = {_cluster_of(plans[stack]) for stack in members}
        for file in missing_value_files(set().union(*(files.get(c, set()) for c in clusters)), dest):
            if "/_base/" in file:
                raise FileNotFoundError(f"{dest / file}: base values are missing; copy them from {PLATFORM_STARTER}")
            target = dest / file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_placeholder(file))
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.gitops_init", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dest", type=Path, required=True, help="directory of the new repository")
    parser.add_argument("--stack", action="append", default=[], help="a stack whose Applications read this repository")
    parser.add_argument("--repo-url", help="the repository's URL, written to platform:gitops.repoUrl of each --stack")
    parser.add_argument("--domain", help="start the `{NAME}-gitops` repository of this domain instead")
    args = parser.parse_args(argv)
    try:
        if args.repo_url is not None:
            GitOpsSettings(repo_url=args.repo_url)
        if args.domain is not None:
            check_dns_label(args.domain)
            if args.stack or args.repo_url:
                raise ValueError("--domain starts a domain repository; --stack and --repo-url are for the platform one")
    except (ValidationError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    dest: Path = args.dest
    dest.mkdir(parents=True, exist_ok=True)
    starter = DOMAIN_STARTER if args.domain else PLATFORM_STARTER
    copied = copy_tree(starter, dest)
    print(f"{len(copied)} files copied from {starter.relative_to(PROJECT_DIR)}/ to {dest}")
    try:
        layers = _stack_layers(args.stack, dest)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for layer in layers:
        print(f"created empty layer {layer.relative_to(dest)}")
    if _git_init(dest):
        print(f"initialised a Git repository in {dest}")

    url: str | None = args.repo_url
    for stack in args.stack:
        if url is None:
            break
        if set_repo_url(stack_file(stack), url):
            print(f"{stack_file(stack).name}: platform:gitops.repoUrl = {url}")
        else:
            print(
                f"{stack_file(stack).name}: no repoUrl line; run: pulumi config set --path --stack {stack} "
                f"platform:gitops.repoUrl {url}"
            )
    if args.domain:
        print(f"next: push it, then add the domain to the hub's config (platform:domains: name {args.domain}, repoUrl)")
    else:
        print("next: review, commit and push the repository, then `pulumi up` the stacks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
