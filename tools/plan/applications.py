"""`applications.json`: the Argo CD Applications the plan's ApplicationSets would generate on the plan's clusters.

Computed from what the program really registered (the ApplicationSet objects and the cluster Secrets), by
expanding the generators this project uses (list, clusters with a label selector, git directories, a two-child
matrix whose second child is templated with the first one's parameters) and rendering the template with
`gotemplate`. Anything else (another generator, a post-selector, a templatePatch, another template option) fails:
a view that silently skips what it cannot read would be worse than none.

The platform-services ApplicationSet generates one parent Application per cluster; the plan renders each parent's
children as the chart `charts/platform-waves` of the platform GitOps repository does (`chart_children`, whose rule
a test holds to the shipped chart), and each child's row names its parent and the Applications it waits for.

A git generator reads a repository the plan does not have: the domain ApplicationSets list what is in each
domain's own repository at runtime. The plan expands them against the shipped domain starter (`starters/domain-gitops/`)
standing in for every domain repository, and marks those rows `"example": true`: they show what a repository with
the starter's layout generates, not what the real repository holds.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from components.cluster_secret import CLUSTER_NAME, SERVER, is_cluster_secret
from components.gitops.appsets import ORDER_CHART_PATH
from components.naming import APPLICATION_CLUSTER_LABEL, ENV_LABEL, SERVICE_LABEL
from tools.plan.gotemplate import TemplateError, render_tree
from tools.plan.runner import PROGRAM, Plan, RecordedResource

__all__ = [
    "APPLICATIONSET",
    "EXAMPLE_DOMAIN_REPO",
    "ExpansionError",
    "GitRepos",
    "application_rows",
    "chart_children",
    "cluster_params",
    "cluster_secret",
    "cluster_secrets",
    "expand",
    "git_directories",
    "mermaid",
    "rendered_applications",
    "stack_rows",
    "write_applications",
]

APPLICATIONSET = "kubernetes:argoproj.io/v1alpha1:ApplicationSet"
SECRET = "kubernetes:core/v1:Secret"
_SPEC_KEYS = {"generators", "template", "goTemplate", "goTemplateOptions", "strategy", "syncPolicy"}
_OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist"}
_GIT_KEYS = {"repoURL", "revision", "directories"}

EXAMPLE_DOMAIN_REPO = PROGRAM.parent / "starters" / "domain-gitops"
"""The domain repository starter; the plan reads it in place of every domain's repository."""

GitRepos = Mapping[str, Path]
"""Repository URL -> a local directory whose tree stands in for that repository."""


class ExpansionError(ValueError):
    """An ApplicationSet uses something this expansion does not implement, or generates a broken Application."""


def cluster_secrets(plan: Plan) -> list[RecordedResource]:
    """The cluster Secrets a plan registers."""
    return [r for r in plan.by_type(SECRET) if is_cluster_secret((r.inputs.get("metadata") or {}).get("labels") or {})]


def cluster_secret(plan: Plan) -> RecordedResource:
    """The one cluster Secret of a hub's plan (its own registration)."""
    found = cluster_secrets(plan)
    if len(found) != 1:
        raise ExpansionError(f"expected one cluster Secret, found {[r.name for r in found]}")
    return found[0]


def cluster_params(plan: Plan) -> list[dict[str, Any]]:
    """The clusters generator's parameters of every cluster Secret in the plan. The Secret's data is masked in a
    plan, so name and server come from the `cluster-name` label and `server` annotation registration sets."""
    clusters = []
    for resource in cluster_secrets(plan):
        metadata = resource.inputs["metadata"]
        labels = metadata["labels"]
        annotations = metadata.get("annotations") or {}
        if CLUSTER_NAME not in labels or SERVER not in annotations:
            raise ExpansionError(
                f"cluster Secret {metadata.get('name')} lacks the {CLUSTER_NAME} label or {SERVER} annotation"
            )
        clusters.append(
            {
                "name": labels[CLUSTER_NAME],
                "server": annotations[SERVER],
                "metadata": {"labels": dict(labels), "annotations": dict(annotations)},
            }
        )
    return clusters


def _matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    unknown = set(selector) - {"matchLabels", "matchExpressions"}
    if unknown:
        raise ExpansionError(f"unsupported selector fields {sorted(unknown)}")
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        if operator not in _OPERATORS:
            raise ExpansionError(f"unsupported selector operator {operator}")
        present = key in labels
        ok = {
            "In": present and labels[key] in values,
            "NotIn": not present or labels[key] not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]
        if not ok:
            return False
    return True


def git_directories(root: Path) -> list[str]:
    """Every directory of a tree, relative and `/`-separated, hidden ones skipped: what the repo server lists
    for a git directory generator (reposerver/repository GetGitDirectories)."""
    if not root.is_dir():
        raise ExpansionError(f"{root} is not a directory")
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_dir() and not any(part.startswith(".") for part in relative.parts):
            found.append(relative.as_posix())
    return found


def _path_match(pattern: str, path: str) -> bool:
    """Go's path.Match: `*` and `?` never cross a `/`. Character classes differ between Go and Python."""
    if "[" in pattern or "\\" in pattern:
        raise ExpansionError(f"unsupported git directory pattern {pattern!r} (character classes, escapes)")
    parts, pattern_parts = path.split("/"), pattern.split("/")
    return len(parts) == len(pattern_parts) and all(map(fnmatch.fnmatchcase, parts, pattern_parts))


def _sanitize(name: str) -> str:
    # applicationset/utils SanitizeName, for `.path.basenameNormalized`
    return re.sub(r"[^-a-z0-9.]", "-", name.lower())[:253].strip("-.")


def _git(body: Mapping[str, Any], repos: GitRepos) -> list[dict[str, Any]]:
    """The git directory generator (applicationset/generators/git.go): every directory matched by an included
    pattern and by no excluded one; Go-template parameters under `path`."""
    if set(body) - _GIT_KEYS or not body.get("directories"):
        raise ExpansionError(f"unsupported git generator fields {sorted(set(body) - _GIT_KEYS)} (only directories)")
    root = repos.get(body["repoURL"])
    if root is None:
        raise ExpansionError(f"no local tree stands in for the git generator's repository {body['repoURL']}")
    patterns = body["directories"]
    if any(set(p) - {"path", "exclude"} for p in patterns):
        raise ExpansionError("a git directory entry takes only path and exclude")
    params = []
    for directory in git_directories(root):
        matched = [p for p in patterns if _path_match(p["path"], directory)]
        if matched and not any(p.get("exclude") for p in matched):
            basename = directory.rsplit("/", 1)[-1]
            params.append(
                {
                    "path": {
                        "path": directory,
                        "basename": basename,
                        "basenameNormalized": _sanitize(basename),
                        "segments": directory.split("/"),
                    }
                }
            )
    return params


def _generate(generator: Mapping[str, Any], clusters: list[dict[str, Any]], repos: GitRepos) -> list[dict[str, Any]]:
    kinds = set(generator)
    if len(kinds) != 1 or not kinds <= {"list", "clusters", "git", "matrix"}:
        raise ExpansionError(f"unsupported generator {sorted(kinds)} (post-selectors included)")
    kind = kinds.pop()
    body = generator[kind]
    if kind == "git":
        return _git(body, repos)
    if kind == "list":
        if set(body) != {"elements"}:
            raise ExpansionError(f"unsupported list generator fields {sorted(set(body) - {'elements'})}")
        return [dict(element) for element in body["elements"]]
    if kind == "clusters":
        if set(body) - {"selector"}:
            raise ExpansionError(f"unsupported clusters generator fields {sorted(set(body) - {'selector'})}")
        selector = body.get("selector") or {}
        return [c for c in clusters if _matches(selector, c["metadata"]["labels"])]
    children = body.get("generators") or []
    if set(body) != {"generators"} or len(children) != 2:
        raise ExpansionError("a matrix generator must have exactly two child generators and nothing else")
    combined = []
    for first in _generate(children[0], clusters, repos):
        # Argo CD renders the second child with the first child's parameters (applicationset/utils).
        for second in _generate(render_tree(children[1], first), clusters, repos):
            overlap = set(first) & set(second)
            if overlap:
                raise ExpansionError(f"matrix children both set {sorted(overlap)}")
            combined.append({**first, **second})
    return combined


def expand(
    spec: Mapping[str, Any], clusters: list[dict[str, Any]], repos: GitRepos | None = None
) -> list[dict[str, Any]]:
    """The Applications (`metadata` and `spec`) one ApplicationSet spec generates over `clusters`, reading the
    repositories of git generators from `repos`."""
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise ExpansionError(f"unsupported ApplicationSet fields {sorted(unknown)}")
    if spec.get("goTemplate") is not True or spec.get("goTemplateOptions") != ["missingkey=error"]:
        raise ExpansionError("only goTemplate: true with goTemplateOptions [missingkey=error] is supported")
    applications: dict[str, dict[str, Any]] = {}
    for generator in spec["generators"]:
        for params in _generate(generator, clusters, repos or {}):
            try:
                application = render_tree(spec["template"], params)
            except TemplateError as error:
                raise ExpansionError(f"template: {error}") from None
            name = application["metadata"]["name"]
            if name in applications:
                raise ExpansionError(f"two generated Applications are named {name}")  # Argo CD refuses too
            applications[name] = application
    return list(applications.values())


def _is_parent(application: Mapping[str, Any]) -> bool:
    return (application["spec"].get("source") or {}).get("path") == ORDER_CHART_PATH


def chart_children(parent: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Applications `charts/platform-waves` prints for a parent, in its order: each entry's `application`
    where its `enabled` equals its `when` (the chart's whole template: `range`, `if eq .enabled .when`, `toYaml`)."""
    try:
        entries = parent["spec"]["source"]["helm"]["valuesObject"]["applications"]
    except KeyError as error:
        raise ExpansionError(f"{parent['metadata']['name']}: no helm.valuesObject.applications") from error
    return [dict(entry["application"]) for entry in entries if entry["enabled"] == entry["when"]]


def _row(application: Mapping[str, Any]) -> dict[str, Any]:
    """A platform service's row names its chart; a domain's Application (a folder of its repository, no wave)
    has `chart` and `wave` null and no value files."""
    metadata, spec = application["metadata"], application["spec"]
    labels = metadata["labels"]
    sources = spec.get("sources") or [spec["source"]]
    chart_sources = [s for s in sources if "chart" in s]
    if len(chart_sources) > 1 or (not chart_sources and len(sources) != 1):
        raise ExpansionError(f"{metadata['name']}: expected one chart source or one plain source")
    source = chart_sources[0] if chart_sources else sources[0]
    return {
        "name": metadata["name"],
        "parent": None,
        "gatedBy": [],
        "service": labels[SERVICE_LABEL],
        "cluster": labels[APPLICATION_CLUSTER_LABEL],
        "env": labels[ENV_LABEL],
        "namespace": spec["destination"]["namespace"],
        "project": spec["project"],
        "wave": int(labels["wave"].removeprefix("w")) if "wave" in labels else None,
        "repoURL": source["repoURL"],
        "chart": source.get("chart"),
        "version": source["targetRevision"],
        "valueFiles": list((source.get("helm") or {}).get("valueFiles") or []),
    }


def _example_repos(spec: Mapping[str, Any]) -> dict[str, Path]:
    """Every git generator's repository of an ApplicationSet, stood in for by the domain starter."""
    urls: set[str] = set()

    def visit(generator: Mapping[str, Any]) -> None:
        if "git" in generator:
            urls.add(generator["git"]["repoURL"])
        for child in (generator.get("matrix") or {}).get("generators") or []:
            visit(child)

    for generator in spec["generators"]:
        visit(generator)
    return dict.fromkeys(urls, EXAMPLE_DOMAIN_REPO)


def _expanded(plan: Plan, spokes: Sequence[Plan]) -> list[tuple[dict[str, Any], bool, str | None]]:
    """(Application, expanded from the example repository, its parent's name) for every ApplicationSet of `plan`
    and every child of a parent it generates, over the clusters `plan` and the `spokes` register with it."""
    clusters = cluster_params(plan) + [c for spoke in spokes for c in cluster_params(spoke)]
    found: list[tuple[dict[str, Any], bool, str | None]] = []
    for resource in plan.by_type(APPLICATIONSET):
        spec = resource.inputs["spec"]
        repos = _example_repos(spec)
        for application in expand(spec, clusters, repos):
            found.append(
                ({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", **application}, bool(repos), None)
            )
            if _is_parent(application):
                parent = application["metadata"]["name"]
                found += [(child, False, parent) for child in chart_children(application)]
    return found


def rendered_applications(plan: Plan, spokes: Sequence[Plan] = ()) -> list[dict[str, Any]]:
    """Every Application the plan's ApplicationSets generate, as full objects (for schema checks); git
    generators read the domain starter. `spokes`: plans of stacks that register their cluster with this hub."""
    return [application for application, _, _ in _expanded(plan, spokes)]


def _gate(parent: str, children: list[dict[str, Any]]) -> None:
    """Name each child's parent and the Applications it waits for: those of the nearest lower wave of the same
    parent (they waited in turn for theirs), as the parent's sync applies one wave after the one before is
    Healthy (docs/user-guide/sync-waves.md)."""
    waves = sorted({c["wave"] for c in children})
    for child in children:
        before = [w for w in waves if w < child["wave"]]
        child["parent"] = parent
        child["gatedBy"] = sorted(c["name"] for c in children if before and c["wave"] == before[-1])


def application_rows(plan: Plan, spokes: Sequence[Plan] = ()) -> list[dict[str, Any]]:
    """The rows of applications.json, by cluster, then wave (domain rows, which have none, last), then service.
    A cluster's parent Application is not a row: its children name it (`parent`), each with the Applications
    whose health it waits for (`gatedBy`). Rows expanded from the domain starter carry `"example": true`. A plan
    alone knows only its own clusters; with the `spokes` that register with it, the rows cover the fleet."""
    rows: list[dict[str, Any]] = []
    children: dict[str, list[dict[str, Any]]] = {}
    for application, example, parent in _expanded(plan, spokes):
        if parent is not None:
            children.setdefault(parent, []).append(_row(application))
        elif not _is_parent(application):
            rows.append({**_row(application), "example": True} if example else _row(application))
    for parent, ordered in children.items():
        _gate(parent, ordered)
        rows += ordered
    return sorted(rows, key=lambda r: (r["cluster"], r["wave"] is None, r["wave"] or 0, r["service"], r["name"]))


def _node(cluster: str, wave: int | None = None) -> str:
    suffix = "" if wave is None else f"_w{'m' if wave < 0 else ''}{abs(wave)}"
    return cluster.replace("-", "_") + suffix  # Mermaid ids: a '-' could start an arrow


def mermaid(rows: list[dict[str, Any]]) -> str:
    """A Mermaid flowchart of the rows: one box per cluster titled with its parent Application, one node per wave
    listing its services, arrows in wave order (each wave waits for the health of the one before)."""
    lines = ["flowchart LR"]
    for cluster in sorted({r["cluster"] for r in rows}):
        on_cluster = [r for r in rows if r["cluster"] == cluster]
        waves = sorted({r["wave"] for r in on_cluster if r["wave"] is not None})
        parents = sorted({r["parent"] for r in on_cluster if r["parent"]})
        title = f"{cluster}: {', '.join(parents)}" if parents else cluster
        lines.append(f'  subgraph {_node(cluster)}["{title}"]')
        for wave in waves:
            services = "<br/>".join(sorted(r["service"] for r in on_cluster if r["wave"] == wave))
            lines.append(f'    {_node(cluster, wave)}["wave {wave}<br/>{services}"]')
        # Domain Applications are not ordered by wave; they sync as soon as their folder appears in Git.
        unordered = sorted(r["name"] for r in on_cluster if r["wave"] is None)
        if unordered:
            lines.append(f'    {_node(cluster)}_git["from Git (example)<br/>{"<br/>".join(unordered)}"]')
        lines.append("  end")
        # Each arrow is a gate: the parent applies the next wave once every Application of this one is Healthy.
        lines += [f"  {_node(cluster, a)} -->|Healthy| {_node(cluster, b)}" for a, b in itertools.pairwise(waves)]
    return "\n".join(lines) + "\n"


def stack_rows(plan: Plan) -> list[dict[str, Any]]:
    """The Applications on the clusters of one stack: a hub's own, or a spoke's as its hub's ApplicationSets
    generate them (when the plan knows the hub)."""
    if plan.hub is None:
        return application_rows(plan)
    own = {c["name"] for c in cluster_params(plan)}
    return [row for row in application_rows(plan.hub, [plan]) if row["cluster"] in own]


def write_applications(plan: Plan, out: Path) -> None:
    """DIR/applications.json, and the same as a Mermaid picture in DIR/applications.mmd."""
    rows = stack_rows(plan)
    (out / "applications.json").write_text(json.dumps(rows, indent=2) + "\n")
    (out / "applications.mmd").write_text(mermaid(rows))
