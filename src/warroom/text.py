"""Text checks shared by every input model."""

from __future__ import annotations

from pydantic import AfterValidator

NUL = "\x00"


def refuse_nul(value: str) -> str:
    """Refuse NUL characters: PostgreSQL cannot store them, and no person types one."""
    if NUL in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    return value


NoNul = AfterValidator(refuse_nul)
