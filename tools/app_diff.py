"""`python -m tools.app_diff BASE PR`: which Argo CD Applications a pull request adds, removes or changes, per cluster,
and the order of each changed cluster's waves (what each Application waits for is one of the compared fields).

BASE and PR are each a plan's `applications.json` (written by `python -m tools.plan`), or a directory holding one
plan per stack (`DIR/<stack>/applications.json`). A missing file is an empty list, so a stack that is new, or a plan
written before Applications were listed, still compares. Prints markdown for the pull request's sticky comment;
its first line is the marker the workflow finds the comment by.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FIELDS", "MARKER", "ClusterDiff", "diff_applications", "load_applications", "main", "render"]

MARKER = "<!-- platform:app-diff -->"
# What a reviewer needs to see change, in the order shown.
FIELDS = (
    "namespace",
    "project",
    "service",
    "env",
    "wave",
    "parent",
    "gatedBy",
    "repoURL",
    "chart",
    "version",
    "valueFiles",
)
Application = Mapping[str, Any]


@dataclass
class ClusterDiff:
    cluster: str
    added: list[Application] = field(default_factory=list)
    removed: list[Application] = field(default_factory=list)
    changed: list[tuple[str, dict[str, tuple[Any, Any]]]] = field(default_factory=list)
    """(application name, {field: (before, after)})."""
    unchanged: int = 0
    order: list[tuple[int, list[str]]] = field(default_factory=list)
    """The cluster's waves after the change, ascending, with their Applications: each waits for the one before."""

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def load_applications(path: Path) -> list[Application]:
    """One plan's Applications, or every stack's under a directory of plans; missing means none."""
    if path.is_dir():
        return [app for child in sorted(path.glob("*/applications.json")) for app in load_applications(child)]
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of Applications")
    return data


def _key(app: Application) -> tuple[str, str]:
    return str(app.get("cluster", "")), str(app.get("name", ""))


def diff_applications(base: Iterable[Application], pr: Iterable[Application]) -> list[ClusterDiff]:
    """Applications matched by (cluster, name); one entry per cluster that has any, sorted by cluster."""
    before = {_key(app): app for app in base}
    after = {_key(app): app for app in pr}
    clusters: dict[str, ClusterDiff] = {}

    def of(cluster: str) -> ClusterDiff:
        return clusters.setdefault(cluster, ClusterDiff(cluster))

    for key in sorted(before.keys() | after.keys()):
        cluster, name = key
        old, new = before.get(key), after.get(key)
        if old is None and new is not None:
            of(cluster).added.append(new)
        elif new is None and old is not None:
            of(cluster).removed.append(old)
        elif old is not None and new is not None:
            changes = {f: (old.get(f), new.get(f)) for f in FIELDS if old.get(f) != new.get(f)}
            if changes:
                of(cluster).changed.append((name, changes))
            else:
                of(cluster).unchanged += 1
    for cluster, diff in clusters.items():
        waves: dict[int, list[str]] = {}
        for (on, name), app in sorted(after.items()):
            if on == cluster and app.get("wave") is not None:
                waves.setdefault(int(app["wave"]), []).append(name)
        diff.order = sorted(waves.items())
    return [clusters[c] for c in sorted(clusters)]


def _cell(value: Any) -> str:
    """A value as a markdown table cell: code-quoted, with nothing that could break out of the cell."""
    if value is None or value in ("", []):
        return ""
    items = value if isinstance(value, list) else [value]
    return "<br>".join(f"`{_escape(item)}`" for item in items)


def _escape(item: Any) -> str:
    return str(item).replace("|", "\\|").replace("`", "'").replace("\n", " ")


def _row(mark: str, app: Application) -> str:
    columns = ("namespace", "chart", "version", "wave", "gatedBy", "valueFiles")
    cells = [mark, _cell(app.get("name")), *(_cell(app.get(f)) for f in columns)]
    return "| " + " | ".join(cells) + " |"


def render(diffs: list[ClusterDiff]) -> str:
    lines = [MARKER, "### Argo CD Applications per cluster", ""]
    if not diffs:
        lines.append("No Argo CD Application in either plan.")
        return "\n".join(lines) + "\n"
    changed = [d for d in diffs if d.has_changes]
    quiet = [d for d in diffs if not d.has_changes]
    if not changed:
        lines.append("No Application appears, disappears or changes on any cluster.")
    for d in changed:
        summary = f"{len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed, {d.unchanged} unchanged"
        lines += [f"#### `{d.cluster}`: {summary}", ""]
        if d.order:
            # The parent of the cluster applies each wave once every Application of the one before is Healthy.
            waves = " → ".join(f"`{wave}` {', '.join(_escape(n) for n in names)}" for wave, names in d.order)
            lines += [f"Order (each wave waits for the one before to be Healthy): {waves}", ""]
        if d.added or d.removed:
            lines += [
                "| | Application | Namespace | Chart | Version | Wave | Waits for | Value files |",
                "|---|---|---|---|---|---|---|---|",
            ]
            lines += [_row("added", app) for app in d.added]
            lines += [_row("removed", app) for app in d.removed]
            lines.append("")
        if d.changed:
            lines += ["| Application | Field | Before | After |", "|---|---|---|---|"]
            for name, changes in d.changed:
                for index, (key, (old, new)) in enumerate(changes.items()):
                    lines.append(f"| {_cell(name) if index == 0 else ''} | {key} | {_cell(old)} | {_cell(new)} |")
            lines.append("")
    if quiet:
        lines.append("No change on " + ", ".join(f"`{d.cluster}` ({d.unchanged} Applications)" for d in quiet) + ".")
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.app_diff",
        description="Markdown summary of the Argo CD Applications a change adds, removes or changes, per cluster.",
    )
    parser.add_argument("base", type=Path, help="the base branch's applications.json, or a directory of plans")
    parser.add_argument("pr", type=Path, help="the pull request's applications.json, or a directory of plans")
    args = parser.parse_args(argv)
    try:
        diffs = diff_applications(load_applications(args.base), load_applications(args.pr))
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        print(f"error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(render(diffs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
