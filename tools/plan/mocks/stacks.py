"""Answers of the engine's own resource: a StackReference, which reads another stack's outputs.

A spoke reads the hub stack's `hub` output (and an existing-cluster hub's `kubeconfig`). There is no hub stack
here, so the known hub names answer with stand-in outputs built by the program's own `hub_document` from the facts
the shipped (and the tests') mgmt stack has, and a test holds them to what the mgmt plan really exports. Any other
name fails the read, as the engine does for a stack the backend does not have.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi

from components.clusters.base import ExecAuth
from components.clusters.gke import KUBECONFIG_AUTH as GKE_AUTH
from components.gitops.hub import hub_document, kubernetes_access
from components.pulumi_seams import is_secret, secret
from tools.plan.mocks.gcp import address_ip, dns_endpoint

__all__ = ["HUB_STACKS", "REFERENCED", "RESOURCES", "HubFacts", "StackNotFoundError", "stand_in_outputs"]


@dataclass(frozen=True)
class HubFacts:
    """What a hub stack's outputs depend on."""

    cloud: str
    cluster_name: str
    region: str
    account: str
    oidc_issuer_url: str
    endpoint: str
    """The API server a spoke job reaches the hub at."""
    egress_cidrs: tuple[str, ...] = ()
    ca_data: str = ""
    auth: ExecAuth | None = None
    """The exec plugin of the hub's kubeconfig; None for an existing cluster (its kubeconfig is a secret output)."""
    cluster_identifier: str = ""


def _gke(project: str, region: str = "europe-west1", cluster: str = "cluster-mgmt") -> HubFacts:
    path = f"projects/{project}/locations/{region}/clusters/{cluster}"
    return HubFacts(
        cloud="gcp",
        cluster_name=cluster,
        region=region,
        account=project,
        oidc_issuer_url=f"https://container.googleapis.com/v1/{path}",
        endpoint=f"https://{dns_endpoint(project, region, cluster)}",
        egress_cidrs=(f"{address_ip(project, region, f'{cluster}-nat')}/32",),
        auth=GKE_AUTH,
        cluster_identifier=path,
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
            egress_cidrs=facts.egress_cidrs,
            kubernetes=kubernetes_access(facts.endpoint, facts.ca_data, facts.auth, facts.cluster_identifier),
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
        # The engine fails the read (pkg/resource/deploy/builtins.go readStackReference returns the backend's error).
        raise StackNotFoundError(f"no stack named '{name}' found")
    outputs = dict(stand_in_outputs(facts))
    # The engine hands secret outputs over as secrets, and lists their names.
    for key in ("kubeconfig",):
        if key in outputs:
            outputs[key] = secret(outputs[key])
    secret_names = sorted(key for key, value in outputs.items() if is_secret(value))
    return {"name": name, "outputs": outputs, "secretOutputNames": secret_names}


class StackNotFoundError(Exception):
    """What the backend answers for a stack it does not have."""


RESOURCES: dict[str, Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]] = {
    "pulumi:pulumi:StackReference": _stack_reference,
}
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
