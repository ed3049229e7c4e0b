"""`python -m tools.chart_keys --charts DIR`: check every key of the platform starter's values files against the
chart it configures, and record the evidence in tests/fixtures/chart_keys/{service}.json.

Helm silently ignores a key a chart does not read, so a misspelt `resource:` leaves a service without limits and
nothing fails. This tool accepts a key only with evidence from the chart at the catalog's pinned version:
- it is in the chart's values.yaml (or under a key whose default is an empty map, null or a list: free-form);
- or in the chart's values.schema.json (Helm validates against it);
- or the templates read it (`.Values.a.b` appears in a template; for keys the chart documents only in comments).
Subcharts (`charts/{name}/` of an unpacked chart) are followed under their alias or name.

DIR holds one unpacked chart per service, `DIR/{service}/` with Chart.yaml, values.yaml, templates/, as
`helm pull REPO/CHART --version V --untar --untardir DIR && mv DIR/CHART DIR/{service}` produces. The written
fixtures let the test suite hold the starter to the same evidence offline; a chart bump in the catalog makes
that test fail until this tool is run again against the new chart.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "FIXTURES",
    "MANUAL",
    "ChartIndex",
    "UnreadKeyError",
    "check_service",
    "evidence",
    "key_paths",
    "load_chart",
    "main",
    "starter_values",
    "unverified_keys",
]

PROJECT_DIR = Path(__file__).resolve().parents[1]
FIXTURES = PROJECT_DIR / "tests" / "fixtures" / "chart_keys"
VALUES_ROOT = PROJECT_DIR / "starters" / "platform-gitops" / "k8s" / "platform"


class UnreadKeyError(ValueError):
    """A starter key the chart does not read."""


@dataclass
class ChartIndex:
    name: str
    version: str
    defaults: Any
    schema: Any
    templates: str
    subcharts: dict[str, ChartIndex] = field(default_factory=dict)


def load_chart(directory: Path) -> ChartIndex:
    """An unpacked chart and its unpacked subcharts."""
    chart = yaml.safe_load((directory / "Chart.yaml").read_text())
    schema_file = directory / "values.schema.json"
    templates = "\n".join(
        p.read_text(errors="replace") for p in sorted((directory / "templates").rglob("*")) if p.is_file()
    )
    subcharts = {}
    for dependency in chart.get("dependencies") or []:
        sub = directory / "charts" / dependency["name"]
        if (sub / "Chart.yaml").is_file():
            subcharts[dependency.get("alias") or dependency["name"]] = load_chart(sub)
    return ChartIndex(
        name=chart["name"],
        version=str(chart["version"]),
        defaults=yaml.safe_load(values.read_text()) if (values := directory / "values.yaml").is_file() else {},
        schema=json.loads(schema_file.read_text()) if schema_file.is_file() else None,
        templates=templates,
        subcharts=subcharts,
    )


def key_paths(values: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every map key path of a values document (lists are values, not descended into)."""
    if isinstance(values, Mapping):
        for key, value in values.items():
            path = (*prefix, str(key))
            yield path
            yield from key_paths(value, path)


def _free(value: Any) -> bool:
    return value is None or value == {} or isinstance(value, list)


def _in_defaults(defaults: Any, path: tuple[str, ...]) -> str | None:
    node = defaults
    for depth, key in enumerate(path):
        if not isinstance(node, Mapping):
            return None
        if key not in node:
            return None
        node = node[key]
        if depth < len(path) - 1 and _free(node):
            return f"values.yaml (free-form under {'.'.join(path[: depth + 1])})"
    return "values.yaml"


def _resolve(schema: Any, root: Any) -> Any:
    while isinstance(schema, Mapping) and "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return {}
        node = root
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


def _in_schema(schema: Any, path: tuple[str, ...]) -> str | None:
    if schema is None:
        return None
    node = _resolve(schema, schema)
    for depth, key in enumerate(path):
        candidates = [node, *[_resolve(s, schema) for s in node.get("allOf", []) + node.get("anyOf", [])]]
        found = None
        for candidate in candidates:
            properties = candidate.get("properties") or {}
            if key in properties:
                found = _resolve(properties[key], schema)
                break
        if found is None:
            open_map = any(
                c.get("type") == "object" and not c.get("properties") and c.get("additionalProperties") is not False
                for c in candidates
            )
            return f"values.schema.json (free-form under {'.'.join(path[:depth]) or 'the root'})" if open_map else None
        node = found
    return "values.schema.json"


def _values_ref(path: tuple[str, ...]) -> str:
    return r"\.Values\." + r"\.".join(re.escape(part) for part in path) + r"(?![\w.])"


def _in_templates(templates: str, path: tuple[str, ...]) -> str | None:
    """Read by name (`.Values.a.b`), or under a map a template renders whole (`toYaml .Values.a`,
    `omit .Values.a ... | toYaml`, or `with .Values.a` then `toYaml .`), where any key passes through."""
    if re.search(_values_ref(path), templates):
        return "templates"
    for depth in range(len(path) - 1, 0, -1):
        ref = _values_ref(path[:depth])
        whole = (
            rf"toYaml\s+{ref}",
            rf"{ref}\s*\|\s*toYaml",
            rf"omit\s+{ref}",
            rf"with\s+{ref}\s*-?\}}\}}[^{{]{{0,80}}\{{\{{-?\s*toYaml\s+\.\s",
        )
        if any(re.search(pattern, templates) for pattern in whole):
            return f"templates (renders {'.'.join(path[:depth])} whole)"
    return None


MANUAL: dict[str, dict[str, str]] = {
    # Read through a helper the generic checks cannot follow; each entry covers the key and everything under it.
    "kong": {
        "proxy.externalTrafficPolicy": "templates/_helpers.tpl `kong.service` writes .externalTrafficPolicy of the "
        "service config service-kong-proxy.yaml merges from .Values.proxy",
    },
    "redis": {
        "containerSecurityContext": "templates/_helpers.tpl `compatibility.renderSecurityContext` renders the "
        'whole map (`omit $adaptedContext "enabled" | toYaml`)',
    },
    # app-template's values are the common library's (5.2.1), checked by its values.schema.json at render time;
    # the schema files it references refuse unknown keys (additionalProperties / unevaluatedProperties: false).
    "redisinsight": {
        "defaultPodOptions": "common values.schema.json defaultPodOptions -> schemas/pod.json#/$defs/options",
        "controllers": "common values.schema.json controllers -> schemas/controllers.json#/$defs/instance "
        "(replicas, strategy, containers -> containers.json: image, securityContext, resources, probes)",
        "service": "common values.schema.json service -> schemas/service.json#/$defs/instance (controller, ports)",
        "persistence": "common values.schema.json persistence -> schemas/persistence.json#/$defs/item "
        "(persistentVolumeClaim: accessMode, size, storageClass; emptyDir; globalMounts)",
    },
}
"""service -> dotted key -> where the chart reads it, for keys only a template helper or a referenced schema file
shows; checked by reading the source named."""


def _manual(service: str, path: tuple[str, ...]) -> str | None:
    entries = MANUAL.get(service, {})
    for depth in range(len(path), 0, -1):
        found = entries.get(".".join(path[:depth]))
        if found is not None:
            return f"manual: {found}"
    return None


def evidence(chart: ChartIndex, path: tuple[str, ...]) -> str | None:
    """How the chart is known to read `path`, or None."""
    for check in (_in_defaults(chart.defaults, path), _in_schema(chart.schema, path)):
        if check is not None:
            return check
    if path[0] in chart.subcharts and len(path) > 1:
        found = evidence(chart.subcharts[path[0]], path[1:])
        return f"subchart {path[0]}: {found}" if found else None
    return _in_templates(chart.templates, path)


def starter_values(service: str, root: Path = VALUES_ROOT) -> dict[str, Any]:
    """Every values file of a service in the starter, by path relative to `root`."""
    return {
        str(p.relative_to(root)): yaml.safe_load(p.read_text()) or {}
        for p in sorted(root.glob(f"*/{service}/values.yaml")) + sorted(root.glob(f"_cloud/*/{service}/values.yaml"))
    }


def check_service(service: str, chart: ChartIndex, root: Path = VALUES_ROOT) -> dict[str, str]:
    """Evidence for every key path the starter sets for `service`; raises naming every unread key."""
    found: dict[str, str] = {}
    unknown: list[str] = []
    for file, values in starter_values(service, root).items():
        for path in key_paths(values):
            dotted = ".".join(path)
            why = _manual(service, path) or evidence(chart, path)
            if why is None:
                unknown.append(f"{file}: {dotted}")
            else:
                found[dotted] = why
    if unknown:
        raise UnreadKeyError(f"{chart.name} {chart.version} does not read: " + "; ".join(unknown))
    return dict(sorted(found.items()))


def unverified_keys(service: str, verified: Mapping[str, str], root: Path = VALUES_ROOT) -> list[str]:
    """Keys the starter sets for `service` that the recorded evidence (`keys` of its fixture) does not cover."""
    return sorted(
        f"{file}: {'.'.join(path)}"
        for file, values in starter_values(service, root).items()
        for path in key_paths(values)
        if ".".join(path) not in verified
    )


def main(argv: list[str] | None = None) -> int:
    from components.catalog import load_catalog  # noqa: PLC0415 - the CLI only

    parser = argparse.ArgumentParser(prog="python -m tools.chart_keys", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--charts", type=Path, required=True, help="directory of unpacked charts, one per service")
    parser.add_argument("--service", action="append", help="only these services (default: every one in DIR)")
    args = parser.parse_args(argv)
    catalog = load_catalog()
    services = args.service or sorted(p.name for p in args.charts.iterdir() if (p / "Chart.yaml").is_file())
    failed = False
    for service in services:
        pinned = catalog.services[service].chart
        chart = load_chart(args.charts / service)
        if (chart.name, chart.version.removeprefix("v")) != (pinned.name, pinned.version.removeprefix("v")):
            print(f"error: {service}: DIR has {chart.name} {chart.version}, the catalog pins {pinned.version}")
            failed = True
            continue
        try:
            keys = check_service(service, chart)
        except UnreadKeyError as error:
            print(f"error: {service}: {error}")
            failed = True
            continue
        FIXTURES.mkdir(parents=True, exist_ok=True)
        record = {"chart": pinned.name, "version": pinned.version, "keys": keys}
        (FIXTURES / f"{service}.json").write_text(json.dumps(record, indent=2) + "\n")
        print(f"{service}: {len(keys)} keys verified against {chart.name} {chart.version}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
