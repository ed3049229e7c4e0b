"""Sealed Secrets key continuity: the sealing key pair of each environment belongs to the stack, not to a cluster.

`key` writes the controller's key Secrets before the cluster is registered with Argo CD and exposes the public
certificate for `kubeseal --cert`; `components/pem.py` (a leaf the config reads too) checks a key pair from config
without a crypto library.
"""

from components.pem import Certificate, KeyPairError, check_key_pair, read_certificate, read_private_key
from components.sealed_secrets.key import (
    KEY_LABEL,
    SealedSecretsKey,
    SealedSecretsKeyArgs,
    controller_namespace,
    namespace_labels,
)

__all__ = [
    "KEY_LABEL",
    "Certificate",
    "KeyPairError",
    "SealedSecretsKey",
    "SealedSecretsKeyArgs",
    "check_key_pair",
    "controller_namespace",
    "namespace_labels",
    "read_certificate",
    "read_private_key",
]
