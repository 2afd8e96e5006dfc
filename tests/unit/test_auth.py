"""Password hashes and API tokens."""

from __future__ import annotations

import hashlib
import re

import pytest

from warroom.users import auth


def test_password_hash_verifies_only_the_same_password():
    hashed = auth.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse battery" not in hashed
    assert auth.verify_password(hashed, "correct horse battery")
    assert not auth.verify_password(hashed, "correct horse battery ")
    assert not auth.verify_password(hashed, "Correct horse battery")
    assert not auth.verify_password(hashed, "")


def test_password_hashes_are_salted():
    first = auth.hash_password("same password")
    second = auth.hash_password("same password")
    assert first != second
    assert auth.verify_password(first, "same password")
    assert auth.verify_password(second, "same password")


@pytest.mark.parametrize("stored", ["", "not-a-hash", "$argon2id$broken", "plain password"])
def test_verify_password_against_garbage_is_false_not_an_error(stored):
    assert auth.verify_password(stored, "plain password") is False


def test_issued_token_shape():
    issued = auth.issue_token()
    assert issued.plain.startswith(auth.TOKEN_PREFIX)
    assert re.fullmatch(r"wr_[A-Za-z0-9_-]{43}", issued.plain)
    assert issued.prefix == issued.plain[:10]
    assert issued.prefix.startswith("wr_")


def test_token_digest_is_sha256_of_the_plain_token_and_never_the_token():
    issued = auth.issue_token()
    assert issued.digest != issued.plain
    assert issued.plain not in issued.digest
    assert issued.digest == hashlib.sha256(issued.plain.encode()).hexdigest()
    assert issued.digest == auth.hash_token(issued.plain)
    assert re.fullmatch(r"[0-9a-f]{64}", issued.digest)


def test_tokens_are_unique():
    tokens = [auth.issue_token() for _ in range(50)]
    assert len({t.plain for t in tokens}) == 50
    assert len({t.digest for t in tokens}) == 50


def test_hash_token_is_deterministic_and_distinguishes_tokens():
    assert auth.hash_token("wr_abc") == auth.hash_token("wr_abc")
    assert auth.hash_token("wr_abc") != auth.hash_token("wr_abd")
