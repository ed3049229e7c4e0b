"""The Argo CD seed: namespaces, the bootstrap Helm release, its Secrets, the AppProjects, the root Application
and the `argocd` Application through which Argo CD manages itself from then on.

Handover: the Helm release installs Argo CD once. It ignores later changes to its chart, version and values and
is retained on delete, so Pulumi never upgrades, reverts or uninstalls what the `argocd` Application now owns;
that Application carries the same chart, version and values, and every later change goes through it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.argocd.applications import (
    ARGOCD_SERVICE,
    RELEASE_NAME,
    ROOT_APPLICATION,
    pinned_chart,
    root_application,
    self_application,
)
from components.argocd.credentials import admin_password_hash, repo_creds_name
from components.argocd.projects import (
    PATCH_FORCE,
    default_project,
    domain_envs,
    domain_project,
    platform_project,
)
from components.argocd.values import (
    NOTIFICATIONS_SECRET_NAME,
    OIDC_SECRET_KEY,
    OIDC_SECRET_NAME,
    argocd_url,
    argocd_values,
    notification_token_key,
)
from components.catalog import Catalog
from components.config.model import StackConfig
from components.naming import (
    ARGOCD_NAMESPACE,
    CROSSPLANE_NAMESPACE,
    fixed_namespace_labels,
    part_of_argocd_labels,
    pod_security_labels,
)

__all__ = ["RELEASE_IGNORED_CHANGES", "ArgoCd", "ArgoCdArgs"]

RELEASE_IGNORED_CHANGES = ["chart", "version", "repositoryOpts", "values"]
"""What the bootstrap release stops tracking after it is created: the `argocd` Application owns them."""
HELM_TIMEOUT_SECONDS = 900
"""redis-ha's three StatefulSet pods start one after another; the default 300 s is too short for HA."""
_PART_OF_ARGOCD = part_of_argocd_labels()


@dataclass(frozen=True)
class ArgoCdArgs:
    config: StackConfig
    """The stack config of the cluster that runs this Argo CD (the mgmt hub, or a standalone stack)."""
    catalog: Catalog
    """The service catalog: Argo CD's chart pin, and the chart repositories the platform project may use."""


def _b64(text: str) -> str:
    # `data`, never `stringData`: stringData does not work well with server-side apply (kubernetes/website#42603;
    # pulumi-kubernetes#2507 perpetual diff).
    return base64.b64encode(text.encode()).decode()


class ArgoCd(pulumi.ComponentResource):
    """Argo CD on the cluster of the provider given in `opts`, hardened, and handed over to Git."""

    namespace: k8s.core.v1.Namespace
    release: k8s.helm.v3.Release
    url: str
    """Where users reach the UI: the ingress host, or `kubectl port-forward -n argocd svc/argocd-server 8080:443`."""

    def __init__(self, name: str, args: ArgoCdArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:argocd:ArgoCd", name, None, opts)
        config = args.config
        chart = pinned_chart(config, args.catalog, ARGOCD_SERVICE)
        values = argocd_values(config)
        self.url = argocd_url(config)

        # Deleting either namespace would delete everything in it, Argo CD included: kept on delete, and
        # protected where the stack is.
        kept = pulumi.ResourceOptions(parent=self, protect=config.protect, retain_on_delete=True)
        self.namespace = self._namespace(ARGOCD_NAMESPACE, "argocd", config.env, args.catalog, kept)
        if config.env == "mgmt":
            self._namespace(CROSSPLANE_NAMESPACE, "crossplane", config.env, args.catalog, kept)

        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        secrets = [self._notifications_secret(config, in_namespace)]
        if config.argocd.sso is not None and config.argocd_oidc_client_secret is not None:
            secrets.append(
                self._secret(
                    OIDC_SECRET_NAME,
                    {OIDC_SECRET_KEY: pulumi.Output.secret(_b64(config.argocd_oidc_client_secret.get_secret_value()))},
                    _PART_OF_ARGOCD,
                    in_namespace,
                )
            )
        repo_creds = [
            self._secret(
                repo_creds_name(prefix),
                {
                    "type": _b64("git"),
                    "url": _b64(prefix),
                    "username": _b64(credential.username),
                    "password": pulumi.Output.secret(_b64(credential.password.get_secret_value())),
                },
                {"argocd.argoproj.io/secret-type": "repo-creds", **_PART_OF_ARGOCD},
                in_namespace,
            )
            for prefix, credential in sorted((config.git_credentials or {}).items())
        ]

        self.release = k8s.helm.v3.Release(
            RELEASE_NAME,
            k8s.helm.v3.ReleaseArgs(
                name=RELEASE_NAME,
                chart=chart.name,
                version=chart.version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
                namespace=ARGOCD_NAMESPACE,
                values=values,
                timeout=HELM_TIMEOUT_SECONDS,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.namespace, *secrets],
                protect=config.protect,
                retain_on_delete=True,
                ignore_changes=RELEASE_IGNORED_CHANGES,
            ),
        )
        after_install = pulumi.ResourceOptions(parent=self, depends_on=[self.release])

        password = config.argocd_admin_password
        if config.argocd.admin_enabled and password is not None:
            # A patch of the chart's argocd-secret, not chart values: the hash would otherwise sit in the
            # `argocd` Application's valuesObject, readable by anyone allowed to get that Application.
            k8s.core.v1.SecretPatch(
                "argocd-admin-password",
                metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                    name="argocd-secret",
                    namespace=ARGOCD_NAMESPACE,
                    # argocd-server wrote a generated hash into this key at start-up.
                    annotations={PATCH_FORCE: "true"},
                ),
                data={
                    "admin.password": pulumi.Output.secret(
                        _b64(admin_password_hash(password.get_secret_value(), config.cluster_name))
                    )
                },
                opts=after_install,
            )

        self._custom(
            "default",
            default_project(),
            # Deleting `default` makes argocd-server recreate it wide open at its next start.
            pulumi.ResourceOptions(parent=self, depends_on=[self.release], retain_on_delete=True),
        )
        platform = self._custom("platform", platform_project(config, args.catalog), after_install)
        envs = domain_envs(config)
        for domain in config.domains:
            self._custom(f"project-{domain.name}", domain_project(domain, envs), after_install)

        with_sources = pulumi.ResourceOptions(parent=self, depends_on=[self.release, platform, *repo_creds])
        self._custom("argocd-self", self_application(config, chart, values), with_sources)
        self._custom("root", root_application(config), with_sources)

        self.register_outputs({"url": self.url, "chartVersion": chart.version, "rootApplication": ROOT_APPLICATION})

    def _namespace(
        self, name: str, service: str, env: str, catalog: Catalog, opts: pulumi.ResourceOptions
    ) -> k8s.core.v1.Namespace:
        level = catalog.namespace_pod_security(catalog.services[service])
        labels = {**fixed_namespace_labels(service, env), **pod_security_labels(level)}
        return k8s.core.v1.Namespace(name, metadata=k8s.meta.v1.ObjectMetaArgs(name=name, labels=labels), opts=opts)

    def _secret(
        self,
        name: str,
        data: dict[str, pulumi.Input[str]],
        labels: dict[str, str],
        opts: pulumi.ResourceOptions,
    ) -> k8s.core.v1.Secret:
        return k8s.core.v1.Secret(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=ARGOCD_NAMESPACE, labels=labels),
            type="Opaque",
            data=data,
            opts=opts,
        )

    def _notifications_secret(self, config: StackConfig, opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret:
        """argocd-notifications-secret in every stack (empty without notifications), so its owner never changes."""
        settings = config.argocd.notifications
        data: dict[str, pulumi.Input[str]] = {}
        if settings is not None and config.notifications_token is not None:
            token = config.notifications_token.get_secret_value()
            data[notification_token_key(settings)] = pulumi.Output.secret(_b64(token))
        return self._secret(NOTIFICATIONS_SECRET_NAME, data, _PART_OF_ARGOCD, opts)

    def _custom(self, name: str, manifest: dict, opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
        return k8s.apiextensions.CustomResource(
            name,
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=opts,
        )
