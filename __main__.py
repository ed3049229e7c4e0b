"""The platform program: one stack's cluster, and Argo CD seeded on it. Wiring only; logic is in components/."""

import pulumi

from components.argocd import ArgoCd, ArgoCdArgs
from components.catalog import load_catalog
from components.clusters import create_cluster
from components.config import ConfigError, load_stack_config, pulumi_source
from components.config.model import ENVIRONMENTS
from components.gitops import (
    ClusterRegistration,
    ClusterRegistrationArgs,
    DomainFlows,
    DomainFlowsArgs,
    HubServices,
    HubServicesArgs,
    PlatformServices,
    PlatformServicesArgs,
    PodSecurityGuard,
    PodSecurityGuardArgs,
    SpokeConnection,
    hub_output,
    hub_provider,
    read_hub,
    with_crossplane_identity,
)
from components.gitserver import GitServer, GitServerArgs
from components.sealed_secrets import SealedSecretsKey, SealedSecretsKeyArgs

# Loaded once here and passed to whatever reads it (the benchmark swaps `components.catalog.load_catalog`).
catalog = load_catalog()
try:
    config = load_stack_config(*pulumi_source(), catalog, stack=pulumi.get_stack())
except ConfigError as error:
    # One line per problem, no traceback, and nothing registered yet.
    raise pulumi.RunError(str(error)) from None


async def main() -> None:
    """The program, async so a spoke can await the hub's outputs (`StackReference.get_output_details`) before it
    builds its cluster: the cluster's API admits the hub's egress addresses, and what the spoke creates for the hub
    depends on the hub's identity. `pulumi.run` (pulumi 3.272.0, runtime/stack.py) awaits it after this module."""
    hub = await read_hub(config) if config.role == "spoke" else None
    cluster = create_cluster(config, hub_egress=hub.egress_cidrs if hub else ())
    # The sealing key is in the cluster before any registration lets Argo CD install the controller (which would
    # otherwise generate a key of its own that no rebuilt cluster gets back).
    sealing_key = SealedSecretsKey(
        "sealed-secrets",
        SealedSecretsKeyArgs.from_config(config, catalog),
        opts=pulumi.ResourceOptions(providers=[cluster.provider]),
    )
    # Every cluster refuses a domain namespace that does not enforce the restricted Pod Security Standard; in place
    # before a registration lets Argo CD sync anything to the cluster.
    pod_security = PodSecurityGuard(
        "pod-security",
        PodSecurityGuardArgs(envs=ENVIRONMENTS),
        opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=[cluster]),
    )

    match config.role:
        case "hub" | "standalone":
            # Where the stack asks for it (local): the in-cluster Git server, seeded before Argo CD first reads
            # from it.
            git_server = (
                GitServer(
                    "git-server",
                    GitServerArgs(config=config),
                    opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=[cluster]),
                )
                if config.git_server is not None
                else None
            )
            argocd = ArgoCd(
                "argocd",
                ArgoCdArgs(config=config, catalog=catalog, repositories=git_server.repositories if git_server else ()),
                opts=pulumi.ResourceOptions(
                    provider=cluster.provider, depends_on=[cluster, *([git_server] if git_server else [])]
                ),
            )
            pulumi.export("argocdUrl", argocd.url)
            # The hub's Argo CD registers its own cluster and generates the platform services for every registered
            # cluster; both need the `argocd` namespace and the ApplicationSet CRD the seed installs.
            on_argocd = pulumi.ResourceOptions(providers=[cluster.provider], depends_on=[argocd])
            # On the hub, Crossplane's cloud identity reaches Argo CD as the registration's `identity_crossplane`
            # annotation; depending on its grants keeps them through a hub destroy the teardown guard refuses.
            metadata, crossplane_grants = with_crossplane_identity(cluster, config)
            registration = ClusterRegistration(
                f"{config.cluster_name}-registration",
                ClusterRegistrationArgs(
                    metadata=metadata,
                    config=config,
                    catalog=catalog,
                    spoke=None,
                    depends_on=[sealing_key, pod_security, *crossplane_grants],
                ),
                opts=on_argocd,
            )
            platform = PlatformServices(
                "platform-services", PlatformServicesArgs(config=config, catalog=catalog), opts=on_argocd
            )
            # Each domain's services and Crossplane claims come from its own repository; the seed created its
            # AppProject.
            domains = [
                DomainFlows(f"domain-{domain.name}", DomainFlowsArgs(domain=domain, config=config), opts=on_argocd)
                for domain in config.domains
            ]
            if config.role == "hub":
                # What spokes read from this stack, and the guard that keeps it from being destroyed under them.
                HubServices(
                    "hub",
                    HubServicesArgs(
                        cluster_name=config.cluster_name, protects=[argocd, registration, platform, *domains]
                    ),
                    opts=on_argocd,
                )
                pulumi.export("hub", hub_output(cluster))
        case "spoke" if hub is not None:
            # A spoke: let the hub's Argo CD into this cluster, then register it in the hub's `argocd` namespace. The
            # registration depends on the cluster and the grants, so `pulumi destroy` removes it from the hub first.
            ClusterRegistration(
                f"{config.cluster_name}-registration",
                ClusterRegistrationArgs(
                    metadata=cluster.metadata,
                    config=config,
                    catalog=catalog,
                    spoke=SpokeConnection(server=cluster.endpoint, access=cluster.grant_argocd_access(hub), hub=hub),
                    depends_on=[cluster, sealing_key, pod_security],
                ),
                opts=pulumi.ResourceOptions(provider=hub_provider(hub)),
            )

    pulumi.export("env", config.env)
    pulumi.export("cloud", config.cloud)
    pulumi.export("clusterName", cluster.cluster_name)
    pulumi.export("endpoint", cluster.endpoint)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    pulumi.export("oidcIssuerUrl", cluster.oidc_issuer_url)
    pulumi.export("egressCidrs", cluster.egress_cidrs)
    pulumi.export("sealedSecretsCertificate", sealing_key.certificate)


pulumi.run(main)
