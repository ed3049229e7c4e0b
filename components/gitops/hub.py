"""The hub side of hub and spoke: what the mgmt stack tells spokes, how a spoke reads it, and the guards.

The contract between the stacks is one plain stack output, `hub` (`hub_document`): who the hub's Argo CD is, the
addresses it leaves from, and how to reach the hub's API (server, CA, exec plugin: no credential). A spoke reads it
through a StackReference named after the config key that names the hub stack, awaited in the program's async
entry point (`pulumi.run`), before the spoke's cluster is built: the cluster's API allow-list takes the hub's
egress addresses. Only a hub on an existing cluster has no exec plugin; its spokes read the secret `kubeconfig`.

Ordered teardown. `pulumi destroy` deletes dependents before what they depend on (the engine schedules deletions
in reverse dependency order: pkg/resource/deploy/step_generator.go ScheduleDeletes). On a spoke, the
registration depends on the cluster and on the access grants, so it goes first, and Argo CD forgets the cluster
before its credentials stop working. On the hub, a guard ConfigMap depends on everything Argo CD-facing, so
deleting it is the first thing a hub destroy does; a ValidatingAdmissionPolicy whose parameters are the cluster
Secrets of the spokes denies that deletion while any exists. The destroy then stops with the policy's message,
before an ApplicationSet is deleted (which would delete the Applications on every spoke), and nothing waits on
a finalizer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.admissionregistration import v1 as admission

from components.argocd.spoke_access import (
    ARGOCD_SPOKE_SERVICE_ACCOUNTS,
    CLUSTER_FILES_CONFIG_MAP,
    CLUSTER_FILES_DIR,
    federated_tokens,
)
from components.cluster_secret import CLUSTER_NAME, CLUSTER_SECRET_TYPE, SECRET_TYPE_LABEL
from components.clusters.base import (
    Cluster,
    ClusterMetadata,
    ExecAuth,
    FederatedToken,
    HubIdentity,
    exec_kubeconfig,
)
from components.config.model import StackConfig
from components.naming import ARGOCD_NAMESPACE, CROSSPLANE_NAMESPACE, part_of_argocd_labels

__all__ = [
    "CROSSPLANE_SERVICE_ACCOUNT",
    "HUB_OUTPUT",
    "HUB_OUTPUT_VERSION",
    "HUB_STACK_KEY",
    "TEARDOWN_GUARD",
    "HubServices",
    "HubServicesArgs",
    "hub_document",
    "hub_identity",
    "hub_output",
    "hub_provider",
    "kubernetes_access",
    "read_hub",
    "with_crossplane_identity",
]

HUB_OUTPUT = "hub"
HUB_OUTPUT_VERSION = 2
"""Raised when the document changes incompatibly; a spoke refuses a hub that exports another version.
2: `egressCidrs` and `kubernetes` (server, CA, exec plugin, cluster identifier)."""
HUB_STACK_KEY = "platform:topology.hubStack"
KUBECONFIG_OUTPUT = "kubeconfig"
CROSSPLANE_SERVICE_ACCOUNT = "crossplane-provider"
"""The service account Crossplane's providers run as: the GitOps repo's DeploymentRuntimeConfig names it
(`serviceAccountTemplate.metadata.name`), since by default each provider revision gets a generated one."""
TEARDOWN_GUARD = "platform-hub-teardown-guard"
_SECRETS_FAILURE = re.compile(r"decrypt|passphrase|secrets? (manager|provider)|kms|key ?vault", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------------------
# The contract: what the hub exports, and how a spoke reads it
# ---------------------------------------------------------------------------------------------------------


def hub_document(
    *,
    cluster_name: str,
    cloud: str,
    region: str,
    account: str,
    oidc_issuer_url: str,
    egress_cidrs: Sequence[str],
    kubernetes: Mapping[str, Any],
) -> dict[str, Any]:
    """The `hub` output: who the hub's Argo CD is, where it leaves from and what it carries, for spokes to trust
    and admit it; and how a spoke job reaches the hub's API (`kubernetes_access`). Plain data, no credential."""
    return {
        "version": HUB_OUTPUT_VERSION,
        "clusterName": cluster_name,
        "cloud": cloud,
        "region": region,
        "account": account,
        "oidcIssuerUrl": oidc_issuer_url,
        "egressCidrs": list(egress_cidrs),
        "kubernetes": dict(kubernetes),
        "argocd": {
            "namespace": ARGOCD_NAMESPACE,
            "serviceAccounts": list(ARGOCD_SPOKE_SERVICE_ACCOUNTS),
            "federatedTokens": {
                cloud: {"audience": token.audience, "path": token.path} for cloud, token in federated_tokens().items()
            },
            "clusterFilesDir": CLUSTER_FILES_DIR,
            "clusterFilesConfigMap": CLUSTER_FILES_CONFIG_MAP,
        },
    }


def kubernetes_access(server: str, ca_data: str, auth: ExecAuth | None, cluster_identifier: str) -> dict[str, Any]:
    """The document's `kubernetes` entry. `exec` is None for an existing cluster, whose kubeconfig is a secret."""
    return {
        "server": server,
        "caData": ca_data,
        "exec": auth.to_document() if auth is not None else None,
        "clusterIdentifier": cluster_identifier,
    }


def hub_output(cluster: Cluster) -> pulumi.Output[dict[str, Any]]:
    """`hub_document` of this stack's cluster."""
    metadata = cluster.metadata
    access = cluster.access
    return pulumi.Output.all(
        cluster.cluster_name,
        metadata.account,
        cluster.oidc_issuer_url,
        cluster.egress_cidrs,
        access.server,
        access.ca_data,
        access.auth,
        cluster.cluster_identifier,
    ).apply(
        lambda values: hub_document(
            cluster_name=values[0],
            cloud=metadata.cloud,
            region=metadata.region,
            account=values[1],
            oidc_issuer_url=values[2],
            egress_cidrs=values[3],
            kubernetes=kubernetes_access(values[4], values[5], values[6], values[7]),
        )
    )


def _missing(stack: str, what: str) -> pulumi.RunError:
    return pulumi.RunError(
        f"{HUB_STACK_KEY}: stack '{stack}' has no {what}; run `pulumi up` on the hub stack first, "
        "then on this one (or fix the stack name)"
    )


def _unreadable(stack: str, name: str) -> pulumi.RunError:
    # The engine elides secrets it cannot decrypt (pkg/resource/deploy/builtins.go readStackReference): the
    # output is listed as a secret but comes without a value.
    return pulumi.RunError(
        f"{HUB_STACK_KEY}: stack '{stack}' has a '{name}' output this stack cannot decrypt; use the hub stack's "
        "secrets provider for this stack too (`pulumi stack change-secrets-provider`)"
    )


def hub_identity(stack: str, document: Mapping[str, Any], kubeconfig: str | None = None) -> HubIdentity:
    """The typed hub from its output document; a document of another version is refused, not guessed at. The
    hub's kubeconfig is built from the document's exec plugin, or is `kubeconfig` (an existing-cluster hub's)."""
    version = document.get("version")
    if version != HUB_OUTPUT_VERSION:
        # Stack outputs travel as JSON numbers: 1 comes back as 1.0.
        shown = int(version) if isinstance(version, float) and version.is_integer() else version
        raise pulumi.RunError(
            f"{HUB_STACK_KEY}: stack '{stack}' exports '{HUB_OUTPUT}' version {shown!r}, this program reads "
            f"version {HUB_OUTPUT_VERSION}; run `pulumi up` on the hub with this version first"
        )
    argocd = document["argocd"]
    access = document["kubernetes"]
    if access.get("exec") is not None:
        auth = ExecAuth.from_document(access["exec"])
        hub_kubeconfig = exec_kubeconfig(document["clusterName"], access["server"], access["caData"], auth)
    elif kubeconfig:
        hub_kubeconfig = pulumi.Output.secret(kubeconfig)
    else:
        raise _missing(stack, f"'{KUBECONFIG_OUTPUT}' output")
    return HubIdentity(
        cluster_name=document["clusterName"],
        cloud=document["cloud"],
        account=document["account"],
        oidc_issuer_url=document["oidcIssuerUrl"],
        namespace=argocd["namespace"],
        service_accounts=tuple(argocd["serviceAccounts"]),
        tokens={
            cloud: FederatedToken(audience=token["audience"], path=token["path"])
            for cloud, token in argocd["federatedTokens"].items()
        },
        files_dir=argocd["clusterFilesDir"],
        files_config_map=argocd["clusterFilesConfigMap"],
        egress_cidrs=tuple(document["egressCidrs"]),
        cluster_identifier=access["clusterIdentifier"],
        kubeconfig=hub_kubeconfig,
    )


async def _output(reference: pulumi.StackReference, stack: str, name: str) -> Any:
    """A plain output value of the referenced stack, awaited (the supported `get_output_details`): what a spoke
    creates depends on the hub's values, and a missing or unreadable one must stop the program in one line."""
    details = await reference.get_output_details(name)
    value = details.value if details.value is not None else details.secret_value
    if value is None and name in (await reference.secret_output_names.future() or []):
        raise _unreadable(stack, name)
    return value


async def read_hub(config: StackConfig) -> HubIdentity:
    """The hub this spoke registers with, read from the hub stack's outputs."""
    stack = config.topology.hub_stack
    if stack is None:  # guarded by config validation; kept for the type checker
        raise pulumi.RunError(f"{HUB_STACK_KEY}: is required in hub topology")
    reference = pulumi.StackReference(HUB_STACK_KEY, stack_name=stack)
    try:
        await reference.outputs.future()
    except Exception as error:  # the engine failed the read: the stack does not exist or cannot be reached
        cause = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if _SECRETS_FAILURE.search(cause):
            # The engine opens the referenced stack's secrets manager before reading any output, secret or not
            # (pulumi/pulumi#21436), so a spoke without decrypt on the hub's key cannot read even plain outputs.
            raise pulumi.RunError(
                f"{HUB_STACK_KEY}: stack '{stack}' cannot be read: this stack's identity cannot open the hub "
                f"stack's secrets ({cause}); give it decrypt on the hub stack's secrets key (pulumi/pulumi#21436)"
            ) from None
        raise pulumi.RunError(
            f"{HUB_STACK_KEY}: stack '{stack}' cannot be read ({cause}); name an existing hub stack as "
            "org/project/stack and run `pulumi up` on it first"
        ) from None
    document = await _output(reference, stack, HUB_OUTPUT)
    if not isinstance(document, Mapping):
        raise _missing(stack, f"'{HUB_OUTPUT}' output")
    kubeconfig = None
    if isinstance(document.get("kubernetes"), Mapping) and document["kubernetes"].get("exec") is None:
        # A hub on an existing cluster: its kubeconfig is the one real secret a spoke reads.
        kubeconfig = await _output(reference, stack, KUBECONFIG_OUTPUT)
    return hub_identity(stack, document, kubeconfig)


def hub_provider(hub: HubIdentity) -> k8s.Provider:
    """The Kubernetes provider of the hub cluster, for the spoke's registration. Server-side apply: no
    last-applied-configuration annotation ever holds the cluster Secret's data (CVE-2023-40029). The hub's own
    identifier keeps it from being replaced when the hub's kubeconfig changes (pulumi-kubernetes 4.34.2
    DiffConfig); a rebuilt hub under the same id loses the registration, which the next `pulumi up --refresh`
    of the spoke writes again."""
    return k8s.Provider(
        "hub-k8s",
        k8s.ProviderArgs(
            kubeconfig=hub.kubeconfig, cluster_identifier=hub.cluster_identifier, enable_server_side_apply=True
        ),
    )


def with_crossplane_identity(
    cluster: Cluster, config: StackConfig
) -> tuple[ClusterMetadata, Sequence[pulumi.Resource]]:
    """The cluster's metadata plus the cloud identity of Crossplane's providers (`identity_crossplane`), which
    this creates with the configured roles, and the resources that grant those roles; unchanged and no grants off
    mgmt (Crossplane runs on the hub only) and where the cluster has no cloud.

    The hub's registration must depend on the grants: the teardown guard depends on the registration, so a
    destroy the guard refuses stops before the grants, and Crossplane keeps its cloud access."""
    if config.role != "hub":
        return cluster.metadata, ()
    identity = cluster.workload_identity(
        "crossplane", CROSSPLANE_NAMESPACE, CROSSPLANE_SERVICE_ACCOUNT, config.crossplane.roles
    )
    if identity is None:
        return cluster.metadata, ()
    identities = {**cluster.metadata.identities, "crossplane": identity.identity}
    return replace(cluster.metadata, identities=identities), identity.grants


# ---------------------------------------------------------------------------------------------------------
# Hub-side objects: the spokes' files, and the teardown guard
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubServicesArgs:
    cluster_name: str
    protects: Sequence[pulumi.Resource]
    """What a hub destroy must not touch while spokes are registered: Argo CD, its ApplicationSets, the hub's
    own registration. The guard depends on them, so the engine deletes the guard before any of them."""


class HubServices(pulumi.ComponentResource):
    """On the hub's cluster (provider from `opts`): the ConfigMap spokes add their credential files to, and the
    teardown guard (a ValidatingAdmissionPolicy, its binding, and the guarded ConfigMap)."""

    guard: k8s.core.v1.ConfigMap

    def __init__(self, name: str, args: HubServicesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:gitops:HubServices", name, None, opts)
        labels = part_of_argocd_labels()
        child = pulumi.ResourceOptions(parent=self)
        files = k8s.core.v1.ConfigMap(
            f"{name}-cluster-files",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=CLUSTER_FILES_CONFIG_MAP, namespace=ARGOCD_NAMESPACE, labels=labels
            ),
            # No data of its own: each spoke stack owns its keys (a server-side apply patch per spoke).
            opts=child,
        )
        policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            f"{name}-teardown-policy",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=TEARDOWN_GUARD, labels=labels),
            spec=teardown_policy_spec(),
            opts=child,
        )
        binding = k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            f"{name}-teardown-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=TEARDOWN_GUARD, labels=labels),
            spec=teardown_binding_spec(args.cluster_name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.guard = k8s.core.v1.ConfigMap(
            f"{name}-teardown-guard",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=TEARDOWN_GUARD, namespace=ARGOCD_NAMESPACE, labels=labels),
            data={
                "README": (
                    "`pulumi destroy` of the hub deletes this ConfigMap first. The ValidatingAdmissionPolicy "
                    f"{TEARDOWN_GUARD} refuses while any spoke cluster Secret exists in {ARGOCD_NAMESPACE}: "
                    "destroy the spoke stacks first.\n"
                )
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[binding, files, *args.protects]),
        )
        self.register_outputs({"guard": TEARDOWN_GUARD})


def teardown_policy_spec() -> admission.ValidatingAdmissionPolicySpecArgs:
    """Deny deleting the guard ConfigMap once per spoke cluster Secret (the binding's parameters): with none, the
    binding allows (`parameterNotFoundAction: Allow`); with any, every evaluation fails and names a spoke.

    The guard is matched by the deleted object's name, not by `resourceNames`: in a collection delete (what the
    namespace controller issues when `argocd` is deleted, and `kubectl delete --field-selector`) the request
    carries no name, so a `resourceNames` rule never matches it; each item's `oldObject` does carry its name."""
    return admission.ValidatingAdmissionPolicySpecArgs(
        failure_policy="Fail",
        param_kind=admission.ParamKindArgs(api_version="v1", kind="Secret"),
        match_constraints=admission.MatchResourcesArgs(
            resource_rules=[
                admission.NamedRuleWithOperationsArgs(
                    api_groups=[""],
                    api_versions=["v1"],
                    operations=["DELETE"],
                    resources=["configmaps"],
                )
            ],
            namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                match_labels={"kubernetes.io/metadata.name": ARGOCD_NAMESPACE}
            ),
        ),
        match_conditions=[
            admission.MatchConditionArgs(
                name="the-teardown-guard", expression=f"oldObject.metadata.name == '{TEARDOWN_GUARD}'"
            )
        ],
        validations=[
            admission.ValidationArgs(
                expression="false",
                message_expression=(
                    "'spoke cluster ' + params.metadata.name + ' is still registered with this hub: run "
                    "`pulumi destroy` on its stack first, then destroy the hub'"
                ),
                reason="Forbidden",
            )
        ],
    )


def teardown_binding_spec(hub_cluster: str) -> admission.ValidatingAdmissionPolicyBindingSpecArgs:
    """Parameters: every cluster Secret in `argocd` except the hub's own registration."""
    return admission.ValidatingAdmissionPolicyBindingSpecArgs(
        policy_name=TEARDOWN_GUARD,
        validation_actions=["Deny"],
        param_ref=admission.ParamRefArgs(
            namespace=ARGOCD_NAMESPACE,
            selector=k8s.meta.v1.LabelSelectorArgs(
                match_expressions=[
                    k8s.meta.v1.LabelSelectorRequirementArgs(
                        key=SECRET_TYPE_LABEL, operator="In", values=[CLUSTER_SECRET_TYPE]
                    ),
                    k8s.meta.v1.LabelSelectorRequirementArgs(key=CLUSTER_NAME, operator="NotIn", values=[hub_cluster]),
                ]
            ),
            parameter_not_found_action="Allow",
        ),
    )
