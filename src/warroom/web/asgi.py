"""ASGI entry point for uvicorn: builds the app from the process's settings."""

from __future__ import annotations

from fastapi import FastAPI

from warroom.settings import load_settings
from warroom.web.app import create_app


def app_factory() -> FastAPI:
    """The app for ``uvicorn --factory warroom.web.asgi:app_factory``."""
    return create_app(load_settings())
