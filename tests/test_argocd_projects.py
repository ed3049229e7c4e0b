"""AppProjects: `default` locked down, `platform` derived from the catalog, domains held to their own namespaces.
Pure tests of the manifests, plus the options the program registers them with."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import bcrypt
import pytest

from components.argocd.credentials import admin_password_hash, repo_creds_name
from components.argocd.projects import default_project, domain_envs, domain_project, platform_project
from components.catalog import load_catalog
from components.naming import check_dns_label
from tests.conftest import base_config
from tests.test_argocd_bootstrap import APP_PROJECT, APP_PROJECT_PATCH, FULL_CONFIGS, named
from tests.test_argocd_values import stack_config
from tools.plan.runner import Plan

# Namespaces no domain may reach: Argo CD's own (a project that deploys there is admin), the platform's, the
# control plane's, and the clusters' system namespaces (GKE, kind).
FORBIDDEN = [
    "argocd",
    "crossplane-system",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "default",
    "local-path-storage",
    "gke-managed-system",
    "platform-prod-monitoring",
    "platform-dev-ingress",
]


def reachable(project: dict[str, Any], namespace: str) -> bool:
    """Argo CD matches a destination namespace as a glob (util/glob); `*` spans any characters."""
    return any(fnmatchcase(namespace, d["namespace"]) for d in project["spec"]["destinations"])


def hub_domains() -> dict[str, dict[str, Any]]:
    config = stack_config(FULL_CONFIGS["mgmt-full"])
    return {d.name: domain_project(d, domain_envs(config)) for d in config.domains}


def test_default_project_is_locked_down() -> None:
    project = default_project()
    assert project["metadata"]["name"] == "default"
    assert project["metadata"]["namespace"] == "argocd"
    spec = {k: v for k, v in project["spec"].items() if k != "description"}
    assert spec == {
        "sourceRepos": [],
        "sourceNamespaces": [],
        "destinations": [],
        "clusterResourceWhitelist": [],
        "namespaceResourceBlacklist": [{"group": "*", "kind": "*"}],
    }
    # argocd-server creates `default` wide open (server.go initializeDefaultProject); Pulumi must take it over.
    assert project["metadata"]["annotations"] == {"pulumi.com/patchForce": "true"}


def test_default_project_is_a_patch_that_outlives_the_program(shipped_plans: dict[str, Plan]) -> None:
    for stack in ("local", "mgmt"):
        plan = shipped_plans[stack]
        # argocd-server has created `default` before the program gets to it: a create would fail with
        # AlreadyExists (pulumi-kubernetes >= 4.29), a Patch resource applies over it (server-side apply).
        assert [r.name for r in plan.by_type(APP_PROJECT) if r.name == "default"] == [], stack
        default = named(plan, APP_PROJECT_PATCH, "default")
        assert default.inputs["spec"] == default_project()["spec"], stack
        assert default.inputs["metadata"]["annotations"] == {"pulumi.com/patchForce": "true"}, stack
        assert default.retain_on_delete, "a deleted default project comes back wide open"


@pytest.mark.parametrize("domain", ["payments", "kube"])
def test_a_domain_reaches_only_its_own_namespaces(domain: str) -> None:
    projects = hub_domains()
    project = projects[domain]
    for env in ("dev", "staging", "prod"):
        assert reachable(project, f"{domain}-{env}-api"), env
        assert reachable(project, f"{domain}-{env}-infra"), "its Crossplane claims' namespace on mgmt"
    forbidden = FORBIDDEN + [f"{other}-prod-api" for other in projects if other != domain]
    assert [ns for ns in forbidden if reachable(project, ns)] == []
    assert not reachable(project, f"{domain}-mgmt-api")
    for destination in project["spec"]["destinations"]:
        assert destination["namespace"] not in {"*", ""}
        assert destination["namespace"].startswith(f"{domain}-")


def test_a_domain_reads_only_its_repository_and_deploys_no_cluster_scoped_kind() -> None:
    config = stack_config(FULL_CONFIGS["mgmt-full"])
    for domain in config.domains:
        spec = domain_project(domain, domain_envs(config))["spec"]
        assert spec["sourceRepos"] == [domain.repo_url]
        # Only its own namespaces, which CreateNamespace creates (a name glob per environment).
        assert spec["clusterResourceWhitelist"] == [
            {"group": "", "kind": "Namespace", "name": f"{domain.name}-{env}-*"} for env in domain_envs(config)
        ]
        assert {"group": "", "kind": "ResourceQuota"} in spec["namespaceResourceBlacklist"]
        assert {"group": "", "kind": "LimitRange"} in spec["namespaceResourceBlacklist"]
        assert "sourceNamespaces" not in spec


def test_domain_roles_act_only_on_the_domains_applications() -> None:
    spec = hub_domains()["payments"]["spec"]
    roles = {role["name"]: role for role in spec["roles"]}
    assert roles["admin"]["groups"] == ["payments-leads"]
    assert roles["viewer"]["groups"] == ["payments-devs"]
    actions = set()
    for name, role in roles.items():
        for policy in role["policies"]:
            kind, subject, resource, action, scope, effect = (part.strip() for part in policy.split(","))
            assert (kind, subject, scope, effect) == ("p", f"proj:payments:{name}", "payments/*", "allow")
            actions.add((name, resource, action))
    assert {("admin", "applications", a) for a in ("get", "sync", "override", "delete")} <= actions
    assert {a for a in actions if a[0] == "viewer"} == {("viewer", "applications", "get")}


def test_standalone_domains_deploy_only_to_their_own_environment() -> None:
    local = stack_config(FULL_CONFIGS["local-full"])
    assert domain_envs(local) == ("local",)
    project = domain_project(local.domains[0], domain_envs(local))
    assert [d["namespace"] for d in project["spec"]["destinations"]] == ["payments-local-*"]
    assert domain_envs(stack_config(FULL_CONFIGS["mgmt-full"])) == ("dev", "staging", "prod")


def test_platform_project_allows_the_gitops_repo_and_every_catalog_chart() -> None:
    catalog = load_catalog()
    config = stack_config(base_config("existing", "mgmt"))
    spec = platform_project(config, catalog)["spec"]
    assert spec["sourceRepos"][0] == config.gitops.repo_url
    assert set(spec["sourceRepos"][1:]) == {s.chart.argocd_repo_url for s in catalog.services.values()}
    assert "*" not in spec["sourceRepos"]
    assert not [repo for repo in spec["sourceRepos"] if repo.startswith("oci://")], "Argo CD 3.4 drops the scheme"
    namespaces = {d["namespace"] for d in spec["destinations"]}
    assert namespaces == {"platform-*", "argocd", "crossplane-system", "kube-system"}
    assert spec["clusterResourceWhitelist"] == [{"group": "*", "kind": "*"}]


def test_every_domain_gets_its_project_in_the_plan(run_config: Any) -> None:
    plan = run_config(FULL_CONFIGS["mgmt-full"])
    names = sorted(r.inputs["metadata"]["name"] for r in plan.by_type(APP_PROJECT) + plan.by_type(APP_PROJECT_PATCH))
    assert names == ["default", "kube", "payments", "platform"]


# ---------------------------------------------------------------------------------------------------------
# Credentials helpers
# ---------------------------------------------------------------------------------------------------------


def test_admin_password_hash_is_a_stable_bcrypt_hash_per_cluster() -> None:
    first = admin_password_hash("correct horse", "cluster-local")
    assert first == admin_password_hash("correct horse", "cluster-local"), "a new hash per run is a perpetual diff"
    assert first.startswith("$2b$10$")
    assert bcrypt.checkpw(b"correct horse", first.encode())
    assert not bcrypt.checkpw(b"wrong horse", first.encode())
    assert admin_password_hash("correct horse", "cluster-dev") != first
    assert admin_password_hash(first, "anything") == first, "a given hash is used as it is"


def test_admin_password_longer_than_bcrypt_reads_is_refused() -> None:
    with pytest.raises(ValueError, match=r"argocdAdminPassword: is 73 bytes long"):
        admin_password_hash("x" * 73, "cluster-local")


def test_repo_creds_names_are_valid_and_distinct() -> None:
    names = {repo_creds_name(url) for url in ("https://github.com/acme", "https://github.com/acme/", "git@x:y")}
    assert len(names) == 3
    for name in names:
        assert check_dns_label(name) == name
