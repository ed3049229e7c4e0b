"""The platform program: one stack's cluster, and Argo CD seeded on it. Wiring only; logic is in components/."""

import pulumi

from components.clusters import create_cluster
from components.config import ConfigError, load_stack_config, pulumi_source

try:
    config = load_stack_config(*pulumi_source())
except ConfigError as error:
    # One line per problem, no traceback, and nothing registered yet.
    raise pulumi.RunError(str(error)) from None

cluster = create_cluster(config)

pulumi.export("env", config.env)
pulumi.export("cloud", config.cloud)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("endpoint", cluster.endpoint)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("oidcIssuerUrl", cluster.oidc_issuer_url)
