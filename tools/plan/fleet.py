"""`python -m tools.plan.fleet [--check]`: the picture of what goes where across the shipped fleet.

Plans the shipped hub (`mgmt`) with every shipped spoke that registers with it, expands the hub's ApplicationSets
over all their clusters, and writes the Mermaid picture of each cluster's parent and the health gates between its
waves into docs/hub-and-spoke.md between markers.
`--check` fails when that page's picture is stale (CI runs it).
"""

from __future__ import annotations

import argparse
import sys

from components.config.environments import envs_where
from tools.plan.applications import application_rows, mermaid
from tools.plan.plan import PROJECT_DIR, plan_stack, shipped_stacks

PAGE = PROJECT_DIR / "docs" / "hub-and-spoke.md"
SHOWN = str(PAGE.relative_to(PROJECT_DIR))
# The shipped hub stack is named after the hub environment.
(HUB,) = envs_where(role="hub")
BEGIN = "<!-- BEGIN FLEET PICTURE (python -m tools.plan.fleet) -->"
END = "<!-- END FLEET PICTURE -->"


def fleet_picture() -> str:
    hub = plan_stack(HUB)
    others = [plan_stack(stack, planned={HUB: hub}) for stack in shipped_stacks() if stack != HUB]
    spokes = [plan for plan in others if plan.hub is hub]
    rows = [row for row in application_rows(hub, spokes) if not row.get("example")]
    return f"{BEGIN}\n```mermaid\n{mermaid(rows)}```\n{END}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan.fleet")
    parser.add_argument("--check", action="store_true", help=f"fail if the fleet picture in {SHOWN} is stale")
    args = parser.parse_args(argv)
    text = PAGE.read_text()
    if BEGIN not in text or END not in text:
        print(f"{SHOWN} lacks the markers {BEGIN} ... {END}", file=sys.stderr)
        return 1
    head, rest = text.split(BEGIN, 1)
    current, tail = rest.split(END, 1)
    picture = fleet_picture()
    if args.check:
        if BEGIN + current + END != picture:
            print(f"out of date: the fleet picture in {SHOWN}; run `python -m tools.plan.fleet`", file=sys.stderr)
            return 1
        print(f"the fleet picture in {SHOWN} is current")
        return 0
    PAGE.write_text(head + picture + tail)
    print(f"wrote the fleet picture into {SHOWN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
