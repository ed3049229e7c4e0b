"""Values for a Kubernetes Secret's `data`.

Always `data`, never `stringData`: stringData under server-side apply gives a perpetual diff
(pulumi-kubernetes#2507; kubernetes/website#42603)."""

import base64
from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

__all__ = ["b64", "opaque_secret"]


def b64(value: str | bytes) -> str:
    """`value` (text as UTF-8) in base64, as a Secret's `data` holds it."""
    return base64.b64encode(value.encode() if isinstance(value, str) else value).decode()


def opaque_secret(
    name: str,
    *,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    data: Mapping[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Secret:
    """An Opaque Secret named `name` (the Pulumi name too) whose `data` values are already base64."""
    return k8s.core.v1.Secret(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=dict(labels)),
        type="Opaque",
        data=dict(data),
        opts=opts,
    )
