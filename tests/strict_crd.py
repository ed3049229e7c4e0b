"""Strict validation of Argo CD objects against the real CRD schemas: an undeclared field is an error.

The API server prunes fields a CRD schema does not declare, silently, so a misspelt field would simply vanish.
Every object schema that lists `properties` gets `additionalProperties: false` unless it is marked
`x-kubernetes-preserve-unknown-fields`; `x-kubernetes-int-or-string` accepts an integer or a string, `nullable`
accepts null. The schemas come from PLATFORM_ARGOCD_SCHEMAS (default: ../shared/schemas/argocd from the project
root, Argo CD v3.4.4); tests that need them skip, saying so, where the directory is absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tools.plan.plan import PROJECT_DIR

SCHEMA_DIR = Path(os.environ.get("PLATFORM_ARGOCD_SCHEMAS", PROJECT_DIR.parent / "shared/schemas/argocd"))
SCHEMA_FILES = {
    "Application": "application.json",
    "ApplicationSet": "applicationset.json",
    "AppProject": "appproject.json",
}
ARGO_TYPE_PREFIX = "kubernetes:argoproj.io/"
# The CRD schemas leave metadata open; an object created here uses only these ObjectMeta fields.
METADATA_FIELDS = {"name", "namespace", "labels", "annotations", "finalizers"}

# Keywords whose value is a schema, a list of schemas, or a map of name -> schema.
_SCHEMA_KEYS = ("items", "additionalProperties", "not")
_SCHEMA_LIST_KEYS = ("allOf", "anyOf", "oneOf")
_SCHEMA_MAP_KEYS = ("properties", "patternProperties", "definitions")


def strict(schema: Any) -> Any:
    """A copy of an OpenAPI v3 (CRD) schema in which undeclared fields are errors, as JSON Schema draft 7."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_KEYS:
            out[key] = [strict(v) for v in value] if isinstance(value, list) else strict(value)
        elif key in _SCHEMA_LIST_KEYS:
            out[key] = [strict(v) for v in value]
        elif key in _SCHEMA_MAP_KEYS:
            out[key] = {name: strict(v) for name, v in value.items()}
        else:
            out[key] = value
    if out.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def load_validators() -> dict[str, jsonschema.Draft7Validator]:
    """One strict validator per kind; skips the calling test when the schemas are absent."""
    if not SCHEMA_DIR.is_dir():
        pytest.skip(f"Argo CD CRD schemas not found at {SCHEMA_DIR}; set PLATFORM_ARGOCD_SCHEMAS to validate")
    return {
        kind: jsonschema.Draft7Validator(strict(json.loads((SCHEMA_DIR / name).read_text())))
        for kind, name in SCHEMA_FILES.items()
    }


def problems(validators: dict[str, jsonschema.Draft7Validator], document: dict[str, Any]) -> list[str]:
    name = f"{document['kind']} {document['metadata'].get('name')}"
    found = [
        f"{name}: {'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message[:300]}"
        for error in validators[document["kind"]].iter_errors(document)
    ]
    extra = set(document["metadata"]) - METADATA_FIELDS
    if extra:
        found.append(f"{name}: metadata: unexpected {sorted(extra)}")
    return found
