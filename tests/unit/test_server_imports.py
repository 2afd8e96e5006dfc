"""What a serving process imports: each worker loads the app, so each module costs twice."""

from __future__ import annotations

import os
import subprocess
import sys

# Needed only to migrate (alembic), with PostgreSQL (psycopg: SQLAlchemy loads it
# for a PostgreSQL URL), or for business-hours policies with a country (holidays).
ON_DEMAND = ("alembic", "psycopg", "holidays")


def _loaded_after(statement: str, modules: tuple[str, ...]) -> list[str]:
    probe = f"import sys; {statement}; print(' '.join(m for m in {modules!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_the_app_leaves_on_demand_modules_unloaded() -> None:
    assert _loaded_after("import warroom.web.asgi", ON_DEMAND) == []


def test_the_supervisor_loads_neither_the_cli_nor_the_app() -> None:
    heavy = ("warroom.cli", "typer", "rich", "sqlalchemy", "fastapi", "warroom.web.app")
    assert _loaded_after("import warroom.web.supervise", heavy) == []


def test_the_served_app_is_frozen_out_of_the_collectors_sight(tmp_path) -> None:
    # A full collection walking every module and mapper stalled all requests 50-90 ms.
    probe = (
        "import gc; from warroom.web.asgi import app_factory; app_factory(); "
        "print(gc.get_freeze_count())"
    )
    env = {
        "WARROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
        "WARROOM_VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    assert int(done.stdout.split()[-1]) > 100_000
