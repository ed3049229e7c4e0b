"""The platform program: one stack's cluster, and Argo CD seeded on it. Wiring only; logic is in components/."""

import pulumi

from components.argocd import ArgoCd, ArgoCdArgs
from components.catalog import load_catalog
from components.clusters import create_cluster
from components.config import ConfigError, load_stack_config, pulumi_source
from components.gitops import ClusterRegistration, ClusterRegistrationArgs, PlatformServices, PlatformServicesArgs

try:
    config = load_stack_config(*pulumi_source())
except ConfigError as error:
    # One line per problem, no traceback, and nothing registered yet.
    raise pulumi.RunError(str(error)) from None

cluster = create_cluster(config)

if config.is_hub:
    argocd = ArgoCd(
        "argocd",
        ArgoCdArgs(config=config, catalog=load_catalog()),
        opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=[cluster]),
    )
    pulumi.export("argocdUrl", argocd.url)
    # The hub's Argo CD registers its own cluster and generates the platform services for every registered cluster;
    # both need the `argocd` namespace and the ApplicationSet CRD the seed installs.
    on_argocd = pulumi.ResourceOptions(providers=[cluster.provider], depends_on=[argocd])
    ClusterRegistration(
        f"{config.cluster_name}-registration",
        ClusterRegistrationArgs(metadata=cluster.metadata, config=config, hub=True),
        opts=on_argocd,
    )
    PlatformServices("platform-services", PlatformServicesArgs(config=config), opts=on_argocd)

pulumi.export("env", config.env)
pulumi.export("cloud", config.cloud)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("endpoint", cluster.endpoint)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("oidcIssuerUrl", cluster.oidc_issuer_url)
