"""The Sealed Secrets sealing key of one cluster, owned by the stack rather than by the cluster.

The controller keeps its key pairs as Secrets of type kubernetes.io/tls labelled
`sealedsecrets.bitnami.com/sealed-secrets-key: active` in its own namespace, and generates one at start-up only
when it finds none (pkg/controller/main.go, initKeyRegistry and initKeyRenewal; docs/bring-your-own-certificates.md).
So this component writes the pair before the cluster is registered with Argo CD, and a rebuilt cluster gets the
same key back from the stack: the SealedSecrets in Git still decrypt.

The pair comes from `platform:sealedSecretsKey` (a Pulumi secret, with `retired` pairs that still decrypt), or is
generated once (RSA 4096, the controller's own key size) and kept in the stack state. The generated key depends on
nothing of the cluster's, so replacing the cluster never replaces it; `protect` guards it where the stack is
protected, and tests pin its URN, because a rename or re-parent would be a delete and a new key.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from components.catalog import Catalog
from components.naming import PLATFORM_PROJECT, namespace, pod_security_labels, semantic_labels
from components.pem import read_certificate
from components.secret_data import b64

if TYPE_CHECKING:  # config.model imports this package for its key-pair checks
    from components.config.model import SealingKeyPair, SealingKeys, StackConfig

__all__ = [
    "CERTIFICATE_VALIDITY_HOURS",
    "CONTROLLER_SERVICE",
    "EARLY_RENEWAL_HOURS",
    "KEY_LABEL",
    "KEY_PREFIX",
    "RSA_BITS",
    "SUBJECT",
    "SealedSecretsKey",
    "SealedSecretsKeyArgs",
    "controller_namespace",
    "namespace_labels",
]

CONTROLLER_SERVICE = "sealed-secrets"
"""The catalog service whose controller reads the key."""
KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key"
"""pkg/controller/keys.go SealedSecretsKeyLabel; the controller loads every Secret where it is `active`."""
KEY_PREFIX = "sealed-secrets-key"
"""The controller's --key-prefix default (chart value `secretName`): its own keys are named like this too."""
RSA_BITS = 4096
"""The controller's --key-size default (cmd/controller/main.go)."""
CERTIFICATE_VALIDITY_HOURS = 10 * 365 * 24
"""Ten years, the controller's --key-ttl default. kubeseal refuses an expired certificate (pkg/kubeseal ParseKey);
the controller does not, so an old key keeps decrypting after its certificate expires."""
EARLY_RENEWAL_HOURS = 365 * 24
"""A `pulumi up` in the last year of the certificate issues a new one for the same key: nothing needs re-sealing."""
SUBJECT = tls.SelfSignedCertSubjectArgs(common_name="sealed-secret", organization="sealed-secret")
"""The subject of docs/bring-your-own-certificates.md (`/CN=sealed-secret/O=sealed-secret`)."""


def _service_group(catalog: Catalog) -> tuple[str | None, str]:
    service = catalog.services[CONTROLLER_SERVICE]
    return service.namespace, service.group or service.name


def controller_namespace(env: str, catalog: Catalog) -> str:
    """Where the platform-services ApplicationSet installs the controller: `platform-{env}-{group}`."""
    fixed, group = _service_group(catalog)
    return fixed or namespace(PLATFORM_PROJECT, env, group)


def namespace_labels(env: str, catalog: Catalog, enabled: Collection[str] | None = None) -> dict[str, str]:
    """The labels the ApplicationSet's managedNamespaceMetadata sets (components/gitops/appsets.py), plus
    managed-by: equal values, so Argo CD's server-side apply shares the labels with Pulumi's instead of fighting.
    `enabled`: the services turned on for the cluster, as its registration counts them for the level."""
    _, group = _service_group(catalog)
    level = catalog.namespace_pod_security(catalog.services[CONTROLLER_SERVICE], enabled)
    return {**semantic_labels(PLATFORM_PROJECT, env, group), **pod_security_labels(level)}


@dataclass(frozen=True)
class SealedSecretsKeyArgs:
    env: str
    keys: SealingKeys | None
    """Key pairs from config; None generates one and keeps it in the state."""
    protect: bool
    """Protect the generated key: deleting it from the state loses it for good."""
    catalog: Catalog
    """The service catalog: where the controller's namespace is."""
    enabled: frozenset[str] | None = None
    """The services turned on for the cluster (its namespace's Pod Security level counts only them); None counts
    every catalogued service."""

    @classmethod
    def from_config(cls, config: StackConfig, catalog: Catalog) -> SealedSecretsKeyArgs:
        enabled = config.enabled_services(catalog, config.is_hub)
        return cls(
            env=config.env, keys=config.sealed_secrets_key, protect=config.protect, catalog=catalog, enabled=enabled
        )


class SealedSecretsKey(pulumi.ComponentResource):
    """The controller's namespace and its key Secrets, on the Kubernetes provider given in `opts` (`providers`)."""

    namespace: k8s.core.v1.NamespacePatch
    secrets: list[k8s.core.v1.Secret]
    certificate: pulumi.Output[str]
    """PEM certificate of the key that seals: public, for `kubeseal --cert`."""

    def __init__(self, name: str, args: SealedSecretsKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:sealedsecrets:SealedSecretsKey", name, None, opts)
        catalog = args.catalog
        namespace_name = controller_namespace(args.env, catalog)
        # Argo CD's CreateNamespace finds it and only adds its managedNamespaceMetadata. Kept on delete: Argo CD's
        # controller and reflector run in it, and Argo CD never deletes a namespace it did not create. A patch
        # (server-side apply), so the next `up` on a cluster that kept it takes it over instead of failing with
        # AlreadyExists (pulumi-kubernetes >= 4.29 creates plain resources client-side).
        self.namespace = k8s.core.v1.NamespacePatch(
            namespace_name,
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                name=namespace_name,
                labels=namespace_labels(args.env, catalog, args.enabled),
                annotations={"pulumi.com/patchForce": "true"},
            ),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        labels = {KEY_LABEL: "active", **semantic_labels(PLATFORM_PROJECT, args.env, CONTROLLER_SERVICE)}

        def key_secret(
            suffix: str, certificate: pulumi.Input[str], private_key: pulumi.Output[str]
        ) -> k8s.core.v1.Secret:
            secret_name = f"{KEY_PREFIX}-{suffix}"
            return k8s.core.v1.Secret(
                secret_name,
                metadata=k8s.meta.v1.ObjectMetaArgs(name=secret_name, namespace=namespace_name, labels=labels),
                type="kubernetes.io/tls",
                data={"tls.crt": pulumi.Output.from_input(certificate).apply(b64), "tls.key": private_key.apply(b64)},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
            )

        if args.keys is None:
            certificate, private_key = self._generate(args.protect)
            self.secrets = [key_secret("generated", certificate, private_key)]
            self.certificate = certificate
        else:
            # Named after the key, so a pair keeps its Secret when it moves from active to `retired`.
            pairs: list[SealingKeyPair] = [args.keys, *args.keys.retired]
            self.secrets = [
                key_secret(
                    _short_fingerprint(pair.certificate),
                    pair.certificate,
                    pulumi.Output.secret(pair.private_key.get_secret_value()),
                )
                for pair in pairs
            ]
            self.certificate = pulumi.Output.from_input(args.keys.certificate)
        self.register_outputs({"namespace": namespace_name, "certificate": self.certificate})

    def _generate(self, protect: bool) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        key = tls.PrivateKey(
            "sealed-secrets-private-key",
            algorithm="RSA",
            rsa_bits=RSA_BITS,
            # Not retain_on_delete: this key exists only in the state, so there is nothing to retain.
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        # The engine marks it secret (additionalSecretOutputs); a plan under mocks has no engine to do so.
        private_key = pulumi.Output.secret(key.private_key_pem)
        certificate = tls.SelfSignedCert(
            "sealed-secrets-certificate",
            private_key_pem=private_key,
            subject=SUBJECT,
            validity_period_hours=CERTIFICATE_VALIDITY_HOURS,
            early_renewal_hours=EARLY_RENEWAL_HOURS,
            # The public key encrypts the per-secret session key (RSA-OAEP, docs/developer/crypto.md).
            allowed_uses=["key_encipherment"],
            # Not protected: a new certificate for the same key is harmless (early renewal replaces it).
            opts=pulumi.ResourceOptions(parent=self),
        )
        return certificate.cert_pem, private_key


def _short_fingerprint(certificate: str) -> str:
    """First 12 hex digits of the public key's SHA-256: stable across certificates issued for the same key."""
    return read_certificate(certificate).fingerprint[:12]
