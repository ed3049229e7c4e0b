"""`python -m tools.local.gitserver_keys --chart DIR`: check every key of the Git server's chart values against
the unpacked forgejo chart in DIR, and record the evidence in tests/fixtures/chart_keys/gitserver-forgejo.json.

Same rules as tools/chart_keys.py (values.yaml, values.schema.json, or a template that reads the key). DIR is
`helm pull oci://code.forgejo.org/forgejo-helm/forgejo --version V --untar`, or the chart's source at the
release (Chart.yaml, values.yaml, templates/). The test suite holds `forgejo_values` to the recorded evidence.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from components.gitserver.chart import CHART_VERSION, forgejo_values
from tools.chart_keys import FIXTURES, evidence, key_paths, load_chart

__all__ = ["FIXTURE", "main", "values_keys"]

FIXTURE = FIXTURES / "gitserver-forgejo.json"


def values_keys() -> list[str]:
    """Every key path the program sets (the URL and Secret name do not change which keys are set)."""
    return sorted(".".join(path) for path in key_paths(forgejo_values("admin", "http://git.example")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.local.gitserver_keys", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--chart", type=Path, required=True, help="the unpacked forgejo chart")
    parser.add_argument("--source", required=True, help="where DIR came from, recorded with the evidence")
    args = parser.parse_args(argv)
    chart = load_chart(args.chart)
    found: dict[str, str] = {}
    unread: list[str] = []
    for key in values_keys():
        proof = evidence(chart, tuple(key.split(".")))
        if proof is None:
            unread.append(key)
        else:
            found[key] = proof
    if unread:
        print(f"error: the chart in {args.chart} reads none of: {', '.join(unread)}")
        return 1
    record = {"chart": "forgejo", "version": CHART_VERSION, "source": args.source, "keys": found}
    FIXTURE.write_text(json.dumps(record, indent=2) + "\n")
    print(f"{len(found)} keys verified against {args.chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
