"""Portable SQL expressions the dialects spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[float]):  # noqa: N801 (reads like the SQL function it is)
    """``seconds_between(end, start)``: seconds from start to end, computed by the database."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _sqlite_seconds(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _postgresql_seconds(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


class epoch_seconds(FunctionElement[float]):  # noqa: N801 (reads like the SQL function it is)
    """``epoch_seconds(ts)``: the timestamp as seconds on a fixed scale (differences are exact)."""

    type = Float()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds, "sqlite")
def _sqlite_epoch(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(julianday({value}) * 86400.0)"


@compiles(epoch_seconds, "postgresql")
def _postgresql_epoch(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM {value})"


def insert_unless_exists(dialect: str, table: Table, unique: list[str]) -> Insert:
    """``INSERT ... ON CONFLICT (unique) DO NOTHING``, as ``dialect`` spells it.

    One statement where a lookup, a savepoint and an insert took four round trips;
    with RETURNING it yields no row when the row already existed.
    """
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=unique)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=unique)
