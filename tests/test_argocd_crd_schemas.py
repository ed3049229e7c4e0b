"""Every Argo CD object the program creates validates against the real CRD schemas, strictly.

How strict, and where the schemas come from: tests/strict_crd.py. Objects come from the plans of every shipped
stack and of test configs with domains, SSO, notifications and private repositories.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from tests.strict_crd import ARGO_TYPE_PREFIX, problems, strict
from tests.test_argocd_bootstrap import FULL_CONFIGS
from tools.plan.runner import Plan


def argo_objects(plan: Plan) -> list[dict[str, Any]]:
    return [r.inputs for r in plan.resources if r.type.startswith(ARGO_TYPE_PREFIX)]


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
