"""Portable SQL expressions the dialects spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.functions import FunctionElement


def sql_arguments(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    """A custom function's arguments, compiled, for its dialect's spelling."""
    return [compiler.process(clause, **kw) for clause in element.clauses]


class seconds_between(FunctionElement[float]):  # noqa: N801 (reads like the SQL function it is)
    """``seconds_between(end, start)``: seconds from start to end as a float.

    PostgreSQL subtracts the timestamps exactly and converts only the difference
    with date_part(): EXTRACT returns numeric, whose arithmetic doubled the time
    the report took, and float epochs at ~1.8e9 s are off by up to 2e-7 s.
    """

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _sqlite_seconds(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = sql_arguments(element, compiler, **kw)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _postgresql_seconds(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = sql_arguments(element, compiler, **kw)
    return f"date_part('epoch', {end} - {start})"


def insert_unless_exists(dialect: str, table: Table, unique: list[str]) -> Insert:
    """``INSERT ... ON CONFLICT (unique) DO NOTHING``, as ``dialect`` spells it.

    One statement where a lookup, a savepoint and an insert took four round trips;
    with RETURNING it yields no row when the row already existed.
    """
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=unique)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=unique)
