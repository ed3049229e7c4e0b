"""Read a Sealed Secrets key pair offline, with no crypto library: enough DER to check what the controller needs.

The controller reads `tls.key` with client-go's keyutil.ParsePrivateKeyPEM and accepts only an RSA key, then reads
the first certificate of `tls.crt` (pkg/controller/keys.go, readKey). A Secret it cannot read is worse than none:
it logs the error and then indexes the certificate list it did not get (pkg/controller/main.go,
registryNewKeyWithSecret), so a bad key stops the controller. These checks refuse such a pair at config load.

Nothing here verifies signatures: a self-signed sealing certificate is trusted because the stack config says so.
Error messages never quote the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["MIN_RSA_BITS", "Certificate", "KeyPairError", "check_key_pair", "read_certificate", "read_private_key"]

MIN_RSA_BITS = 2048
"""The controller generates 4096-bit keys (cmd/controller/main.go, --key-size); less than 2048 is refused."""

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")  # OID 1.2.840.113549.1.1.1
_SEQUENCE, _INTEGER, _BIT_STRING, _OCTET_STRING, _OID = 0x30, 0x02, 0x03, 0x04, 0x06
_UTC_TIME, _GENERALIZED_TIME, _VERSION_TAG = 0x17, 0x18, 0xA0


class KeyPairError(ValueError):
    """A certificate or private key the Sealed Secrets controller cannot use; the message says why."""


@dataclass(frozen=True)
class _Element:
    tag: int
    body: bytes
    raw: bytes
    """The whole encoding (tag, length and body), for fingerprints."""


@dataclass(frozen=True)
class Certificate:
    """What the program needs from a sealing certificate."""

    fingerprint: str
    """SHA-256 of the DER SubjectPublicKeyInfo, hex: the same for every certificate of one key pair."""
    not_before: datetime
    not_after: datetime
    modulus: int
    exponent: int


def _elements(data: bytes, what: str) -> list[_Element]:
    """The DER elements laid end to end in `data`."""
    elements: list[_Element] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise KeyPairError(f"{what} is truncated")
        tag, length, head = data[pos], data[pos + 1], pos + 2
        if length & 0x80:
            size = length & 0x7F
            if size == 0 or size > 4 or head + size > len(data):
                raise KeyPairError(f"{what} has an invalid DER length")
            length = int.from_bytes(data[head : head + size], "big")
            head += size
        end = head + length
        if end > len(data):
            raise KeyPairError(f"{what} is truncated")
        elements.append(_Element(tag, data[head:end], data[pos:end]))
        pos = end
    return elements


def _expect(element: _Element, tag: int, what: str) -> _Element:
    if element.tag != tag:
        raise KeyPairError(f"{what} is not DER of the expected structure")
    return element


def _sequence(data: bytes, what: str, at_least: int) -> list[_Element]:
    """The children of the one SEQUENCE that `data` holds."""
    top = _elements(data, what)
    if len(top) != 1:
        raise KeyPairError(f"{what} is not one DER structure")
    children = _elements(_expect(top[0], _SEQUENCE, what).body, what)
    if len(children) < at_least:
        raise KeyPairError(f"{what} is not DER of the expected structure")
    return children


def _integer(element: _Element, what: str) -> int:
    value = int.from_bytes(_expect(element, _INTEGER, what).body, "big", signed=True)
    if value <= 0:
        raise KeyPairError(f"{what} has a non-positive RSA number")
    return value


def _time(element: _Element, what: str) -> datetime:
    formats = {_UTC_TIME: "%y%m%d%H%M%SZ", _GENERALIZED_TIME: "%Y%m%d%H%M%SZ"}
    if element.tag not in formats:
        raise KeyPairError(f"{what} has a validity that is not a time")
    try:
        parsed = datetime.strptime(element.body.decode("ascii", errors="replace"), formats[element.tag])
    except ValueError:
        raise KeyPairError(f"{what} has an unreadable validity time") from None
    # RFC 5280 4.1.2.5.1: a two-digit year 50-99 is 19YY (strptime's %y makes 69-99 19YY and 00-68 20YY).
    if element.tag == _UTC_TIME and parsed.year >= 2050:
        parsed = parsed.replace(year=parsed.year - 100)
    return parsed.replace(tzinfo=UTC)


def _pem_blocks(text: str, what: str) -> list[tuple[str, bytes, str]]:
    """(label, DER, headers) of every PEM block in `text`; headers are RFC 1421 lines such as `Proc-Type`."""
    blocks = []
    for label, body in _PEM_BLOCK.findall(text):
        lines = [line.strip() for line in body.strip().splitlines()]
        headers = "\n".join(line for line in lines if ":" in line)
        encoded = "".join(line for line in lines if line and ":" not in line)
        try:
            der = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise KeyPairError(f"{what} is not valid PEM (its base64 does not decode)") from None
        blocks.append((label, der, headers))
    return blocks


def _rsa_public_key(der: bytes, what: str) -> tuple[int, int]:
    modulus, exponent = _sequence(der, what, 2)[:2]
    return _integer(modulus, what), _integer(exponent, what)


def read_certificate(pem: str) -> Certificate:
    """The facts of the one X.509 certificate in `pem`; KeyPairError if it is not one RSA certificate."""
    what = "certificate"
    blocks = [b for b in _pem_blocks(pem, what) if b[0] == "CERTIFICATE"]
    if len(blocks) != 1:
        found = "no" if not blocks else str(len(blocks))
        raise KeyPairError(f"{what} must be one PEM block `-----BEGIN CERTIFICATE-----`; found {found}")
    tbs = _elements(_expect(_sequence(blocks[0][1], what, 3)[0], _SEQUENCE, what).body, what)
    if tbs and tbs[0].tag == _VERSION_TAG:
        tbs = tbs[1:]
    if len(tbs) < 6:
        raise KeyPairError(f"{what} is not DER of the expected structure")
    validity, spki = _expect(tbs[3], _SEQUENCE, what), _expect(tbs[5], _SEQUENCE, what)
    times = _elements(validity.body, what)
    if len(times) != 2:
        raise KeyPairError(f"{what} has no validity period")
    algorithm, key_bits = _elements(spki.body, what)[:2]
    algorithm_oid = _elements(_expect(algorithm, _SEQUENCE, what).body, what)[0]
    if algorithm_oid.tag != _OID or algorithm_oid.body != _RSA_ENCRYPTION:
        raise KeyPairError(f"{what} does not hold an RSA public key; the controller only uses RSA keys")
    bits = _expect(key_bits, _BIT_STRING, what).body
    if not bits or bits[0] != 0:
        raise KeyPairError(f"{what} has a malformed public key")
    modulus, exponent = _rsa_public_key(bits[1:], what)
    return Certificate(
        fingerprint=hashlib.sha256(spki.raw).hexdigest(),
        not_before=_time(times[0], what),
        not_after=_time(times[1], what),
        modulus=modulus,
        exponent=exponent,
    )


def read_private_key(pem: str) -> tuple[int, int]:
    """(modulus, public exponent) of the unencrypted RSA private key in `pem` (PKCS#1 or PKCS#8)."""
    what = "privateKey"
    blocks = [b for b in _pem_blocks(pem, what) if b[0].endswith("PRIVATE KEY")]
    if len(blocks) != 1:
        found = "no" if not blocks else str(len(blocks))
        raise KeyPairError(f"{what} must be one PEM private key block; found {found}")
    label, der, headers = blocks[0]
    if label == "ENCRYPTED PRIVATE KEY" or "ENCRYPTED" in headers:
        raise KeyPairError(
            f"{what} is encrypted; the controller reads it unencrypted (the stack keeps it as a Pulumi secret)"
        )
    if label == "RSA PRIVATE KEY":
        fields = _sequence(der, what, 3)
    elif label == "PRIVATE KEY":
        # PKCS#8: version, AlgorithmIdentifier, OCTET STRING holding the PKCS#1 key.
        outer = _sequence(der, what, 3)
        algorithm = _elements(_expect(outer[1], _SEQUENCE, what).body, what)
        if not algorithm or algorithm[0].tag != _OID or algorithm[0].body != _RSA_ENCRYPTION:
            raise KeyPairError(f"{what} is not an RSA key; the controller only reads RSA keys")
        fields = _sequence(_expect(outer[2], _OCTET_STRING, what).body, what, 3)
    else:
        raise KeyPairError(f"{what} holds `{label}`, not an RSA key; the controller only reads RSA keys")
    return _integer(fields[1], what), _integer(fields[2], what)


def check_key_pair(certificate: str, private_key: str) -> Certificate:
    """The certificate's facts, once the private key is known to belong to it and to be strong enough."""
    cert = read_certificate(certificate)
    if (cert.modulus, cert.exponent) != read_private_key(private_key):
        raise KeyPairError("privateKey does not belong to certificate (their RSA public keys differ)")
    if cert.modulus.bit_length() < MIN_RSA_BITS:
        raise KeyPairError(
            f"the RSA key has {cert.modulus.bit_length()} bits; use at least {MIN_RSA_BITS} (the controller uses 4096)"
        )
    return cert
