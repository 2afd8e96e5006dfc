"""The HTTP client behind the CLI's client commands."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

DEFAULT_URL = "http://127.0.0.1:8080"
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class CliError(Exception):
    """A failure to report in one line, with the exit code scripts rely on."""

    def __init__(self, message: str, code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where `warroom login` keeps credentials."""
    env = os.environ if environ is None else environ
    if env.get("WARROOM_CONFIG_DIR"):
        return Path(env["WARROOM_CONFIG_DIR"])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "warroom"


def credentials_path(environ: Mapping[str, str] | None = None) -> Path:
    return config_dir(environ) / "credentials.json"


def save_credentials(url: str, token: str, environ: Mapping[str, str] | None = None) -> Path:
    """Store URL and token for later commands, readable by the owner only."""
    path = credentials_path(environ)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"url": url, "token": token}, handle)
    tmp.replace(path)
    return path


def load_credentials(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    path = credentials_path(environ)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise CliError(f"cannot read {path}: {error}", EXIT_USAGE) from None
    if not isinstance(data, dict):
        raise CliError(f"cannot read {path}: expected a JSON object", EXIT_USAGE)
    return {k: str(v) for k, v in data.items() if k in ("url", "token")}


@dataclass
class Client:
    """Talks JSON to a warroom server; turns every failure into a CliError."""

    url: str
    token: str | None
    timeout: float = 15.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Client:
        env = os.environ if environ is None else environ
        saved = load_credentials(env)
        url = env.get("WARROOM_URL") or saved.get("url") or DEFAULT_URL
        token = (env.get("WARROOM_TOKEN") or saved.get("token") or "").strip() or None
        if token is not None and not token.isprintable():
            raise CliError("WARROOM_TOKEN holds control characters; copy it again", EXIT_USAGE)
        return cls(url=checked_url(url), token=token)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        auth: bool = True,
        raw: bool = False,
    ) -> Any:
        """Send a request and return the decoded JSON answer."""
        headers = {"Accept": "application/json"}
        if auth:
            if not self.token:
                raise CliError(
                    "not logged in: run `warroom login` or set WARROOM_TOKEN", EXIT_USAGE
                )
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = httpx.request(
                method,
                self.url + path,
                json=json_body,
                params=params,
                headers=headers,
                timeout=self.timeout,
            )
        except httpx.TransportError as error:
            raise CliError(
                f"cannot reach warroom at {self.url} ({type(error).__name__}); "
                "is `warroom serve` running and WARROOM_URL right?",
                EXIT_UNREACHABLE,
            ) from None
        if raw and response.is_success:
            return response.text
        return _decode(response)

    def text(self, path: str, **params: Any) -> str:
        """A successful answer's body as text (HTML, Markdown)."""
        clean = {k: v for k, v in params.items() if v is not None}
        return str(self.request("GET", path, params=clean, raw=True))

    def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=clean)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json_body=body if body is not None else {})


def checked_url(url: str) -> str:
    """The server URL without a trailing slash, or a usage error saying what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(
            f"WARROOM_URL {url!r} is not an http(s) URL such as http://127.0.0.1:8080", EXIT_USAGE
        )
    try:
        httpx.URL(url)
    except httpx.InvalidURL as error:
        raise CliError(f"WARROOM_URL {url!r} is not a valid URL: {error}", EXIT_USAGE) from None
    return url.strip().rstrip("/")


def _decode(response: httpx.Response) -> Any:
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.is_success:
        return data
    detail = data.get("detail") if isinstance(data, dict) else None
    message = str(detail) if detail else response.text[:200] or response.reason_phrase
    if response.status_code >= 500:
        raise CliError(f"server error {response.status_code}: {message}", EXIT_REFUSED)
    raise CliError(message, EXIT_REFUSED)
