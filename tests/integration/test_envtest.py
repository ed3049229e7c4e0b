"""The test bed itself: the server is real and strict, objects are applied as pulumi-kubernetes applies them, and
the layer says how to get the binaries when there are none."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration import envtest
from tests.integration.envtest import (
    FIELD_MANAGER,
    REQUIRE_INTEGRATION,
    ApplyError,
    Kube,
    UnavailableError,
    default_project_as_argocd_server,
)


def config_map(name: str, **extra: object) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}, **extra}


def test_an_unknown_field_is_refused_not_dropped(kube: Kube) -> None:
    with pytest.raises(ApplyError, match=r"ConfigMap default/strict: .*\.spec: field not declared in schema"):
        kube.apply([config_map("strict", spec={"replicas": 1})])
    assert kube.get("v1", "ConfigMap", "strict", "default") is None


def test_objects_are_applied_by_pulumi_kubernetes_field_manager(kube: Kube) -> None:
    assert kube.apply([config_map("managed", data={"a": "1"})]) == []
    stored = kube.get("v1", "ConfigMap", "managed", "default")
    assert stored is not None
    assert [(f["manager"], f["operation"]) for f in stored["metadata"]["managedFields"]] == [(FIELD_MANAGER, "Apply")]


def test_the_argo_cd_crds_are_served_and_validate(kube: Kube) -> None:
    project = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "strict-check", "namespace": "default"},
        "spec": {"sourceRepos": ["*"], "destination": []},  # `destinations` misspelt
    }
    with pytest.raises(ApplyError, match=r"AppProject default/strict-check: .*\.spec\.destination: field not declared"):
        kube.apply([project])


def test_the_server_warnings_are_returned_naming_the_object(kube: Kube) -> None:
    # The API server accepts a fractional memory quantity but warns about it (pkg/api/pod/warnings.go).
    container = {"name": "app", "image": "busybox:1.37", "resources": {"requests": {"memory": "100m"}}}
    # A Deployment, not a Pod: no controller creates the `default` service account a Pod needs.
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "warned", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "warned"}},
            "template": {"metadata": {"labels": {"app": "warned"}}, "spec": {"containers": [container]}},
        },
    }
    (warning,) = kube.apply([deployment])
    assert warning.startswith("Deployment default/warned: 299 ")
    assert "fractional byte value" in warning


def test_the_default_project_is_created_as_argocd_server_creates_it(kube: Kube) -> None:
    kube.ensure_namespace("argocd-server-default")
    kube.create(default_project_as_argocd_server("argocd-server-default"), "argocd-server")
    stored = kube.get("argoproj.io/v1alpha1", "AppProject", "default", "argocd-server-default")
    assert stored is not None
    assert stored["spec"] == default_project_as_argocd_server("argocd-server-default")["spec"]
    # Owned by another manager through an Update: what a server-side apply by pulumi-kubernetes meets.
    assert [(f["manager"], f["operation"]) for f in stored["metadata"]["managedFields"]] == [
        ("argocd-server", "Update")
    ]


def test_without_binaries_the_layer_says_how_to_get_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KUBEBUILDER_ASSETS", raising=False)
    monkeypatch.setattr(envtest, "ARCHIVE_DIR", tmp_path / "no-shared")
    with pytest.raises(UnavailableError, match=r"setup-envtest use 1\.36 "):
        envtest.envtest_assets()


def _says_how_to_get_the_binaries(output: str) -> None:
    assert "no kube-apiserver/etcd: set KUBEBUILDER_ASSETS" in output
    assert "setup-envtest use 1.36 -p path" in output


def run_a_server_test_without_shared(tmp_path: Path, require: str | None) -> subprocess.CompletedProcess[str]:
    """A server test in a pytest of its own, as without ../shared: no KUBEBUILDER_ASSETS, no archive, no chart."""
    env = {k: v for k, v in os.environ.items() if k not in ("KUBEBUILDER_ASSETS", REQUIRE_INTEGRATION)}
    env["PLATFORM_ENVTEST_ARCHIVES"] = str(tmp_path / "no-shared")
    env["PLATFORM_ARGOCD_CHART"] = str(tmp_path / "no-shared" / "argo-cd-10.1.1.tgz")
    if require is not None:
        env[REQUIRE_INTEGRATION] = require
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", f"{__file__}::test_an_unknown_field_is_refused_not_dropped"],
        cwd=envtest.PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("require", [None, "0"])
def test_without_binaries_a_server_test_skips_saying_how_to_get_them(tmp_path: Path, require: str | None) -> None:
    """The fixture itself; the reason is the binaries', the first thing missing."""
    result = run_a_server_test_without_shared(tmp_path, require)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    _says_how_to_get_the_binaries(result.stdout)


def test_where_the_layer_is_required_missing_binaries_fail_saying_how_to_get_them(tmp_path: Path) -> None:
    """CI sets PLATFORM_REQUIRE_INTEGRATION=1: the same missing binaries are an error, not a skip."""
    result = run_a_server_test_without_shared(tmp_path, "1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 error" in result.stdout
    assert "skipped" not in result.stdout
    _says_how_to_get_the_binaries(result.stdout)
    assert "PLATFORM_REQUIRE_INTEGRATION=1: this layer must run here" in result.stdout


def test_an_unknown_require_value_fails_naming_it(tmp_path: Path) -> None:
    result = run_a_server_test_without_shared(tmp_path, "yes")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "PLATFORM_REQUIRE_INTEGRATION='yes': allowed are 1 (fail when missing) or 0/unset" in result.stdout


def test_kubebuilder_assets_must_hold_both_binaries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "etcd").write_text("")
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))
    with pytest.raises(UnavailableError, match=re.escape(f"KUBEBUILDER_ASSETS={tmp_path} has no kube-apiserver")):
        envtest.envtest_assets()
