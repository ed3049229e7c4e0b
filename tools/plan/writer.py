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


def _canonical(value: Any) -> Any:
    """Maps with sorted keys, all the way down: the engine hands inputs over in no fixed order."""
    if isinstance(value, dict):
        return {key: _canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def _resource_entry(resource: RecordedResource, plan: Plan) -> dict[str, Any]:
    return {
        "type": resource.type,
        "name": resource.name,
        "urn": resource.urn,
        "parent": plan.name_of(resource.parent_urn),
        "provider": plan.name_of(resource.provider_urn),
        "dependsOn": sorted(str(plan.name_of(urn)) for urn in resource.dependency_urns),
        "inputs": _canonical(resource.inputs),
        "protect": resource.protect,
        "retainOnDelete": resource.retain_on_delete,
        "ignoreChanges": resource.ignore_changes,
        # Only where set, so the entries of every other resource read as before.
        **(
            {"replaceWith": [plan.name_of(urn) for urn in resource.replace_with_urns]}
            if resource.replace_with_urns
            else {}
        ),
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
    """Write the plan; the same program and config write the same files, whatever order the engine registered in
    (resources sorted by URN, dependencies by name, map keys sorted), so plans of two commits diff cleanly."""
    out.mkdir(parents=True, exist_ok=True)
    resources = sorted(plan.resources, key=lambda r: r.urn)
    (out / "resources.json").write_text(json.dumps([_resource_entry(r, plan) for r in resources], indent=2) + "\n")
    manifests = out / "manifests"
    manifests.mkdir(exist_ok=True)
    for index, resource in enumerate(r for r in resources if is_manifest(r)):
        document = manifest_of(resource)
        metadata = document.get("metadata") or {}
        name = _file_name(
            f"{index:03d}",
            str(document.get("kind", "")),
            metadata.get("namespace", ""),
            metadata.get("name", ""),
        )
        (manifests / f"{name}.yaml").write_text(yaml.safe_dump(document, sort_keys=True))
    helm = out / "helm"
    helm.mkdir(exist_ok=True)
    for resource in plan.by_type(HELM_RELEASE):
        release = helm_release_of(resource)
        release["values"] = _canonical(release["values"])
        (helm / f"{_file_name(resource.name)}.yaml").write_text(yaml.safe_dump(release, sort_keys=False))
    (out / "outputs.json").write_text(json.dumps(plan.outputs, indent=2, sort_keys=True) + "\n")
    if not plan.preview:  # the expansion needs the registrations' server and names, unknown in a preview
        write_applications(plan, out)
