"""The one sync policy every Application this program creates (and every ApplicationSet template) uses.

Automated with prune and selfHeal: Git is the source of truth, drift is reverted and deleted files are removed.
Nothing switches it off: the platform's order comes from a parent Application per cluster (components/gitops/
appsets.py), not from an ApplicationSet RollingSync, which forces `automated` off on every Application it
generates (docs/operator-manual/applicationset/Progressive-Syncs.md, Argo CD v3.4.7).
Retry 5 times, backing off 5s, 10s, 20s, 40s, 80s (capped at 3m): enough to ride out a CRD that a previous wave
is still installing, few enough that a broken chart surfaces as Degraded within minutes. The one exception: a
cluster's parent Application retries without end (components/gitops/appsets.py, `PARENT_RETRY_LIMIT`).
`CreateNamespace=true`: a service's namespace comes with its Application.
`ServerSideApply=true`: large CRDs (argo-cd, kube-prometheus-stack, crossplane) exceed the 256 KiB limit of the
client-side `last-applied-configuration` annotation, and that annotation would also copy a Secret's data into
its metadata (CVE-2023-40029). Argo CD's docs/user-guide/sync-options.md documents each option.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["RESPECT_IGNORE_DIFFERENCES", "SYNC_OPTIONS", "SYNC_POLICY", "sync_policy"]

SYNC_OPTIONS: tuple[str, ...] = ("CreateNamespace=true", "ServerSideApply=true")
RESPECT_IGNORE_DIFFERENCES = "RespectIgnoreDifferences=true"
"""For an Application with `ignoreDifferences`: a sync keeps the live value of an ignored field (an injected
`caBundle`, a generated password) instead of applying Git's (docs/user-guide/sync-options.md)."""

SYNC_POLICY: dict[str, Any] = {
    "automated": {"prune": True, "selfHeal": True},
    "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
    "syncOptions": list(SYNC_OPTIONS),
}
"""Read-only reference; call `sync_policy()` for a copy to put into an object."""


def sync_policy() -> dict[str, Any]:
    """A fresh copy of `SYNC_POLICY` (the `spec.syncPolicy` of an Application), safe to extend per object."""
    return copy.deepcopy(SYNC_POLICY)
