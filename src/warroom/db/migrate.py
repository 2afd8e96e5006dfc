"""Schema migrations: upgrade to head and tell whether a database is current.

Alembic (about 10 MB per process) is imported only to migrate: the server
asks for the head and current revisions on start and on every /readyz, which
read the migration files and the alembic_version table directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
REVISION = re.compile(r'^revision: str = "(\w+)"', re.MULTILINE)
DOWN_REVISION = re.compile(r'^down_revision: str \| None = (?:"(\w+)"|None)', re.MULTILINE)


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision``."""
    from alembic import command

    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database schema back to ``revision`` (to run older code)."""
    from alembic import command

    _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    config = _config()
    with engine.connect() as connection, _foreign_keys_off(connection), connection.begin():
        config.attributes["connection"] = connection
        step(config, revision)
        _check_foreign_keys(connection)


@contextmanager
def _foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite: foreign keys unenforced while tables are rebuilt.

    SQLite alters a table by copying it and dropping the original; with
    foreign keys on, the drop deletes every row that references it through
    ON DELETE CASCADE (an incident's updates, timeline, alerts). The pragma
    only takes effect outside a transaction, so it is set on the raw
    connection before the migration's transaction begins.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    """SQLite: refuse (roll back) a migration that left a reference dangling."""
    if connection.dialect.name == "sqlite":
        dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if dangling:
            raise RuntimeError(
                f"migration left {len(dangling)} dangling references: {dangling[:5]}"
            )


def head_revision() -> str | None:
    """The newest migration shipped with this code: the one no other revises."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in VERSIONS_DIR.glob("*.py"):
        source = script.read_text(encoding="utf-8")
        found = REVISION.search(source)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = DOWN_REVISION.search(source)
        if down is not None and down.group(1):
            revised.add(down.group(1))
    heads = revisions - revised
    if len(heads) > 1:
        raise RuntimeError(f"migrations have several heads: {sorted(heads)}")
    return heads.pop() if heads else None


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None when it has none."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_current(engine: Engine) -> bool:
    """Whether the database schema matches this code's newest migration."""
    return current_revision(engine) == head_revision()
