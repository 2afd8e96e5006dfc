"""The process `warroom serve` becomes: uvicorn, and nothing of the CLI.

`warroom serve` checks the configuration and the schema with the CLI's
imports (typer, rich, SQLAlchemy, the settings), then replaces itself (exec,
same process id, so signals and supervisors see no change) with this module,
which imports only uvicorn. With several workers this process only watches
them, and a supervisor holding the CLI's ~100 MB did nothing with it; each
worker imports the app itself (web/asgi.py).

    python -m warroom.web.supervise '{"host": "127.0.0.1", "port": 8080, ...}'
"""

from __future__ import annotations

import json
import sys
from typing import Any

import uvicorn

APP = "warroom.web.asgi:app_factory"


def main(argv: list[str]) -> None:
    options: dict[str, Any] = json.loads(argv[1])
    uvicorn.run(APP, factory=True, **options)


if __name__ == "__main__":
    main(sys.argv)
