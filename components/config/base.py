"""What every config module shares: the settings of the pydantic models and how an error line names a key.

A leaf of config/: the per-cloud modules (config/clouds/) and model.py both build on it, so the clouds never import
model.py at run time (it imports their settings models).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ConfigDict
from pydantic.alias_generators import to_camel

__all__ = ["MODEL_CONFIG", "NAMESPACE", "config_key"]

NAMESPACE = "platform"
"""The config namespace of this program: `platform:env`, `platform:cluster`..."""


MODEL_CONFIG = ConfigDict(
    frozen=True,
    extra="forbid",
    alias_generator=to_camel,
    populate_by_name=True,
    use_attribute_docstrings=True,
    coerce_numbers_to_str=True,
)
"""Of every config model: frozen, unknown keys refused, camelCase keys, field docstrings as the schema's
descriptions. Each model subclasses `BaseModel` itself, which is how ruff knows its list defaults are copied."""


def config_key(path: Iterable[Any]) -> str:
    """`platform:cluster.aws.vpcCidr` for the path `("cluster", "aws", "vpcCidr")`: how every error line starts."""
    parts = [str(p) for p in path]
    return f"{NAMESPACE}:{'.'.join(parts)}" if parts else NAMESPACE
