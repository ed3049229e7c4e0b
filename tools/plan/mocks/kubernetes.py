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


def _secret(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    """A service-account token Secret comes back filled in by the token controller (the provider waits for it,
    pulumi-kubernetes#2048); any other Secret as given."""
    if args.inputs.get("type") != SERVICE_ACCOUNT_TOKEN:
        return {}
    metadata = args.inputs.get("metadata") or {}
    token = f"eyJhbGciOiJSUzI1NiJ9.mock-{hashlib.sha256(args.name.encode()).hexdigest()[:24]}.signature"
    return {
        "data": {
            "token": _b64(token.encode()),
            "ca.crt": _b64(_CA_PEM),
            "namespace": _b64(str(metadata.get("namespace", "default")).encode()),
        }
    }


RESOURCES: dict[str, Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]] = {
    "kubernetes:core/v1:Secret": _secret,
}
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
