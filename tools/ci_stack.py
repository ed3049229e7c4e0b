"""`python -m tools.ci_stack STACK`: what a CI job must sign in to for one stack, as `key=value` lines for
`$GITHUB_OUTPUT`.

- `cloud`, `region`: the stack's own (`platform:cloud`, `platform:region` in Pulumi.<stack>.yaml);
- `state`: the cloud whose bucket holds the state (gs:// gcp, s3:// aws, azblob:// azure, from PULUMI_BACKEND_URL;
  empty for Pulumi Cloud or a file backend). All stacks share one backend, since the workload stacks read the hub's
  outputs through a stack reference, so a job may need a second cloud for its state;
- `hub_cloud`: on a spoke, the cloud of the hub stack it registers with (`platform:topology.hubStack`, whose last
  segment names a Pulumi.<stack>.yaml here): the spoke writes its registration through the hub's kubeconfig, whose
  exec plugin needs that cloud's sign-in too. Empty on a hub or standalone stack;
- `gcp`, `aws`, `azure`: `true` where the job signs in to that cloud (own, state or hub);
- `gke_plugin`, `kubelogin`: `true` where a kubeconfig the job uses runs gke-gcloud-auth-plugin or kubelogin;
- `aws_region`: the region configure-aws-credentials needs, even when AWS only holds the state or the hub.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from components.config.environments import ENVIRONMENT_TABLE

__all__ = ["STATE_SCHEMES", "main", "stack_facts"]

STATE_SCHEMES = {"gs": "gcp", "s3": "aws", "azblob": "azure"}
PROJECT_DIR = Path(__file__).resolve().parents[1]
TOPOLOGY_KEY = "platform:topology"


class StackFileError(Exception):
    """A stack file this job needs is missing; the message names it."""


def _config(stack: str) -> dict[str, Any]:
    path = PROJECT_DIR / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise StackFileError(f"{path.name}: no such stack file")
    return yaml.safe_load(path.read_text())["config"]


def _hub_of(config: dict[str, Any]) -> tuple[str, str]:
    """The cloud and region of the hub stack a spoke names; empty strings on a hub or standalone stack."""
    topology = config.get(TOPOLOGY_KEY) or {}
    hub_stack = str(topology.get("hubStack") or "")
    row = ENVIRONMENT_TABLE.get(str(config.get("platform:env")))
    if not hub_stack or topology.get("mode") == "standalone" or (row is not None and row.role == "hub"):
        return "", ""
    name = hub_stack.rsplit("/", 1)[-1]
    try:
        hub = _config(name)
    except StackFileError as error:
        raise StackFileError(
            f"{TOPOLOGY_KEY}.hubStack: '{hub_stack}' names stack '{name}', but {error}; CI signs a spoke in to its "
            "hub's cloud, so the hub's stack file must be in this repository"
        ) from None
    return str(hub["platform:cloud"]), str(hub.get("platform:region") or "")


def stack_facts(stack: str, backend_url: str) -> dict[str, str]:
    config = _config(stack)
    cloud = str(config["platform:cloud"])
    region = str(config.get("platform:region") or "")
    backend = urlsplit(backend_url)
    state = STATE_SCHEMES.get(backend.scheme, "")
    hub_cloud, hub_region = _hub_of(config)
    # configure-aws-credentials needs a region even when AWS only holds the state or the hub.
    state_region = (parse_qs(backend.query).get("region") or [""])[0]
    if cloud == "aws":
        aws_region = region
    elif hub_cloud == "aws":
        aws_region = hub_region
    else:
        aws_region = state_region or "us-east-1"
    clusters = {cloud, hub_cloud}
    facts = {"cloud": cloud, "region": region, "state": state, "aws_region": aws_region, "hub_cloud": hub_cloud}
    for name in ("gcp", "aws", "azure"):
        facts[name] = str(name in clusters | {state}).lower()
    facts["gke_plugin"] = str("gcp" in clusters).lower()
    facts["kubelogin"] = str("azure" in clusters).lower()
    return facts


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tools.ci_stack STACK", file=sys.stderr)
        return 2
    try:
        facts = stack_facts(args[0], os.environ.get("PULUMI_BACKEND_URL", ""))
    except StackFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for key, value in facts.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
