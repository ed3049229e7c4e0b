"""The Argo CD seed: namespaces, the bootstrap Helm release, its Secrets, the AppProjects, the root Application
and the `argocd` Application through which Argo CD manages itself from then on.

Handover: the Helm release installs Argo CD once. It ignores every later change of its inputs and is retained on
delete, so Pulumi never upgrades, downgrades, reverts or uninstalls what the `argocd` Application now owns; that
Application carries the same chart, version and values, and every later change goes through it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
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
from components.cluster_secret import REPO_CREDS_SECRET_TYPE, SECRET_TYPE_LABEL
from components.config.model import StackConfig
from components.naming import (
    ARGOCD_NAMESPACE,
    CROSSPLANE_NAMESPACE,
    fixed_namespace_labels,
    part_of_argocd_labels,
    pod_security_labels,
)
from components.secret_data import b64, opaque_secret

__all__ = ["ADMIN_PASSWORD_CHANGE_SECRET", "RELEASE_IGNORED_CHANGES", "ArgoCd", "ArgoCdArgs", "RepositoryCredential"]

RELEASE_IGNORED_CHANGES = ["*"]
"""Every input of the bootstrap release is ignored once it is created, so the engine never sees a diff and the
provider never runs `helm upgrade` (which would re-apply the install-time chart and values over what the `argocd`
Application deployed since). A root `*` resets every input to its old value, and drops inputs added later
(pulumi/pulumi pkg/resource/deploy/step_generator.go processIgnoreChanges, sdk/go/common/resource/
properties_path.go PropertyPath.reset; TestReset "Single wildcard at root", since v3.73.0)."""
ADMIN_PASSWORD_CHANGE_SECRET = "argocd-admin-password-change"
"""Holds a digest of the admin password hash; its creation time is the password's `admin.passwordMtime`."""
RELEASE_ID = f"{ARGOCD_NAMESPACE}/{RELEASE_NAME}"
"""The provider's id of a Helm release: `<namespace>/<name>` (pulumi-kubernetes helm_release.go fqName)."""
HELM_TIMEOUT_SECONDS = 900
"""redis-ha's three StatefulSet pods start one after another; the default 300 s is too short for HA."""
_PART_OF_ARGOCD = part_of_argocd_labels()
_SERVER_PORT = 8080


@dataclass(frozen=True)
class RepositoryCredential:
    """A credential template Argo CD uses for every repository whose URL starts with `url`."""

    url: str
    username: str
    password: pulumi.Input[str]
    """A Pulumi secret."""


@dataclass(frozen=True)
class ArgoCdArgs:
    config: StackConfig
    """The stack config of the cluster that runs this Argo CD (the mgmt hub, or a standalone stack)."""
    catalog: Catalog
    """The service catalog: Argo CD's chart pin, and the chart repositories the platform project may use."""
    repositories: Sequence[RepositoryCredential] = ()
    """Credentials the program made itself (the in-cluster Git server's), besides `gitCredentials` of the config."""


def _creation_time(metadata: k8s.meta.v1.outputs.ObjectMeta) -> str:
    """`metadata.creationTimestamp` (RFC 3339, UTC, as Argo CD parses `admin.passwordMtime`), base64-encoded."""
    if not metadata.creation_timestamp:
        raise ValueError(f"{metadata.name}: the API server returned no creationTimestamp")
    return b64(metadata.creation_timestamp)


class ArgoCd(pulumi.ComponentResource):
    """Argo CD on the cluster of the provider given in `opts`, hardened, and handed over to Git."""

    namespace: k8s.core.v1.NamespacePatch
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
        # protected where the stack is. Patches, because a namespace kept by an earlier `pulumi destroy` is still
        # there when `up` runs again, and a plain create would fail with AlreadyExists (see _namespace).
        kept = pulumi.ResourceOptions(parent=self, protect=config.protect, retain_on_delete=True)
        self.namespace = self._namespace(ARGOCD_NAMESPACE, "argocd", config.env, args.catalog, kept)
        if config.role == "hub":
            self._namespace(CROSSPLANE_NAMESPACE, "crossplane", config.env, args.catalog, kept)

        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        secrets = [self._notifications_secret(config, in_namespace)]
        if config.argocd.sso is not None and config.argocd_oidc_client_secret is not None:
            secrets.append(
                self._secret(
                    OIDC_SECRET_NAME,
                    {OIDC_SECRET_KEY: pulumi.Output.secret(b64(config.argocd_oidc_client_secret.get_secret_value()))},
                    _PART_OF_ARGOCD,
                    in_namespace,
                )
            )
        # The config's credentials, then the program's own (the in-cluster Git server's).
        repo_creds = [
            self._repo_creds(prefix, credential.username, credential.password.get_secret_value(), in_namespace)
            for prefix, credential in sorted((config.git_credentials or {}).items())
        ] + [
            self._repo_creds(credential.url, credential.username, credential.password, in_namespace)
            for credential in args.repositories
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
                # A release kept by an earlier destroy makes `helm install` fail ("cannot re-use a name that is still
                # in use"); importing it instead needs no input to match, as every input is ignored. The engine
                # imports only while the state has no release of this id (step_generator.go `isImport`), so the
                # key may stay set afterwards.
                import_=RELEASE_ID if config.argocd.adopt_release else None,
            ),
        )
        after_install = pulumi.ResourceOptions(parent=self, depends_on=[self.release])

        password = config.argocd_admin_password
        if config.argocd.admin_enabled and password is not None:
            self._admin_password(admin_password_hash(password.get_secret_value(), config.cluster_name), in_namespace)

        # argocd-server has created `default` by the time the release is ready, so a create would fail with
        # AlreadyExists: a patch takes the fields over instead. Kept on delete: deleting the patch would hand its
        # fields back, and deleting `default` makes argocd-server recreate it wide open at its next start.
        default = default_project()
        k8s.apiextensions.CustomResourcePatch(
            "default",
            api_version=default["apiVersion"],
            kind=default["kind"],
            metadata=default["metadata"],
            spec=default["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release], retain_on_delete=True),
        )
        platform = self._custom("platform", platform_project(config, args.catalog), after_install)
        envs = domain_envs(config)
        for domain in config.domains:
            self._custom(f"project-{domain.name}", domain_project(domain, envs), after_install)

        with_sources = pulumi.ResourceOptions(parent=self, depends_on=[self.release, platform, *repo_creds])
        self._custom("argocd-self", self_application(config, chart, values), with_sources)
        self._custom("root", root_application(config), with_sources)
        if config.argocd.node_port is not None:
            self._node_port(config.argocd.node_port, after_install)

        self.register_outputs({"url": self.url, "chartVersion": chart.version, "rootApplication": ROOT_APPLICATION})

    def _admin_password(self, password_hash: str, in_namespace: pulumi.ResourceOptions) -> None:
        """Patch the admin password hash, and the time it last changed, into the chart's argocd-secret.

        A patch, not chart values: the hash would otherwise sit in the `argocd` Application's valuesObject, readable
        by anyone allowed to get that Application. Argo CD refuses admin sessions issued before
        `admin.passwordMtime` (util/session/sessionmanager.go, v3.4.4), so a new password ends the old sessions.
        The time must be the real moment of the change, never a later one (a future mtime would refuse new logins
        too) and never the time of each run: it is the creation time of a small Secret that holds a digest of the
        hash and is replaced exactly when the hash changes, stamped by the API server whose clock also stamps
        Argo CD's tokens.
        """
        digest = hashlib.sha256(password_hash.encode()).hexdigest()
        changed = k8s.core.v1.Secret(
            ADMIN_PASSWORD_CHANGE_SECRET,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=ADMIN_PASSWORD_CHANGE_SECRET, namespace=ARGOCD_NAMESPACE, labels=_PART_OF_ARGOCD
            ),
            type="Opaque",
            data={"digest": pulumi.Output.secret(b64(digest))},
            opts=pulumi.ResourceOptions.merge(
                in_namespace, pulumi.ResourceOptions(replace_on_changes=["data"], delete_before_replace=True)
            ),
        )
        mtime = changed.metadata.apply(_creation_time)
        k8s.core.v1.SecretPatch(
            "argocd-admin-password",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                name="argocd-secret",
                namespace=ARGOCD_NAMESPACE,
                # argocd-server wrote a generated hash into this key at start-up.
                annotations={PATCH_FORCE: "true"},
            ),
            data={"admin.password": pulumi.Output.secret(b64(password_hash)), "admin.passwordMtime": mtime},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release, changed]),
        )

    def _node_port(self, node_port: int, opts: pulumi.ResourceOptions) -> k8s.core.v1.Service:
        """A second Service on the API server's pods, on a fixed node port that a kind config maps to localhost.

        Not a chart value: `server.service` is stack-owned (ClusterIP) in the values the `argocd` Application
        carries. Selector and port are the chart's: argo-cd 10.1.1 templates/_common.tpl `argo-cd.selectorLabels`
        (`{name}-server`, instance = release) and values.yaml `server.containerPorts.server` (8080, TLS and HTTP).
        """
        return k8s.core.v1.Service(
            "argocd-server-node-port",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="argocd-server-node-port", namespace=ARGOCD_NAMESPACE, labels=_PART_OF_ARGOCD
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="NodePort",
                selector={"app.kubernetes.io/name": "argocd-server", "app.kubernetes.io/instance": RELEASE_NAME},
                ports=[
                    k8s.core.v1.ServicePortArgs(
                        name="https", port=443, target_port=_SERVER_PORT, node_port=node_port, protocol="TCP"
                    )
                ],
            ),
            opts=opts,
        )

    def _namespace(
        self, name: str, service: str, env: str, catalog: Catalog, opts: pulumi.ResourceOptions
    ) -> k8s.core.v1.NamespacePatch:
        # A Patch resource creates by server-side apply, which creates the object when it is missing and takes it
        # over when it exists; a plain resource creates client-side and fails on an existing object since
        # pulumi-kubernetes 4.29 (CHANGELOG #2926; provider/pkg/await/await.go Creation). patchForce takes the
        # labels over from whoever set them before (an earlier stack, `kubectl`).
        # Pod Security: the catalog's level of the service (the least strict of a shared namespace's).
        level = catalog.namespace_pod_security(catalog.services[service])
        labels = {**fixed_namespace_labels(service, env), **pod_security_labels(level)}
        return k8s.core.v1.NamespacePatch(
            name,
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(name=name, labels=labels, annotations={PATCH_FORCE: "true"}),
            opts=opts,
        )

    @staticmethod
    def _secret(
        name: str, data: dict[str, pulumi.Input[str]], labels: dict[str, str], opts: pulumi.ResourceOptions
    ) -> k8s.core.v1.Secret:
        return opaque_secret(name, namespace=ARGOCD_NAMESPACE, labels=labels, data=data, opts=opts)

    def _repo_creds(
        self, url: str, username: str, password: pulumi.Input[str], opts: pulumi.ResourceOptions
    ) -> k8s.core.v1.Secret:
        """A credential template: Argo CD uses it for every repository whose URL starts with `url`
        (docs/operator-manual/declarative-setup.md, Repository Credentials)."""
        return self._secret(
            repo_creds_name(url),
            {
                "type": b64("git"),
                "url": b64(url),
                "username": b64(username),
                "password": pulumi.Output.secret(pulumi.Output.from_input(password).apply(b64)),
            },
            {SECRET_TYPE_LABEL: REPO_CREDS_SECRET_TYPE, **_PART_OF_ARGOCD},
            opts,
        )

    def _notifications_secret(self, config: StackConfig, opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret:
        """argocd-notifications-secret in every stack (empty without notifications), so its owner never changes."""
        settings = config.argocd.notifications
        data: dict[str, pulumi.Input[str]] = {}
        if settings is not None and config.notifications_token is not None:
            token = config.notifications_token.get_secret_value()
            data[notification_token_key(settings)] = pulumi.Output.secret(b64(token))
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
