"""The per-cluster Application summary of a pull request (tools/app_diff.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.app_diff import MARKER, diff_applications, load_applications, main, render


def app(name: str, cluster: str = "cluster-prod", **overrides: Any) -> dict[str, Any]:
    service = name.rsplit("-", 1)[0]
    entry: dict[str, Any] = {
        "name": name,
        "service": service,
        "cluster": cluster,
        "env": cluster.removeprefix("cluster-"),
        "namespace": f"platform-{cluster.removeprefix('cluster-')}-{service}",
        "project": "platform",
        "wave": 0,
        "parent": f"platform-{cluster}",
        "gatedBy": [],
        "repoURL": f"https://charts.example.com/{service}",
        "chart": service,
        "version": "1.0.0",
        "valueFiles": [f"$values/k8s/platform/_base/{service}/values.yaml"],
    }
    entry.update(overrides)
    return entry


def write_plan(root: Path, stack: str, apps: list[dict[str, Any]]) -> None:
    (root / stack).mkdir(parents=True, exist_ok=True)
    (root / stack / "applications.json").write_text(json.dumps(apps))


def test_added_removed_and_changed_are_found_per_cluster() -> None:
    base = [app("kong-prod"), app("loki-mgmt", "cluster-mgmt"), app("redis-mgmt", "cluster-mgmt")]
    pr = [
        app("kong-prod", version="1.1.0", valueFiles=["a.yaml", "b.yaml"]),
        app("loki-mgmt", "cluster-mgmt"),
        app("alloy-prod", wave=5),
    ]
    diffs = {d.cluster: d for d in diff_applications(base, pr)}
    assert set(diffs) == {"cluster-mgmt", "cluster-prod"}
    prod, mgmt = diffs["cluster-prod"], diffs["cluster-mgmt"]
    assert [a["name"] for a in prod.added] == ["alloy-prod"]
    assert prod.changed == [
        (
            "kong-prod",
            {
                "version": ("1.0.0", "1.1.0"),
                "valueFiles": (["$values/k8s/platform/_base/kong/values.yaml"], ["a.yaml", "b.yaml"]),
            },
        )
    ]
    assert [a["name"] for a in mgmt.removed] == ["redis-mgmt"]
    assert mgmt.unchanged == 1


def test_the_same_name_on_two_clusters_is_two_applications() -> None:
    diffs = diff_applications([app("kong-x", "cluster-dev")], [app("kong-x", "cluster-staging")])
    assert [(d.cluster, len(d.added), len(d.removed)) for d in diffs] == [
        ("cluster-dev", 0, 1),
        ("cluster-staging", 1, 0),
    ]


def test_markdown_names_each_cluster_and_change() -> None:
    text = render(diff_applications([app("kong-prod")], [app("kong-prod", namespace="edge"), app("n8n-prod", wave=10)]))
    assert text.startswith(MARKER + "\n")
    assert "#### `cluster-prod`: 1 added, 0 removed, 1 changed, 0 unchanged" in text
    assert "| added | `n8n-prod` | `platform-prod-n8n` | `n8n` | `1.0.0` | `10` |" in text
    assert "| `kong-prod` | namespace | `platform-prod-kong` | `edge` |" in text


def test_unchanged_clusters_are_summarised_in_one_line() -> None:
    text = render(diff_applications([app("kong-dev", "cluster-dev")], [app("kong-dev", "cluster-dev")]))
    assert "No Application appears, disappears or changes on any cluster." in text
    assert "No change on `cluster-dev` (1 Applications)." in text


def test_cell_text_cannot_break_the_table() -> None:
    text = render(diff_applications([], [app("x-prod", namespace="a|b`c\nd")]))
    assert "`a\\|b'c d`" in text


def test_missing_files_are_empty_lists(tmp_path: Path) -> None:
    assert load_applications(tmp_path / "nope" / "applications.json") == []
    assert render(diff_applications([], [])).endswith("No Argo CD Application in either plan.\n")


def test_cli_compares_directories_of_plans(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_plan(tmp_path / "base", "prod", [app("kong-prod")])
    write_plan(tmp_path / "pr", "prod", [app("kong-prod", version="2.0.0")])
    write_plan(tmp_path / "pr", "staging", [app("kong-staging", "cluster-staging")])  # a new stack: no base plan
    assert main([str(tmp_path / "base"), str(tmp_path / "pr")]) == 0
    out = capsys.readouterr().out
    assert "#### `cluster-prod`: 0 added, 0 removed, 1 changed" in out
    assert "#### `cluster-staging`: 1 added" in out
    assert "| `kong-prod` | version | `1.0.0` | `2.0.0` |" in out


def test_cli_refuses_a_malformed_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "applications.json").write_text('{"name": "not a list"}')
    assert main([str(tmp_path / "applications.json"), str(tmp_path / "applications.json")]) == 2
    assert "expected a list" in capsys.readouterr().err


def test_a_change_of_order_is_shown_with_the_clusters_waves() -> None:
    base = [app("cert-manager-prod", wave=-10), app("kong-prod", gatedBy=["cert-manager-prod"])]
    pr = [
        app("cert-manager-prod", wave=-10),
        app("cloudnative-pg-prod", wave=-5, gatedBy=["cert-manager-prod"]),
        app("kong-prod", gatedBy=["cloudnative-pg-prod"]),
        app("kong-dev", "cluster-dev"),
    ]
    (dev, prod) = diff_applications(base, pr)
    assert prod.changed == [("kong-prod", {"gatedBy": (["cert-manager-prod"], ["cloudnative-pg-prod"])})]
    assert prod.order == [(-10, ["cert-manager-prod"]), (-5, ["cloudnative-pg-prod"]), (0, ["kong-prod"])]
    assert dev.order == [(0, ["kong-dev"])]
    text = render([dev, prod])
    assert (
        "Order (each wave waits for the one before to be Healthy): "
        "`-10` cert-manager-prod → `-5` cloudnative-pg-prod → `0` kong-prod"
    ) in text
    assert (
        "| added | `cloudnative-pg-prod` | `platform-prod-cloudnative-pg` | `cloudnative-pg` | `1.0.0` | `-5` |" in text
    )
    assert "`cert-manager-prod` |" in text.split("added | `cloudnative-pg-prod`")[1].splitlines()[0]
    assert "| `kong-prod` | gatedBy | `cert-manager-prod` | `cloudnative-pg-prod` |" in text
