"""Answers of the azure provider: outputs the real provider computes, and invoke results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

RESOURCES: dict[str, Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]] = {}
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
