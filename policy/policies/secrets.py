"""No plain-text secrets in resource inputs.

The Python SDK hands a policy secret values already unwrapped (`deserialize_properties` without `proxy_secrets` in
pulumi_policy/policy.py `Analyze`), so a check cannot tell a Pulumi secret from a literal. It therefore looks where a
secret is plain text whatever Pulumi does with it: ConfigMap data, labels, annotations and cloud tags, and the specs
of Argo CD Applications (readable by every member of their project). There it flags secret-named keys holding a
literal, and values shaped like a credential. Kubernetes Secrets and Helm values are encrypted in state by
Pulumi and kept in Secrets in the cluster, so their data is not a plain-text carrier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from .common import Rule, walk

__all__ = ["SECRET_RULES", "plain_text_findings"]

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
ARGO_SPEC_TYPES = frozenset(
    {
        "kubernetes:argoproj.io/v1alpha1:Application",
        "kubernetes:argoproj.io/v1alpha1:ApplicationSet",
    }
)
# Path segments under which every value is stored and shown in plain text.
PLAIN_SEGMENTS = frozenset({"labels", "annotations", "tags", "resourceLabels", "userLabels"})
SECRET_KEY = re.compile(
    r"(password|passwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credentials?)$", re.IGNORECASE
)
# Values that name where a secret is, not the secret: Argo CD `$secret:key` references, templates, plugin
# placeholders, and the mask a recorded plan puts on Pulumi secrets.
REFERENCE = re.compile(r"^(\$|<path:|ref\+)|\{\{|^\[secret\]$")
CREDENTIALS = {
    "a private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )?PRIVATE KEY-----"),
    "an AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
    "a GitLab token": re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"),
    "a Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "a Google service-account key": re.compile(r'"private_key_id"\s*:'),
}


def _is_plain_carrier(resource_type: str, path: str) -> bool:
    segments = re.split(r"[.\[]", path)
    if PLAIN_SEGMENTS.intersection(segments):
        return True
    if resource_type == CONFIG_MAP:
        return segments[0] in {"data", "binaryData"}
    return resource_type in ARGO_SPEC_TYPES and segments[0] == "spec"


def plain_text_findings(resource_type: str, props: Any) -> Iterator[str]:
    for path, key, value in walk(props):
        if not isinstance(value, str) or not value.strip() or not _is_plain_carrier(resource_type, path):
            continue
        kind = next((name for name, pattern in CREDENTIALS.items() if pattern.search(value)), None)
        if kind:
            yield f"{path} holds what looks like {kind} in plain text; keep it in a Secret (Sealed Secrets in Git)"
        elif SECRET_KEY.search(key) and not key.lower().startswith("existing") and not REFERENCE.search(value):
            yield f"{path} is a secret-named value in plain text; reference a Secret instead"


def no_plain_text_secrets(props: Any, args: ResourceValidationArgs) -> Iterator[str]:
    yield from plain_text_findings(args.resource_type, props)


SECRET_RULES = (
    Rule(
        "no-plaintext-secrets",
        "No secret in plain text in ConfigMaps, labels, annotations, tags or Argo CD Application specs.",
        None,
        no_plain_text_secrets,
        Severity.CRITICAL,
    ),
)
