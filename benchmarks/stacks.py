"""Per shipped stack: what one program run costs on this machine, and the estimated time to a seeded platform."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

from benchmarks.create_times import ARGOCD_TAIL, DEFAULT_UNKNOWN, GIT_SERVER_LINKS, create_time, imposed_chain
from benchmarks.graph import DependencyGraph, Node, is_operation, short_type
from tools.plan.plan import PROJECT_DIR
from tools.plan.runner import Plan

__all__ = ["DEFAULT_PARALLEL", "TOLERANCE_S", "Estimate", "Measured", "estimate", "measure", "startup_seconds"]

# `pulumi up` without --parallel runs GOMAXPROCS * 4 operations at once (pulumi/pulumi
# pkg/cmd/pulumi/operations/up.go `defaultParallel`, pulumi/pulumi#14989); older CLIs documented "unbounded".
DEFAULT_PARALLEL = 4 * (os.cpu_count() or 1)
TOLERANCE_S = 60.0
"""How far the critical path may exceed the imposed chain and still meet the target: below the uncertainty of
any single cloud figure, and several Kubernetes objects long."""


@dataclass(frozen=True)
class Measured:
    """Medians over fresh-interpreter runs (benchmarks.worker)."""

    runs: int
    startup_s: float
    """A bare `python -c pass`: interpreter start-up, nothing imported."""
    import_s: float
    first_run_s: float
    """The first program run: the program plus the provider SDK submodules it imports lazily."""
    program_s: float
    """A second run in the same interpreter: the program's own work."""
    wall_s: float
    """The whole subprocess: start-up, imports, both runs, exit."""
    import_rss_mb: float
    peak_rss_mb: float


@dataclass(frozen=True)
class Estimate:
    resources: int
    operations: int
    """Creates the engine asks a provider for (custom resources that are not providers)."""
    chain_operations: int
    """Operations on the longest dependency chain, counted one each."""
    critical_path: str
    critical_s: float
    """Longest weighted chain: `pulumi up` with unbounded parallelism."""
    parallel: int
    parallel_s: float
    """List schedule with Pulumi's default parallelism on this machine."""
    serial_s: float
    imposed_s: float
    """The chain the cloud imposes (create_times.imposed_chain) with the same figures."""
    excess_s: float
    extra_links: str
    """Resources on the critical path that are not links of the imposed chain."""
    unknown_types: str


def _median(values: list[float]) -> float:
    return statistics.median(values)


def startup_seconds(runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - start)
    return _median(times)


def measure(stack: str, runs: int, startup_s: float) -> Measured:
    samples: list[dict[str, float]] = []
    walls: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.worker", stack],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        walls.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"benchmarks.worker {stack} failed:\n{done.stderr[-2000:]}")
        samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return Measured(
        runs=runs,
        startup_s=startup_s,
        import_s=_median([s["import_s"] for s in samples]),
        first_run_s=_median([s["first_run_s"] for s in samples]),
        program_s=_median([s["program_s"] for s in samples]),
        wall_s=_median(walls),
        import_rss_mb=_median([s["import_rss_mb"] for s in samples]),
        peak_rss_mb=_median([s["peak_rss_mb"] for s in samples]),
    )


def _seconds(node: Node) -> float:
    return create_time(node.type, node.custom).seconds


def estimate(plan: Plan, cloud: str, parallel: int = DEFAULT_PARALLEL) -> Estimate:
    graph = DependencyGraph.of(plan.resources)
    path = graph.longest_path(_seconds)
    chain = graph.longest_path(lambda n: 1.0 if is_operation(n) else 0.0)
    types = {n.type for n in graph.nodes.values()}
    imposed = imposed_chain(cloud, seeds_argocd=ARGOCD_TAIL[0] in types, serves_git=GIT_SERVER_LINKS[1] in types)
    imposed_s = sum(create_time(t, custom=True).seconds for t in imposed)
    on_path = [n for n in path.nodes if _seconds(n) > 0]
    unknown = sorted({n.type for n in graph.nodes.values() if create_time(n.type, n.custom) is DEFAULT_UNKNOWN})
    return Estimate(
        resources=len(graph.nodes),
        operations=sum(is_operation(n) for n in graph.nodes.values()),
        chain_operations=round(chain.seconds),
        critical_path=" > ".join(short_type(n.type) for n in on_path),
        critical_s=path.seconds,
        parallel=parallel,
        parallel_s=graph.schedule(_seconds, parallel),
        serial_s=graph.serial(_seconds),
        imposed_s=imposed_s,
        excess_s=path.seconds - imposed_s,
        extra_links=" ".join(f"{short_type(n.type)}:{n.name}" for n in on_path if n.type not in imposed),
        unknown_types=" ".join(unknown),
    )
