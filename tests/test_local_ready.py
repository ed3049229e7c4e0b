"""The readiness wait of `make up-local`: progress per wave, the bounded wait, and Argo CD's reasons on timeout,
over Application and ApplicationSet objects shaped as Argo CD v3.4.4 reports them (checked against its CRDs)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tools.local import ready
from tools.local.ready import (
    OTHER,
    REFRESH_PATCHES,
    app_state,
    format_duration,
    progress,
    progress_line,
    request_refresh,
    summary_lines,
    timeout_report,
    wait,
)

FIXTURES = Path(__file__).with_name("fixtures") / "local"


def recorded(name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    data = json.loads((FIXTURES / f"argocd-{name}.json").read_text())
    return data["applications"], data["applicationsets"]


@pytest.mark.parametrize("name", ["midway", "stuck", "ready"])
def test_the_objects_are_valid_argo_cd_objects(name: str, validators: dict[str, Any]) -> None:
    apps, sets = recorded(name)
    for app in apps:
        validators["Application"].validate(app)
    for appset in sets:
        validators["ApplicationSet"].validate(appset)


def test_progress_groups_what_is_left_by_wave() -> None:
    current = progress(*recorded("midway"))
    assert not current.ready
    assert [label for label, _ in current.waves()] == ["wave -20", "wave -10", "wave -5", "wave 0", OTHER]
    assert progress_line(current) == (
        "4/8 ready"
        " | wave -10: 1/2 left cert-manager-local"
        " | wave -5: 1/1 left cloudnative-pg-local"
        " | wave 0: 1/1 left kong-local"
        " | other: 1/3 left shop-api-local"
        " | generating: shop-services"
    )


def test_a_not_ready_application_carries_argo_cds_reasons() -> None:
    apps, _ = recorded("stuck")
    kong = app_state(next(a for a in apps if a["metadata"]["name"] == "kong-local"))
    assert (kong.sync, kong.health, kong.wave, kong.ready) == ("OutOfSync", "Degraded", 0, False)
    assert kong.why.startswith('Deployment "kong-local-kong" exceeded its progress deadline; last sync Failed: ')
    assert "BackoffLimitExceeded" in kong.why and "SyncError: Failed sync attempt" in kong.why
    healthy = app_state(next(a for a in apps if a["metadata"]["name"] == "root"))
    assert healthy.ready and healthy.why == ""


def test_an_application_set_that_cannot_generate_keeps_the_platform_not_ready() -> None:
    apps, sets = recorded("ready")
    assert progress(apps, sets).ready
    sets[1]["status"]["conditions"][0]["status"] = "False"
    assert not progress(apps, sets).ready
    assert not progress([], sets[:1]).ready, "no Application at all is not a ready platform"


def test_an_application_awaiting_its_refresh_is_not_ready_until_argo_cd_consumes_the_annotation() -> None:
    """A re-run after a values edit: Applications still Synced and Healthy at the old commit must not count."""
    apps, sets = recorded("ready")
    kong = next(a for a in apps if a["metadata"]["name"] == "kong-local")
    kong["metadata"].setdefault("annotations", {}).update(REFRESH_PATCHES["applications"]["metadata"]["annotations"])
    current = progress(apps, sets)
    assert not current.ready
    state = next(app for app in current.apps if app.name == "kong-local")
    assert (state.sync, state.health, state.refreshing) == ("Synced", "Healthy", True)
    assert "kong-local" in progress_line(current)
    assert state.why == "refresh requested, not yet compared with the repository's head"
    del kong["metadata"]["annotations"]["argocd.argoproj.io/refresh"]
    assert progress(apps, sets).ready, "the controller removed the annotation: compared with the head"


def test_an_application_set_awaiting_its_refresh_is_pending_until_argo_cd_consumes_the_annotation() -> None:
    apps, sets = recorded("ready")
    sets[0]["metadata"].setdefault("annotations", {})["argocd.argoproj.io/application-set-refresh"] = "true"
    current = progress(apps, sets)
    assert not current.ready and current.pending_appsets == [sets[0]["metadata"]["name"]]
    del sets[0]["metadata"]["annotations"]["argocd.argoproj.io/application-set-refresh"]
    assert progress(apps, sets).ready


def test_a_refresh_is_requested_for_every_existing_application_set_then_application() -> None:
    apps, sets = recorded("ready")
    patched: list[tuple[str, str, dict[str, Any]]] = []
    asked = request_refresh(apps, sets, lambda plural, name, body: patched.append((plural, name, body)))
    assert asked == len(apps) + len(sets) == len(patched)
    assert [(plural, name) for plural, name, _ in patched] == [
        *(("applicationsets", n) for n in sorted(s["metadata"]["name"] for s in sets)),
        *(("applications", n) for n in sorted(a["metadata"]["name"] for a in apps)),
    ]
    bodies = {plural: body for plural, _, body in patched}
    assert bodies == {
        "applicationsets": {"metadata": {"annotations": {"argocd.argoproj.io/application-set-refresh": "true"}}},
        "applications": {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}},
    }


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_wait_prints_each_change_and_returns_the_time_taken() -> None:
    clock = FakeClock()
    snapshots = [recorded("midway"), recorded("midway"), recorded("stuck"), recorded("ready")]
    lines: list[str] = []
    ready, elapsed = wait(lambda: snapshots.pop(0), timeout=600, out=lines.append, clock=clock, sleep=clock.sleep)
    assert ready and elapsed == 15
    assert len(lines) == 3, "an unchanged snapshot prints nothing"
    assert lines[0].startswith("[0s] 4/8 ready | wave -10") and lines[-1] == "[15s] 8/8 ready"


def test_wait_is_bounded_and_names_what_is_not_healthy_and_why() -> None:
    clock = FakeClock()
    lines: list[str] = []
    ready, elapsed = wait(
        lambda: recorded("stuck"), timeout=60, out=lines.append, clock=clock, sleep=clock.sleep, poll=10
    )
    assert not ready and elapsed == 60
    assert lines[-2] == "not ready after 1m00s; what Argo CD reports:"
    assert lines[-1].startswith("  kong-local: OutOfSync/Degraded: Deployment")
    assert timeout_report(progress([], [])) == ["  no Application exists yet in the argocd namespace"]


def test_an_api_server_that_does_not_answer_is_retried_then_reported() -> None:
    clock = FakeClock()
    lines: list[str] = []

    def unreachable() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        raise OSError("503 Service Unavailable")

    ready, _ = wait(unreachable, timeout=10, out=lines.append, clock=clock, sleep=clock.sleep)
    assert not ready
    assert lines[0] == "[0s] cannot read Applications yet: 503 Service Unavailable"
    assert lines[-1] == "  the Kubernetes API did not answer"


def test_durations_read_as_minutes_and_seconds() -> None:
    assert [format_duration(s) for s in (4.4, 60, 431.6)] == ["4s", "1m00s", "7m12s"]


def test_the_summary_gives_measured_times_the_url_and_the_login() -> None:
    lines = summary_lines(ready=True, sync_seconds=252, total_seconds=431.6, url="https://localhost:8080")
    assert lines == [
        "ready: every Application Synced and Healthy 4m12s after `pulumi up` finished",
        "time to a ready platform (measured, from `make up-local`): 7m12s",
        "Argo CD: https://localhost:8080 (self-signed certificate)",
        "log in as admin; print the password with: make local-password",
    ]
    assert summary_lines(ready=False, sync_seconds=1500, total_seconds=None, url="x")[0].startswith("not ready")


class FakeCustomObjects:
    """The two list calls the CLI makes, answered from a recorded snapshot."""

    def __init__(self, snapshot: str) -> None:
        self.apps, self.sets = recorded(snapshot)
        self.patched: dict[str, list[str]] = {"applications": [], "applicationsets": []}

    def list_namespaced_custom_object(self, group: str, version: str, namespace: str, plural: str) -> dict[str, Any]:
        assert (group, version, namespace) == ("argoproj.io", "v1alpha1", "argocd")
        return {"items": self.apps if plural == "applications" else self.sets}

    def patch_namespaced_custom_object(  # noqa: PLR0917 - the kubernetes client's positional signature
        self, group: str, version: str, namespace: str, plural: str, name: str, body: dict[str, Any]
    ) -> None:
        assert (group, version, namespace) == ("argoproj.io", "v1alpha1", "argocd")
        assert body == REFRESH_PATCHES[plural]
        self.patched[plural].append(name)


def test_the_cli_reads_the_local_clusters_argo_cd_and_writes_the_job_summary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    custom = FakeCustomObjects("ready")
    monkeypatch.setattr(ready, "_clients", lambda config: (custom, None))
    summary = tmp_path / "summary.md"
    assert ready.main(["--timeout", "0", "--summary", str(summary), "--started-at", "0"]) == 0
    assert custom.patched == {
        "applications": sorted(a["metadata"]["name"] for a in custom.apps),
        "applicationsets": sorted(s["metadata"]["name"] for s in custom.sets),
    }, "every Application and ApplicationSet refreshed"
    out = capsys.readouterr().out
    assert "asked Argo CD to read the repository's head now (10 Applications and ApplicationSets)" in out
    assert "Argo CD: https://localhost:8080" in out
    assert summary.read_text().startswith("### Local platform\n\n- ready: every Application Synced and Healthy 0s")
    monkeypatch.setattr(ready, "_clients", lambda config: (FakeCustomObjects("stuck"), None))
    assert ready.main(["--timeout", "0"]) == 1
    assert "kong-local: OutOfSync/Degraded" in capsys.readouterr().out


class RefreshingCustomObjects(FakeCustomObjects):
    """Argo CD on a re-run: the Applications are Synced and Healthy at the old commit; the patch sets the refresh
    annotation, and the controller removes it `reads_until_refreshed` list calls later."""

    def __init__(self, snapshot: str, reads_until_refreshed: int) -> None:
        super().__init__(snapshot)
        self.left = reads_until_refreshed

    def list_namespaced_custom_object(self, group: str, version: str, namespace: str, plural: str) -> dict[str, Any]:
        if plural == "applications" and self.patched["applications"]:
            if self.left == 0:
                for obj in [*self.apps, *self.sets]:
                    obj["metadata"]["annotations"].clear()
            self.left -= 1
        return super().list_namespaced_custom_object(group, version, namespace, plural)

    def patch_namespaced_custom_object(  # noqa: PLR0917 - the kubernetes client's positional signature
        self, group: str, version: str, namespace: str, plural: str, name: str, body: dict[str, Any]
    ) -> None:
        super().patch_namespaced_custom_object(group, version, namespace, plural, name, body)
        obj = next(o for o in (self.apps if plural == "applications" else self.sets) if o["metadata"]["name"] == name)
        obj["metadata"].setdefault("annotations", {}).update(body["metadata"]["annotations"])


def test_a_rerun_waits_until_argo_cd_has_refreshed_every_application(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(ready, "wait", functools.partial(wait, clock=clock, sleep=clock.sleep))
    monkeypatch.setattr(ready, "_clients", lambda config: (RefreshingCustomObjects("ready", 2), None))
    assert ready.main(["--timeout", "60"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "asked Argo CD to read the repository's head now (10 Applications and ApplicationSets)"
    progress_lines = [line for line in out if line.startswith("[")]
    assert progress_lines[0].startswith("[0s] 0/8 ready"), "Synced at the old commit is not ready"
    assert "generating: " in progress_lines[0], "nor is an ApplicationSet yet to read the new head"
    assert progress_lines[-1] == "[10s] 8/8 ready"


class FakeCore:
    def read_namespaced_secret(self, name: str, namespace: str) -> Any:
        assert (name, namespace) == ("argocd-initial-admin-secret", "argocd")
        return type("Secret", (), {"data": {"password": "Z2VuZXJhdGVk"}})()


def test_the_password_comes_from_argo_cds_secret_unless_the_stack_set_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ready, "_clients", lambda config: (None, FakeCore()))
    assert ready.main(["--password"]) == 0
    assert capsys.readouterr().out == "generated\n"
    config = ready._local_config()
    with_password = config.model_copy(update={"argocd_admin_password": SecretStr("chosen")})
    assert ready.password_hint(with_password) == (
        "set by the stack: pulumi config get platform:argocdAdminPassword --stack local"
    )
    assert ready.password_hint(config) is None
