"""An existing cluster: the `cluster.existing` settings (a kubeconfig context) and what does not apply to a cluster
this program does not create."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from components.config.base import MODEL_CONFIG, config_key

if TYPE_CHECKING:
    from components.config.model import StackConfig

__all__ = ["ExistingSettings", "rules"]


class ExistingSettings(BaseModel):
    model_config = MODEL_CONFIG

    kubeconfig: str = "~/.kube/config"
    """Path of the kubeconfig file that reaches the cluster."""
    context: str = Field(min_length=1)
    """Context in that kubeconfig, e.g. `kind-platform` for `kind create cluster --name platform`."""


def rules(config: StackConfig) -> list[str]:
    """One line per rule of an existing cluster the config breaks."""
    errors: list[str] = []
    if config.cluster.existing is None:
        errors.append(f"{config_key(['cluster', 'existing'])}: is required when cloud is 'existing'")
    if config.cluster.node_pools:
        errors.append(
            f"{config_key(['cluster', 'nodePools'])}: {sorted(config.cluster.node_pools)} does not apply to an "
            "existing cluster; remove it"
        )
    if config.role == "hub" and config.crossplane.roles:
        errors.append(
            f"{config_key(['crossplane', 'roles'])}: an existing cluster has no cloud identity to give roles to; "
            "remove them"
        )
    return errors
