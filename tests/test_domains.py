"""Domain flows: each domain's services and Crossplane claims ApplicationSets, as the program registers them, and
what they generate from a domain repository (the shipped `starters/domain-gitops/` starter standing in for one)."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from components.argocd import SYNC_POLICY
from components.argocd.projects import domain_envs, domain_project
from components.config import load_stack_config
from components.gitops.domains import claims_appset, services_appset
from components.naming import namespace
from tests.conftest import CATALOG, base_config, raw_config, secret_keys_of
from tests.strict_crd import problems
from tests.test_argocd_bootstrap import APP_PROJECT, DOMAINS, named
from tools.plan.applications import (
    APPLICATIONSET,
    EXAMPLE_DOMAIN_REPO,
    ExpansionError,
    application_rows,
    cluster_params,
    expand,
    git_directories,
    rendered_applications,
)
from tools.plan.gotemplate import TemplateError, render_string
from tools.plan.runner import Plan

RunConfig = Callable[..., Plan]
IN_CLUSTER = "https://kubernetes.default.svc"
PAYMENTS = DOMAINS[0]
HUB_ENVS = ("dev", "staging", "prod")


def config_of(values: dict[str, Any]) -> Any:
    return load_stack_config(raw_config(values), secret_keys_of(values), CATALOG)


def domain_appsets(plan: Plan, domain: str) -> dict[str, dict[str, Any]]:
    return {
        r.name: r.inputs
        for r in plan.by_type(APPLICATIONSET)
        if r.inputs["metadata"]["labels"].get("project") == domain
    }


def spoke_cluster(env: str, server: str) -> dict[str, Any]:
    """Clusters generator parameters of a spoke registered with `env` (the label the domain flows select on)."""
    return {"name": f"cluster-{env}", "server": server, "metadata": {"labels": {"env": env}, "annotations": {}}}


SPOKES = [spoke_cluster(env, f"https://{env}.example") for env in HUB_ENVS]


# ---------------------------------------------------------------------------------------------------------
# The ApplicationSets
# ---------------------------------------------------------------------------------------------------------


def test_each_domain_gets_its_two_applicationsets_on_the_hub(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["mgmt"]
    appsets = domain_appsets(plan, "payments")
    assert set(appsets) == {"payments-services", "payments-crossplane-claims"}
    platform = named(plan, APPLICATIONSET, "platform-services")
    for name, appset in appsets.items():
        resource = named(plan, APPLICATIONSET, name)
        assert appset["metadata"] == {
            "name": name,
            "namespace": "argocd",
            "labels": {"project": "payments", "app.kubernetes.io/managed-by": "pulumi"},
        }
        assert resource.provider_urn == platform.provider_urn, "the hub cluster's own provider"
        assert plan.name_of(resource.parent_urn) == "domain-payments"
        assert resource.protect, "mgmt is protected: removing a domain must be deliberate"


def test_spoke_stacks_create_no_domain_flows(shipped_plans: dict[str, Plan]) -> None:
    for stack in ("dev", "staging", "prod"):
        assert shipped_plans[stack].by_type(APPLICATIONSET) == [], stack


@pytest.mark.parametrize("spec_of", [services_appset, lambda d, e: claims_appset(d, e, "cluster-mgmt")])
def test_project_is_literal_and_templates_fail_on_missing_keys(spec_of: Callable[..., dict[str, Any]]) -> None:
    domain = config_of(base_config("existing", "mgmt", domains=DOMAINS)).domains[0]
    spec = spec_of(domain, HUB_ENVS)
    assert spec["template"]["spec"]["project"] == "payments"
    assert "{{" not in spec["template"]["spec"]["project"]
    assert (spec["goTemplate"], spec["goTemplateOptions"]) == (True, ["missingkey=error"])


def test_services_read_each_allowed_env_folder_and_never_the_claims_namespace() -> None:
    domain = config_of(base_config("existing", "mgmt", domains=DOMAINS)).domains[0]
    (matrix,) = services_appset(domain, HUB_ENVS)["generators"]
    git, clusters = matrix["matrix"]["generators"]
    assert git["git"]["repoURL"] == PAYMENTS["repoUrl"]
    assert git["git"]["directories"] == [
        {"path": "k8s/dev/*"},
        {"path": "k8s/staging/*"},
        {"path": "k8s/prod/*"},
        {"path": "k8s/*/infra", "exclude": True},
    ]
    # The cluster of the folder's environment: the selector is rendered with the git parameters.
    assert clusters == {"clusters": {"selector": {"matchLabels": {"env": "{{index .path.segments 1}}"}}}}


def test_services_use_the_shared_sync_policy_and_label_their_namespaces() -> None:
    domain = config_of(base_config("existing", "mgmt", domains=DOMAINS)).domains[0]
    policy = services_appset(domain, HUB_ENVS)["template"]["spec"]["syncPolicy"]
    assert {k: v for k, v in policy.items() if k != "managedNamespaceMetadata"} == SYNC_POLICY
    labels = policy["managedNamespaceMetadata"]["labels"]
    assert set(labels) == {
        "project",
        "env",
        "service",
        "backstage.io/component",
        "backstage.io/kubernetes-id",
        "pod-security.kubernetes.io/enforce",
        "pod-security.kubernetes.io/warn",
        "pod-security.kubernetes.io/audit",
    }
    # A domain's pods run under the restricted Pod Security Standard, in its services' and its claims' namespaces.
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    claims = claims_appset(domain, HUB_ENVS, "cluster-mgmt")["template"]["spec"]["syncPolicy"]
    assert claims["managedNamespaceMetadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_claims_are_never_deleted_implicitly() -> None:
    domain = config_of(base_config("existing", "mgmt", domains=DOMAINS)).domains[0]
    spec = claims_appset(domain, HUB_ENVS, "cluster-mgmt")
    policy = spec["template"]["spec"]["syncPolicy"]
    assert policy["automated"] == {"prune": False, "selfHeal": True}, "a claim removed from Git is not pruned"
    assert policy["retry"] == SYNC_POLICY["retry"]
    assert spec["syncPolicy"] == {"preserveResourcesOnDeletion": True}, "no cascade when an Application goes"
    assert spec["template"]["spec"]["destination"]["server"] == IN_CLUSTER
    assert spec["generators"] == [
        {
            "git": {
                "repoURL": PAYMENTS["repoUrl"],
                "revision": "main",
                "directories": [{"path": f"crossplane/claims/{env}"} for env in HUB_ENVS],
            }
        }
    ]


def test_a_hub_without_crossplane_gets_no_claims_applicationset(run_config: RunConfig) -> None:
    plan = run_config(base_config("existing", "mgmt", domains=DOMAINS, services={"crossplane": {"enabled": False}}))
    assert set(domain_appsets(plan, "payments")) == {"payments-services"}


def test_a_new_domain_adds_its_project_and_applicationsets_and_nothing_else(run_config: RunConfig) -> None:
    before = run_config(base_config("existing", "mgmt", domains=DOMAINS[:1]))
    after = run_config(base_config("existing", "mgmt", domains=DOMAINS))
    added = {(r.type, r.name) for r in after.resources} - {(r.type, r.name) for r in before.resources}
    assert added == {
        (APP_PROJECT, "project-kube"),
        ("platform:gitops:DomainFlows", "domain-kube"),
        (APPLICATIONSET, "kube-services"),
        (APPLICATIONSET, "kube-crossplane-claims"),
    }
    assert len(after.resources) == len(before.resources) + len(added)


# ---------------------------------------------------------------------------------------------------------
# What they generate
# ---------------------------------------------------------------------------------------------------------


def fleet_applications(plan: Plan) -> list[dict[str, Any]]:
    """The hub's domain Applications over its own cluster and the three spokes, read from the domain starter."""
    found = []
    for appset in domain_appsets(plan, "payments").values():
        spec = appset["spec"]
        found += expand(spec, cluster_params(plan) + SPOKES, {PAYMENTS["repoUrl"]: EXAMPLE_DOMAIN_REPO})
    return found


def test_every_service_folder_goes_to_the_cluster_of_its_env(run_config: RunConfig) -> None:
    plan = run_config(base_config("existing", "mgmt", domains=DOMAINS))
    services = [a for a in fleet_applications(plan) if a["metadata"]["labels"]["service"] != "infra"]
    assert {a["metadata"]["name"] for a in services} == {
        "payments-api-dev",
        "payments-api-staging",
        "payments-api-prod",
    }
    for application in services:
        env = application["metadata"]["labels"]["env"]
        spec = application["spec"]
        assert application["metadata"]["name"] == f"payments-api-{env}"
        assert spec["destination"] == {
            "server": f"https://{env}.example",
            "namespace": namespace("payments", env, "api"),
        }
        assert spec["source"] == {"repoURL": PAYMENTS["repoUrl"], "targetRevision": "main", "path": f"k8s/{env}/api"}
        assert application["metadata"]["labels"] == {
            "project": "payments",
            "env": env,
            "service": "api",
            "cluster": f"cluster-{env}",
        }
        assert spec["syncPolicy"]["managedNamespaceMetadata"]["labels"]["backstage.io/kubernetes-id"] == "payments-api"


def test_claims_of_each_env_land_on_the_hub_in_the_infra_namespace(run_config: RunConfig) -> None:
    plan = run_config(base_config("existing", "mgmt", domains=DOMAINS))
    claims = [a for a in fleet_applications(plan) if a["metadata"]["labels"]["service"] == "infra"]
    assert {a["metadata"]["name"]: a["spec"]["destination"] for a in claims} == {
        f"payments-infra-{env}": {"server": IN_CLUSTER, "namespace": f"payments-{env}-infra"} for env in HUB_ENVS
    }
    assert {a["metadata"]["labels"]["cluster"] for a in claims} == {"cluster-mgmt"}


def test_the_domain_project_permits_every_generated_destination_and_namespace(run_config: RunConfig) -> None:
    config = config_of(base_config("existing", "mgmt", domains=DOMAINS))
    project = domain_project(config.domains[0], domain_envs(config))["spec"]
    plan = run_config(base_config("existing", "mgmt", domains=DOMAINS))
    applications = fleet_applications(plan)
    assert applications
    for application in applications:
        target = application["spec"]["destination"]
        assert any(
            fnmatchcase(target["server"], d["server"]) and fnmatchcase(target["namespace"], d["namespace"])
            for d in project["destinations"]
        ), application["metadata"]["name"]
        # CreateNamespace's Namespace is checked against the cluster-resource whitelist, by name.
        assert any(
            w["kind"] == "Namespace" and fnmatchcase(target["namespace"], w["name"])
            for w in project["clusterResourceWhitelist"]
        ), application["metadata"]["name"]
        assert application["spec"]["source"]["repoURL"] in project["sourceRepos"]


def test_domain_applicationsets_and_their_applications_validate_strictly(
    shipped_plans: dict[str, Plan], validators: dict[str, Any]
) -> None:
    plan = shipped_plans["mgmt"]
    spokes = [shipped_plans[s] for s in ("dev", "staging", "prod")]
    documents = [r.inputs for r in plan.by_type(APPLICATIONSET)] + rendered_applications(plan, spokes)
    assert [error for document in documents for error in problems(validators, document)] == []


def test_plan_rows_from_the_starter_are_marked_examples(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["mgmt"]
    rows = application_rows(plan, [shipped_plans[s] for s in ("dev", "staging", "prod")])
    examples = [r for r in rows if r.get("example")]
    assert {r["name"] for r in examples} == {f"payments-{s}-{env}" for s in ("api", "infra") for env in HUB_ENVS}
    for row in examples:
        assert (row["project"], row["wave"], row["chart"], row["valueFiles"]) == ("payments", None, None, [])
    assert not [r for r in rows if r["project"] == "platform" and "example" in r]


def test_adding_a_service_is_a_commit_not_a_pulumi_up(run_config: RunConfig, tmp_path: Path) -> None:
    plan = run_config(base_config("existing", "mgmt", domains=DOMAINS))
    repo = tmp_path / "payments-gitops"
    shutil.copytree(EXAMPLE_DOMAIN_REPO, repo)
    (repo / "k8s" / "prod" / "billing").mkdir()
    (repo / "k8s" / "prod" / "infra").mkdir()  # reserved for the claims: never a service
    (repo / "k8s" / "prod" / "billing" / "deep").mkdir()  # not a service folder itself
    spec = domain_appsets(plan, "payments")["payments-services"]["spec"]
    names = {a["metadata"]["name"] for a in expand(spec, SPOKES, {PAYMENTS["repoUrl"]: repo})}
    assert names == {"payments-api-dev", "payments-api-staging", "payments-api-prod", "payments-billing-prod"}


# ---------------------------------------------------------------------------------------------------------
# The expansion of git generators
# ---------------------------------------------------------------------------------------------------------


def test_git_directories_skip_hidden_ones(tmp_path: Path) -> None:
    for folder in ("k8s/dev/api", ".github/workflows", "k8s/.cache"):
        (tmp_path / folder).mkdir(parents=True)
    assert git_directories(tmp_path) == ["k8s", "k8s/dev", "k8s/dev/api"]


@pytest.mark.parametrize(
    "generator",
    [
        {"git": {"repoURL": "https://example.test/unknown", "revision": "main", "directories": [{"path": "*"}]}},
        {"git": {"repoURL": PAYMENTS["repoUrl"], "revision": "main", "files": [{"path": "*.yaml"}]}},
        {"git": {"repoURL": PAYMENTS["repoUrl"], "revision": "main", "directories": [{"path": "k8s/[a-z]*"}]}},
        {"git": {"repoURL": PAYMENTS["repoUrl"], "directories": [{"path": "k8s/*"}], "pathParamPrefix": "x"}},
    ],
)
def test_expansion_refuses_git_generators_it_cannot_read(generator: dict[str, Any]) -> None:
    spec = {
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        "generators": [generator],
        "template": {"metadata": {"name": "{{.path.basename}}"}, "spec": {}},
    }
    with pytest.raises(ExpansionError):
        expand(spec, [], {PAYMENTS["repoUrl"]: EXAMPLE_DOMAIN_REPO})


def test_a_template_naming_a_missing_segment_fails_like_argo_cd() -> None:
    assert render_string("{{index .s 1}}", {"s": ["k8s", "dev"]}) == "dev"
    with pytest.raises(TemplateError):
        render_string("{{index .s 2}}", {"s": ["k8s", "dev"]})
    with pytest.raises(TemplateError):
        render_string("{{index .m 1}}", {"m": {"a": "b"}})


def test_an_expansion_without_the_example_repository_fails_rather_than_skips(run_config: RunConfig) -> None:
    plan = run_config(base_config("existing", "mgmt", domains=DOMAINS))
    spec = copy.deepcopy(domain_appsets(plan, "payments")["payments-services"]["spec"])
    with pytest.raises(ExpansionError):
        expand(spec, SPOKES)


def test_a_standalone_laptop_deploys_its_own_env_folder_only(run_config: RunConfig) -> None:
    plan = run_config(base_config("existing", "local", domains=DOMAINS[:1]))
    examples = [r for r in application_rows(plan) if r.get("example")]
    assert [(r["name"], r["cluster"], r["namespace"]) for r in examples] == [
        ("payments-api-local", "cluster-local", "payments-local-api")
    ]
