"""Plain DB-API statements for the ingest hot path, on the session's own connection.

SQLAlchemy costs a few hundred microseconds per statement on this class of
machine; a storm of alerts needs a handful of microseconds. The few hot
statements therefore go straight to the driver, inside the same transaction
as the ORM work around them. Values are stored exactly as SQLAlchemy's types
would store them (UTC timestamps, JSON), so ORM reads see the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
TIMES_KEPT = 256
PLAIN = frozenset({str, int, float, bool, type(None)})
INFO_KEY = "warroom.raw_statements"


class Json:
    """Marks a value to be stored in a JSON column."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class RawStatements:
    """Runs ``?``-style SQL on the session's driver connection, for either backend."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        driver = connection.connection.driver_connection
        assert driver is not None  # a live session connection always has one
        self._dbapi: Any = driver
        # The driver's errors, wrapped as SQLAlchemy would wrap them: callers retry,
        # answer 503 or isolate a job on OperationalError, IntegrityError, DataError.
        self._errors: type[Exception] = connection.dialect.loaded_dbapi.Error
        self._postgres = connection.dialect.name == "postgresql"
        self._sql_cache: dict[str, str] = {}
        self._jsonb: Any = None
        # instant -> stored form (aware datetimes hash and compare by instant)
        self._times: dict[datetime, Any] = {}
        if self._postgres:  # imported here: psycopg costs ~10 MB a process that uses SQLite
            from psycopg.types.json import Jsonb

            self._jsonb = Jsonb

    @classmethod
    def of(cls, session: Session) -> RawStatements:
        """The session's statements, made once per transaction (they hold its connection).

        Kept in ``session.info``, which the group committer clears on rollback.
        """
        found = session.info.get(INFO_KEY)
        if found is None:
            found = session.info[INFO_KEY] = cls(session)
        return found

    @property
    def postgres(self) -> bool:
        """Whether the statements run on PostgreSQL (else SQLite)."""
        return self._postgres

    def _sql(self, sql: str) -> str:
        if not self._postgres:
            return sql
        converted = self._sql_cache.get(sql)
        if converted is None:
            converted = self._sql_cache[sql] = sql.replace("?", "%s")
        return converted

    def stored(self, value: Any) -> Any:
        """``value`` as the driver is given it (for values inside an array parameter)."""
        return self._value(value)

    def _value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            # A batch's events share one ``now``, passed several times per event, and
            # a webhook's alerts mostly one start time: each instant is converted once.
            stored = self._times.get(value)
            if stored is None:
                if len(self._times) >= TIMES_KEPT:
                    self._times.clear()
                utc = value.astimezone(UTC)
                stored = utc if self._postgres else utc.strftime(SQLITE_TIME)
                self._times[value] = stored
            return stored
        if isinstance(value, Json):
            if self._postgres:
                return self._jsonb(value.value)
            return orjson.dumps(value.value).decode()
        return value

    def one(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """Run a statement and return its first row, if any."""
        cursor = self._execute(sql, params)
        try:
            row = cursor.fetchone()
            return tuple(row) if row is not None else None
        finally:
            cursor.close()

    def all(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Run a statement and return every row."""
        cursor = self._execute(sql, params)
        try:
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def run(self, sql: str, params: Sequence[Any]) -> None:
        """Run a statement for its effect."""
        self._execute(sql, params).close()

    def _execute(self, sql: str, params: Sequence[Any]) -> Any:
        """A cursor that ran the statement (a plain try: a context manager cost ~2 us)."""
        cursor = self._dbapi.cursor()
        value = self._value
        # Most parameters are plain and go as they are, checked inline (a call each cost ~0.2 us).
        values = [v if type(v) in PLAIN else value(v) for v in params]
        try:
            cursor.execute(self._sql(sql), values)
        except self._errors as error:
            cursor.close()
            raise DBAPIError.instance(sql, values, error, self._errors) from error
        return cursor
