"""Secrets: argon2 password hashes and high-entropy API tokens stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "wr_"  # noqa: S105 - a label, not a secret
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class IssuedToken:
    """A freshly minted token: ``plain`` is shown once, only ``digest`` is kept."""

    plain: str
    digest: str
    prefix: str


def hash_token(plain: str) -> str:
    """The stored form of a token.

    Tokens carry 256 random bits, so a fast hash is enough (no dictionary to
    guess from) and lets every API request look its token up by index.
    """
    return hashlib.sha256(plain.encode()).hexdigest()


def issue_token() -> IssuedToken:
    """Mint a new random API token."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return IssuedToken(plain=plain, digest=hash_token(plain), prefix=plain[:10])
