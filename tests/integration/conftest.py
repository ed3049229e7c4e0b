"""Fixtures of the integration layer; their API is described in tests/integration/envtest.py."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest
import yaml

from tests.integration.envtest import (
    ARGOCD_CHART,
    REQUIRE_INTEGRATION,
    Helm,
    Kube,
    PlannedStack,
    UnavailableError,
    api_server,
    crds_of,
    envtest_assets,
    helm_binary,
)
from tools.plan.runner import Plan
from tools.plan.writer import write_plan


def unavailable(reason: str) -> NoReturn:
    """Skip saying what is missing, or fail with the same words where the layer must run: a CI whose binaries went
    missing would otherwise pass with the whole layer skipped."""
    required = os.environ.get(REQUIRE_INTEGRATION, "")
    if required not in ("", "0", "1"):
        pytest.fail(f"{REQUIRE_INTEGRATION}={required!r}: allowed are 1 (fail when missing) or 0/unset", pytrace=False)
    if required == "1":
        pytest.fail(f"{reason} ({REQUIRE_INTEGRATION}=1: this layer must run here)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def argocd_chart() -> Path:
    if not ARGOCD_CHART.is_file():
        unavailable(f"no argo-cd chart at {ARGOCD_CHART} (set PLATFORM_ARGOCD_CHART to the argo-cd 10.1.1 .tgz)")
    return ARGOCD_CHART


@pytest.fixture(scope="session")
def helm() -> Helm:
    try:
        return Helm(helm_binary())
    except UnavailableError as missing:
        unavailable(str(missing))


@pytest.fixture(scope="session")
def kube(request: pytest.FixtureRequest) -> Iterator[Kube]:
    """The API server of this session, with the Argo CD CRDs of the chart installed. The binaries are looked for
    first, so a machine without ../shared skips saying how to get them."""
    try:
        assets = envtest_assets()
    except UnavailableError as missing:
        unavailable(str(missing))
    helm: Helm = request.getfixturevalue("helm")
    argocd_chart: Path = request.getfixturevalue("argocd_chart")
    with api_server(assets) as server:
        client = Kube(server)
        crds = crds_of(helm.template(argocd_chart, {}, namespace="argocd"))
        assert crds, f"the chart {argocd_chart} rendered no CRDs"
        assert client.apply(crds) == []
        yield client


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
