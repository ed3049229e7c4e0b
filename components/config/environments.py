"""The environments, one row each: the only place an environment's role and tier are decided.

Everything in the program reads this table. The policy pack cannot import the program, so policy/policies/common.py
keeps a copy of the policy levels and the protected set; tests/test_environments.py holds it (and the preview
guard) to this table. docs/extending.md "Add an environment" lists the files a new row touches.

mgmt is guarded like prod: it runs the Argo CD that is cluster-admin on every spoke, prod included, so its loss or
replacement takes every cluster's delivery down. It is protected (protect=True, the preview guard, the mandatory
`production-protected` policy), prod-like and on the AKS SLA tier. Its policy level stays advisory for the general
rules, with the Argo CD and hub rules mandatory there (policy/policies/common.py `level_for(hub=True)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ENVIRONMENT_TABLE", "PolicyLevel", "Role", "Row", "envs_where"]

Role = Literal["hub", "spoke", "standalone"]
PolicyLevel = Literal["mandatory", "advisory", "exempt"]


@dataclass(frozen=True)
class Row:
    """One environment."""

    role: Role
    """hub: runs the Argo CD and Crossplane that deliver to every spoke; spoke: registered in the hub (unless its
    stack sets `topology.mode: standalone`); standalone: runs its own Argo CD."""
    protected: bool
    """Its clusters, networks, keys and the argocd namespace may not be deleted or replaced: the default of the
    `protect` key, the preview guard (tools/preview_guard.py) and the `production-protected` policy."""
    prod_like: bool
    """User mistakes that are fine on a laptop are refused (the Kubernetes API open to 0.0.0.0/0, the admin login),
    and AKS encrypts node disks at the host unless the stack says otherwise."""
    policy: PolicyLevel
    """How hard the policy pack's rules stop a deployment here."""
    sla: bool
    """AKS Standard tier, the financially backed control-plane SLA, where an outage costs more than the fee."""


# Keys in the order of components/config/model.py `Env`; a test holds them equal.
ENVIRONMENT_TABLE: dict[str, Row] = {
    "local": Row(role="standalone", protected=False, prod_like=False, policy="exempt", sla=False),
    "mgmt": Row(role="hub", protected=True, prod_like=True, policy="advisory", sla=True),
    "dev": Row(role="spoke", protected=False, prod_like=False, policy="advisory", sla=False),
    "staging": Row(role="spoke", protected=True, prod_like=True, policy="mandatory", sla=True),
    "prod": Row(role="spoke", protected=True, prod_like=True, policy="mandatory", sla=True),
}


def envs_where(**columns: object) -> frozenset[str]:
    """The environments whose row has every given column value, e.g. `envs_where(protected=True)`."""
    return frozenset(
        env
        for env, row in ENVIRONMENT_TABLE.items()
        if all(getattr(row, key) == value for key, value in columns.items())
    )
