"""Stack configuration: parsed once into typed, validated, immutable objects."""

from components.config.load import ConfigError, envs_named_by, load_stack_config, pulumi_source
from components.config.model import (
    SECRET_KEYS,
    ArgoCdSettings,
    ClusterSettings,
    Domain,
    NodePool,
    StackConfig,
)

__all__ = [
    "SECRET_KEYS",
    "ArgoCdSettings",
    "ClusterSettings",
    "ConfigError",
    "Domain",
    "NodePool",
    "StackConfig",
    "envs_named_by",
    "load_stack_config",
    "pulumi_source",
]
