"""Spoke registration: a workload stack reads the hub stack's outputs, lets the hub's Argo CD into its own cluster
keylessly (a static token only on an existing cluster), and writes its cluster Secret into the hub's `argocd`
namespace. Run under the mocks, whose StackReference answers for the known hub stacks (tools/plan/mocks/stacks.py).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components.cluster_secret import enable_label
from components.clusters import ExecAuth
from components.gitops.hub import HUB_OUTPUT_VERSION
from components.pulumi_seams import secret
from tests.conftest import base_config, one, raw_config, secret_keys_of
from tools.plan.applications import cluster_secret
from tools.plan.mocks import aws as aws_mocks
from tools.plan.mocks import stacks
from tools.plan.mocks.gcp import project_number
from tools.plan.mocks.stacks import HUB_STACKS, HubFacts, stand_in_outputs
from tools.plan.plan import PlanConfigError, plan_stack
from tools.plan.runner import SECRET_MASK, Plan, RecordedResource, run_program

Run = Callable[..., Plan]
SECRET = "kubernetes:core/v1:Secret"
HUB = HUB_STACKS["acme/platform/mgmt"]
HUB_TOKENS = stand_in_outputs(HUB)["hub"]["argocd"]["federatedTokens"]
SUBJECTS = ["system:serviceaccount:argocd:argocd-application-controller", "system:serviceaccount:argocd:argocd-server"]
EKS_HUB = HubFacts(
    cloud="aws",
    cluster_name="cluster-mgmt",
    region="eu-west-1",
    account="123456789012",
    oidc_issuer_url="https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF",
    endpoint="https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
    egress_cidrs=("52.30.0.10/32", "52.30.0.11/32"),
    ca_data="Y2E=",
    auth=ExecAuth("aws", ("eks", "get-token", "--cluster-name", "cluster-mgmt", "--region", "eu-west-1")),
    cluster_identifier="arn:aws:eks:eu-west-1:123456789012:cluster/cluster-mgmt",
)


def registration(plan: Plan) -> RecordedResource:
    """The cluster Secret the stack writes (in the hub's `argocd` namespace)."""
    return cluster_secret(plan)


def registration_config(plan: Plan) -> dict[str, Any]:
    """The Secret's `config`, decoded from the plan's secret values (its data is masked everywhere else)."""
    for value in plan.secret_values:
        try:
            decoded = json.loads(base64.b64decode(value, validate=True))
        except ValueError:
            continue
        if isinstance(decoded, dict) and "tlsClientConfig" in decoded:
            return decoded
    raise AssertionError("no cluster Secret config among the secret values")


def spoke_kubeconfig(plan: Plan) -> dict[str, Any]:
    """The spoke cluster's own kubeconfig (the plan also holds the hub's)."""
    for value in plan.secret_values:
        if '"kind": "Config"' in value and json.loads(value)["current-context"] == plan.outputs["clusterName"]:
            return json.loads(value)
    raise AssertionError("the spoke's kubeconfig is not among the secret values")


def named(plan: Plan, type_token: str, name: str) -> RecordedResource:
    (found,) = [r for r in plan.by_type(type_token) if r.name == name]
    return found


# ---------------------------------------------------------------------------------------------------------
# The hub stack's outputs
# ---------------------------------------------------------------------------------------------------------


def test_a_hub_stack_that_does_not_exist_fails_with_one_line_naming_the_key(run_config: Run) -> None:
    # The engine fails the read of a stack the backend does not have; the program says which key to fix.
    with pytest.raises(pulumi.RunError) as raised:
        run_config(base_config("aws", "dev", topology={"hubStack": "acme/platform/nowhere"}))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("platform:topology.hubStack: stack 'acme/platform/nowhere' cannot be read")
    assert "no stack named 'acme/platform/nowhere' found" in message


def test_a_hub_stack_whose_secrets_this_stack_cannot_open_is_told_apart(
    run_config: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine opens the referenced stack's secrets manager before reading any output (pulumi/pulumi#21436), so
    # a spoke without decrypt on the hub's key fails the whole read; "name an existing hub stack" would mislead.
    class Locked(dict[str, object]):
        def get(self, *_: object) -> None:  # type: ignore[override]
            raise RuntimeError(
                "failed to decrypt: googleapi: Error 403: Permission 'cloudkms.cryptoKeyVersions.useToDecrypt' denied"
            )

    monkeypatch.setattr(stacks, "HUB_STACKS", Locked())
    with pytest.raises(pulumi.RunError) as raised:
        run_config(base_config("aws", "dev"))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("platform:topology.hubStack: stack ")
    assert "cannot open the hub stack's secrets" in message and "decrypt on the hub stack's secrets key" in message
    assert "name an existing hub stack" not in message


def test_a_hub_stack_without_the_hub_output_is_told_apart(run_config: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = stand_in_outputs(HUB)
    del outputs["hub"]
    monkeypatch.setitem(HUB_STACKS, "acme/platform/empty", HUB)
    monkeypatch.setattr(stacks, "stand_in_outputs", lambda facts: outputs)
    with pytest.raises(pulumi.RunError) as raised:
        run_config(base_config("aws", "dev", topology={"hubStack": "acme/platform/empty"}))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("platform:topology.hubStack: stack 'acme/platform/empty' has no 'hub' output")
    assert "run `pulumi up` on the hub stack first" in message


def test_an_undecryptable_hub_output_is_told_apart_from_a_missing_one(
    run_config: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine elides a secret it cannot decrypt but still lists its name among the secret outputs.
    outputs = stand_in_outputs(HUB)
    outputs["hub"] = secret(None)
    monkeypatch.setitem(HUB_STACKS, "acme/platform/sealed", HUB)
    monkeypatch.setattr(stacks, "stand_in_outputs", lambda facts: outputs)
    with pytest.raises(pulumi.RunError) as raised:
        run_config(base_config("gcp", "dev", topology={"hubStack": "acme/platform/sealed"}))
    message = str(raised.value)
    assert "has a 'hub' output this stack cannot decrypt" in message
    assert "secrets provider" in message


def test_a_cloud_hub_needs_no_secret_output(run_config: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    # The exec kubeconfig carries no credential: a spoke builds it from the plain document.
    outputs = stand_in_outputs(HUB)
    del outputs["kubeconfig"]
    monkeypatch.setitem(HUB_STACKS, "acme/platform/plain", HUB)
    monkeypatch.setattr(stacks, "stand_in_outputs", lambda facts: outputs)
    plan = run_config(base_config("aws", "dev", topology={"hubStack": "acme/platform/plain"}))
    hub_kubeconfig = next(
        json.loads(value)
        for value in plan.secret_values
        if '"kind": "Config"' in value and json.loads(value)["current-context"] == HUB.cluster_name
    )
    (cluster,) = hub_kubeconfig["clusters"]
    assert cluster["cluster"] == {"server": HUB.endpoint}, "the DNS endpoint: no CA, nothing else"
    assert hub_kubeconfig["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"


def test_the_plan_tool_reports_a_missing_hub_as_a_config_error(tmp_path: Any) -> None:
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(
        "config:\n  platform:env: dev\n  platform:cloud: azure\n  platform:region: westeurope\n"
        "  platform:cluster: {kubernetesVersion: '1.33', azure: {}}\n"
        "  platform:topology: {hubStack: other-org/platform/mgmt}\n"
        "  platform:gitops: {repoUrl: https://github.com/acme/platform-gitops}\n"
    )
    with pytest.raises(PlanConfigError) as raised:
        plan_stack("dev", stack_file)
    (line,) = raised.value.lines
    assert "platform:topology.hubStack" in line
    assert "other-org/platform/mgmt" in line


def test_an_existing_cluster_hub_without_its_kubeconfig_output_is_refused(
    run_config: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind_hub = HubFacts("existing", "cluster-mgmt", "local", "", "", "https://127.0.0.1:6443")
    outputs = stand_in_outputs(kind_hub)
    del outputs["kubeconfig"]
    monkeypatch.setitem(HUB_STACKS, "acme/platform/half", kind_hub)
    monkeypatch.setattr(stacks, "stand_in_outputs", lambda facts: outputs)
    with pytest.raises(pulumi.RunError, match=r"has no 'kubeconfig' output; run `pulumi up` on the hub stack first"):
        run_config(base_config("existing", "dev", topology={"hubStack": "acme/platform/half"}))


def test_a_hub_output_of_another_version_is_refused(run_config: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = stand_in_outputs(HUB)
    outputs["hub"] = {**outputs["hub"], "version": HUB_OUTPUT_VERSION + 1}
    monkeypatch.setitem(HUB_STACKS, "acme/platform/newer", HUB)
    monkeypatch.setattr(stacks, "stand_in_outputs", lambda facts: outputs)
    with pytest.raises(pulumi.RunError, match=f"version {HUB_OUTPUT_VERSION + 1}, this program reads version"):
        run_config(base_config("gcp", "dev", topology={"hubStack": "acme/platform/newer"}))


def test_a_hub_with_no_oidc_issuer_cannot_be_trusted_by_a_cloud_spoke(
    run_config: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind_hub = HubFacts("existing", "cluster-mgmt", "local", "", "", "https://127.0.0.1:6443")
    monkeypatch.setitem(HUB_STACKS, "acme/platform/kind", kind_hub)
    with pytest.raises(pulumi.RunError) as raised:
        run_config(base_config("azure", "dev", topology={"hubStack": "acme/platform/kind"}))
    assert "has no public OIDC issuer" in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("stack", ["mgmt"])
def test_the_stand_in_hub_is_what_the_shipped_hub_exports(stack: str, shipped_plans: dict[str, Plan]) -> None:
    exported = shipped_plans[stack].outputs
    stand_in = stand_in_outputs(HUB_STACKS["example-org/platform/mgmt"])
    assert exported["hub"] == stand_in["hub"]
    assert exported["kubeconfig"] == SECRET_MASK, "the hub's kubeconfig is a secret output"
    assert "kubeconfig" not in json.dumps(exported["hub"]), "the plain hub output carries no credential"


def test_the_stand_in_of_the_tests_hub_is_what_that_config_exports(run_config: Run) -> None:
    exported = run_config(base_config("gcp", "mgmt")).outputs["hub"]
    assert exported == stand_in_outputs(HUB)["hub"]
    tokens = exported["argocd"]["federatedTokens"]
    assert {cloud: token["audience"] for cloud, token in tokens.items()} == {
        "aws": "sts.amazonaws.com",
        "azure": "api://AzureADTokenExchange",
        "gcp": "sts.googleapis.com",
    }


def test_the_shipped_spokes_plan_with_a_noted_stand_in_hub(shipped_plans: dict[str, Plan]) -> None:
    for stack in ("dev", "staging", "prod"):
        assert any("stand-in hub outputs" in note for note in shipped_plans[stack].notes), stack
    assert not any("stand-in" in note for note in shipped_plans["mgmt"].notes)


# ---------------------------------------------------------------------------------------------------------
# The cluster Secret, whatever the cloud
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["gcp", "aws", "azure", "existing"])
def spoke(request: pytest.FixtureRequest) -> tuple[str, Plan]:
    config = base_config(request.param, "dev")
    return request.param, run_program("dev", raw_config(config), secret_keys_of(config))


def test_the_registration_lands_in_the_hubs_argocd_namespace(spoke: tuple[str, Plan]) -> None:
    _, plan = spoke
    secret = registration(plan)
    metadata = secret.inputs["metadata"]
    assert (metadata["name"], metadata["namespace"]) == ("cluster-dev", "argocd")
    assert plan.name_of(secret.provider_urn) == "hub-k8s-id", "written with the hub's provider"
    hub_provider = named(plan, "pulumi:providers:kubernetes", "hub-k8s")
    # Server-side apply: no last-applied-configuration annotation can copy the data (CVE-2023-40029).
    assert hub_provider.inputs["enableServerSideApply"] == "true"
    assert hub_provider.inputs["kubeconfig"] == SECRET_MASK
    assert secret.inputs["data"] == dict.fromkeys(["config", "name", "server"], SECRET_MASK), "all a secret"
    assert "stringData" not in secret.inputs
    assert not any("last-applied" in key for key in metadata.get("annotations") or {})
    assert metadata["annotations"]["server"] == plan.outputs["endpoint"]


def test_labels_come_from_the_typed_metadata(spoke: tuple[str, Plan]) -> None:
    cloud, plan = spoke
    labels = registration(plan).inputs["metadata"]["labels"]
    region = {"gcp": "europe-west1", "aws": "eu-west-1", "azure": "westeurope", "existing": "local"}[cloud]
    assert labels["argocd.argoproj.io/secret-type"] == "cluster"
    assert (labels["env"], labels["cloud"], labels["region"], labels["cluster-name"]) == (
        "dev",
        cloud,
        region,
        "cluster-dev",
    )
    # A spoke runs Tier A services; Tier B (mgmt only) stays off unless the stack turns one on.
    assert labels[enable_label("cert-manager")] == "true"
    assert labels[enable_label("loki")] == "false"


def test_tls_is_verified_against_the_spokes_ca(spoke: tuple[str, Plan]) -> None:
    cloud, plan = spoke
    tls = registration_config(plan)["tlsClientConfig"]
    assert tls["insecure"] is False
    assert tls["caData"], "an empty CA would fall back to the hub's system roots"
    if cloud == "existing":
        # No kubeconfig file in the test: the CA the token controller put beside the token.
        assert base64.b64decode(tls["caData"]).startswith(b"-----BEGIN CERTIFICATE-----")
    elif cloud == "gcp":
        # The hub uses the IP endpoint and the cluster CA; the kubeconfig uses the DNS endpoint, publicly trusted.
        assert base64.b64decode(tls["caData"]).startswith(b"-----BEGIN CERTIFICATE-----")
        assert "certificate-authority-data" not in spoke_kubeconfig(plan)["clusters"][0]["cluster"]
    else:
        assert tls["caData"] == spoke_kubeconfig(plan)["clusters"][0]["cluster"]["certificate-authority-data"]


def test_the_data_holds_name_server_and_config(spoke: tuple[str, Plan]) -> None:
    cloud, plan = spoke
    decoded = set()
    for value in plan.secret_values:
        try:
            decoded.add(base64.b64decode(value, validate=True).decode())
        except ValueError:
            continue
    assert "cluster-dev" in decoded
    # An existing cluster's endpoint comes from a kubeconfig file the test machine does not have.
    assert plan.outputs["endpoint"] in decoded or (cloud == "existing" and not plan.outputs["endpoint"])


def test_keyless_everywhere_but_an_existing_cluster(spoke: tuple[str, Plan]) -> None:
    cloud, plan = spoke
    config = registration_config(plan)
    if cloud == "existing":
        assert set(config) == {"bearerToken", "tlsClientConfig"}
        assert config["bearerToken"].startswith("eyJ"), "the service account's token"
        return
    assert "bearerToken" not in config
    assert "awsAuthConfig" not in config
    exec_config = config["execProviderConfig"]
    assert exec_config["command"] == "argocd-k8s-auth"
    assert exec_config["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert exec_config["args"][0] == {"gcp": "gcp", "aws": "aws", "azure": "azure"}[cloud]
    # Nothing secret in the exec environment: ids and file paths only.
    assert not any("SECRET" in key or "KEY_ID" in key for key in exec_config["env"])


def test_aws_spoke_assumes_a_role_with_the_hubs_own_token(run_config: Run) -> None:
    plan = run_config(base_config("aws", "dev"))
    exec_config = registration_config(plan)["execProviderConfig"]
    assert exec_config["args"] == ["aws", "--cluster-name", "cluster-dev"]
    env = exec_config["env"]
    assert env["AWS_WEB_IDENTITY_TOKEN_FILE"] == HUB_TOKENS["aws"]["path"]
    assert env["AWS_REGION"] == "eu-west-1"
    role = named(plan, "aws:iam/role:Role", "cluster-dev-argocd-hub-role")
    assert env["AWS_ROLE_ARN"].startswith("arn:aws:iam::123456789012:role/cluster-dev-argocd-hub-role")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    issuer = HUB.oidc_issuer_url.removeprefix("https://")
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{issuer}"}
    assert statement["Condition"]["StringEquals"] == {f"{issuer}:aud": "sts.amazonaws.com", f"{issuer}:sub": SUBJECTS}
    provider = named(plan, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "cluster-dev-hub-oidc")
    assert provider.inputs["url"] == HUB.oidc_issuer_url
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    entry = named(plan, "aws:eks/accessEntry:AccessEntry", "cluster-dev-argocd-hub")
    association = named(
        plan, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "cluster-dev-argocd-hub-cluster-admin"
    )
    assert entry.inputs["principalArn"] == association.inputs["principalArn"] == env["AWS_ROLE_ARN"]
    assert association.inputs["policyArn"].endswith(":cluster-access-policy/AmazonEKSClusterAdminPolicy")
    assert association.inputs["accessScope"] == {"type": "cluster"}


def test_aws_spokes_share_one_oidc_provider_per_account(run_config: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    created = named(
        run_config(base_config("aws", "dev")),
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "cluster-dev-hub-oidc",
    )
    # The first spoke creates it, names itself its owner, and leaves it behind when destroyed (others use it).
    assert created.retain_on_delete
    assert created.inputs["tags"]["platform-owner-stack"] == "platform/test"
    # A second spoke in the same account finds it, owned by another stack, and only references it.
    monkeypatch.setitem(aws_mocks.OIDC_PROVIDERS, HUB.oidc_issuer_url, {"platform-owner-stack": "platform/staging"})
    plan = run_config(base_config("aws", "dev"))
    assert [r.name for r in plan.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")] == ["cluster-dev-oidc"]
    role = named(plan, "aws:iam/role:Role", "cluster-dev-argocd-hub-role")
    issuer = HUB.oidc_issuer_url.removeprefix("https://")
    principal = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]
    assert principal == {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{issuer}"}
    # The owner keeps declaring it, so its own next `pulumi up` does not drop it from its state.
    monkeypatch.setitem(aws_mocks.OIDC_PROVIDERS, HUB.oidc_issuer_url, {"platform-owner-stack": "platform/test"})
    owner = run_config(base_config("aws", "dev"))
    assert "cluster-dev-hub-oidc" in {
        r.name for r in owner.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    }


def test_aws_spoke_of_an_eks_hub_in_the_same_account_reuses_the_hubs_provider(
    run_config: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(HUB_STACKS, "acme/platform/mgmt-eks", EKS_HUB)
    # The hub's own cluster created the provider for its issuer (no owner tag of a spoke).
    monkeypatch.setitem(aws_mocks.OIDC_PROVIDERS, EKS_HUB.oidc_issuer_url, {"env": "mgmt"})
    plan = run_config(base_config("aws", "dev", topology={"hubStack": "acme/platform/mgmt-eks"}))
    assert not [r for r in plan.by_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") if "hub" in r.name]
    assert (
        registration_config(plan)["execProviderConfig"]["env"]["AWS_WEB_IDENTITY_TOKEN_FILE"]
        == (HUB_TOKENS["aws"]["path"])
    )


def test_gcp_spoke_federates_the_hubs_issuer_and_impersonates_an_account(run_config: Run) -> None:
    plan = run_config(base_config("gcp", "dev"))
    number = project_number("acme-platform-dev")
    pool = one(plan, "gcp:iam/workloadIdentityPool:WorkloadIdentityPool")
    provider = one(plan, "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
    assert pool.inputs["workloadIdentityPoolId"] == "argocd-cluster-mgmt"
    assert provider.inputs["oidc"] == {"issuerUri": HUB.oidc_issuer_url, "allowedAudiences": ["sts.googleapis.com"]}
    for subject in SUBJECTS:
        assert f"'{subject}'" in provider.inputs["attributeCondition"]
    members = {m.inputs["member"]: m for m in plan.by_type("gcp:serviceaccount/iAMMember:IAMMember")}
    pool_name = f"projects/{number}/locations/global/workloadIdentityPools/argocd-cluster-mgmt"
    for subject in SUBJECTS:
        member = members[f"principal://iam.googleapis.com/{pool_name}/subject/{subject}"]
        assert member.inputs["role"] == "roles/iam.workloadIdentityUser"
    email = "argocd-cluster-mgmt@acme-platform-dev.iam.gserviceaccount.com"
    viewer = named(plan, "gcp:projects/iAMMember:IAMMember", "cluster-dev-argocd-hub-cluster-viewer")
    assert (viewer.inputs["role"], viewer.inputs["member"]) == (
        "roles/container.clusterViewer",
        f"serviceAccount:{email}",
    )
    binding = one(plan, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    assert binding.inputs["roleRef"]["name"] == "cluster-admin"
    assert binding.inputs["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": email}]
    assert plan.name_of(binding.provider_urn) == "cluster-dev-k8s-id", "RBAC of the spoke, on the spoke"
    # The credential configuration reaches the hub as a file named in the exec environment.
    env = registration_config(plan)["execProviderConfig"]["env"]
    assert env == {"GOOGLE_APPLICATION_CREDENTIALS": "/etc/platform/clusters/cluster-dev.json"}
    patch = one(plan, "kubernetes:core/v1:ConfigMapPatch")
    assert patch.inputs["metadata"] == {"name": "argocd-cluster-files", "namespace": "argocd"}
    assert plan.name_of(patch.provider_urn) == "hub-k8s-id"
    credentials = json.loads(patch.inputs["data"]["cluster-dev.json"])
    assert credentials["type"] == "external_account"
    assert credentials["audience"] == f"//iam.googleapis.com/{pool_name}/providers/argocd-hub"
    assert credentials["credential_source"] == {"file": HUB_TOKENS["gcp"]["path"], "format": {"type": "text"}}
    assert credentials["service_account_impersonation_url"].endswith(f"/serviceAccounts/{email}:generateAccessToken")
    assert not {"private_key", "client_secret"} & set(credentials)


def test_azure_spoke_trusts_the_hubs_service_accounts_by_federated_credentials(run_config: Run) -> None:
    plan = run_config(base_config("azure", "dev"))
    identity = named(plan, "azure-native:managedidentity:UserAssignedIdentity", "cluster-dev-argocd-hub")
    credentials = plan.by_type("azure-native:managedidentity:FederatedIdentityCredential")
    assert sorted(c.inputs["subject"] for c in credentials) == SUBJECTS
    for credential in credentials:
        assert credential.inputs["issuer"] == HUB.oidc_issuer_url
        assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
        assert credential.inputs["resourceName"] == identity.inputs["resourceName"]
    # Entra ID refuses concurrent writes of one identity's credentials: the second waits for the first.
    first, second = credentials
    assert first.urn in second.dependency_urns
    access = named(plan, "azure-native:authorization:RoleAssignment", "cluster-dev-argocd-hub-cluster-admin")
    assert access.inputs["roleDefinitionId"].endswith("/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b")
    assert access.inputs["scope"].endswith("/providers/Microsoft.ContainerService/managedClusters/cluster-dev")
    env = registration_config(plan)["execProviderConfig"]["env"]
    assert env["AAD_LOGIN_METHOD"] == "workloadidentity"
    assert env["AZURE_FEDERATED_TOKEN_FILE"] == HUB_TOKENS["azure"]["path"]
    assert env["AZURE_TENANT_ID"] == "72f988bf-0000-4a1b-9c2d-3e4f5a6b7c8d"
    assert len(env["AZURE_CLIENT_ID"]) == 36


def test_existing_spoke_gets_a_service_account_token_kept_secret(run_config: Run) -> None:
    plan = run_config(base_config("existing", "dev"))
    account = one(plan, "kubernetes:core/v1:ServiceAccount")
    binding = one(plan, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    token = named(plan, SECRET, "cluster-dev-argocd-manager-token")
    assert account.inputs["metadata"]["namespace"] == "kube-system"
    assert binding.inputs["subjects"] == [
        {"kind": "ServiceAccount", "name": "argocd-manager", "namespace": "kube-system"}
    ]
    assert token.inputs["type"] == "kubernetes.io/service-account-token"
    assert token.inputs["metadata"]["annotations"] == {"kubernetes.io/service-account.name": "argocd-manager"}
    assert {plan.name_of(r.provider_urn) for r in (account, binding, token)} == {"cluster-dev-k8s-id"}
    bearer = registration_config(plan)["bearerToken"]
    assert set(registration(plan).inputs["data"].values()) == {SECRET_MASK}, "the token travels only inside it"
    assert bearer not in json.dumps([r.inputs for r in plan.resources]) + json.dumps(plan.outputs)


# ---------------------------------------------------------------------------------------------------------
# Per-stack service selection
# ---------------------------------------------------------------------------------------------------------


def test_a_disabled_service_is_off_on_that_spoke_only(run_config: Run, shipped_plans: dict[str, Plan]) -> None:
    spoke = run_config(base_config("azure", "dev", services={"kong": {"enabled": False}}))
    labels = registration(spoke).inputs["metadata"]["labels"]
    assert labels[enable_label("kong")] == "false"
    assert labels[enable_label("cert-manager")] == "true", "other Tier A services stay on"
    other = run_config(base_config("azure", "dev"))
    assert registration(other).inputs["metadata"]["labels"][enable_label("kong")] == "true"
    hub_labels = registration(shipped_plans["mgmt"]).inputs["metadata"]["labels"]
    assert hub_labels[enable_label("kong")] == "true", "the hub's own registration is untouched"
