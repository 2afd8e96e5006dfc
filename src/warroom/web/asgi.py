"""ASGI entry point for uvicorn: builds the app from the process's settings."""

from __future__ import annotations

import gc

from warroom.settings import load_settings
from warroom.web.app import create_server_app
from warroom.web.front import Front


def app_factory() -> Front:
    """The app for ``uvicorn --factory warroom.web.asgi:app_factory``."""
    settings = load_settings()
    app = create_server_app(settings, public=settings.public)
    # What exists now (modules, the app, SQLAlchemy's mappers) lives as long as the
    # process. Moved out of the collector's sight: each full collection walked it all,
    # 50-90 ms during which no request was answered (the p99 of an ingest storm).
    gc.collect()  # startup's garbage first: frozen objects are never freed
    gc.freeze()
    return app
