"""Every component of components/ has one shape: `Component(name, args: ComponentArgs, opts)`, its args a frozen
dataclass with typed fields; a registration is the hub's own or a spoke's, and a spoke's carries all it needs."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil

import pulumi
import pytest

import components
from components.gitops.registration import ClusterRegistrationArgs, SpokeConnection


def _components() -> list[type[pulumi.ComponentResource]]:
    for module in pkgutil.walk_packages(components.__path__, "components."):
        importlib.import_module(module.name)
    found: list[type[pulumi.ComponentResource]] = []
    pending = list(pulumi.ComponentResource.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.__module__.startswith("components.") and "__init__" in vars(cls):
            found.append(cls)
    return sorted(found, key=lambda cls: cls.__qualname__)


COMPONENTS = _components()


def test_the_components_are_found() -> None:
    names = {cls.__name__ for cls in COMPONENTS}
    assert {"ClusterRegistration", "PodSecurityGuard", "ArgoCd", "GkeCluster"} <= names


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda cls: cls.__name__)
def test_a_component_takes_a_name_frozen_typed_args_and_options(component: type[pulumi.ComponentResource]) -> None:
    signature = inspect.signature(component.__init__, eval_str=True)
    assert list(signature.parameters) == ["self", "name", "args", "opts"]
    args = signature.parameters["args"].annotation
    assert inspect.isclass(args) and args.__name__.endswith("Args"), args
    # `__dataclass_params__` is how dataclasses records `frozen=True` (no public accessor).
    assert dataclasses.is_dataclass(args) and args.__dataclass_params__.frozen, args  # type: ignore[attr-defined]


def test_a_registration_is_the_hubs_own_or_a_spokes() -> None:
    # No flag beside co-dependent optionals: a spoke's server, access and hub travel as one required value.
    assert [f.name for f in dataclasses.fields(ClusterRegistrationArgs)] == [
        "metadata",
        "config",
        "catalog",
        "spoke",
        "depends_on",
    ]
    spoke = {f.name: f for f in dataclasses.fields(SpokeConnection)}
    assert set(spoke) == {"server", "access", "hub"}
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING for f in spoke.values())
