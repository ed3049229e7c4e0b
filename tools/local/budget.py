"""`python -m tools.local.budget`: what the local profile requests of the kind node, summed, against the budget
docs/local.md states.

Counted: every platform service the local stack enables (its starter values layered as Argo CD layers them, and
the chart defaults recorded in tools/local/requests.yaml), Argo CD and the Git server (the values this program
gives their charts), the seeded domains' services (their `k8s/{env}/{service}/` manifests as read from the folder,
Kustomize `resources` and `replicas` followed), and the kind node's own pods. A service enabled without an entry
in requests.yaml is an error, so turning ollama back on cannot slip past the budget.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Any

import yaml

from components.argocd.values import argocd_values
from components.catalog import load_catalog
from components.config import StackConfig, load_stack_config
from components.config.load import seed_folder
from components.gitserver.chart import forgejo_values
from tools.plan.stackfile import read_stack_file

__all__ = [
    "BUDGET_CPU_MILLI",
    "BUDGET_MEMORY_MI",
    "NODE",
    "Line",
    "cpu_milli",
    "domain_lines",
    "enabled_services",
    "lines",
    "local_config",
    "main",
    "memory_mi",
    "merged_values",
]

PROJECT_DIR = Path(__file__).resolve().parents[2]
REQUESTS_FILE = Path(__file__).with_name("requests.yaml")
VALUES_ROOT = PROJECT_DIR / "starters" / "platform-gitops" / "k8s" / "platform"
NODE = "4 CPUs and 8 GiB"
"""The kind node docs/local.md sizes the local platform for (Docker Desktop's VM, or the host on Linux)."""
BUDGET_CPU_MILLI = 3000
BUDGET_MEMORY_MI = 6 * 1024
"""At most this much requested: the rest of the node is headroom for limits, the kubelet and the container runtime."""
# Argo CD's components that run as Deployments/StatefulSets outside HA (dex is off without SSO; the redis secret
# init is a Job): the keys of argocd_values' components.
_ARGOCD_PODS = ("controller", "repoServer", "server", "applicationSet", "notifications", "redis")


@dataclass(frozen=True)
class Line:
    owner: str
    """Service (or `argocd`, `gitserver`, `kind`) the pod belongs to."""
    pod: str
    replicas: int
    cpu_milli: int
    """Per replica, summed over its containers."""
    memory_mi: int
    source: str


_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi)?$")
_MI_PER = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, None: 1 / (1024 * 1024)}


def cpu_milli(quantity: str | int | float) -> int:
    match = _CPU.match(str(quantity))
    if match is None:
        raise ValueError(f"'{quantity}' is not a CPU quantity this budget reads (e.g. 100m, 0.5, 1)")
    value = float(match.group(1))
    return round(value if match.group(2) else value * 1000)


def memory_mi(quantity: str | int | float) -> int:
    match = _MEMORY.match(str(quantity))
    if match is None:
        raise ValueError(f"'{quantity}' is not a memory quantity this budget reads (e.g. 64Mi, 1Gi)")
    return round(float(match.group(1)) * _MI_PER[match.group(2)])


def _merge(base: Any, over: Any) -> Any:
    # Helm's layering: maps merge key by key, anything else replaces.
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        return {**base, **{k: _merge(base.get(k), v) for k, v in over.items()}}
    return over


def merged_values(config: StackConfig, service: str) -> dict[str, Any]:
    """The service's values as Argo CD layers them on this stack's cluster: base, cloud, cluster."""
    layers = [
        VALUES_ROOT / "_base" / service / "values.yaml",
        VALUES_ROOT / "_cloud" / config.cloud / service / "values.yaml",
        VALUES_ROOT / config.cluster_name / service / "values.yaml",
    ]
    return reduce(_merge, (yaml.safe_load(p.read_text()) or {} for p in layers), {})


def _at(values: Mapping[str, Any], path: str, service: str) -> Any:
    node: Any = values
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            raise KeyError(f"{service}: the starter's values have no `{path}`; update tools/local/requests.yaml")
        node = node[key]
    return node


def local_config() -> StackConfig:
    return load_stack_config(*read_stack_file(PROJECT_DIR / "Pulumi.local.yaml"), load_catalog())


def enabled_services(config: StackConfig) -> list[str]:
    """The catalog services Argo CD deploys on this (standalone) cluster: every tier, less what the stack disables."""
    return [
        s.name for s in load_catalog().by_wave() if not s.self_managed and config.service_enabled(s.name, default=True)
    ]


def _requests_of(container: Mapping[str, Any], values: Mapping[str, Any], service: str) -> tuple[int, int]:
    requests = _at(values, container["values"], service) if "values" in container else container["requests"]
    return cpu_milli(requests.get("cpu", "0")), memory_mi(requests.get("memory", "0"))


def _service_lines(service: str, pods: list[Mapping[str, Any]], values: Mapping[str, Any]) -> list[Line]:
    found = []
    for pod in pods:
        if "replicasValues" in pod:
            replicas = int(_at(values, pod["replicasValues"], service))
            where = f"starter {pod['replicasValues']}"
        else:
            replicas, where = int(pod["replicas"]), pod["source"]
        sized = [_requests_of(c, values, service) for c in pod["containers"]]
        notes = [c["source"] for c in pod["containers"] if "source" in c]
        found.append(
            Line(
                owner=service,
                pod=pod["pod"],
                replicas=replicas,
                cpu_milli=sum(cpu for cpu, _ in sized),
                memory_mi=sum(mem for _, mem in sized),
                source="; ".join([where, *notes]),
            )
        )
    return found


def _program_lines(config: StackConfig) -> list[Line]:
    """Argo CD and the Git server, sized by the values this program gives their charts."""
    values = argocd_values(config)
    argocd = []
    for key in _ARGOCD_PODS:
        requests = values[key]["resources"]["requests"]
        replicas = int(values[key].get("replicas", 1))
        argocd.append(
            Line("argocd", key, replicas, cpu_milli(requests["cpu"]), memory_mi(requests["memory"]), "argocd_values")
        )
    git = forgejo_values("forgejo-admin", "http://forgejo-http")["resources"]["requests"]
    server = Line("gitserver", "forgejo", 1, cpu_milli(git["cpu"]), memory_mi(git["memory"]), "forgejo_values")
    return [*argocd, *([server] if config.git_server is not None else [])]


_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet"}
_CLAIMS_SERVICE = "infra"
"""`k8s/{env}/infra` is not a service (components/gitops/domains.py excludes it)."""


def _manifests(folder: Path) -> list[dict[str, Any]]:
    """The workloads a service folder renders: a kustomization's `resources` (files and folders, recursively) with
    its `replicas` counts applied, or every YAML file of a plain folder. A Helm chart cannot be sized from files."""
    if (folder / "Chart.yaml").is_file():
        raise ValueError(f"{folder}: a Helm chart; the budget reads plain manifests and Kustomize folders only")
    kustomization = folder / "kustomization.yaml"
    if not kustomization.is_file():
        files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
        return [
            doc for f in files for doc in yaml.safe_load_all(f.read_text()) if doc and doc.get("kind") in _WORKLOADS
        ]
    spec = yaml.safe_load(kustomization.read_text()) or {}
    found: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        path = (folder / entry).resolve()
        if path.is_dir():
            found += _manifests(path)
        else:
            found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc and doc.get("kind") in _WORKLOADS]
    counts = {r["name"]: int(r["count"]) for r in spec.get("replicas", [])}
    return [
        {**doc, "spec": {**doc["spec"], "replicas": counts[doc["metadata"]["name"]]}}
        if doc["metadata"]["name"] in counts
        else doc
        for doc in found
    ]


def domain_lines(config: StackConfig) -> list[Line]:
    """The seeded domains' services on this env: every container's requests, as their manifests state them."""
    found: list[Line] = []
    folders = config.git_server.domain_folders if config.git_server is not None else {}
    for domain, folder in sorted(folders.items()):
        env_dir = seed_folder(folder) / "k8s" / config.env
        for service in sorted(p for p in env_dir.glob("*") if p.is_dir() and p.name != _CLAIMS_SERVICE):
            for doc in _manifests(service):
                containers = doc["spec"]["template"]["spec"]["containers"]
                requests = [c.get("resources", {}).get("requests", {}) for c in containers]
                found.append(
                    Line(
                        owner=domain,
                        pod=f"{service.name}/{doc['metadata']['name']}",
                        # A DaemonSet runs once on the one kind node.
                        replicas=1 if doc["kind"] == "DaemonSet" else int(doc["spec"].get("replicas", 1)),
                        cpu_milli=sum(cpu_milli(r.get("cpu", "0")) for r in requests),
                        memory_mi=sum(memory_mi(r.get("memory", "0")) for r in requests),
                        source=str(service.relative_to(seed_folder(folder))),
                    )
                )
    return found


def lines(config: StackConfig | None = None) -> list[Line]:
    """Every pod the local profile runs, with its requests; KeyError for an enabled service without an entry."""
    config = config or local_config()
    data = yaml.safe_load(REQUESTS_FILE.read_text())
    found: list[Line] = []
    for service in enabled_services(config):
        if service not in data["services"]:
            raise KeyError(f"{service}: enabled on {config.cluster_name} but not sized in tools/local/requests.yaml")
        found += _service_lines(service, data["services"][service], merged_values(config, service))
    found += _program_lines(config)
    found += domain_lines(config)
    for pod in data["system"]:
        requests = pod["requests"]
        found.append(
            Line("kind", pod["name"], 1, cpu_milli(requests["cpu"]), memory_mi(requests["memory"]), pod["source"])
        )
    return found


def main() -> int:
    found = lines()
    for line in found:
        total_cpu, total_mem = line.cpu_milli * line.replicas, line.memory_mi * line.replicas
        print(f"{line.owner:>22} {line.pod:<24} x{line.replicas}  {total_cpu:>5}m {total_mem:>6}Mi")
    cpu = sum(line.cpu_milli * line.replicas for line in found)
    memory = sum(line.memory_mi * line.replicas for line in found)
    print(
        f"total requests: {cpu}m CPU, {memory}Mi memory; budget {BUDGET_CPU_MILLI}m, {BUDGET_MEMORY_MI}Mi ({NODE} node)"
    )
    return 0 if cpu <= BUDGET_CPU_MILLI and memory <= BUDGET_MEMORY_MI else 1


if __name__ == "__main__":
    sys.exit(main())
