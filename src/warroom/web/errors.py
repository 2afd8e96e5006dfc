"""Map domain errors and bad requests to precise HTTP answers with JSON bodies."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from warroom import errors

STATUS_BY_ERROR: list[tuple[type[errors.WarroomError], int]] = [
    (errors.NotFound, 404),
    (errors.InvalidTransition, 409),
    (errors.Conflict, 409),
    (errors.Invalid, 422),
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
]


def problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    """A JSON error body: ``detail`` for people, ``errors`` for programs."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": detail, **extra}, status_code=status, headers=headers)


def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.WarroomError)
    status = next(code for kind, code in STATUS_BY_ERROR if isinstance(exc, kind))
    extra: dict[str, Any] = {}
    if exc.field:
        extra["errors"] = [{"field": exc.field, "message": exc.message}]
    if isinstance(exc, errors.InvalidTransition):
        extra["allowed"] = exc.allowed
    return problem(status, exc.message, **extra)


LOCATIONS = frozenset({"body", "query", "path", "header"})
# Pydantic names the member of a union that failed ("int", "function-after[...]");
# users know the field, not our type machinery.
UNION_TAG = re.compile(r"^(int|str|float|bool|none|list\[.*|dict\[.*|.*\[.*\].*|[a-z]+-[a-z-]+)$")


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in LOCATIONS]
    while len(parts) > 1 and UNION_TAG.match(parts[-1]):
        parts.pop()
    return ".".join(parts) or "body"


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = exc.errors()
    if any(item.get("type") == "json_invalid" for item in items):
        return problem(400, "the request body is not valid JSON")
    by_field: dict[str, list[str]] = {}
    for item in items:
        message = str(item["msg"]).removeprefix("Value error, ")
        messages = by_field.setdefault(_field_name(tuple(item["loc"])), [])
        if message not in messages:
            messages.append(message)
    found = [{"field": f, "message": " or ".join(m)} for f, m in by_field.items()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in found)
    return problem(422, detail, errors=found)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail))


def _data_error(_request: Request, exc: Exception) -> JSONResponse:
    # Input that passed validation but that the database refuses (e.g. a NUL
    # byte in a query parameter on PostgreSQL) is still the caller's mistake.
    return problem(422, "a value in the request cannot be stored or searched for")


def _integrity_error(_request: Request, exc: Exception) -> JSONResponse:
    # Two requests racing to create the same unique thing: the loser gets 409.
    return problem(409, "the request conflicts with data written at the same time; retry")


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(errors.WarroomError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
