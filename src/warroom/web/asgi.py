"""ASGI entry point for uvicorn: builds the app from the process's settings."""

from __future__ import annotations

from warroom.settings import load_settings
from warroom.web.app import create_server_app
from warroom.web.front import Front


def app_factory() -> Front:
    """The app for ``uvicorn --factory warroom.web.asgi:app_factory``."""
    settings = load_settings()
    return create_server_app(settings, public=settings.public)
