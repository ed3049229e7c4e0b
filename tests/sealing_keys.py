"""Real RSA key pairs and self-signed certificates for the Sealed Secrets tests, made in pure Python.

Generated at test time from a fixed seed, so no private key is ever committed (even a test key in Git trains
people to ignore secret scanners) and no crypto library or openssl binary is needed. The output is standard:
`openssl x509 -text` and `openssl rsa -check` accept it.
"""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from math import gcd

__all__ = ["KeyPair", "key_pair"]

_RSA_OID = "1.2.840.113549.1.1.1"
_SHA256_WITH_RSA_OID = "1.2.840.113549.1.1.11"
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
_SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p**0.5) + 1, 2))]


@dataclass(frozen=True)
class KeyPair:
    certificate: str
    private_key: str
    """PKCS#1 (`RSA PRIVATE KEY`) unless made with pkcs8=True (`PRIVATE KEY`)."""


def _der(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + body


def _int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _seq(*parts: bytes) -> bytes:
    return _der(0x30, b"".join(parts))


def _oid(dotted: str) -> bytes:
    first, second, *rest = (int(p) for p in dotted.split("."))
    body = bytearray([40 * first + second])
    for arc in rest:
        chunk = [arc & 0x7F]
        remaining = arc >> 7
        while remaining:
            chunk.append(0x80 | (remaining & 0x7F))
            remaining >>= 7
        body += bytes(reversed(chunk))
    return _der(0x06, bytes(body))


def _time(moment: datetime) -> bytes:
    if moment.year < 2050:  # RFC 5280: UTCTime until 2049, GeneralizedTime after
        return _der(0x17, moment.strftime("%y%m%d%H%M%SZ").encode())
    return _der(0x18, moment.strftime("%Y%m%d%H%M%SZ").encode())


def _name(common_name: str) -> bytes:
    attribute = _seq(_oid("2.5.4.3"), _der(0x0C, common_name.encode()))
    organization = _seq(_oid("2.5.4.10"), _der(0x0C, common_name.encode()))
    return _seq(_der(0x31, attribute), _der(0x31, organization))


def _is_probable_prime(candidate: int, rng: random.Random) -> bool:
    if any(candidate % p == 0 for p in _SMALL_PRIMES):
        return False
    d, s = candidate - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(24):
        x = pow(rng.randrange(2, candidate - 2), d, candidate)
        if x in (1, candidate - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, candidate)
            if x == candidate - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, rng: random.Random) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if _is_probable_prime(candidate, rng):
            return candidate


def _pem(label: str, der: bytes) -> str:
    text = base64.b64encode(der).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


@cache
def _rsa(seed: int, bits: int) -> tuple[int, int, int, int, int]:
    """(n, e, d, p, q) of an RSA key from `seed`; cached, since each 2048-bit key takes about half a second."""
    rng = random.Random(seed)
    e = 65537
    while True:
        p, q = _prime(bits // 2, rng), _prime(bits // 2, rng)
        phi = (p - 1) * (q - 1)
        if p != q and gcd(e, phi) == 1 and (p * q).bit_length() == bits:
            return p * q, e, pow(e, -1, phi), p, q


@cache
def key_pair(
    seed: int,
    not_before: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    not_after: datetime = datetime(2036, 1, 1, tzinfo=UTC),
    bits: int = 2048,
    pkcs8: bool = False,
) -> KeyPair:
    """The RSA key of `seed` (2048 bits: 4096 would take seconds here) and a self-signed certificate for it."""
    n, e, d, p, q = _rsa(seed, bits)
    rng = random.Random(seed)
    pkcs1 = _seq(*(_int(v) for v in (0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p))))
    rsa_algorithm = _seq(_oid(_RSA_OID), _der(0x05, b""))
    spki = _seq(rsa_algorithm, _der(0x03, b"\x00" + _seq(_int(n), _int(e))))
    signature_algorithm = _seq(_oid(_SHA256_WITH_RSA_OID), _der(0x05, b""))
    subject = _name("sealed-secret")
    tbs = _seq(
        _der(0xA0, _int(2)),
        _int(rng.getrandbits(120) + 1),
        signature_algorithm,
        subject,
        _seq(_time(not_before), _time(not_after)),
        subject,
        spki,
    )
    size = (n.bit_length() + 7) // 8
    digest = _SHA256_DIGEST_INFO + hashlib.sha256(tbs).digest()
    encoded = b"\x00\x01" + b"\xff" * (size - 3 - len(digest)) + b"\x00" + digest
    signature = pow(int.from_bytes(encoded, "big"), d, n).to_bytes(size, "big")
    certificate = _seq(tbs, signature_algorithm, _der(0x03, b"\x00" + signature))
    if pkcs8:
        private_key = _pem("PRIVATE KEY", _seq(_int(0), rsa_algorithm, _der(0x04, pkcs1)))
    else:
        private_key = _pem("RSA PRIVATE KEY", pkcs1)
    return KeyPair(certificate=_pem("CERTIFICATE", certificate), private_key=private_key)
