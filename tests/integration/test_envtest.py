"""The test bed itself: the server is real and strict, objects are applied as pulumi-kubernetes applies them, and
the layer says how to get the binaries when there are none."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration import envtest
from tests.integration.envtest import FIELD_MANAGER, ApplyError, Kube, UnavailableError


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


def test_without_binaries_the_layer_says_how_to_get_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KUBEBUILDER_ASSETS", raising=False)
    monkeypatch.setattr(envtest, "ARCHIVE_DIR", tmp_path / "no-shared")
    with pytest.raises(UnavailableError, match=r"setup-envtest use 1\.36 "):
        envtest.envtest_assets()


def test_kubebuilder_assets_must_hold_both_binaries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "etcd").write_text("")
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))
    with pytest.raises(UnavailableError, match=re.escape(f"KUBEBUILDER_ASSETS={tmp_path} has no kube-apiserver")):
        envtest.envtest_assets()
