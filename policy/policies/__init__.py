"""Every policy of the pack. Importable anywhere: building the `PolicyPack` is left to the pack's `__main__.py`."""

from __future__ import annotations

from pulumi_policy import Policy

from .argocd import ARGOCD_RULES
from .charts import CHART_RULES
from .clusters import CLUSTER_RULES
from .common import Rule
from .kms import KMS_RULES
from .production import production_protected
from .secrets import SECRET_RULES

__all__ = ["POLICIES", "RULES"]

RULES: tuple[Rule, ...] = (*CLUSTER_RULES, *KMS_RULES, *CHART_RULES, *SECRET_RULES, *ARGOCD_RULES)
POLICIES: list[Policy] = [*(policy for rule in RULES for policy in rule.policies()), production_protected]
