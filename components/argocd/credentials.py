"""Pure helpers for the Secrets the seed writes: the admin password hash and the repository credential names."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import bcrypt

__all__ = ["BCRYPT_COST", "admin_password_hash", "repo_creds_name"]

BCRYPT_COST = 10
"""Argo CD's own work factor (util/password: at least bcrypt.DefaultCost, which is 10)."""
_BCRYPT_MAX_BYTES = 72
_BCRYPT_HASH = re.compile(r"^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$")
_STANDARD_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BCRYPT_B64 = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def admin_password_hash(password: str, context: str) -> str:
    """The bcrypt hash Argo CD expects in `admin.password` of argocd-secret (docs/faq.md).

    A value that already is a bcrypt hash (`argocd account bcrypt --password ...`) is used as it is, so the plain
    password need never be in stack config. Otherwise the salt is derived from the password and `context` (the
    cluster name) instead of drawn at random: a random salt would change the hash, and with it the Secret, on
    every `pulumi up`. The hash still differs per cluster, and guessing costs the same bcrypt work per candidate.
    """
    if _BCRYPT_HASH.match(password):
        return password
    secret = password.encode()
    if len(secret) > _BCRYPT_MAX_BYTES:
        raise ValueError(
            f"argocdAdminPassword: is {len(secret)} bytes long; bcrypt uses at most {_BCRYPT_MAX_BYTES}, "
            "so choose a shorter password or give its bcrypt hash"
        )
    digest = hmac.new(secret, f"argocd-admin:{context}".encode(), hashlib.sha256).digest()[:16]
    # bcrypt's base64 is the standard alphabet shifted: 16 bytes give 22 characters.
    salt_text = base64.b64encode(digest)[:22].translate(bytes.maketrans(_STANDARD_B64, _BCRYPT_B64))
    return bcrypt.hashpw(secret, b"$2b$%02d$" % BCRYPT_COST + salt_text).decode()


def repo_creds_name(url_prefix: str) -> str:
    """`repo-creds-<hash>`: a valid, stable Secret name per credential template, whatever characters and length
    the URL prefix has."""
    return f"repo-creds-{hashlib.sha256(url_prefix.encode()).hexdigest()[:12]}"
