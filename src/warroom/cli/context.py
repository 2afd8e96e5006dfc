"""Settings and database for the commands that work on the database directly."""

from __future__ import annotations

from warroom.cli.client import EXIT_USAGE, CliError
from warroom.db import migrate
from warroom.db import tables as _tables  # noqa: F401  (every table known before the first query)
from warroom.db.engine import SessionFactory, make_engine, make_session_factory
from warroom.settings import Settings, SettingsError, load_settings


def settings() -> Settings:
    """Validated settings, or a usage error listing each bad value."""
    try:
        return load_settings()
    except SettingsError as error:
        raise CliError(f"invalid configuration:\n{error}", EXIT_USAGE) from None


def database(config: Settings, *, require_current: bool = True) -> SessionFactory:
    """Sessions on the configured database, checked to be migrated."""
    engine = make_engine(config.resolved_database_url)
    if require_current and not migrate.is_current(engine):
        raise CliError("the database schema is not current: run `warroom db upgrade` first")
    return make_session_factory(engine)
