"""The report's SQL expressions that SQLite and PostgreSQL spell differently.

Durations are floating-point seconds on both: each timestamp is converted
once to seconds since the epoch (SQLite: julianday, PostgreSQL: date_part,
a double either way) and the instants are subtracted. Epoch seconds in a
double blur the microseconds a little (SQLite's julianday more), so the report
rounds every duration to whole milliseconds before using it (millis()).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Float, String, cast, func, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
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
    return f"date_part('epoch', {value})"


def elapsed(end: Any, start: Any) -> ColumnElement[float]:
    """Seconds from one instant() to another: the same subtraction on both databases."""
    return type_coerce(end - start, Float())


def millis(seconds: Any) -> Any:
    """Whole milliseconds, as every duration is stored and compared.

    Rounding takes off the floating-point blur of epoch arithmetic (an ack on
    a 15-minute target must not come out as 900.00002 s and miss it); integers
    also list and read back at about half the cost of exact floats.
    """
    return cast(func.round(seconds * 1000), BigInteger)


class value_list(FunctionElement[str]):  # noqa: N801 (reads like the SQL aggregate it is)
    """``value_list(x)``: a group's non-null integers ``x`` as comma-separated text.

    NULL when the group has none.
    """

    type = String()
    inherit_cache = True
    name = "value_list"


@compiles(value_list, "sqlite")
def _sqlite_value_list(element: value_list, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = sql_arguments(element, compiler, **kw)
    return f"group_concat({value})"  # skips NULLs; integers print exactly


@compiles(value_list, "postgresql")
def _postgresql_value_list(element: value_list, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = sql_arguments(element, compiler, **kw)
    return f"string_agg(CAST({value} AS TEXT), ',')"
