"""Every Argo CD object the program creates validates against the real CRD schemas, strictly.

The API server prunes fields a CRD schema does not declare, silently, so a misspelt field would simply vanish.
Here an undeclared field is an error: every object schema that lists `properties` gets
`additionalProperties: false` unless it is marked `x-kubernetes-preserve-unknown-fields`. OpenAPI's dialect is
translated too: `x-kubernetes-int-or-string` accepts an integer or a string, `nullable` accepts null.

Schemas are read from the directory named by PLATFORM_ARGOCD_SCHEMAS (default: ../shared/schemas/argocd from the
project root, Argo CD v3.4.4); the tests skip, saying so, where it is absent. Objects come from the plans of every
shipped stack and of test configs with domains, SSO, notifications and private repositories.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.test_argocd_bootstrap import FULL_CONFIGS
from tools.plan.plan import PROJECT_DIR
from tools.plan.runner import Plan

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


@pytest.fixture(scope="module")
def validators() -> dict[str, jsonschema.Draft7Validator]:
    if not SCHEMA_DIR.is_dir():
        pytest.skip(f"Argo CD CRD schemas not found at {SCHEMA_DIR}; set PLATFORM_ARGOCD_SCHEMAS to validate")
    return {
        kind: jsonschema.Draft7Validator(strict(json.loads((SCHEMA_DIR / name).read_text())))
        for kind, name in SCHEMA_FILES.items()
    }


def argo_objects(plan: Plan) -> list[dict[str, Any]]:
    return [r.inputs for r in plan.resources if r.type.startswith(ARGO_TYPE_PREFIX)]


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


def test_strictness_rejects_what_kubernetes_would_prune(validators: dict[str, jsonschema.Draft7Validator]) -> None:
    app = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "x", "namespace": "argocd"},
        "spec": {
            "project": "platform",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "x"},
            "source": {"repoURL": "https://example.test/repo", "path": ".", "helm": {"valuesObject": {"any": 1}}},
            "syncPolicy": {"retry": {"limit": 5, "backof": {"duration": "5s"}}},
        },
    }
    errors = problems(validators, app)
    assert len(errors) == 1 and "syncPolicy/retry" in errors[0] and "'backof'" in errors[0]
    # valuesObject preserves unknown fields: its contents are the chart's business.
    app["spec"]["syncPolicy"] = {"retry": {"limit": "five"}}
    assert len(problems(validators, app)) == 1


def test_schema_translation_handles_int_or_string_and_nullable() -> None:
    schema = strict(
        {
            "type": "object",
            "properties": {
                "port": {"x-kubernetes-int-or-string": True, "type": "string"},
                "note": {"type": "string", "nullable": True},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {}},
            },
        }
    )
    validator = jsonschema.Draft7Validator(schema)
    assert validator.is_valid({"port": 8080, "note": None, "free": {"anything": True}})
    assert validator.is_valid({"port": "http"})
    assert not validator.is_valid({"port": 1.5})
    assert not validator.is_valid({"unknown": 1})


def test_every_argo_object_of_every_shipped_stack_validates(
    validators: dict[str, jsonschema.Draft7Validator], shipped_plans: dict[str, Plan]
) -> None:
    checked: dict[str, int] = {}
    errors: list[str] = []
    for stack, plan in shipped_plans.items():
        documents = argo_objects(plan)
        checked[stack] = len(documents)
        for document in documents:
            errors += [f"{stack}: {e}" for e in problems(validators, document)]
    assert errors == []
    assert checked["local"] >= 4 and checked["mgmt"] >= 5, checked


@pytest.mark.parametrize("case", list(FULL_CONFIGS))
def test_every_argo_object_of_a_full_config_validates(
    case: str, validators: dict[str, jsonschema.Draft7Validator], run_config: Callable[..., Plan]
) -> None:
    documents = argo_objects(run_config(FULL_CONFIGS[case]))
    kinds = {d["kind"] for d in documents}
    assert {"Application", "AppProject"} <= kinds
    assert [e for d in documents for e in problems(validators, d)] == []
