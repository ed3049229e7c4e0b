"""The pure parts of the benchmarks: the dependency graph, its critical path and schedule, the create-time table,
the synthetic catalog and the CSV output. The measurements themselves run in `python -m benchmarks`."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks import __main__ as bench_main
from benchmarks.create_times import COMPONENT, DEFAULT_UNKNOWN, KUBERNETES_OBJECT, create_time
from benchmarks.graph import DependencyGraph, Node
from benchmarks.report import Target, write_csv
from benchmarks.stacks import TOLERANCE_S, estimate
from benchmarks.sweep import SweepPoint, catalog_replaced, synthetic_catalog
from components import catalog as catalog_module
from components.catalog import load_catalog
from components.gitops.appsets import ordered_services
from tests.conftest import base_config
from tools.plan.applications import application_rows
from tools.plan.plan import PROJECT_DIR
from tools.plan.runner import Plan, RecordedResource

SECONDS = {"vpc": 20.0, "subnet": 5.0, "cluster": 600.0, "pool": 180.0, "role": 7.0, "release": 150.0, "obj": 2.0}


def resource(
    name: str, kind: str, *, deps: tuple[str, ...] = (), parent: str | None = None, custom: bool = True
) -> RecordedResource:
    return RecordedResource(
        urn=f"urn:{name}",
        type=f"test:{kind}:{kind}",
        name=name,
        custom=custom,
        parent_urn=f"urn:{parent}" if parent else None,
        provider_urn=None,
        dependency_urns=[f"urn:{d}" for d in deps],
        inputs={},
        protect=False,
        retain_on_delete=False,
        ignore_changes=[],
        delete_before_replace=False,
        replace_on_changes=[],
    )


def weight(node: Node) -> float:
    return SECONDS.get(node.type.rsplit(":", 1)[-1], 0.0) if node.custom else 0.0


@pytest.fixture
def cluster_graph() -> DependencyGraph:
    """vpc -> subnet -> cluster -> pool; a role beside them; a component that depends on the pool and whose
    child (the release) has no dependency of its own; an object after the release."""
    return DependencyGraph.of(
        [
            resource("vpc", "vpc"),
            resource("role", "role"),
            resource("subnet", "subnet", deps=("vpc",)),
            resource("cluster", "cluster", deps=("subnet", "role")),
            resource("pool", "pool", deps=("cluster",)),
            resource("argocd", "component", deps=("pool",), custom=False),
            resource("release", "release", parent="argocd"),
            resource("app", "obj", deps=("release",), parent="argocd"),
        ]
    )


def test_critical_path_follows_the_heaviest_chain_through_the_parent(cluster_graph: DependencyGraph) -> None:
    path = cluster_graph.longest_path(weight)
    assert [n.name for n in path.nodes] == ["vpc", "subnet", "cluster", "pool", "argocd", "release", "app"]
    assert path.seconds == 20 + 5 + 600 + 180 + 150 + 2


def test_longest_chain_in_operations_skips_components(cluster_graph: DependencyGraph) -> None:
    chain = cluster_graph.longest_path(lambda n: 1.0 if n.custom else 0.0)
    assert chain.seconds == 6  # vpc subnet cluster pool release app: the component is no operation


def test_unbounded_schedule_is_the_critical_path_and_one_at_a_time_is_the_serial_sum(
    cluster_graph: DependencyGraph,
) -> None:
    assert cluster_graph.schedule(weight, None) == cluster_graph.longest_path(weight).seconds
    assert cluster_graph.schedule(weight, 1) == cluster_graph.serial(weight) == sum(SECONDS.values())


def test_parallelism_limits_independent_creates() -> None:
    graph = DependencyGraph.of([resource(f"r{i}", "role") for i in range(3)] + [resource("c", "x", custom=False)])
    assert graph.schedule(weight, None) == 7
    assert graph.schedule(weight, 2) == 14  # two at once, then the third
    assert graph.schedule(weight, 3) == 7
    with pytest.raises(ValueError, match="at least 1"):
        graph.schedule(weight, 0)


def test_a_dependency_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="cycle"):
        DependencyGraph.of([resource("a", "obj", deps=("b",)), resource("b", "obj", deps=("a",))])


def test_create_time_of_components_providers_kubernetes_and_unknown_types() -> None:
    assert create_time("platform:argocd:ArgoCd", custom=False) is COMPONENT
    assert create_time("pulumi:providers:kubernetes", custom=True) is COMPONENT
    assert create_time("kubernetes:core/v1:ConfigMap", custom=True) is KUBERNETES_OBJECT
    assert create_time("aws:eks/cluster:Cluster", custom=True).seconds > create_time("aws:ec2/vpc:Vpc", True).seconds
    assert create_time("aws:sqs/queue:Queue", custom=True) is DEFAULT_UNKNOWN


def test_every_shipped_resource_type_has_a_create_time(shipped_plans: dict[str, Plan]) -> None:
    missing = {
        (stack, r.type)
        for stack, plan in shipped_plans.items()
        for r in plan.resources
        if create_time(r.type, r.custom) is DEFAULT_UNKNOWN
    }
    assert not missing, "add a figure with its source to benchmarks/create_times.py"


def test_estimates_of_shipped_stacks_are_ordered(shipped_plans: dict[str, Plan]) -> None:
    for stack, plan in shipped_plans.items():
        found = estimate(plan, str(plan.outputs["cloud"]), parallel=8)
        assert 0 < found.critical_s <= found.parallel_s <= found.serial_s, stack
        assert found.chain_operations <= found.operations <= found.resources, stack


def test_the_local_stack_waits_for_its_git_server_before_argo_cd(shipped_plans: dict[str, Plan]) -> None:
    local = estimate(shipped_plans["local"], "existing", parallel=8)
    assert "Release > Job > NamespacePatch" in local.critical_path, "the Git server's seed comes before Argo CD"
    # The seed is imposed by design, so the program adds only a few Kubernetes objects beyond it.
    assert "Job:" not in local.extra_links
    assert local.excess_s <= TOLERANCE_S
    cloud = estimate(shipped_plans["mgmt"], "gcp", parallel=8)
    assert "Job" not in cloud.critical_path, "a stack without the Git server imposes no seed"


def test_each_test_layer_has_its_own_target() -> None:
    stack = {"stack": "s", "resources": 1, "program_s": 0.1, "first_run_s": 0.1, "import_s": 0.1}
    stacks = [{**stack, "excess_s": 0.0, "extra_links": ""}]
    points = [SweepPoint(dimension, 1, "s", 1, 0.1, 1) for dimension in ("services", "spokes", "domains")]
    timings = {"unit test layer": (44.0, "1 passed"), "integration test layer": (61.0, "1 passed")}
    verdicts = {t.target: t.met for t in bench_main._targets(stacks, points, timings)}
    assert verdicts["unit test layer < 45 s"] is True
    assert verdicts["integration test layer < 60 s"] is False


def test_synthetic_catalog_keeps_the_shipped_waves() -> None:
    shipped = load_catalog()
    grown = synthetic_catalog(shipped, 60)
    assert len(grown.services) == 60
    assert {k: v for k, v in grown.services.items() if k in shipped.services} == shipped.services
    assert {s.wave for s in ordered_services(grown)} == {s.wave for s in ordered_services(shipped)}
    assert {s.tier for s in grown.services.values() if s.name.startswith("synthetic-")} == {"A", "B"}


def test_catalog_replaced_reaches_the_program_and_restores(run_config: Callable[..., Plan]) -> None:
    original = catalog_module.load_catalog
    grown = synthetic_catalog(load_catalog(), 30)
    with catalog_replaced(grown):
        rows = application_rows(run_config(base_config("existing", "mgmt")))
    assert catalog_module.load_catalog is original
    synthetic = {name for name in grown.services if name.startswith("synthetic-")}
    assert synthetic
    assert synthetic <= {row["service"] for row in rows}


@dataclass(frozen=True)
class Row:
    name: str
    seconds: float
    count: int | None
    met: bool


def test_csv_rounds_floats_blanks_none_and_spells_booleans(tmp_path: Path) -> None:
    path = tmp_path / "out" / "rows.csv"
    write_csv(path, [Row("a", 0.123456, 3, True), Row("b", 1234.5678, None, False)])
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["name", "seconds", "count", "met"], ["a", "0.1235", "3", "yes"], ["b", "1235.0", "", "no"]]
    with pytest.raises(ValueError, match="no rows"):
        write_csv(path, [])


def test_a_missed_target_fails_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    met = Target(target="one run < 2 s", measured="0.5 s", met=True)
    missed = Target(target="sweep flat", measured="grows", met=False)
    assert bench_main.report_targets([met]) == 0
    assert bench_main.report_targets([met, missed]) == 1
    assert "[MISSED] sweep flat: grows" in capsys.readouterr().out


def test_a_run_writes_outside_the_tracked_docs_by_default() -> None:
    out = bench_main.parser().parse_args([]).out.relative_to(PROJECT_DIR)
    assert out.parts[0] == "out"
    assert "/out/" in (PROJECT_DIR / ".gitignore").read_text().splitlines()
