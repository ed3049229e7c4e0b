"""`python -m benchmarks.worker STACK`: one measurement of one stack in this fresh interpreter, as JSON on stdout.

Run in a subprocess by benchmarks.stacks so that imports are paid for honestly, as under `pulumi up`. Phases:
- imports: the plan tool that stands in for the engine, and the modules `__main__.py` imports at its top;
- first run: the program once, which also imports the provider SDK submodules it touches (they load lazily);
- program: the program again in the same process: its own work, with every import already done.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib
import io
import json
import resource
import sys
import time
from pathlib import Path


def _rss_mb() -> float:
    """Peak resident set size of this process so far. Linux: VmHWM, because ru_maxrss survives exec and would
    report the (larger) parent that forked this worker; elsewhere ru_maxrss (bytes on macOS)."""
    status = Path("/proc/self/status")
    if status.exists():
        (line,) = [x for x in status.read_text().splitlines() if x.startswith("VmHWM:")]
        return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _program_imports(program: Path) -> list[str]:
    """The modules `__main__.py` imports at its top level, read from its source so the list stays current."""
    modules: list[str] = []
    for node in ast.parse(program.read_text()).body:
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.append(node.module)
    return modules


def measure(stack: str) -> dict[str, float | int | str]:
    start = time.perf_counter()
    from tools.plan.plan import plan_stack  # noqa: PLC0415 - timed: the engine's stand-in
    from tools.plan.runner import PROGRAM  # noqa: PLC0415

    for module in _program_imports(PROGRAM):
        importlib.import_module(module)
    imported = time.perf_counter()
    import_rss = _rss_mb()
    # The program's notes (an absent kind context, placeholder secrets) are not part of the measurement.
    with contextlib.redirect_stderr(io.StringIO()):
        # Only this stack's program: a spoke's plan would otherwise plan its hub too, for applications.json.
        plan = plan_stack(stack, with_hub=False)
        first = time.perf_counter()
        peak_rss = _rss_mb()
        gc.collect()  # the first run's garbage is not the second run's cost
        second_start = time.perf_counter()
        plan_stack(stack, with_hub=False)
        second = time.perf_counter()
    return {
        "stack": stack,
        "import_s": imported - start,
        "first_run_s": first - imported,
        "program_s": second - second_start,
        "import_rss_mb": import_rss,
        "peak_rss_mb": peak_rss,
        "resources": len(plan.resources),
    }


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1])))
