"""Write a recorded plan as files: resources, Kubernetes manifests, Helm releases, outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tools.plan.applications import write_applications
from tools.plan.runner import SECRET_MASK, Plan, RecordedResource

__all__ = ["HELM_RELEASE", "is_manifest", "manifest_of", "write_plan"]

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
_NOT_OBJECTS = {HELM_RELEASE, "pulumi:providers:kubernetes"}


def is_manifest(resource: RecordedResource) -> bool:
    """A Kubernetes object the program creates (custom resources included)."""
    return resource.custom and resource.type.startswith("kubernetes:") and resource.type not in _NOT_OBJECTS


def manifest_of(resource: RecordedResource) -> dict[str, Any]:
    document = dict(resource.inputs)
    if document.get("kind") == "Secret":
        for key in ("data", "stringData"):
            # A whole map that was a secret is already the mask; otherwise mask each value, keep the keys.
            if isinstance(document.get(key), dict):
                document[key] = dict.fromkeys(document[key], SECRET_MASK)
    return document


def _resource_entry(resource: RecordedResource, plan: Plan) -> dict[str, Any]:
    return {
        "type": resource.type,
        "name": resource.name,
        "urn": resource.urn,
        "parent": plan.name_of(resource.parent_urn),
        "provider": plan.name_of(resource.provider_urn),
        "dependsOn": [plan.name_of(urn) for urn in resource.dependency_urns],
        "inputs": resource.inputs,
        "protect": resource.protect,
        "retainOnDelete": resource.retain_on_delete,
        "ignoreChanges": resource.ignore_changes,
    }


def helm_release_of(resource: RecordedResource) -> dict[str, Any]:
    inputs = resource.inputs
    return {
        "chart": inputs.get("chart"),
        "repository": (inputs.get("repositoryOpts") or {}).get("repo"),
        "version": inputs.get("version"),
        "namespace": inputs.get("namespace"),
        "values": inputs.get("values") or {},
    }


def _file_name(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(p for p in parts if p))


def write_plan(plan: Plan, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "resources.json").write_text(json.dumps([_resource_entry(r, plan) for r in plan.resources], indent=2) + "\n")
    manifests = out / "manifests"
    manifests.mkdir(exist_ok=True)
    for index, resource in enumerate(r for r in plan.resources if is_manifest(r)):
        document = manifest_of(resource)
        metadata = document.get("metadata") or {}
        name = _file_name(
            f"{index:03d}",
            str(document.get("kind", "")),
            metadata.get("namespace", ""),
            metadata.get("name", ""),
        )
        (manifests / f"{name}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    helm = out / "helm"
    helm.mkdir(exist_ok=True)
    for resource in plan.by_type(HELM_RELEASE):
        (helm / f"{_file_name(resource.name)}.yaml").write_text(
            yaml.safe_dump(helm_release_of(resource), sort_keys=False)
        )
    (out / "outputs.json").write_text(json.dumps(plan.outputs, indent=2, sort_keys=True) + "\n")
    write_applications(plan, out)
