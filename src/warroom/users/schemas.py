"""API shapes for users, tokens, teams and services."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from warroom.inputs import NoNul, StrictModel
from warroom.users import rules
from warroom.users.rules import Role


def _check(problem: object) -> AfterValidator:
    def validate(value: str) -> str:
        message = problem(value)  # type: ignore[operator]
        if message:
            raise ValueError(message)
        return value

    return AfterValidator(validate)


Handle = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True),
    _check(rules.handle_problem),
    NoNul,
]
Slug = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True), _check(rules.slug_problem), NoNul
]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True), _check(rules.email_problem), NoNul
]
TimeZone = Annotated[
    str, StringConstraints(strip_whitespace=True), _check(rules.time_zone_problem), NoNul
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256), NoNul]


class UserCreate(StrictModel):
    handle: Handle
    name: Name
    email: Email
    time_zone: TimeZone = "UTC"
    role: Role = Role.RESPONDER
    password: Password | None = None


class UserUpdate(StrictModel):
    name: Name | None = None
    email: Email | None = None
    time_zone: TimeZone | None = None
    role: Role | None = None
    active: bool | None = None
    password: Password | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    handle: str
    name: str
    email: str
    time_zone: str
    role: Role
    active: bool
    teams: list[str] = Field(default_factory=list)


class UserBrief(BaseModel):
    """A user as shown inside other resources."""

    model_config = ConfigDict(from_attributes=True)

    handle: str
    name: str


class TokenCreate(StrictModel):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul
    ] = "cli"


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(BaseModel):
    """The one response that carries a token in plain text."""

    token: str
    user: str


class PasswordLogin(StrictModel):
    handle: Handle
    password: Annotated[str, StringConstraints(min_length=1, max_length=256), NoNul]
    token_name: Annotated[str, StringConstraints(min_length=1, max_length=100), NoNul] = "cli login"  # noqa: S105


class TeamCreate(StrictModel):
    slug: Slug
    name: Name
    time_zone: TimeZone = "UTC"
    members: list[Handle] = Field(default_factory=list, max_length=500)


Clock = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class BusinessHours(StrictModel):
    """When a team works; low-urgency pages outside these hours wait for the next start."""

    tz: TimeZone | None = None
    start: Clock = "09:00"
    end: Clock = "17:00"
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default=[0, 1, 2, 3, 4], min_length=1, max_length=7
    )
    country: (
        Annotated[str, StringConstraints(to_upper=True), _check(rules.country_problem)] | None
    ) = None
    subdivision: Annotated[str, StringConstraints(max_length=10), NoNul] | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError("business hours must end after they start on the same day")
        return self


class TeamUpdate(StrictModel):
    name: Name | None = None
    time_zone: TimeZone | None = None
    members: list[Handle] | None = Field(default=None, max_length=500)
    business_hours: BusinessHours | None = None
    clear_business_hours: bool = False


class ServiceUpdate(StrictModel):
    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=2000), NoNul] | None = None
    team: Slug | None = None


class TeamMemberAdd(StrictModel):
    handle: Handle


class TeamRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str
    time_zone: str
    members: list[UserBrief]
    business_hours: dict[str, Any] | None = None


class ServiceCreate(StrictModel):
    slug: Slug
    name: Name
    description: Annotated[str, StringConstraints(max_length=2000), NoNul] = ""
    team: Slug | None = None


class ServiceRead(BaseModel):
    slug: str
    name: str
    description: str
    team: str | None
