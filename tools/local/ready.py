"""`python -m tools.local.ready`: after `pulumi up`, wait until every Argo CD Application of the local platform is
Synced and Healthy, showing what is left per wave, then print the time it took, Argo CD's URL and how to log in.

Ready means: every ApplicationSet reports `ResourcesUpToDate` (it generated all its Applications), and every
Application in `argocd` is Synced and Healthy. The wait is bounded; on timeout each Application that is not
ready is named with its sync and health status and Argo CD's own words for why (health message, last operation,
conditions). `--password` prints the admin password Argo CD generated (Secret argocd-initial-admin-secret).

A re-run after a values edit finds the Applications Synced to the previous commit until Argo CD's next poll, so
the wait first asks Argo CD to refresh each existing Application (annotation `argocd.argoproj.io/refresh: normal`)
and counts an Application ready only once that annotation is gone. The application controller removes it in the
status patch that follows its comparison with the repository's latest revision and any auto-sync it started
(argo-cd v3.4.4 controller/appcontroller.go persistAppStatus; pkg/apis/application/v1alpha1/
application_annotations.go), and the ApplicationSet controller leaves it on the Applications it owns
(applicationset_controller.go defaultPreservedAnnotations). Each ApplicationSet likewise gets
`argocd.argoproj.io/application-set-refresh: "true"` (what Argo CD's own webhook sets, applicationset/webhook/
webhook.go), which its controller removes after it has generated and updated the Applications from the new head
(applicationset_controller.go Reconcile, RefreshRequired): a service folder added by the edit is waited for too.

The status fields read are those of Argo CD's CRDs (v3.4.4): Application `status.sync.status`,
`status.health.{status,message}`, `status.operationState.{phase,message}`, `status.conditions[].{type,message}`;
ApplicationSet `status.conditions[]` with type `ResourcesUpToDate`, which the ApplicationSet controller sets True
after a reconcile that generated every Application, RollingSync or not (applicationset_controller.go).
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "OTHER",
    "REFRESH_PATCHES",
    "AppState",
    "Progress",
    "app_state",
    "format_duration",
    "main",
    "password_hint",
    "progress",
    "progress_line",
    "request_refresh",
    "summary_lines",
    "timeout_report",
    "wait",
]

ARGOCD_NAMESPACE = "argocd"
ADMIN_SECRET = "argocd-initial-admin-secret"
WAVE_LABEL = "wave"
"""Label the platform ApplicationSet puts on each Application, `w<wave>` (components/gitops/appsets.py)."""
REFRESH_ANNOTATION = "argocd.argoproj.io/refresh"
APPSET_REFRESH_ANNOTATION = "argocd.argoproj.io/application-set-refresh"
OTHER = "other"
"""Where Applications without a wave go: the root, Argo CD itself, the domains' services."""
POLL_SECONDS = 5.0

Objects = list[Mapping[str, Any]]


@dataclass(frozen=True)
class AppState:
    name: str
    wave: int | None
    sync: str
    health: str
    why: str
    """Argo CD's explanation when the Application is not ready; empty when it is."""
    refreshing: bool = False
    """A refresh was requested and Argo CD has not yet compared the Application with the repository's head."""

    @property
    def ready(self) -> bool:
        return self.sync == "Synced" and self.health == "Healthy" and not self.refreshing


def _get(obj: Mapping[str, Any], *path: str) -> Any:
    node: Any = obj
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _wave(labels: Mapping[str, str] | None) -> int | None:
    value = (labels or {}).get(WAVE_LABEL, "")
    try:
        return int(value.removeprefix("w"))
    except ValueError:
        return None


def app_state(obj: Mapping[str, Any]) -> AppState:
    """The readiness of one Application object as the API returns it."""
    sync = _get(obj, "status", "sync", "status") or "Unknown"
    health = _get(obj, "status", "health", "status") or "Unknown"
    refreshing = REFRESH_ANNOTATION in (_get(obj, "metadata", "annotations") or {})
    reasons = ["refresh requested, not yet compared with the repository's head"] if refreshing else []
    if health != "Healthy" and _get(obj, "status", "health", "message"):
        reasons.append(str(_get(obj, "status", "health", "message")))
    phase = _get(obj, "status", "operationState", "phase")
    if phase in {"Failed", "Error"} or (phase == "Running" and sync != "Synced"):
        message = _get(obj, "status", "operationState", "message")
        reasons.append(f"last sync {phase}: {message}" if message else f"last sync {phase}")
    for condition in _get(obj, "status", "conditions") or []:
        if isinstance(condition, Mapping) and condition.get("message"):
            reasons.append(f"{condition.get('type')}: {condition['message']}")
    ready = sync == "Synced" and health == "Healthy" and not refreshing
    return AppState(
        name=str(_get(obj, "metadata", "name")),
        wave=_wave(_get(obj, "metadata", "labels")),
        sync=sync,
        health=health,
        why="" if ready else "; ".join(reasons),
        refreshing=refreshing,
    )


REFRESH_PATCHES: dict[str, dict[str, Any]] = {
    # What `argocd app get --refresh` sets (argo-cd v3.4.4 util/argo/argo.go RefreshApp).
    "applications": {"metadata": {"annotations": {REFRESH_ANNOTATION: "normal"}}},
    "applicationsets": {"metadata": {"annotations": {APPSET_REFRESH_ANNOTATION: "true"}}},
}
"""The merge patch, per resource plural, that asks Argo CD to read the repository's head now."""

Patch = Callable[[str, str, dict[str, Any]], None]
"""(plural, name, merge patch) -> None, or OSError."""


def request_refresh(apps: Iterable[Mapping[str, Any]], appsets: Iterable[Mapping[str, Any]], patch: Patch) -> int:
    """Ask for a refresh of each ApplicationSet and Application; returns how many. On a first run there are none
    yet, and those generated later are compared with the head when they are created."""
    asked = 0
    for plural, objects in (("applicationsets", appsets), ("applications", apps)):
        for name in sorted(str(_get(obj, "metadata", "name")) for obj in objects):
            patch(plural, name, REFRESH_PATCHES[plural])
            asked += 1
    return asked


def _generated(appset: Mapping[str, Any]) -> bool:
    return any(
        isinstance(c, Mapping) and c.get("type") == "ResourcesUpToDate" and c.get("status") == "True"
        for c in _get(appset, "status", "conditions") or []
    )


@dataclass(frozen=True)
class Progress:
    apps: list[AppState]
    pending_appsets: list[str]
    """ApplicationSets that have not yet generated all their Applications."""

    @property
    def ready(self) -> bool:
        return bool(self.apps) and not self.pending_appsets and all(app.ready for app in self.apps)

    def waves(self) -> list[tuple[str, list[AppState]]]:
        """Applications by wave, ascending; those without a wave last."""
        keyed: dict[int | None, list[AppState]] = {}
        for app in self.apps:
            keyed.setdefault(app.wave, []).append(app)
        order = sorted((w for w in keyed if w is not None), key=int)
        groups = [(f"wave {w}", keyed[w]) for w in order]
        if None in keyed:
            groups.append((OTHER, keyed[None]))
        return groups


def progress(apps: Iterable[Mapping[str, Any]], appsets: Iterable[Mapping[str, Any]]) -> Progress:
    states = sorted((app_state(a) for a in apps), key=lambda s: s.name)
    pending = sorted(
        str(_get(s, "metadata", "name"))
        for s in appsets
        if not _generated(s) or APPSET_REFRESH_ANNOTATION in (_get(s, "metadata", "annotations") or {})
    )
    return Progress(apps=states, pending_appsets=pending)


def progress_line(current: Progress) -> str:
    """`12/14 ready | wave -10: 1/2 left cert-manager-local | ...`: the waves with something left."""
    done = sum(app.ready for app in current.apps)
    parts = [f"{done}/{len(current.apps)} ready"]
    for label, apps in current.waves():
        left = [app.name for app in apps if not app.ready]
        if left:
            parts.append(f"{label}: {len(left)}/{len(apps)} left {', '.join(left)}")
    if current.pending_appsets:
        parts.append(f"generating: {', '.join(current.pending_appsets)}")
    return " | ".join(parts)


def timeout_report(current: Progress) -> list[str]:
    """One line per Application that is not ready, with Argo CD's reason; and the ApplicationSets still pending."""
    lines = [
        f"  {app.name}: {app.sync}/{app.health}" + (f": {app.why}" if app.why else "")
        for app in current.apps
        if not app.ready
    ]
    lines += [f"  ApplicationSet {name}: has not generated all its Applications" for name in current.pending_appsets]
    if not current.apps:
        lines.append("  no Application exists yet in the argocd namespace")
    return lines


def format_duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


def wait(
    read: Callable[[], tuple[Objects, Objects]],
    *,
    timeout: float,
    out: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    poll: float = POLL_SECONDS,
) -> tuple[bool, float]:
    """Poll `read` (Applications, ApplicationSets) until ready or `timeout` seconds; print each change of progress.
    Returns (ready, seconds waited)."""
    started = clock()
    last = ""
    while True:
        elapsed = clock() - started
        try:
            current = progress(*read())
        except OSError as error:  # the API server restarting under the load of the first syncs
            out(f"[{format_duration(elapsed)}] cannot read Applications yet: {error}")
            current = None
        if current is not None:
            line = progress_line(current)
            if line != last:
                out(f"[{format_duration(elapsed)}] {line}")
                last = line
            if current.ready:
                return True, elapsed
        if elapsed >= timeout:
            out(f"not ready after {format_duration(elapsed)}; what Argo CD reports:")
            for report in timeout_report(current) if current is not None else ["  the Kubernetes API did not answer"]:
                out(report)
            return False, elapsed
        sleep(min(poll, max(timeout - elapsed, 0.0)))


# ---------------------------------------------------------------------------------------------------------
# The CLI: the local stack's cluster through the `kubernetes` client
# ---------------------------------------------------------------------------------------------------------


def _local_config() -> Any:
    from components.catalog import load_catalog  # noqa: PLC0415
    from components.config import load_stack_config  # noqa: PLC0415 - the CLI only
    from tools.plan.stackfile import read_stack_file  # noqa: PLC0415

    return load_stack_config(
        *read_stack_file(Path(__file__).resolve().parents[2] / "Pulumi.local.yaml"), load_catalog()
    )


def _clients(config: Any) -> tuple[Any, Any]:
    from kubernetes import client  # noqa: PLC0415 - the CLI only
    from kubernetes import config as kube_config  # noqa: PLC0415

    existing = config.cluster.existing
    kube_config.load_kube_config(config_file=str(Path(existing.kubeconfig).expanduser()), context=existing.context)
    return client.CustomObjectsApi(), client.CoreV1Api()


def _reader(custom: Any) -> Callable[[], tuple[Objects, Objects]]:
    from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

    def read() -> tuple[Objects, Objects]:
        try:
            apps = custom.list_namespaced_custom_object("argoproj.io", "v1alpha1", ARGOCD_NAMESPACE, "applications")
            sets = custom.list_namespaced_custom_object("argoproj.io", "v1alpha1", ARGOCD_NAMESPACE, "applicationsets")
        except ApiException as error:
            raise OSError(f"{error.status} {error.reason}") from None
        return apps["items"], sets["items"]

    return read


def _patcher(custom: Any) -> Patch:
    from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

    def patch(plural: str, name: str, body: dict[str, Any]) -> None:
        try:
            custom.patch_namespaced_custom_object("argoproj.io", "v1alpha1", ARGOCD_NAMESPACE, plural, name, body)
        except ApiException as error:
            raise OSError(f"{name}: {error.status} {error.reason}") from None

    return patch


def password_hint(config: Any) -> str | None:
    """Where the stack set the admin password itself: Argo CD's generated one (in argocd-initial-admin-secret) was
    replaced after install, so the Secret would mislead."""
    if config.argocd_admin_password is None:
        return None
    return "set by the stack: pulumi config get platform:argocdAdminPassword --stack local"


def admin_password(core: Any) -> str:
    secret = core.read_namespaced_secret(ADMIN_SECRET, ARGOCD_NAMESPACE)
    return base64.b64decode(secret.data["password"]).decode()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.local.ready", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--timeout", type=float, default=1500.0, help="seconds to wait at most (default 1500)")
    parser.add_argument("--password", action="store_true", help="print the Argo CD admin password and exit")
    parser.add_argument("--started-at", type=float, help="epoch seconds `make up-local` started, for the total time")
    parser.add_argument("--summary", type=Path, help="append the outcome as Markdown to this file (a CI job summary)")
    args = parser.parse_args(argv)
    from components.argocd.values import argocd_url  # noqa: PLC0415 - the CLI only

    config = _local_config()
    custom, core = _clients(config)
    if args.password:
        print(password_hint(config) or admin_password(core))
        return 0
    read = _reader(custom)
    try:
        refreshed = request_refresh(*read(), _patcher(custom))
    except OSError as error:  # the wait retries reading; a refresh missed only costs one poll interval
        print(f"could not ask Argo CD to refresh: {error}")
    else:
        if refreshed:
            print(f"asked Argo CD to read the repository's head now ({refreshed} Applications and ApplicationSets)")
    print(f"waiting for every Application to be Synced and Healthy (at most {format_duration(args.timeout)})")
    ready, elapsed = wait(read, timeout=args.timeout)
    total = time.time() - args.started_at if args.started_at else None
    lines = summary_lines(ready=ready, sync_seconds=elapsed, total_seconds=total, url=argocd_url(config))
    for line in lines:
        print(line)
    if args.summary is not None:
        with args.summary.open("a") as handle:
            handle.write("\n".join(["### Local platform", "", *(f"- {line}" for line in lines), ""]) + "\n")
    return 0 if ready else 1


def summary_lines(*, ready: bool, sync_seconds: float, total_seconds: float | None, url: str) -> list[str]:
    """What the user reads at the end: the outcome, the times (measured), where to log in."""
    if not ready:
        return [f"not ready: gave up after {format_duration(sync_seconds)} of waiting for Argo CD (see above)"]
    lines = [f"ready: every Application Synced and Healthy {format_duration(sync_seconds)} after `pulumi up` finished"]
    if total_seconds is not None:
        lines.append(f"time to a ready platform (measured, from `make up-local`): {format_duration(total_seconds)}")
    lines += [
        f"Argo CD: {url} (self-signed certificate)",
        "log in as admin; print the password with: make local-password",
    ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
