"""Settings from WARROOM_* variables, validated once by the entry points.

Only composition roots (web/app.py, cli/main.py) read these; everything else
receives plain values, so tests build a Settings instead of touching environ.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "changethis", "change-me", "secret", "warroom", "password", "default", "test"}
)
MIN_SECRET_LENGTH = 32


class SettingsError(Exception):
    """One or more WARROOM_* values are invalid; the message lists each."""


class Settings(BaseModel):
    """Server-side configuration.

    A plain model rather than pydantic-settings' BaseSettings: load_settings reads
    exactly the mapping it is given, so a test never picks up the caller's environ.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    env: Literal["development", "production"] = "development"
    var_dir: Path = Path("var")
    database_url: str = ""
    base_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    secret_key: str = ""
    smtp_url: str | None = None
    smtp_from: str = "warroom@localhost"
    # Delivery retries: exponential backoff with jitter from this base, then dead letter.
    retry_base_seconds: float = Field(default=30.0, gt=0, le=3600)
    max_attempts: int = Field(default=10, ge=1, le=50)
    # How often an idle worker looks for due work; also bounds how late a timer fires.
    worker_poll_seconds: float = Field(default=0.25, gt=0, le=60)
    # A claimed job is another worker's to retry once this long has passed
    # without its result (the claiming worker died). A worker claims at most a
    # few deliveries at a time: keep this above 4 x the slowest delivery (15 s).
    worker_lock_seconds: float = Field(default=60.0, ge=1, le=3600)
    ack_link_hours: int = Field(default=24, ge=1, le=24 * 14)
    # The organisation's zone: postmortem timelines and reports are written in it.
    time_zone: str = "UTC"
    status_page_name: str = Field(default="warroom", min_length=1, max_length=100)
    postmortem_due_days: int = Field(default=5, ge=1, le=60)
    # `warroom serve` runs a worker thread unless told not to (--no-worker).
    run_worker: bool = True
    # `warroom serve --public`: only the status page and the keyed ingest endpoints.
    public: bool = False
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Europe/Berlin") from None
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://warroom.example.com")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url_is_supported(cls, value: str) -> str:
        if value.startswith(("postgresql://", "postgres://")):
            # psycopg 3 is the driver we ship; the bare scheme would ask for psycopg2.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        if value and not value.startswith(("sqlite", "postgresql+psycopg")):
            raise ValueError(
                "must start with sqlite:/// or postgresql+psycopg:// "
                "(other databases are not supported)"
            )
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_scheme(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in ("smtp", "smtps"):
            raise ValueError("must look like smtp://user:pass@host:587 or smtps://host:465")
        return value or None

    @model_validator(mode="after")
    def _production_needs_real_secret(self) -> Settings:
        if self.env == "production":
            if not self.secret_key:
                raise ValueError(
                    "WARROOM_SECRET_KEY must be set in production (e.g. `openssl rand -hex 32`)"
                )
            if self.secret_key.lower() in PLACEHOLDER_SECRETS:
                raise ValueError("WARROOM_SECRET_KEY is a placeholder; refuse to run production")
            if len(self.secret_key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"WARROOM_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters"
                )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under var_dir."""
        return self.database_url or f"sqlite:///{self.var_dir / 'warroom.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        name = f"WARROOM_{loc[0].upper()}" if loc else "settings"
        message = str(item["msg"]).removeprefix("Value error, ")
        got = item.get("input")
        shown = f" (got {_redact(got)!r})" if loc and isinstance(got, str | int) else ""
        if loc and loc[0] == "secret_key":
            shown = ""
        lines.append(f"{name}: {message}{shown}" if loc else message)
    return "\n".join(lines)


def _redact(value: str | int) -> str | int:
    """Hide the password of a URL so that error messages and logs never show it."""
    if not isinstance(value, str) or "://" not in value:
        return value
    parts = urlsplit(value)
    if parts.password is None:
        return value
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from ``environ`` (default: the process environment)."""
    source = os.environ if environ is None else environ
    values = {
        key.removeprefix("WARROOM_").lower(): value
        for key, value in source.items()
        if key.startswith("WARROOM_")
    }
    try:
        settings = Settings.model_validate(values)
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
    if settings.var_dir.exists() and not settings.var_dir.is_dir():
        raise SettingsError(f"WARROOM_VAR_DIR: {settings.var_dir} exists and is not a directory")
    if not settings.secret_key:
        try:
            secret = _local_secret(settings.var_dir)
        except OSError as error:
            raise SettingsError(f"WARROOM_VAR_DIR: cannot keep the secret there: {error}") from None
        settings = settings.model_copy(update={"secret_key": secret})
    return settings


def _local_secret(var_dir: Path) -> str:
    """Read or create the development secret kept under var_dir (mode 0600)."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret
