"""The scale sweep: resources registered and program time as the platform grows, with synthetic configs.

Three dimensions, each on the hub (`mgmt`, the stack that grows with the platform):
- domains: `platform:domains` of the shipped hub config replaced by N synthetic domains;
- services: the service catalog replaced in-process by the shipped one plus synthetic services (copies of a
  shipped service, tiers alternating, spread over the shipped waves so every parent keeps the same waves);
- spokes: N clusters registered on the hub. A spoke registers itself from its own stack, so the hub program
  has no input that names spokes: its resources cannot grow with them. What grows is what Argo CD generates:
  the Applications of the hub's platform-services ApplicationSet over N cluster Secrets (the size of the plan
  tool's applications.json). The spokes' Secrets are copies of the one a spoke stack registers (or, while spoke
  stacks register nothing, of the hub's own with Tier B off, the spoke default), all of env `dev`, with
  distinct `cluster-name` and `app_suffix` labels, as registration names clusters apart.

Program time is the median of warm runs in this process (imports and first-use caches paid by a warm-up).
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import yaml

from components import catalog as catalog_module
from components.catalog import Catalog
from components.cluster_secret import APP_SUFFIX, CLUSTER_NAME, ENV, SERVER, enable_label
from components.gitops.appsets import APPSET_NAME
from components.gitops.registration import app_suffix
from tools.plan.applications import APPLICATIONSET, cluster_secrets, write_applications
from tools.plan.plan import plan_stack, stack_file
from tools.plan.runner import Plan, RecordedResource

__all__ = ["DOMAINS", "HUB", "SERVICES", "SPOKE", "SPOKES", "SweepPoint", "sweep", "synthetic_catalog"]

HUB = "mgmt"
SPOKE = "dev"
DOMAINS = (1, 10, 25, 50, 100, 200)
SPOKES = (1, 2, 5, 10, 20)
SERVICES = (15, 30, 60, 100, 150)


@dataclass(frozen=True)
class SweepPoint:
    dimension: str
    value: int
    stack: str
    resources: int
    program_s: float
    runs: int
    applications: int | None = None
    """Applications Argo CD generates from the platform-services ApplicationSet (not Pulumi resources)."""
    applications_json_bytes: int | None = None
    spoke_resources: int | None = None
    """Resources of one spoke's own stack (each spoke is a separate `pulumi up`)."""


def _timed(run: Callable[[], Plan], runs: int) -> tuple[Plan, float]:
    times: list[float] = []
    plan: Plan | None = None
    # The program's notes (placeholder secrets) would drown the report.
    with redirect_stderr(StringIO()):
        for _ in range(runs):
            # The previous run's garbage is collected before the clock starts, not charged to this run.
            gc.collect()
            start = time.perf_counter()
            plan = run()
            times.append(time.perf_counter() - start)
    assert plan is not None
    return plan, statistics.median(times)


def _stack_file_with(stack: str, directory: Path, **config: Any) -> Path:
    document = yaml.safe_load(stack_file(stack).read_text())
    document["config"].update(config)
    path = directory / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _domains(count: int) -> list[dict[str, Any]]:
    return [
        {
            "name": f"domain-{i:03d}",
            "repoUrl": f"https://github.com/example-org/domain-{i:03d}-gitops",
            "adminGroups": [f"domain-{i:03d}-leads"],
            "viewerGroups": [f"domain-{i:03d}-devs"],
        }
        for i in range(count)
    ]


def synthetic_catalog(shipped: Catalog, size: int) -> Catalog:
    """The shipped catalog grown to `size` services with copies of an ordinary shipped service."""
    template = next(s for s in shipped.by_wave() if s.group and not s.self_managed)
    waves = sorted({s.wave for s in shipped.services.values() if not s.self_managed})
    services = dict(shipped.services)
    for i in range(size - len(services)):
        name = f"synthetic-{i:03d}"
        services[name] = template.model_copy(update={"name": name, "tier": "AB"[i % 2], "wave": waves[i % len(waves)]})
    return Catalog(services=services)


@contextmanager
def catalog_replaced(catalog: Catalog) -> Iterator[None]:
    """The program loads `catalog`: its `__main__.py` is the one place that loads the catalog, and it imports
    `load_catalog` afresh on every run (tools/plan/runner.py runs it with runpy)."""
    original = catalog_module.load_catalog

    def replacement(path: Path = catalog_module.CATALOG_FILE) -> Catalog:
        return catalog

    catalog_module.load_catalog = replacement
    try:
        yield
    finally:
        catalog_module.load_catalog = original


def _spoke_template(spoke_plan: Plan, hub_plan: Plan, catalog: Catalog) -> RecordedResource:
    registered = cluster_secrets(spoke_plan)
    if registered:
        return registered[0]
    (own,) = cluster_secrets(hub_plan)
    labels = dict(own.inputs["metadata"]["labels"])
    # What cluster_registration(hub=False) gives a spoke: Tier A on, Tier B off.
    labels.update({enable_label(s.name): "false" for s in catalog.services.values() if s.management_only})
    return dataclasses.replace(own, inputs={**own.inputs, "metadata": {**own.inputs["metadata"], "labels": labels}})


def _spoke(template: RecordedResource, index: int) -> RecordedResource:
    name = f"cluster-spoke-{index:02d}"
    inputs = copy.deepcopy(template.inputs)
    metadata = inputs["metadata"]
    metadata["name"] = name
    # Many clusters of one env, each named apart, as a fleet of spokes would register them.
    metadata["labels"].update({CLUSTER_NAME: name, ENV: "dev", APP_SUFFIX: app_suffix("dev", name)})
    metadata.setdefault("annotations", {})[SERVER] = f"https://{name}.example.invalid"
    return dataclasses.replace(template, urn=f"{template.urn}-{index:02d}", name=name, inputs=inputs)


def _applications(hub_plan: Plan, spokes: list[RecordedResource]) -> tuple[int, int]:
    """Applications of the platform-services ApplicationSet over the hub and `spokes`, and the bytes of the
    applications.json the plan tool writes for them. Domain ApplicationSets read Git at runtime: not counted."""
    appsets = [r for r in hub_plan.by_type(APPLICATIONSET) if r.name == APPSET_NAME]
    view = Plan(stack=hub_plan.stack, resources=[*appsets, *cluster_secrets(hub_plan), *spokes])
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory)
        write_applications(view, out)
        size = (out / "applications.json").stat().st_size
        rows = len(json.loads((out / "applications.json").read_text()))
    return rows, size


def sweep(runs: int, progress: Callable[[str], None] = print) -> list[SweepPoint]:
    points: list[SweepPoint] = []
    shipped = catalog_module.load_catalog()
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        _timed(lambda: plan_stack(HUB), 1)  # warm-up: imports and first-use caches

        for count in DOMAINS:
            path = _stack_file_with(HUB, workdir, **{"platform:domains": _domains(count)})
            plan, seconds = _timed(lambda path=path: plan_stack(HUB, path), runs)
            points.append(SweepPoint("domains", count, HUB, len(plan.resources), seconds, runs))
            progress(f"  domains {count:>3}: {len(plan.resources):>4} resources, {seconds:.3f} s")

        for size in _service_sizes(shipped):
            with catalog_replaced(synthetic_catalog(shipped, size)):
                plan, seconds = _timed(lambda: plan_stack(HUB), runs)
                applications, json_bytes = _applications(plan, [])
            points.append(
                SweepPoint("services", size, HUB, len(plan.resources), seconds, runs, applications, json_bytes)
            )
            progress(f"  services {size:>3}: {len(plan.resources):>4} resources, {seconds:.3f} s, {applications} apps")

        spoke_plan, _ = _timed(lambda: plan_stack(SPOKE), 2)
        hub_plan, _ = _timed(lambda: plan_stack(HUB), 1)
        template = _spoke_template(spoke_plan, hub_plan, shipped)
        for count in SPOKES:
            # The hub program has no spoke input: each point is the hub run as it is, timed again.
            plan, seconds = _timed(lambda: plan_stack(HUB), runs)
            applications, json_bytes = _applications(plan, [_spoke(template, i) for i in range(1, count + 1)])
            points.append(
                SweepPoint(
                    "spokes",
                    count,
                    HUB,
                    len(plan.resources),
                    seconds,
                    runs,
                    applications,
                    json_bytes,
                    len(spoke_plan.resources),
                )
            )
            progress(f"  spokes {count:>3}: {len(plan.resources):>4} resources, {seconds:.3f} s, {applications} apps")
    return points


def _service_sizes(shipped: Catalog) -> list[int]:
    """The sweep's catalog sizes, starting at the shipped catalog (15 in the issue; whatever ships now)."""
    return sorted({len(shipped.services), *(s for s in SERVICES if s > len(shipped.services))})
