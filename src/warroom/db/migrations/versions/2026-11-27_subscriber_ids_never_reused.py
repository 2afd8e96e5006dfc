"""Status subscriber ids are never given out again on SQLite (AUTOINCREMENT).

SQLite hands the highest free rowid to the next insert: after the newest
subscriber left, the next sign-up took its id, and with it mail still queued
for the one who left and the links (signed on the id) in that person's old
mails. PostgreSQL's sequence never reuses an id; nothing changes there.

Revision ID: 6c2e8f4a1b97
Revises: 3e7a9c5b2d10
Create Date: 2026-11-27 19:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "6c2e8f4a1b97"
down_revision: str | None = "3e7a9c5b2d10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # AUTOINCREMENT is part of SQLite's CREATE TABLE: the table is rebuilt, rows copied.
    with op.batch_alter_table(
        "status_subscriber",
        recreate="always",
        table_kwargs={"sqlite_autoincrement": autoincrement},
    ):
        pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
