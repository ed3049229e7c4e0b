"""`python -m tools.ci_stack STACK`: what a CI job must sign in to for one stack, as `key=value` lines for
`$GITHUB_OUTPUT`: `cloud` (the stack's cloud, from `platform:cloud` in Pulumi.<stack>.yaml), `region`, and
`state` (the cloud whose bucket holds the state: gs:// gcp, s3:// aws, azblob:// azure, from PULUMI_BACKEND_URL;
empty for Pulumi Cloud or a file backend). All stacks share one backend, since the workload stacks read the hub's
outputs through a stack reference, so a job may need a second cloud for its state.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

__all__ = ["STATE_SCHEMES", "main", "stack_facts"]

STATE_SCHEMES = {"gs": "gcp", "s3": "aws", "azblob": "azure"}
PROJECT_DIR = Path(__file__).resolve().parents[1]


def stack_facts(stack: str, backend_url: str) -> dict[str, str]:
    config = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
    cloud = str(config["platform:cloud"])
    region = str(config.get("platform:region") or "")
    backend = urlsplit(backend_url)
    state = STATE_SCHEMES.get(backend.scheme, "")
    # configure-aws-credentials needs a region even when AWS only holds the state.
    state_region = (parse_qs(backend.query).get("region") or [""])[0]
    aws_region = region if cloud == "aws" else state_region or "us-east-1"
    return {"cloud": cloud, "region": region, "state": state, "aws_region": aws_region}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tools.ci_stack STACK", file=sys.stderr)
        return 2
    for key, value in stack_facts(args[0], os.environ.get("PULUMI_BACKEND_URL", "")).items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
