"""`python -m benchmarks`: measure the program on this machine with no cloud, write out/benchmarks/ (untracked;
`--out docs/benchmarks`, as `make bench-docs` does, rewrites the published figures). Exits 1 when a target is missed.

1. Every shipped stack, each run in fresh interpreters (median of --runs): start-up, imports, program time, peak
   memory, resources, the longest dependency chain, and the estimated time to a seeded platform.
2. The scale sweep (benchmarks.sweep), --sweep-runs warm runs per point.
3. The two test layers, each timed as `make test` runs it (skip with --skip-tests).
Then the targets of issue 9 with their verdicts.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from contextlib import redirect_stderr
from dataclasses import asdict
from io import StringIO
from pathlib import Path
from typing import Any

from benchmarks.report import Target, plot_sweep, write_csv
from benchmarks.stacks import DEFAULT_PARALLEL, TOLERANCE_S, estimate, measure, startup_seconds
from benchmarks.sweep import SweepPoint, sweep
from tools.plan.plan import PROJECT_DIR, plan_stack, shipped_stacks

RESOURCE_LIMIT = 80
PROGRAM_LIMIT_S = 1.0
DOMAINS_LIMIT_S = 5.0
UNIT_LIMIT_S = 45.0
INTEGRATION_LIMIT_S = 60.0


def _stacks(runs: int) -> list[dict[str, Any]]:
    startup = startup_seconds(runs)
    rows = []
    for stack in shipped_stacks():
        with redirect_stderr(StringIO()):
            plan = plan_stack(stack)
        cloud = str(plan.outputs["cloud"])
        measured = measure(stack, runs, startup)
        estimated = estimate(plan, cloud)
        rows.append({"stack": stack, "cloud": cloud, **asdict(measured), **asdict(estimated)})
        print(
            f"  {stack:<8} {estimated.resources:>3} resources  program {measured.program_s:.3f} s "
            f"(first run {measured.first_run_s:.2f} s, imports {measured.import_s:.2f} s)  "
            f"peak {measured.peak_rss_mb:.0f} MB  chain {estimated.chain_operations}  "
            f"seeded in ~{estimated.parallel_s / 60:.1f} min (serial {estimated.serial_s / 60:.1f} min)"
        )
    return rows


TEST_LAYERS: dict[str, tuple[tuple[str, ...], float]] = {
    # The Makefile's `test` target: the unit layer on both cores, then the real-API-server layer.
    "unit test layer": (("-n", "2", "--ignore=tests/integration"), UNIT_LIMIT_S),
    "integration test layer": (("tests/integration",), INTEGRATION_LIMIT_S),
}


def _tests() -> dict[str, tuple[float, str]]:
    timings = {}
    for layer, (arguments, _) in TEST_LAYERS.items():
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", *arguments],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - start
        summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-200:]
        timings[layer] = (seconds, re.sub(r"=+", "", summary).strip())
    return timings


def _targets(
    stacks: list[dict[str, Any]], points: list[SweepPoint], tests: dict[str, tuple[float, str]] | None
) -> list[Target]:
    def flat(dimension: str) -> Target:
        counts = [p.resources for p in points if p.dimension == dimension]
        values = [p.value for p in points if p.dimension == dimension]
        return Target(
            f"resources flat with {dimension}",
            f"{min(counts)}..{max(counts)} resources over {dimension} {min(values)}..{max(values)}",
            min(counts) == max(counts),
        )

    largest = max(stacks, key=lambda r: r["resources"])
    slowest = max(stacks, key=lambda r: r["program_s"])
    domains = max((p for p in points if p.dimension == "domains"), key=lambda p: p.value)
    worst = max(stacks, key=lambda r: r["excess_s"])
    targets = [
        flat("services"),
        flat("spokes"),
        Target(
            f"no shipped stack > {RESOURCE_LIMIT} resources",
            f"largest: {largest['stack']} {largest['resources']}",
            largest["resources"] <= RESOURCE_LIMIT,
        ),
        Target(
            f"largest shipped stack < {PROGRAM_LIMIT_S:g} s program time",
            f"{largest['stack']}: {largest['program_s']:.3f} s (first run in a fresh interpreter "
            f"{largest['first_run_s']:.2f} s, + imports {largest['import_s']:.2f} s); "
            f"slowest: {slowest['stack']} {slowest['program_s']:.3f} s",
            largest["program_s"] < PROGRAM_LIMIT_S,
        ),
        Target(
            f"{domains.value} domains < {DOMAINS_LIMIT_S:g} s",
            f"{domains.program_s:.3f} s, {domains.resources} resources",
            domains.program_s < DOMAINS_LIMIT_S,
        ),
        Target(
            f"critical path no longer than the imposed chain (+{TOLERANCE_S:g} s)",
            f"worst: {worst['stack']} +{worst['excess_s']:.0f} s ({worst['extra_links'] or 'no extra links'})",
            worst["excess_s"] <= TOLERANCE_S,
        ),
    ]
    for layer, (seconds, summary) in (tests or {}).items():
        limit = TEST_LAYERS[layer][1]
        targets.append(Target(f"{layer} < {limit:g} s", f"{seconds:.1f} s ({summary})", seconds < limit))
    return targets


DEFAULT_OUT = PROJECT_DIR / "out" / "benchmarks"
"""Untracked (.gitignore): a run on a laptop does not rewrite the published figures in docs/benchmarks/."""


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Measure the program on this machine with no cloud."
    )
    parser.add_argument("--runs", type=int, default=5, help="fresh-interpreter runs per shipped stack (median)")
    parser.add_argument("--sweep-runs", type=int, default=3, help="warm runs per sweep point (median)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output directory (docs/benchmarks to publish the figures)"
    )
    parser.add_argument("--skip-tests", action="store_true", help="do not time the test layers")
    return parser


def report_targets(targets: list[Target]) -> int:
    """Print each target's verdict; the exit code is 1 when any is missed, so CI and `make bench` fail."""
    print("Targets (issue 9):")
    for target in targets:
        print(f"  [{'met' if target.met else 'MISSED'}] {target.target}: {target.measured}")
    return 0 if all(target.met for target in targets) else 1


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    started = time.perf_counter()

    print(f"Shipped stacks ({args.runs} fresh interpreters each; parallelism estimate --parallel {DEFAULT_PARALLEL}):")
    stacks = _stacks(args.runs)
    print(f"Scale sweep ({args.sweep_runs} warm runs per point):")
    points = sweep(args.sweep_runs)
    tests = None
    if not args.skip_tests:
        print("Test layers:")
        tests = _tests()
        for layer, (seconds, summary) in tests.items():
            print(f"  {layer}: {seconds:.1f} s: {summary}")

    targets = _targets(stacks, points, tests)
    write_csv(args.out / "stacks.csv", stacks)
    write_csv(args.out / "sweep.csv", points)
    write_csv(args.out / "targets.csv", targets)
    plot_sweep(points, args.out / "sweep.png")

    code = report_targets(targets)
    print(f"Wrote {args.out}/stacks.csv, sweep.csv, targets.csv, sweep.png in {time.perf_counter() - started:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
