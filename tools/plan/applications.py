"""`applications.json`: the Argo CD Applications the plan's ApplicationSets would generate on the plan's clusters.

Computed from what the program really registered (the ApplicationSet objects and the cluster Secrets), by
expanding the generators this project uses (list, clusters with a label selector, a two-child matrix whose
second child is templated with the first one's parameters) and rendering the template with `gotemplate`.
Anything else (another generator, a post-selector, a templatePatch, another template option) fails: a view
that silently skips what it cannot read would be worse than none.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tools.plan.gotemplate import TemplateError, render_tree
from tools.plan.runner import Plan, RecordedResource

__all__ = [
    "APPLICATIONSET",
    "ExpansionError",
    "application_rows",
    "cluster_params",
    "cluster_secret",
    "expand",
    "mermaid",
    "rendered_applications",
    "write_applications",
]

APPLICATIONSET = "kubernetes:argoproj.io/v1alpha1:ApplicationSet"
SECRET = "kubernetes:core/v1:Secret"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
_SPEC_KEYS = {"generators", "template", "goTemplate", "goTemplateOptions", "strategy", "syncPolicy"}
_OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist"}


class ExpansionError(ValueError):
    """An ApplicationSet uses something this expansion does not implement, or generates a broken Application."""


def _cluster_secrets(plan: Plan) -> list[RecordedResource]:
    return [
        r
        for r in plan.by_type(SECRET)
        if ((r.inputs.get("metadata") or {}).get("labels") or {}).get(SECRET_TYPE_LABEL) == "cluster"
    ]


def cluster_secret(plan: Plan) -> RecordedResource:
    """The one cluster Secret of a hub's plan (its own registration)."""
    found = _cluster_secrets(plan)
    if len(found) != 1:
        raise ExpansionError(f"expected one cluster Secret, found {[r.name for r in found]}")
    return found[0]


def cluster_params(plan: Plan) -> list[dict[str, Any]]:
    """The clusters generator's parameters of every cluster Secret in the plan. The Secret's data is masked in a
    plan, so name and server come from the `cluster-name` label and `server` annotation registration sets."""
    clusters = []
    for resource in _cluster_secrets(plan):
        metadata = resource.inputs["metadata"]
        labels = metadata["labels"]
        annotations = metadata.get("annotations") or {}
        if "cluster-name" not in labels or "server" not in annotations:
            raise ExpansionError(
                f"cluster Secret {metadata.get('name')} lacks the cluster-name label or server annotation"
            )
        clusters.append(
            {
                "name": labels["cluster-name"],
                "server": annotations["server"],
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


def _generate(generator: Mapping[str, Any], clusters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kinds = set(generator)
    if len(kinds) != 1 or not kinds <= {"list", "clusters", "matrix"}:
        raise ExpansionError(f"unsupported generator {sorted(kinds)} (post-selectors included)")
    kind = kinds.pop()
    body = generator[kind]
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
    for first in _generate(children[0], clusters):
        # Argo CD renders the second child with the first child's parameters (applicationset/utils).
        for second in _generate(render_tree(children[1], first), clusters):
            overlap = set(first) & set(second)
            if overlap:
                raise ExpansionError(f"matrix children both set {sorted(overlap)}")
            combined.append({**first, **second})
    return combined


def expand(spec: Mapping[str, Any], clusters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Applications (`metadata` and `spec`) one ApplicationSet spec generates over `clusters`."""
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise ExpansionError(f"unsupported ApplicationSet fields {sorted(unknown)}")
    if spec.get("goTemplate") is not True or spec.get("goTemplateOptions") != ["missingkey=error"]:
        raise ExpansionError("only goTemplate: true with goTemplateOptions [missingkey=error] is supported")
    applications: dict[str, dict[str, Any]] = {}
    for generator in spec["generators"]:
        for params in _generate(generator, clusters):
            try:
                application = render_tree(spec["template"], params)
            except TemplateError as error:
                raise ExpansionError(f"template: {error}") from None
            name = application["metadata"]["name"]
            if name in applications:
                raise ExpansionError(f"two generated Applications are named {name}")  # Argo CD refuses too
            applications[name] = application
    return list(applications.values())


def _row(application: Mapping[str, Any]) -> dict[str, Any]:
    metadata, spec = application["metadata"], application["spec"]
    labels = metadata["labels"]
    chart_sources = [s for s in spec["sources"] if "chart" in s]
    if len(chart_sources) != 1:
        raise ExpansionError(f"{metadata['name']}: expected one chart source, found {len(chart_sources)}")
    chart = chart_sources[0]
    return {
        "name": metadata["name"],
        "service": labels["service"],
        "cluster": labels["cluster"],
        "env": labels["env"],
        "namespace": spec["destination"]["namespace"],
        "project": spec["project"],
        "wave": int(labels["wave"].removeprefix("w")),
        "repoURL": chart["repoURL"],
        "chart": chart["chart"],
        "version": chart["targetRevision"],
        "valueFiles": list(chart["helm"]["valueFiles"]),
    }


def rendered_applications(plan: Plan) -> list[dict[str, Any]]:
    """Every Application the plan's ApplicationSets generate, as full objects (for schema checks)."""
    clusters = cluster_params(plan)
    found: list[dict[str, Any]] = []
    for resource in plan.by_type(APPLICATIONSET):
        for application in expand(resource.inputs["spec"], clusters):
            found.append({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", **application})
    return found


def application_rows(plan: Plan) -> list[dict[str, Any]]:
    """The rows of applications.json, by cluster, then wave, then service."""
    rows = [_row(a) for a in rendered_applications(plan)]
    return sorted(rows, key=lambda r: (r["cluster"], r["wave"], r["service"]))


def _node(cluster: str, wave: int | None = None) -> str:
    suffix = "" if wave is None else f"_w{'m' if wave < 0 else ''}{abs(wave)}"
    return cluster.replace("-", "_") + suffix  # Mermaid ids: a '-' could start an arrow


def mermaid(rows: list[dict[str, Any]]) -> str:
    """A Mermaid flowchart of the rows: one box per cluster, one node per wave listing its services, arrows in
    wave order (each wave waits for the health of the one before)."""
    lines = ["flowchart LR"]
    for cluster in sorted({r["cluster"] for r in rows}):
        on_cluster = [r for r in rows if r["cluster"] == cluster]
        waves = sorted({r["wave"] for r in on_cluster})
        lines.append(f'  subgraph {_node(cluster)}["{cluster}"]')
        for wave in waves:
            services = "<br/>".join(sorted(r["service"] for r in on_cluster if r["wave"] == wave))
            lines.append(f'    {_node(cluster, wave)}["wave {wave}<br/>{services}"]')
        lines.append("  end")
        lines += [f"  {_node(cluster, a)} --> {_node(cluster, b)}" for a, b in itertools.pairwise(waves)]
    return "\n".join(lines) + "\n"


def write_applications(plan: Plan, out: Path) -> None:
    """DIR/applications.json, and the same as a Mermaid picture in DIR/applications.mmd."""
    rows = application_rows(plan)
    (out / "applications.json").write_text(json.dumps(rows, indent=2) + "\n")
    (out / "applications.mmd").write_text(mermaid(rows))
