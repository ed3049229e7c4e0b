"""Write the results: CSV tables, the targets of issue 9 with their verdicts, and the sweep plot."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Target", "plot_sweep", "write_csv"]


@dataclass(frozen=True)
class Target:
    target: str
    measured: str
    met: bool


def _cell(value: Any) -> Any:
    # Four significant digits: timings below a millisecond are noise on this machine.
    if isinstance(value, float):
        return float(f"{value:.4g}")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else value


def write_csv(path: Path, rows: Iterable[Any]) -> None:
    """Rows of dataclasses or dicts (same keys) as CSV; floats to four significant digits, None empty."""
    records = [dict(r) if isinstance(r, Mapping) else dataclasses.asdict(r) for r in rows]
    if not records:
        raise ValueError(f"{path}: no rows to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in record.items()} for record in records)


def plot_sweep(points: Sequence[Any], path: Path) -> None:
    """Resources (and generated Applications) and program time against each sweep dimension."""
    import matplotlib  # noqa: PLC0415 - a benchmark-only dependency (requirements-bench.txt)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    dimensions = list(dict.fromkeys(p.dimension for p in points))
    labels = {
        "domains": "domains (hub config)",
        "services": "platform services in the catalog",
        "spokes": "spoke clusters registered on the hub",
    }
    figure, axes = plt.subplots(2, len(dimensions), figsize=(4.6 * len(dimensions), 7), squeeze=False)
    for column, dimension in enumerate(dimensions):
        series = sorted((p for p in points if p.dimension == dimension), key=lambda p: p.value)
        x = [p.value for p in series]
        top, bottom = axes[0][column], axes[1][column]
        top.plot(x, [p.resources for p in series], "o-", label="Pulumi resources (hub stack)")
        if any(p.applications is not None for p in series):
            top.plot(x, [p.applications for p in series], "s--", label="Applications Argo CD generates")
        top.axhline(80, color="grey", linewidth=0.8, linestyle=":", label="80: the limit for a shipped stack")
        top.set_title(labels.get(dimension, dimension))
        top.set_ylabel("count")
        top.set_ylim(bottom=0)
        top.legend(fontsize=8, loc="upper left")
        bottom.plot(x, [p.program_s for p in series], "o-", color="tab:red")
        bottom.set_ylabel("program time under mocks (s)")
        bottom.set_xlabel(dimension)
        bottom.set_ylim(bottom=0)
        for axis in (top, bottom):
            axis.grid(True, alpha=0.3)
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.suptitle("Platform program: growth with the platform's size (median of warm runs under mocks, this machine)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
