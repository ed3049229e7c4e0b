"""`python -m tools.plan --stack NAME [--config-file FILE] --out DIR`: what a stack would create, offline.

Runs the real program under mocks with the stack's config and writes resources.json, manifests/, helm/ and
outputs.json. Needs no cloud account, no credentials and no Pulumi CLI; secrets are masked.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.venv import outside_the_venv

try:
    from tools.plan.plan import PlanConfigError, plan_stack
    from tools.plan.writer import write_plan
except ModuleNotFoundError as missing:
    # Run outside the project's virtualenv (a bare `python3 -m tools.plan`): say how to run it instead.
    outside_the_venv(missing, "tools.plan", "make plan STACK=<stack>")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan",
        description="What a stack would create, offline: resources, manifests, Helm releases, outputs.",
    )
    parser.add_argument("--stack", required=True, help="stack name, e.g. prod (reads Pulumi.prod.yaml)")
    parser.add_argument("--config-file", type=Path, help="a stack file to use instead of Pulumi.<stack>.yaml")
    parser.add_argument("--out", type=Path, required=True, help="directory to write the plan into")
    parser.add_argument(
        "--preview",
        action="store_true",
        help="run as a first `pulumi preview` sees it: every output a cloud computes is unknown",
    )
    args = parser.parse_args(argv)
    try:
        plan = plan_stack(args.stack, args.config_file, preview=args.preview)
    except PlanConfigError as error:
        for line in error.lines:
            print(f"error: {line}", file=sys.stderr)
        return 2
    write_plan(plan, args.out)
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"planned stack {args.stack}: {len(plan.resources)} resources -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
