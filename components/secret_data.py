"""Values for a Kubernetes Secret's `data`.

Always `data`, never `stringData`: stringData under server-side apply gives a perpetual diff
(pulumi-kubernetes#2507; kubernetes/website#42603)."""

import base64

__all__ = ["b64"]


def b64(value: str | bytes) -> str:
    """`value` (text as UTF-8) in base64, as a Secret's `data` holds it."""
    return base64.b64encode(value.encode() if isinstance(value, str) else value).decode()
