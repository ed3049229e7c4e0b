"""The platform's Pulumi components: config, catalog, clusters and the Argo CD seed."""
