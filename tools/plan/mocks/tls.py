"""Answers of the tls provider: the key material it generates, as fixed, recognisable mock text.

The texts are not real keys; tests grep every written plan file for MOCK_PRIVATE_KEY to prove the generated
sealing key never leaves the state unmasked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

MOCK_PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nbW9jay1zZWFsaW5nLWtleS1wcml2YXRl\n-----END RSA PRIVATE KEY-----\n"
MOCK_PUBLIC_KEY = "-----BEGIN PUBLIC KEY-----\nbW9jay1zZWFsaW5nLWtleS1wdWJsaWM=\n-----END PUBLIC KEY-----\n"
MOCK_CERTIFICATE = "-----BEGIN CERTIFICATE-----\nbW9jay1zZWFsaW5nLWNlcnRpZmljYXRl\n-----END CERTIFICATE-----\n"


def _private_key(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {
        "privateKeyPem": MOCK_PRIVATE_KEY,
        "privateKeyPemPkcs8": MOCK_PRIVATE_KEY.replace("RSA PRIVATE KEY", "PRIVATE KEY"),
        "privateKeyOpenssh": "",
        "publicKeyPem": MOCK_PUBLIC_KEY,
        "publicKeyOpenssh": "ssh-rsa bW9jay1zZWFsaW5nLWtleS1wdWJsaWM=\n",
        "publicKeyFingerprintMd5": "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff",
        "publicKeyFingerprintSha256": "SHA256:bW9jay1zZWFsaW5nLWtleS1maW5nZXJwcmludA",
    }


def _self_signed_cert(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {
        "certPem": MOCK_CERTIFICATE,
        "keyAlgorithm": "RSA",
        "readyForRenewal": False,
        "validityStartTime": "2026-01-01T00:00:00Z",
        "validityEndTime": "2035-12-30T00:00:00Z",
    }


RESOURCES: dict[str, Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]] = {
    "tls:index/privateKey:PrivateKey": _private_key,
    "tls:index/selfSignedCert:SelfSignedCert": _self_signed_cert,
}
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
