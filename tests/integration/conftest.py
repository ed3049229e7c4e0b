"""Fixtures of the integration layer; their API is described in tests/integration/envtest.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.envtest import (
    ARGOCD_CHART,
    Helm,
    Kube,
    UnavailableError,
    api_server,
    crds_of,
    envtest_assets,
    helm_binary,
)
from tools.plan.runner import Plan
from tools.plan.writer import write_plan


@pytest.fixture(scope="session")
def argocd_chart() -> Path:
    if not ARGOCD_CHART.is_file():
        pytest.skip(f"no argo-cd chart at {ARGOCD_CHART} (set PLATFORM_ARGOCD_CHART to the argo-cd 10.1.1 .tgz)")
    return ARGOCD_CHART


@pytest.fixture(scope="session")
def helm() -> Helm:
    try:
        return Helm(helm_binary())
    except UnavailableError as missing:
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def kube(helm: Helm, argocd_chart: Path) -> Iterator[Kube]:
    """The API server of this session, with the Argo CD CRDs of the chart installed."""
    try:
        assets = envtest_assets()
    except UnavailableError as missing:
        pytest.skip(str(missing))
    with api_server(assets) as server:
        client = Kube(server)
        crds = crds_of(helm.template(argocd_chart, {}, namespace="argocd"))
        assert crds, f"the chart {argocd_chart} rendered no CRDs"
        assert client.apply(crds) == []
        yield client


@dataclass(frozen=True)
class PlannedStack:
    """A shipped stack's plan as its files say: `manifests/*.yaml` and `helm/*.yaml`, parsed."""

    stack: str
    folder: Path
    manifests: list[dict[str, Any]]
    helm_releases: dict[str, dict[str, Any]]
    """By file name (without .yaml): chart, repository, version, namespace, values."""


@pytest.fixture(scope="session")
def planned(shipped_plans: dict[str, Plan], tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], PlannedStack]:
    """`planned(stack)`: the plan of a shipped stack written to files once, then read back."""
    cache: dict[str, PlannedStack] = {}

    def read(stack: str) -> PlannedStack:
        if stack not in cache:
            folder = tmp_path_factory.mktemp(f"plan-{stack}")
            write_plan(shipped_plans[stack], folder)
            cache[stack] = PlannedStack(
                stack=stack,
                folder=folder,
                manifests=[yaml.safe_load(p.read_text()) for p in sorted((folder / "manifests").glob("*.yaml"))],
                helm_releases={p.stem: yaml.safe_load(p.read_text()) for p in sorted((folder / "helm").glob("*.yaml"))},
            )
        return cache[stack]

    return read
