"""Liveness, readiness and Prometheus metrics endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from warroom.db import migrate
from warroom.web.deps import Sessions

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(request: Request, sessions: Sessions) -> JSONResponse:
    """Ready to serve: the database answers and its schema is current."""
    head: str | None = request.app.state.migration_head
    try:
        with sessions.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = migrate.current_revision(sessions.engine)
    except SQLAlchemyError as error:
        detail = f"database unreachable: {type(error).__name__}"
        return JSONResponse({"status": "unavailable", "detail": detail}, status_code=503)
    if current != head:
        where = f"is at {current}" if current else "has no schema"
        detail = f"database {where}, code needs {head}: run `warroom db upgrade`"
        return JSONResponse({"status": "unavailable", "detail": detail}, status_code=503)
    return JSONResponse({"status": "ready", "migration": current})


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text exposition of the process's metrics."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
