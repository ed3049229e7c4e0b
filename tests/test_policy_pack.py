"""The CrossGuard policy pack (policy/): each policy's validation called directly, as the SDK's own tests do
(pulumi-policy sdk/python/lib/test/test_policy.py), then every policy over every shipped stack's plan."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from inspect import isawaitable
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from components.config.load import envs_named_by
from components.config.model import ENVIRONMENTS
from policy.policies import POLICIES, RULES
from policy.policies import common as pack_common
from policy.policies.common import get, items, level_for
from policy.policies.production import CRITICAL_RESOURCES, PROTECTED, production_protected
from tests.conftest import base_config
from tools.plan.runner import Plan, RecordedResource

POLICY_DIR = Path(__file__).resolve().parents[1] / "policy"
NOT_APPLICABLE = None


@pytest.fixture(autouse=True)
def _no_stack_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """The env comes from the URN in these tests, never from the `PULUMI_*` of the surrounding shell."""
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    monkeypatch.delenv("PULUMI_STACK", raising=False)


def opts(protect: bool = False, parent: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)


def resource_args(type_: str, props: dict[str, Any], stack: str = "prod", name: str = "r") -> ResourceValidationArgs:
    urn = f"urn:pulumi:{stack}::platform::{type_}::{name}"
    return ResourceValidationArgs(type_, unknown_checking_proxy(props), urn, name, opts(), None)


def _run(result: Any) -> None:
    if isawaitable(result):
        loop = asyncio.new_event_loop()
        loop.run_until_complete(result)
        loop.close()


def violations(policy: Any, args: ResourceValidationArgs | StackValidationArgs) -> list[str] | None:
    """The messages `policy` reports, or None when it declares itself not applicable."""
    found: list[str] = []
    try:
        _run(policy.validate(args, lambda message, urn=None: found.append(message)))
    except _NotApplicableError:
        return NOT_APPLICABLE
    return found


def by_name(name: str) -> Any:
    return next(p for p in POLICIES if p.name == name)


def check(name: str, type_: str, props: dict[str, Any], stack: str = "prod") -> list[str] | None:
    return violations(by_name(name), resource_args(type_, props, stack))


# --------------------------------------------------------------------------------------------------------------------
# Passing and failing cases, per policy
# --------------------------------------------------------------------------------------------------------------------
GKE = "gcp:container/cluster:Cluster"
GKE_POOL = "gcp:container/nodePool:NodePool"
EKS = "aws:eks/cluster:Cluster"
EKS_GROUP = "aws:eks/nodeGroup:NodeGroup"
AKS = "azure-native:containerservice:ManagedCluster"
AKS_POOL = "azure-native:containerservice:AgentPool"
RELEASE = "kubernetes:helm.sh/v3:Release"
APP = "kubernetes:argoproj.io/v1alpha1:Application"
APPSET = "kubernetes:argoproj.io/v1alpha1:ApplicationSet"
PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"

GOOD_GKE: dict[str, Any] = {
    "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": False},
    "masterAuthorizedNetworksConfig": {
        "cidrBlocks": [{"cidrBlock": "203.0.113.0/24"}],
        "gcpPublicCidrsAccessEnabled": False,
    },
    "workloadIdentityConfig": {"workloadPool": "acme.svc.id.goog"},
    "databaseEncryption": {"state": "ENCRYPTED", "keyName": "projects/acme/locations/x/keyRings/r/cryptoKeys/k"},
    "releaseChannel": {"channel": "REGULAR"},
    "enableLegacyAbac": False,
    "masterAuth": {"clientCertificateConfig": {"issueClientCertificate": False}},
    "datapathProvider": "ADVANCED_DATAPATH",
    "loggingService": "logging.googleapis.com/kubernetes",
    "monitoringService": "monitoring.googleapis.com/kubernetes",
    "enableShieldedNodes": True,
}
GOOD_GKE_POOL: dict[str, Any] = {
    "management": {"autoRepair": True, "autoUpgrade": True},
    "nodeConfig": {
        "imageType": "COS_CONTAINERD",
        "serviceAccount": "cluster-prod-nodes@acme.iam.gserviceaccount.com",
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True},
        "workloadMetadataConfig": {"mode": "GKE_METADATA"},
    },
}
GOOD_EKS: dict[str, Any] = {
    "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
    "encryptionConfig": {"provider": {"keyArn": "arn:aws:kms:eu-west-1:1:key/k"}, "resources": ["secrets"]},
    "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
}
GOOD_AKS: dict[str, Any] = {
    "apiServerAccessProfile": {"authorizedIPRanges": ["203.0.113.0/24"]},
    "disableLocalAccounts": True,
    "enableRBAC": True,
    "aadProfile": {"managed": True, "enableAzureRBAC": True},
    "networkProfile": {"networkPolicy": "cilium"},
    "agentPoolProfiles": [{"name": "system", "enableNodePublicIP": False}],
}


def with_(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `base` with the dotted `path` set to `value` (or removed, for `...`)."""
    result = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = result
    for key in parents:
        node = node.setdefault(key, {})
    if value is ...:
        node.pop(last, None)
    else:
        node[last] = value
    return result


CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], str]] = [
    # (policy, type, passing props, failing props, a word the failure names)
    (
        "gke-private-cluster",
        GKE,
        GOOD_GKE,
        with_(GOOD_GKE, "masterAuthorizedNetworksConfig.cidrBlocks", [{"cidrBlock": "0.0.0.0/0"}]),
        "0.0.0.0/0",
    ),
    ("gke-private-cluster", GKE, GOOD_GKE, with_(GOOD_GKE, "privateClusterConfig.enablePrivateNodes", False), "Nodes"),
    ("gke-private-cluster", GKE, GOOD_GKE, with_(GOOD_GKE, "masterAuthorizedNetworksConfig", ...), "every network"),
    ("gke-workload-identity", GKE, GOOD_GKE, with_(GOOD_GKE, "workloadIdentityConfig", ...), "workloadPool"),
    ("gke-secrets-encryption", GKE, GOOD_GKE, with_(GOOD_GKE, "databaseEncryption.state", "DECRYPTED"), "ENCRYPTED"),
    ("gke-secrets-encryption", GKE, GOOD_GKE, with_(GOOD_GKE, "databaseEncryption.keyName", ""), "keyName"),
    ("gke-cluster-baseline", GKE, GOOD_GKE, with_(GOOD_GKE, "enableLegacyAbac", True), "Abac"),
    ("gke-cluster-baseline", GKE, GOOD_GKE, with_(GOOD_GKE, "datapathProvider", "LEGACY_DATAPATH"), "NetworkPolicy"),
    (
        "gke-node-pool-hardening",
        GKE_POOL,
        GOOD_GKE_POOL,
        with_(GOOD_GKE_POOL, "nodeConfig.workloadMetadataConfig.mode", "GCE_METADATA"),
        "GKE_METADATA",
    ),
    (
        "gke-node-pool-hardening",
        GKE_POOL,
        GOOD_GKE_POOL,
        with_(GOOD_GKE_POOL, "nodeConfig.shieldedInstanceConfig.enableSecureBoot", False),
        "SecureBoot",
    ),
    (
        "gke-node-pool-hardening",
        GKE_POOL,
        GOOD_GKE_POOL,
        with_(GOOD_GKE_POOL, "management.autoRepair", False),
        "Repair",
    ),
    (
        "gke-node-pool-hardening",
        GKE_POOL,
        GOOD_GKE_POOL,
        with_(GOOD_GKE_POOL, "nodeConfig.serviceAccount", "123-compute@developer.gserviceaccount.com"),
        "default",
    ),
    ("eks-endpoint-access", EKS, GOOD_EKS, with_(GOOD_EKS, "vpcConfig.publicAccessCidrs", ["::/0"]), "::/0"),
    ("eks-endpoint-access", EKS, GOOD_EKS, with_(GOOD_EKS, "vpcConfig.publicAccessCidrs", ...), "AWS default"),
    ("eks-secrets-encryption", EKS, GOOD_EKS, with_(GOOD_EKS, "encryptionConfig", ...), "secrets"),
    (
        "eks-control-plane-logs",
        EKS,
        GOOD_EKS,
        with_(GOOD_EKS, "enabledClusterLogTypes", ["api", "audit"]),
        "authenticator, controllerManager, scheduler",
    ),
    (
        "eks-node-group-no-open-ssh",
        EKS_GROUP,
        {"remoteAccess": {"ec2SshKey": "ops", "sourceSecurityGroupIds": ["sg-1"]}},
        {"remoteAccess": {"ec2SshKey": "ops"}},
        "0.0.0.0/0",
    ),
    ("aks-api-access", AKS, GOOD_AKS, with_(GOOD_AKS, "apiServerAccessProfile", ...), "every network"),
    (
        "aks-api-access",
        AKS,
        GOOD_AKS,
        with_(GOOD_AKS, "apiServerAccessProfile.authorizedIPRanges", ["0.0.0.0/0"]),
        "admits 0.0.0.0/0: list only the networks that need the API",
    ),
    ("aks-identity", AKS, GOOD_AKS, with_(GOOD_AKS, "disableLocalAccounts", False), "disableLocalAccounts"),
    ("aks-identity", AKS, GOOD_AKS, with_(GOOD_AKS, "aadProfile.enableAzureRBAC", False), "Azure RBAC"),
    ("aks-network-policy", AKS, GOOD_AKS, with_(GOOD_AKS, "networkProfile.networkPolicy", "none"), "networkPolicy"),
    (
        "aks-no-node-public-ip",
        AKS_POOL,
        {"enableNodePublicIP": False},
        {"enableNodePublicIP": True},
        "enableNodePublicIP",
    ),
    (
        "kms-key-rotation",
        "gcp:kms/cryptoKey:CryptoKey",
        {"rotationPeriod": "7776000s"},
        {"rotationPeriod": "31536000s"},
        "90 days",
    ),
    ("kms-key-rotation", "aws:kms/key:Key", {"enableKeyRotation": True}, {}, "enableKeyRotation"),
    ("chart-version-pinned", RELEASE, {"chart": "argo-cd", "version": "10.1.1"}, {"chart": "argo-cd"}, "None"),
    ("chart-version-pinned", RELEASE, {"chart": "x", "version": "v1.18.2"}, {"chart": "x", "version": "^1.2.0"}, "^1"),
    (
        "chart-version-pinned",
        APP,
        {
            "spec": {
                "sources": [{"chart": "kong", "targetRevision": "2.51.0"}, {"repoURL": "g", "targetRevision": "main"}]
            }
        },
        {"spec": {"source": {"chart": "kong", "targetRevision": "HEAD"}}},
        "HEAD",
    ),
    (
        "chart-version-pinned",
        APPSET,
        {
            "spec": {
                "template": {"spec": {"source": {"chart": "kong", "targetRevision": "{{.metadata.annotations.v}}"}}}
            }
        },
        {"spec": {"template": {"spec": {"source": {"chart": "kong", "targetRevision": "*"}}}}},
        "'*'",
    ),
    (
        "no-plaintext-secrets",
        "kubernetes:core/v1:ConfigMap",
        {"data": {"url": "https://x", "tokenTTL": "1h"}, "metadata": {"annotations": {"token": "$argocd.token"}}},
        {"data": {"db-password": "hunter2"}},
        "data.db-password",
    ),
    (
        "no-plaintext-secrets",
        APP,
        {"spec": {"source": {"helm": {"valuesObject": {"auth": {"existingSecret": "creds", "password": ""}}}}}},
        {"spec": {"source": {"helm": {"values": "-----BEGIN RSA PRIVATE KEY-----\nMIIE..."}}}},
        "private key",
    ),
    (
        "no-plaintext-secrets",
        "aws:ec2/vpc:Vpc",
        {"tags": {"env": "prod"}},
        {"tags": {"deploy-key": "AKIAIOSFODNN7EXAMPLE"}},
        "AWS access key",
    ),
    (
        "argocd-domain-project-least-privilege",
        PROJECT,
        {"metadata": {"name": "payments"}, "spec": {"destinations": [{"namespace": "payments-prod-*", "name": "*"}]}},
        {"metadata": {"name": "payments"}, "spec": {"destinations": [{"namespace": "argocd", "name": "in-cluster"}]}},
        "admin",
    ),
    (
        "argocd-domain-project-least-privilege",
        PROJECT,
        {"metadata": {"name": "platform"}, "spec": {"clusterResourceWhitelist": [{"group": "*", "kind": "*"}]}},
        {"metadata": {"name": "payments"}, "spec": {"clusterResourceWhitelist": [{"group": "*", "kind": "*"}]}},
        "cluster-scoped",
    ),
    (
        "argocd-domain-project-least-privilege",
        PROJECT,
        {
            "metadata": {"name": "payments"},
            "spec": {"clusterResourceWhitelist": [{"group": "", "kind": "Namespace", "name": "payments-prod-*"}]},
        },
        {
            "metadata": {"name": "payments"},
            "spec": {"clusterResourceWhitelist": [{"group": "", "kind": "Namespace", "name": "*"}]},
        },
        "own namespaces",
    ),
    (
        "argocd-domain-project-least-privilege",
        PROJECT,
        {"metadata": {"name": "payments"}, "spec": {"sourceRepos": ["https://github.com/acme/payments-gitops"]}},
        {"metadata": {"name": "payments"}, "spec": {"destinations": [{"namespace": "*"}], "sourceRepos": ["*"]}},
        "every namespace",
    ),
    (
        "argocd-server-not-public",
        RELEASE,
        {"chart": "argo-cd", "values": {"server": {"ingress": {"enabled": True, "tls": True}}}},
        {"chart": "argo-cd", "values": {"server": {"service": {"type": "LoadBalancer"}}}},
        "LoadBalancer",
    ),
    (
        "argocd-server-not-public",
        RELEASE,
        {"chart": "argo-cd", "values": {"server": {"ingress": {"enabled": True, "extraTls": [{"hosts": ["a"]}]}}}},
        {"chart": "argo-cd", "values": {"server": {"ingress": {"enabled": True}}}},
        "no TLS",
    ),
]


@pytest.mark.parametrize(
    ("name", "type_", "good", "bad", "named"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_policy_passes_good_and_reports_bad(
    name: str, type_: str, good: dict[str, Any], bad: dict[str, Any], named: str
) -> None:
    assert check(name, type_, good) == []
    found = check(name, type_, bad)
    assert found, f"{name} reported nothing for {bad}"
    assert any(named.lower() in message.lower() for message in found), found


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    assert {rule.name for rule in RULES} == {case[0] for case in CASES}


def test_each_rule_is_mandatory_in_prod_and_staging_advisory_in_dev_and_mgmt_and_exempt_locally() -> None:
    bad = with_(GOOD_EKS, "vpcConfig.publicAccessCidrs", ["0.0.0.0/0"])
    mandatory, advisory = by_name("eks-endpoint-access"), by_name("eks-endpoint-access-advisory")
    assert (mandatory.enforcement_level, advisory.enforcement_level) == (
        EnforcementLevel.MANDATORY,
        EnforcementLevel.ADVISORY,
    )
    for stack in ("prod", "staging", "eu-prod-2", "sandbox"):  # a name naming no env fails closed
        assert violations(mandatory, resource_args(EKS, bad, stack))
        assert violations(advisory, resource_args(EKS, bad, stack)) is NOT_APPLICABLE
    for stack in ("dev", "mgmt"):
        assert violations(mandatory, resource_args(EKS, bad, stack)) is NOT_APPLICABLE
        assert violations(advisory, resource_args(EKS, bad, stack))
    for policy in (mandatory, advisory):
        assert violations(policy, resource_args(EKS, bad, "local")) is NOT_APPLICABLE


@pytest.mark.parametrize(
    ("stack", "config_env", "expected"),
    [
        ("prod", "local", "mandatory"),  # the config cannot switch the pack off...
        ("prod", "dev", "mandatory"),  # ...nor down to advisory
        ("acme/platform/prod-eu", "dev", "mandatory"),  # a name naming prod as a word
        ("dev", "prod", "mandatory"),  # but it can tighten it
        ("dev", "dev", "advisory"),
        ("team-sandbox", "local", "mandatory"),  # a name that names no environment fails closed
        ("local", "local", None),
    ],
)
def test_the_stricter_of_stack_name_and_config_decides(
    monkeypatch: pytest.MonkeyPatch, stack: str, config_env: str, expected: str | None
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"platform:env": config_env, "aws:region": "eu-west-1"}))
    bad = with_(GOOD_EKS, "vpcConfig.publicAccessCidrs", ["0.0.0.0/0"])
    found = {
        level: violations(by_name(name), resource_args(EKS, bad, stack.rsplit("/", 1)[-1]))
        for level, name in (("mandatory", "eks-endpoint-access"), ("advisory", "eks-endpoint-access-advisory"))
    }
    assert {level for level, messages in found.items() if messages} == ({expected} if expected else set())


def test_pulumi_stack_counts_like_the_urn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_STACK", "acme/platform/prod")
    bad = with_(GOOD_EKS, "vpcConfig.publicAccessCidrs", ["0.0.0.0/0"])
    assert violations(by_name("eks-endpoint-access"), resource_args(EKS, bad, "dev"))


def test_the_pack_and_the_program_agree_on_environments_and_stack_names() -> None:
    assert ENVIRONMENTS == pack_common.ENVIRONMENTS
    for stack in ("prod", "acme/platform/staging", "prod-eu", "eu_dev.2", "Prod", "sandbox", "prodigy"):
        named = envs_named_by(stack)
        assert pack_common.envs_named_by(stack) == (named or {stack.rsplit("/", 1)[-1]}), stack


def test_hub_rules_are_mandatory_on_mgmt_cluster_rules_advisory() -> None:
    assert level_for("mgmt", hub=True) == EnforcementLevel.MANDATORY
    assert level_for("mgmt") == EnforcementLevel.ADVISORY
    assert level_for("dev", hub=True) == EnforcementLevel.ADVISORY
    assert {rule.name for rule in RULES if rule.hub} == {
        "argocd-domain-project-least-privilege",
        "argocd-server-not-public",
        "chart-version-pinned",
    }


def test_other_resource_types_are_left_alone() -> None:
    assert check("eks-endpoint-access", "aws:s3/bucket:Bucket", {"vpcConfig": {}}) == []


# --------------------------------------------------------------------------------------------------------------------
# Unknown values during preview
# --------------------------------------------------------------------------------------------------------------------
UNKNOWN_PROPS: list[tuple[str, str, dict[str, Any]]] = [
    ("gke-private-cluster", GKE, with_(GOOD_GKE, "masterAuthorizedNetworksConfig.cidrBlocks", UNKNOWN_ARRAY_VALUE)),
    ("gke-private-cluster", GKE, with_(GOOD_GKE, "privateClusterConfig", UNKNOWN_STRING_VALUE)),
    ("gke-secrets-encryption", GKE, with_(GOOD_GKE, "databaseEncryption.keyName", UNKNOWN_STRING_VALUE)),
    ("gke-node-pool-hardening", GKE_POOL, with_(GOOD_GKE_POOL, "nodeConfig.serviceAccount", UNKNOWN_STRING_VALUE)),
    ("eks-endpoint-access", EKS, with_(GOOD_EKS, "vpcConfig.publicAccessCidrs", [UNKNOWN_STRING_VALUE])),
    ("eks-secrets-encryption", EKS, with_(GOOD_EKS, "encryptionConfig.provider.keyArn", UNKNOWN_STRING_VALUE)),
    ("aks-identity", AKS, with_(GOOD_AKS, "disableLocalAccounts", UNKNOWN_BOOLEAN_VALUE)),
    ("kms-key-rotation", "aws:kms/key:Key", {"enableKeyRotation": UNKNOWN_BOOLEAN_VALUE}),
    ("chart-version-pinned", RELEASE, {"chart": "argo-cd", "version": UNKNOWN_STRING_VALUE}),
    ("no-plaintext-secrets", "kubernetes:core/v1:ConfigMap", {"data": {"password": UNKNOWN_STRING_VALUE}}),
    ("argocd-domain-project-least-privilege", PROJECT, {"metadata": {"name": "p"}, "spec": UNKNOWN_STRING_VALUE}),
]


@pytest.mark.parametrize(("name", "type_", "props"), UNKNOWN_PROPS, ids=[c[0] for c in UNKNOWN_PROPS])
def test_unknown_values_in_preview_report_nothing(name: str, type_: str, props: dict[str, Any]) -> None:
    assert check(name, type_, props) == []


def test_unknown_values_do_not_hide_known_violations() -> None:
    props = with_(GOOD_GKE, "databaseEncryption.keyName", UNKNOWN_STRING_VALUE)
    props["enableLegacyAbac"] = True
    assert check("gke-cluster-baseline", GKE, props) == ["enableLegacyAbac must be false: RBAC only (CIS GKE 5.8.3)"]


def test_accessors_turn_unknowns_into_a_marker() -> None:
    props = unknown_checking_proxy({"a": {"b": UNKNOWN_STRING_VALUE, "c": [1, UNKNOWN_STRING_VALUE]}})
    assert repr(get(props, "a.b")) == "UNKNOWN"
    assert get(props, "a.missing", "d") == "d"
    assert repr(items(props, "a.c")) == "[1, UNKNOWN]"


# --------------------------------------------------------------------------------------------------------------------
# Production protected (stack validation)
# --------------------------------------------------------------------------------------------------------------------
def stack_resource(type_: str, props: dict[str, Any], protect: bool, stack: str = "prod") -> PolicyResource:
    urn = f"urn:pulumi:{stack}::platform::{type_}::{type_.rsplit(':', 1)[-1].lower()}"
    return PolicyResource(
        type_, unknown_checking_proxy(props), urn, urn.rsplit("::", 1)[-1], opts(protect), None, None, [], {}
    )


def test_production_resources_must_be_protected() -> None:
    namespace = {"metadata": {"name": "argocd"}}
    protected = [stack_resource(EKS, {}, True), stack_resource("kubernetes:core/v1:Namespace", namespace, True)]
    assert violations(production_protected, StackValidationArgs(protected)) == []
    unprotected = [
        stack_resource(EKS, {}, True),
        stack_resource("aws:kms/key:Key", {}, False),
        stack_resource("kubernetes:core/v1:Namespace", namespace, False),
        stack_resource("kubernetes:core/v1:Namespace", {"metadata": {"name": "payments-prod-api"}}, False),
    ]
    assert violations(production_protected, StackValidationArgs(unprotected)) == [
        "aws:kms/key:Key key must have protect=True in prod",
        "kubernetes:core/v1:Namespace namespace must have protect=True in prod",
    ]


def test_the_argocd_namespace_patch_and_the_egress_addresses_must_be_protected() -> None:
    # The seed takes `argocd` over as a NamespacePatch; every spoke's API admits the hub's egress by address.
    unprotected = [
        stack_resource("kubernetes:core/v1:NamespacePatch", {"metadata": {"name": "argocd"}}, False),
        stack_resource("aws:ec2/eip:Eip", {}, False),
        stack_resource("gcp:compute/address:Address", {}, False),
        stack_resource("azure-native:network:PublicIPAddress", {}, False),
    ]
    assert len(violations(production_protected, StackValidationArgs(unprotected)) or []) == 4


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        # What the program creates with protect=config.protect (ClusterArgs.resource_options, the Argo CD seed) but
        # the policy did not demand: the NAT behind the fixed egress, the Azure group holding the whole cluster, and
        # the Argo CD release.
        ("gcp:compute/router:Router", {}),
        ("gcp:compute/routerNat:RouterNat", {}),
        ("aws:ec2/natGateway:NatGateway", {}),
        ("azure-native:resources:ResourceGroup", {}),
        ("kubernetes:helm.sh/v3:Release", {"namespace": "argocd"}),
    ],
)
def test_the_nat_the_resource_group_and_the_argocd_release_must_be_protected(type_: str, props: dict[str, Any]) -> None:
    args = StackValidationArgs([stack_resource(type_, props, False)])
    assert violations(production_protected, args) == [
        f"{type_} {type_.rsplit(':', 1)[-1].lower()} must have protect=True in prod"
    ]


def test_a_release_outside_argocd_may_be_unprotected() -> None:
    args = StackValidationArgs([stack_resource("kubernetes:helm.sh/v3:Release", {"namespace": "gitserver"}, False)])
    assert violations(production_protected, args) == []


def test_the_pack_reads_the_critical_resources_from_its_own_folder() -> None:
    # `pulumi policy publish` ships the pack's folder alone: the list must be inside it.
    assert CRITICAL_RESOURCES.parent == POLICY_DIR and CRITICAL_RESOURCES.is_file()
    assert len(PROTECTED) >= 20


def test_dev_may_leave_its_cluster_unprotected() -> None:
    args = StackValidationArgs([stack_resource(AKS, {}, False, stack="dev")])
    assert violations(production_protected, args) is NOT_APPLICABLE


def test_the_mgmt_hub_is_protected_like_prod() -> None:
    # mgmt's Argo CD is cluster-admin on prod (components/config/environments.py); its policy level stays advisory.
    args = StackValidationArgs([stack_resource(AKS, {}, False, stack="mgmt")])
    assert violations(production_protected, args) == [f"{AKS} managedcluster must have protect=True in mgmt"]


# --------------------------------------------------------------------------------------------------------------------
# Every policy over every shipped stack's plan
# --------------------------------------------------------------------------------------------------------------------
def validation_args(resource: RecordedResource) -> ResourceValidationArgs:
    """What the engine hands a policy for a registration: type, inputs, URN, name and options."""
    options = PolicyResourceOptions(
        resource.protect,
        list(resource.ignore_changes),
        resource.delete_before_replace or None,
        [],
        PolicyCustomTimeouts(0, 0, 0),
        [],
        resource.parent_urn,
    )
    return ResourceValidationArgs(
        resource.type, unknown_checking_proxy(resource.inputs or {}), resource.urn, resource.name, options, None
    )


def stack_args(plan: Plan) -> StackValidationArgs:
    return StackValidationArgs(
        [
            PolicyResource(a.resource_type, a.props, a.urn, a.name, a.opts, None, None, [], {})
            for a in (validation_args(r) for r in plan.resources)
        ]
    )


def plan_violations(plan: Plan) -> Iterator[str]:
    resource_policies = [p for p in POLICIES if isinstance(p, ResourceValidationPolicy)]
    for resource in plan.resources:
        if not resource.custom:
            continue  # the engine analyzes custom resources; components only appear in the stack check
        for policy in resource_policies:
            for message in violations(policy, validation_args(resource)) or []:
                yield f"{policy.name}: {resource.type} {resource.name}: {message}"
    for message in violations(production_protected, stack_args(plan)) or []:
        yield f"{production_protected.name}: {message}"


def test_shipped_stacks_violate_no_policy(shipped_plans: dict[str, Plan]) -> None:
    found = {stack: list(plan_violations(plan)) for stack, plan in shipped_plans.items()}
    assert found == {stack: [] for stack in shipped_plans}


def test_a_deliberately_open_prod_cluster_is_reported(run_config: Callable[..., Plan]) -> None:
    plan = run_config(base_config("aws", "prod"), stack="prod")
    cluster = next(r for r in plan.resources if r.type == EKS)
    # Config validation refuses 0.0.0.0/0, so the recorded inputs are edited as a bypass would produce them.
    cluster.inputs["vpcConfig"]["publicAccessCidrs"] = ["0.0.0.0/0"]
    key = next(r for r in plan.resources if r.type == "aws:kms/key:Key")
    key.protect = False
    assert sorted(plan_violations(plan)) == [
        "eks-endpoint-access: aws:eks/cluster:Cluster "
        f"{cluster.name}: vpcConfig.publicAccessCidrs admits 0.0.0.0/0: list only the networks that need the API",
        f"production-protected: aws:kms/key:Key {key.name} must have protect=True in prod",
    ]


def test_the_pack_starts_the_way_the_cli_runs_it() -> None:
    """`python -m pulumi.policy ENGINE DIR` from the pack's directory (pulumi-language-python RunPlugin) prints the
    port of its gRPC server once every policy has loaded."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(POLICY_DIR)],
        cwd=POLICY_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), process.stderr.read() if process.stderr else ""
    finally:
        process.kill()
        process.wait()
