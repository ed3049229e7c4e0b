"""Crossplane's cloud identity on mgmt (behind `Cluster.workload_identity`), its config, and the hub's Argo CD
carrying the tokens spokes trust."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from components.argocd.values import argocd_values
from components.config import ConfigError, load_stack_config
from components.config.load import DEFAULTS_FILE
from tests.conftest import CATALOG, base_config, raw_config, secret_keys_of
from tools.plan.applications import cluster_secret
from tools.plan.runner import Plan

Run = Callable[..., Plan]
DEFAULT_ROLES = yaml.safe_load(DEFAULTS_FILE.read_text())["crossplaneRoles"]
SUBJECT = "system:serviceaccount:crossplane-system:crossplane-provider"


def annotations_of_registration(plan: Plan) -> dict[str, str]:
    return cluster_secret(plan).inputs["metadata"]["annotations"]


def named(plan: Plan, type_token: str, name: str) -> Any:
    (found,) = [r for r in plan.by_type(type_token) if r.name == name]
    return found


@pytest.fixture(scope="module")
def mgmt_plans() -> dict[str, Plan]:
    from tools.plan.runner import run_program  # noqa: PLC0415 - the module-scoped fixture cannot use run_config

    plans = {}
    for cloud in ("gcp", "aws", "azure", "existing"):
        config = base_config(cloud, "mgmt")
        plans[cloud] = run_program("mgmt", raw_config(config), secret_keys_of(config))
    return plans


# ---------------------------------------------------------------------------------------------------------
# Per cloud
# ---------------------------------------------------------------------------------------------------------


def test_gcp_crossplane_is_a_google_service_account_bound_by_workload_identity(mgmt_plans: dict[str, Plan]) -> None:
    plan = mgmt_plans["gcp"]
    account = named(plan, "gcp:serviceaccount/account:Account", "cluster-mgmt-crossplane")
    email = f"{account.inputs['accountId']}@acme-platform-dev.iam.gserviceaccount.com"
    grants = [
        g for g in plan.by_type("gcp:projects/iAMMember:IAMMember") if g.inputs["member"] == f"serviceAccount:{email}"
    ]
    assert sorted(g.inputs["role"] for g in grants) == sorted(DEFAULT_ROLES["gcp"])
    binding = named(plan, "gcp:serviceaccount/iAMMember:IAMMember", "cluster-mgmt-crossplane-workload-identity")
    assert binding.inputs["role"] == "roles/iam.workloadIdentityUser"
    assert (
        binding.inputs["member"]
        == "serviceAccount:acme-platform-dev.svc.id.goog[crossplane-system/crossplane-provider]"
    )
    # The project's workload pool exists only once the cluster does.
    assert any(urn.endswith("::cluster-mgmt-cluster") for urn in binding.dependency_urns)
    assert annotations_of_registration(plan)["identity_crossplane"] == email


def test_aws_crossplane_is_an_irsa_role_of_the_clusters_own_issuer(mgmt_plans: dict[str, Plan]) -> None:
    plan = mgmt_plans["aws"]
    role = named(plan, "aws:iam/role:Role", "cluster-mgmt-crossplane-role")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    issuer = plan.outputs["oidcIssuerUrl"].removeprefix("https://")
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{issuer}"}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {f"{issuer}:aud": "sts.amazonaws.com", f"{issuer}:sub": [SUBJECT]}
    attached = [a.inputs["policyArn"] for a in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")]
    assert set(DEFAULT_ROLES["aws"]) <= set(attached)
    crossplane = [
        a for a in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if "crossplane" in a.name
    ]
    assert sorted(a.inputs["policyArn"] for a in crossplane) == sorted(DEFAULT_ROLES["aws"])
    assert annotations_of_registration(plan)["identity_crossplane"].startswith(
        "arn:aws:iam::123456789012:role/cluster-mgmt-crossplane-role"
    )


def test_azure_crossplane_is_a_managed_identity_federated_with_the_cluster(mgmt_plans: dict[str, Plan]) -> None:
    plan = mgmt_plans["azure"]
    identity = named(plan, "azure-native:managedidentity:UserAssignedIdentity", "cluster-mgmt-crossplane")
    (credential,) = plan.by_type("azure-native:managedidentity:FederatedIdentityCredential")
    assert credential.inputs["subject"] == SUBJECT
    assert credential.inputs["issuer"] == plan.outputs["oidcIssuerUrl"]
    assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
    assert credential.inputs["resourceName"] == identity.inputs["resourceName"]
    assignments = [a for a in plan.by_type("azure-native:authorization:RoleAssignment") if "crossplane" in a.name]
    assert sorted(a.inputs["roleDefinitionId"].rsplit("/", 1)[-1] for a in assignments) == sorted(
        DEFAULT_ROLES["azure"]
    )
    assert {a.inputs["scope"] for a in assignments} == {"/subscriptions/5f3c9a1e-2b7d-4c8e-9f01-6a2b3c4d5e6f"}
    client_id = annotations_of_registration(plan)["identity_crossplane"]
    assert len(client_id) == 36, "the identity's client id, what the service account annotation names"


def test_existing_mgmt_has_no_cloud_identity(mgmt_plans: dict[str, Plan]) -> None:
    plan = mgmt_plans["existing"]
    assert "identity_crossplane" not in annotations_of_registration(plan)
    assert not [r for r in plan.resources if "crossplane" in r.name and r.type != "kubernetes:core/v1:NamespacePatch"]


def test_spokes_create_no_crossplane_identity(run_config: Run) -> None:
    plan = run_config(base_config("gcp", "dev"))
    assert not [r for r in plan.resources if "crossplane" in r.name]


def test_configured_roles_replace_the_defaults(run_config: Run) -> None:
    plan = run_config(base_config("gcp", "mgmt", crossplane={"roles": ["roles/cloudsql.client"]}))
    grants = [g for g in plan.by_type("gcp:projects/iAMMember:IAMMember") if "crossplane" in g.name]
    assert [g.inputs["role"] for g in grants] == ["roles/cloudsql.client"]


# ---------------------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------------------


def load(values: dict[str, Any]) -> Any:
    return load_stack_config(raw_config(values), secret_keys_of(values), CATALOG)


@pytest.mark.parametrize("cloud", ["gcp", "aws", "azure"])
def test_defaults_per_cloud_on_mgmt_only(cloud: str) -> None:
    assert list(load(base_config(cloud, "mgmt")).crossplane.roles) == DEFAULT_ROLES[cloud]
    assert list(load(base_config(cloud, "dev")).crossplane.roles) == []
    assert list(load(base_config("existing", "mgmt")).crossplane.roles) == []


@pytest.mark.parametrize(
    ("cloud", "role", "example"),
    [
        ("gcp", "cloudsql.admin", "roles/cloudsql.admin"),
        ("aws", "AmazonS3FullAccess", "arn:aws:iam::aws:policy/"),
        ("azure", "Storage Account Contributor", "GUID"),
    ],
)
def test_a_role_of_the_wrong_shape_is_refused_in_one_line(cloud: str, role: str, example: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(base_config(cloud, "mgmt", crossplane={"roles": [role]}))
    (line,) = raised.value.lines
    assert line.startswith("platform:crossplane.roles.0:")
    assert example in line


def test_roles_off_mgmt_or_without_a_cloud_are_refused() -> None:
    with pytest.raises(ConfigError, match="applies to mgmt only"):
        load(base_config("gcp", "dev", crossplane={"roles": ["roles/storage.admin"]}))
    with pytest.raises(ConfigError, match="no cloud identity"):
        load(base_config("existing", "mgmt", crossplane={"roles": ["roles/storage.admin"]}))


# ---------------------------------------------------------------------------------------------------------
# The hub's Argo CD carries a token per spoke cloud
# ---------------------------------------------------------------------------------------------------------


def test_hub_argocd_mounts_a_token_per_cloud_where_the_hub_output_says(run_config: Run) -> None:
    plan = run_config(base_config("gcp", "mgmt"))
    announced = plan.outputs["hub"]["argocd"]
    values = argocd_values(load(base_config("gcp", "mgmt")))
    for component in ("controller", "server"):
        volumes = {v["name"]: v for v in values[component]["volumes"]}
        mounts = {m["name"]: m["mountPath"] for m in values[component]["volumeMounts"]}
        tokens = volumes["platform-federation-tokens"]["projected"]["sources"]
        mounted = {
            f"{mounts['platform-federation-tokens']}/{t['serviceAccountToken']['path']}": t["serviceAccountToken"][
                "audience"
            ]
            for t in tokens
        }
        assert mounted == {t["path"]: t["audience"] for t in announced["federatedTokens"].values()}
        assert all(t["serviceAccountToken"]["expirationSeconds"] == 3600 for t in tokens)
        assert volumes["platform-cluster-files"]["configMap"] == {
            "name": announced["clusterFilesConfigMap"],
            "optional": True,
        }
        assert mounts["platform-cluster-files"] == announced["clusterFilesDir"]
    assert announced["serviceAccounts"] == [
        values["controller"].get("serviceAccount", {}).get("name", "argocd-application-controller"),
        values["server"].get("serviceAccount", {}).get("name", "argocd-server"),
    ]


def test_a_standalone_argocd_carries_no_spoke_tokens() -> None:
    values = argocd_values(load(base_config("existing", "local")))
    assert "volumes" not in values["controller"]
    assert "volumes" not in values["server"]
