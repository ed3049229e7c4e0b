"""Keys that wrap cluster Secrets rotate (CIS GCP 1.10, awsguard cmk-backing-key-rotation-enabled)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from .common import UNKNOWN, Rule, get

__all__ = ["KMS_RULES", "MAX_ROTATION_SECONDS"]

GCP_KEY = "gcp:kms/cryptoKey:CryptoKey"
AWS_KEY = "aws:kms/key:Key"
MAX_ROTATION_SECONDS = 90 * 24 * 3600
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


def key_rotation(props: Any, args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == AWS_KEY:
        if get(props, "enableKeyRotation") not in (True, UNKNOWN):
            yield "enableKeyRotation must be true"
        if get(props, "bypassPolicyLockoutSafetyCheck") is True:
            yield "bypassPolicyLockoutSafetyCheck must not be true"
        return
    period = get(props, "rotationPeriod")
    if period is UNKNOWN:
        return
    match = _DURATION.match(str(period)) if period else None
    if match is None:
        yield "rotationPeriod must be set (e.g. 7776000s, 90 days)"
    elif float(match.group(1)) > MAX_ROTATION_SECONDS:
        yield f"rotationPeriod {period} is longer than 90 days (CIS GCP 1.10)"


KMS_RULES = (
    Rule(
        "kms-key-rotation",
        "KMS keys rotate automatically (at most every 90 days on Cloud KMS).",
        frozenset({GCP_KEY, AWS_KEY}),
        key_rotation,
        Severity.MEDIUM,
    ),
)
