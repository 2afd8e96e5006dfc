"""The report's SQL expressions that SQLite and PostgreSQL spell differently.

Durations are floating-point seconds on both. SQLite converts each timestamp
once to seconds (julianday) and subtracts those. PostgreSQL subtracts the
timestamps themselves, exactly, and converts only the difference, with
date_part(), as warroom.db.sql.seconds_between does (see there why).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from warroom.db.sql import sql_arguments


class instant(FunctionElement[Any]):  # noqa: N801 (reads like the SQL function it is)
    """``instant(ts)``: a timestamp in the form elapsed() subtracts."""

    inherit_cache = True
    name = "instant"


@compiles(instant, "sqlite")
def _sqlite_instant(element: instant, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = sql_arguments(element, compiler, **kw)
    return f"(julianday({value}) * 86400.0)"


@compiles(instant, "postgresql")
def _postgresql_instant(element: instant, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = sql_arguments(element, compiler, **kw)
    return str(value)


class elapsed(FunctionElement[float]):  # noqa: N801 (reads like the SQL function it is)
    """``elapsed(end, start)``: seconds from one instant() to another."""

    type = Float()
    inherit_cache = True
    name = "elapsed"


@compiles(elapsed, "sqlite")
def _sqlite_elapsed(element: elapsed, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = sql_arguments(element, compiler, **kw)
    return f"({end} - {start})"


@compiles(elapsed, "postgresql")
def _postgresql_elapsed(element: elapsed, compiler: SQLCompiler, **kw: Any) -> str:
    end, start = sql_arguments(element, compiler, **kw)
    return f"date_part('epoch', {end} - {start})"


class value_list(FunctionElement[str]):  # noqa: N801 (reads like the SQL aggregate it is)
    """``value_list(x)``: a group's non-null values of ``x`` as comma-separated text.

    Each value is printed so that float() reads back the very number the
    database holds; NULL when the group has none.
    """

    type = String()
    inherit_cache = True
    name = "value_list"


@compiles(value_list, "sqlite")
def _sqlite_value_list(element: value_list, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = sql_arguments(element, compiler, **kw)
    # CAST(... AS TEXT) keeps 15 digits; a double needs 17 to read back
    # unchanged. printf() prints NULL as 0.0, so NULLs are kept out first.
    return f"group_concat(CASE WHEN {value} IS NOT NULL THEN printf('%!.17g', {value}) END)"


@compiles(value_list, "postgresql")
def _postgresql_value_list(element: value_list, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = sql_arguments(element, compiler, **kw)
    # float8 prints in the shortest form that reads back exactly, provided
    # extra_float_digits is above 0 (the default, and set by the report).
    return f"string_agg(CAST({value} AS TEXT), ',')"
