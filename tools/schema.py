"""Publish the stack config's JSON schema and its config reference page, both from the config model.

`python -m tools.schema` rewrites schema/stack-config.schema.json and the reference table in docs/configuration.md;
`python -m tools.schema --check` fails when either is out of date (CI runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from components.config.load import DEFAULTS_FILE, NAMESPACE
from components.config.model import StackConfig

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "schema" / "stack-config.schema.json"
REFERENCE_PAGE = ROOT / "docs" / "configuration.md"
BEGIN = "<!-- BEGIN CONFIG REFERENCE (python -m tools.schema) -->"
END = "<!-- END CONFIG REFERENCE -->"
_PER_ENV = "per environment"


def _env_default_paths() -> set[tuple[str, ...]]:
    """Key paths that defaults.yaml fills per environment: not required of a stack file."""
    import yaml  # noqa: PLC0415

    paths: set[tuple[str, ...]] = set()

    def walk(node: Any, prefix: tuple[str, ...]) -> None:
        for key, value in node.items():
            if key == "nodePoolProfile":
                paths.add(("cluster", "nodePools"))
            elif isinstance(value, dict):
                walk(value, (*prefix, key))
            else:
                paths.add((*prefix, key))

    for env_defaults in yaml.safe_load(DEFAULTS_FILE.read_text())["environments"].values():
        walk(env_defaults, ())
    return paths


def _definition(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref") or next((a["$ref"] for a in node.get("anyOf", []) if "$ref" in a), None)
    return schema["$defs"][ref.rsplit("/", 1)[-1]] if ref else node


def _drop_required(schema: dict[str, Any], node: dict[str, Any], path: tuple[str, ...]) -> bool:
    """Mark `path` as defaulted; return True when that left `node` with no required key at all."""
    key, rest = path[0], path[1:]
    prop = node.get("properties", {}).get(key)
    if prop is None:
        return False
    required = node.get("required", [])
    if not rest:
        prop["default"] = f"{_PER_ENV} (components/config/defaults.yaml)"
        if key in required:
            required.remove(key)
            return not required
        return False
    # A parent stops being required only when defaults now fill every required key below it.
    if _drop_required(schema, _definition(schema, prop), rest) and key in required:
        required.remove(key)
        prop["default"] = f"{_PER_ENV} (components/config/defaults.yaml)"
        return not required
    return False


def build_schema() -> dict[str, Any]:
    schema = StackConfig.model_json_schema(by_alias=True)
    for path in sorted(_env_default_paths(), key=len):
        _drop_required(schema, schema, path)
    schema["title"] = "Platform stack config"
    schema["description"] = (
        f"The `{NAMESPACE}:` keys of a Pulumi.<stack>.yaml. Keys marked secret must be set with "
        "`pulumi config set --secret`. Unknown keys are errors."
    )
    return schema


def _type_of(schema: dict[str, Any], node: dict[str, Any]) -> str:
    if "$ref" in node:
        return "object"
    if "anyOf" in node:
        return " or ".join(_type_of(schema, a) for a in node["anyOf"] if a.get("type") != "null")
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    if node.get("type") == "array":
        return f"list of {_type_of(schema, node.get('items', {}))}"
    if node.get("type") == "object" and "additionalProperties" in node:
        return f"map of {_type_of(schema, node['additionalProperties'])}"
    return str(node.get("type", "any"))


def _rows(schema: dict[str, Any], node: dict[str, Any], prefix: str) -> Iterator[tuple[str, str, str, str]]:
    required = set(node.get("required", []))
    for key, prop in node.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        default = "required" if key in required else json.dumps(prop.get("default", None))
        secret = prop.get("secret") or any(a.get("secret") for a in prop.get("anyOf", []))
        description = ("**Secret.** " if secret else "") + str(prop.get("description", "")).removeprefix("Secret. ")
        yield f"`{path}`", _type_of(schema, prop), default, description.replace("\n", " ")
        inner = _definition(schema, prop)
        if inner is not prop and "properties" in inner:
            yield from _rows(schema, inner, path)
        for container, child_path in (("additionalProperties", f"{path}.<name>"), ("items", f"{path}[]")):
            variants = [prop, *prop.get("anyOf", [])]
            child = next((v[container] for v in variants if isinstance(v.get(container), dict)), None)
            if child is not None and "properties" in (child_def := _definition(schema, child)):
                yield from _rows(schema, child_def, child_path)


def reference_table(schema: dict[str, Any]) -> str:
    lines = [BEGIN, "", "| key (`platform:` …) | type | default | description |", "|---|---|---|---|"]
    lines += [f"| {k} | {t} | {d} | {desc} |" for k, t, d, desc in _rows(schema, schema, "")]
    return "\n".join([*lines, "", END])


def _render_page(text: str, table: str) -> str:
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{REFERENCE_PAGE.relative_to(ROOT)} lacks the markers {BEGIN} ... {END}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + table + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.schema")
    parser.add_argument("--check", action="store_true", help="fail if the schema or the config reference page is stale")
    args = parser.parse_args(argv)
    schema = build_schema()
    schema_text = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    page_text = _render_page(REFERENCE_PAGE.read_text(), reference_table(schema))
    if args.check:
        pairs = ((SCHEMA_FILE, schema_text), (REFERENCE_PAGE, page_text))
        stale = [str(p.relative_to(ROOT)) for p, new in pairs if p.read_text() != new]
        if stale:
            print(f"out of date: {', '.join(stale)}; run `python -m tools.schema`", file=sys.stderr)
            return 1
        print("config schema and docs/configuration.md reference are current")
        return 0
    SCHEMA_FILE.parent.mkdir(exist_ok=True)
    SCHEMA_FILE.write_text(schema_text)
    REFERENCE_PAGE.write_text(page_text)
    print(f"wrote {SCHEMA_FILE.relative_to(ROOT)} and the config reference in {REFERENCE_PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
