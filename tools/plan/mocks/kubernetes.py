"""Answers of the kubernetes provider: outputs the real provider computes, and invoke results."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pulumi

SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"
_CA_PEM = b"-----BEGIN CERTIFICATE-----\nMOCK KUBE ROOT CA\n-----END CERTIFICATE-----\n"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


CREATION_TIMESTAMP = "2026-01-01T00:00:00Z"
"""What the API server stamps on a new object (`metadata.creationTimestamp`); one fixed time keeps plans stable."""


def _secret(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    """A Secret comes back with the creationTimestamp the API server sets; a service-account token Secret also
    filled in by the token controller (the provider waits for it, pulumi-kubernetes#2048)."""
    metadata = args.inputs.get("metadata") or {}
    stamped = {"metadata": {**metadata, "creationTimestamp": CREATION_TIMESTAMP}}
    if args.inputs.get("type") != SERVICE_ACCOUNT_TOKEN:
        return stamped
    token = f"eyJhbGciOiJSUzI1NiJ9.mock-{hashlib.sha256(args.name.encode()).hexdigest()[:24]}.signature"
    return {
        **stamped,
        "data": {
            "token": _b64(token.encode()),
            "ca.crt": _b64(_CA_PEM),
            "namespace": _b64(str(metadata.get("namespace", "default")).encode()),
        },
    }


RESOURCES: dict[str, Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]] = {
    "kubernetes:core/v1:Secret": _secret,
}
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
