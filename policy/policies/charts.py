"""Chart versions are pinned: a Helm release, or an Argo CD Application source that names a chart, gives an exact
version, never `latest`, `*`, `HEAD`, a branch or a range (pulumi-kubernetes#2649: unpinned charts drift)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from .common import HELM_CHART, HELM_RELEASE, UNKNOWN, Rule, get, items

__all__ = ["CHART_RULES", "is_pinned"]

APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
APPLICATION_SET = "kubernetes:argoproj.io/v1alpha1:ApplicationSet"
# SemVer 2.0, as Helm requires of chart versions, with the `v` prefix some charts use.
_EXACT = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


def is_pinned(version: Any) -> bool:
    return isinstance(version, str) and _EXACT.match(version.strip()) is not None


def _sources(spec_path: str, props: Any) -> Iterator[tuple[str, Any]]:
    if get(props, f"{spec_path}.source") not in (None, UNKNOWN):
        yield f"{spec_path}.source", get(props, f"{spec_path}.source")
    sources = items(props, f"{spec_path}.sources")
    for index, source in enumerate([] if sources is UNKNOWN else sources):
        yield f"{spec_path}.sources[{index}]", source


def chart_pinned(props: Any, args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type in (HELM_RELEASE, HELM_CHART):
        version = get(props, "version")
        if version is not UNKNOWN and not is_pinned(version):
            yield f"chart {get(props, 'chart', '?')}: version {version!r} is not an exact version"
        return
    templated = args.resource_type == APPLICATION_SET
    for path, source in _sources("spec.template.spec" if templated else "spec", props):
        chart = get(source, "chart")
        revision = get(source, "targetRevision")
        if chart in (None, "", UNKNOWN) or revision is UNKNOWN:
            continue  # a git source may follow a branch; only charts must be pinned
        if templated and isinstance(revision, str) and "{{" in revision:
            continue  # filled per cluster by the generator, e.g. from the cluster Secret's annotations
        if not is_pinned(revision):
            yield f"{path}: chart {chart} targetRevision {revision!r} is not an exact version"


CHART_RULES = (
    Rule(
        "chart-version-pinned",
        "Helm releases and Argo CD chart sources pin an exact chart version.",
        frozenset({HELM_RELEASE, HELM_CHART, APPLICATION, APPLICATION_SET}),
        chart_pinned,
        Severity.MEDIUM,
        # What the hub installs and generates, Argo CD itself included.
        hub=True,
    ),
)
