"""What every API input model shares: strict fields and text checks."""

from __future__ import annotations

from pydantic import AfterValidator, BaseModel, ConfigDict

NUL = "\x00"


def refuse_nul(value: str) -> str:
    """Refuse NUL characters: PostgreSQL cannot store them, and no person types one."""
    if NUL in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    return value


NoNul = AfterValidator(refuse_nul)


class StrictModel(BaseModel):
    """Input model: unknown fields are an error, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")
