"""One module per cloud: its settings model, what its names look like, and its pure rules.

`load_stack_config` runs the rules of the stack's cloud (`CLOUD_RULES`) before any resource exists. A rule a
cloud adds is a line in its module; a new cloud is a module and a line here (docs/extending.md, "Add a cloud").
Nothing here imports a component: the cluster components import the constants they share from these modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from components.config.clouds import aws, azure, existing, gcp

if TYPE_CHECKING:
    from components.config.model import StackConfig

__all__ = ["CLOUD_RULES", "CloudRules"]


class CloudRules(Protocol):
    """What a cloud's module offers `load_stack_config`."""

    def rules(self, config: StackConfig) -> list[str]:
        """One line per problem: `platform:<key>: '<value>' ...; <what is allowed>`."""
        ...


CLOUD_RULES: Mapping[str, CloudRules] = {"gcp": gcp, "aws": aws, "azure": azure, "existing": existing}
"""The rules of each `cloud` value; tests/test_config.py holds its keys to the `Cloud` literal."""
