"""Answers of the engine's own resource: a StackReference, which reads another stack's outputs.

A spoke reads the hub stack's `hub` and `kubeconfig` outputs. There is no hub stack here, so the known hub names
answer with stand-in outputs built by the program's own `hub_document` from the facts the shipped (and the
tests') mgmt stack has, and a test holds them to what the mgmt plan really exports. Any other name answers with
no outputs, as a stack that was never deployed does, so the program's "run `pulumi up` on the hub first" shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import rpc

from components.gitops.hub import hub_document

__all__ = ["HUB_STACKS", "REFERENCED", "RESOURCES", "HubFacts", "stand_in_outputs"]


@dataclass(frozen=True)
class HubFacts:
    """What a hub stack's outputs depend on."""

    cloud: str
    cluster_name: str
    region: str
    account: str
    oidc_issuer_url: str
    endpoint: str


def _gke(project: str, region: str = "europe-west1", cluster: str = "cluster-mgmt") -> HubFacts:
    return HubFacts(
        cloud="gcp",
        cluster_name=cluster,
        region=region,
        account=project,
        oidc_issuer_url=f"https://container.googleapis.com/v1/projects/{project}/locations/{region}/clusters/{cluster}",
        endpoint="https://34.76.10.20",
    )


HUB_STACKS: dict[str, HubFacts] = {
    # The shipped mgmt stack (Pulumi.mgmt.yaml) as the shipped spokes name it.
    "example-org/platform/mgmt": _gke("example-platform-mgmt"),
    # The mgmt stack of tests/conftest.py's base_config("gcp", "mgmt"), as its spokes name it.
    "acme/platform/mgmt": _gke("acme-platform-dev"),
}
"""Hub stacks that exist for the plan: stack name -> facts. Tests add hubs on other clouds."""
REFERENCED: list[str] = []
"""Stack names read since the process started (the plan notes which stand-ins it used)."""


def _kubeconfig(facts: HubFacts) -> str:
    name = facts.cluster_name
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "gke-gcloud-auth-plugin"}}
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": facts.endpoint, "certificate-authority-data": ""}}],
            "users": [{"name": name, "user": user}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
        },
        sort_keys=True,
    )


def stand_in_outputs(facts: HubFacts) -> dict[str, Any]:
    """The outputs a hub stack with these facts exports (those a spoke reads)."""
    return {
        "hub": hub_document(
            cluster_name=facts.cluster_name,
            cloud=facts.cloud,
            region=facts.region,
            account=facts.account,
            oidc_issuer_url=facts.oidc_issuer_url,
        ),
        "kubeconfig": _kubeconfig(facts),
        "env": "mgmt",
        "cloud": facts.cloud,
        "clusterName": facts.cluster_name,
    }


def _stack_reference(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = str(args.inputs.get("name") or args.resource_id)
    REFERENCED.append(name)
    facts = HUB_STACKS.get(name)
    if facts is None:
        return {"name": name, "outputs": {}, "secretOutputNames": []}
    outputs = dict(stand_in_outputs(facts))
    # The engine hands secret outputs over as secrets.
    secret = [key for key in ("kubeconfig",) if key in outputs]
    for key in secret:
        outputs[key] = {rpc._special_sig_key: rpc._special_secret_sig, "value": outputs[key]}
    return {"name": name, "outputs": outputs, "secretOutputNames": secret}


RESOURCES: dict[str, Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]] = {
    "pulumi:pulumi:StackReference": _stack_reference,
}
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
