"""Real-browser fixtures: Debian's Chromium driven by Playwright against a live `warroom serve`.

Playwright's own browser downloads are never used: ``chromium`` is the
Debian package (scripts/debian-packages), launched headless through
``executable_path``. Without it, or without the ``playwright`` package, the
suite is skipped with the reason shown by ``-ra``; under CI=true (1/true/yes)
every test fails instead, naming what is missing. CHROMIUM_PATH names another
Chromium binary (it must then exist).

``server`` is one isolated installation per test module (SQLite, demo loaded,
serving, its worker in-process; with no SMTP server it writes mail to
var/mail); ``new_page`` opens a page in a fresh browser context, JavaScript
on or off. Everything is stopped at teardown whatever happened, and every
wait is bounded: Playwright's actions and navigations by
``ACTION_TIMEOUT_MS``, mail by ``MAIL_TIMEOUT``.
"""

from __future__ import annotations

import email
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import pytest

from tests.conftest import IN_CI
from tests.e2e.harness import Deployment, assert_ok, free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Dialog, Page, Playwright

LAUNCH_TIMEOUT_MS = 60_000  # Chromium's first start on a cold, slow machine
ACTION_TIMEOUT_MS = 15_000  # any click, fill, wait or navigation
MAIL_TIMEOUT = 20.0  # seconds for the in-process worker to spool a mail
# The page's zone: not UTC, so that shown times are visibly converted.
PAGE_ZONE = "Europe/Berlin"
CANDIDATES = ("chromium", "/usr/bin/chromium")


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist registers this too; repeated so that `-p no:xdist` still collects.
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")


def _missing(what: str) -> NoReturn:
    """Fail under CI, skip elsewhere: a browser suite never passes by not running."""
    message = f"browser suite: {what}"
    if IN_CI:
        pytest.fail(f"CI={os.environ['CI']} and {message}", pytrace=False)
    pytest.skip(message)


def find_chromium() -> str | None:
    """Debian's chromium launcher, if installed."""
    override = os.environ.get("CHROMIUM_PATH")
    if override:
        return override if os.path.isfile(override) and os.access(override, os.X_OK) else None
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    found = find_chromium()
    if found is None:
        looked = (
            f"CHROMIUM_PATH={os.environ['CHROMIUM_PATH']} is not an executable file"
            if os.environ.get("CHROMIUM_PATH")
            else "no Chromium executable (looked for `chromium` on PATH and /usr/bin/chromium)"
        )
        _missing(
            f"{looked}; install Debian's `chromium` with `scripts/install-system-deps` as root"
        )
    return found


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        _missing(f"the `playwright` package is not importable ({error}); pip install -e '.[test]'")
    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright, chromium_path: str) -> Iterator[Browser]:
    """One headless Chromium per test session (per xdist worker)."""
    launched = playwright_driver.chromium.launch(
        executable_path=chromium_path,
        headless=True,
        # As root in a container: no user namespaces for Chromium's sandbox.
        args=["--no-sandbox", "--disable-dev-shm-usage"],
        timeout=LAUNCH_TIMEOUT_MS,
    )
    try:
        yield launched
    finally:
        launched.close()


class PageFactory(Protocol):
    def __call__(
        self, *, javascript: bool = True, width: int = 1280, height: int = 800
    ) -> Page: ...


@pytest.fixture
def new_page(browser: Browser) -> Iterator[PageFactory]:
    """Pages in fresh contexts (no cookies or cache shared), all closed at teardown."""
    contexts: list[BrowserContext] = []

    def make(*, javascript: bool = True, width: int = 1280, height: int = 800) -> Page:
        context = browser.new_context(
            java_script_enabled=javascript, viewport={"width": width, "height": height}
        )
        contexts.append(context)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


@dataclass
class BrowserDeployment(Deployment):
    """A Deployment whose server (and server-side commands) get ``extra_env`` too."""

    extra_env: dict[str, str] = field(default_factory=dict)

    def server_env(self, **extra: str) -> dict[str, str]:
        return super().server_env(**{**self.extra_env, **extra})


@pytest.fixture(scope="module")
def server(
    chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserDeployment]:
    """A fresh installation with the demo organisation, serving, for one test module.

    Depends on ``chromium_path`` so that a missing browser skips (or fails)
    before a server is started for nothing.
    """
    root = tmp_path_factory.mktemp("browser")
    deployment = BrowserDeployment(
        root=root,
        backend="sqlite",
        database_url=f"sqlite:///{root / 'warroom.db'}",
        port=free_port(),
        extra_env={"WARROOM_TIME_ZONE": PAGE_ZONE},
    )
    try:
        deployment.prepare()
        deployment.start()
        yield deployment
    finally:
        deployment.stop()


# Helpers shared by the modules.


def dialogs_of(page: Page) -> list[str]:
    """The messages of every alert/confirm/prompt the page opens (each dismissed)."""
    seen: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return seen


def wait_for(what: str, check: Callable[[], Any], timeout: float = MAIL_TIMEOUT) -> Any:
    """Poll ``check`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def spooled_mail(server: Deployment) -> list[Message]:
    """Every mail the server wrote to var/mail (development mode, no SMTP server)."""
    folder = server.var_dir / "mail"
    if not folder.is_dir():
        return []
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def mail_text(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes), message
    return payload.decode()


def api_json(server: Deployment, method: str, path: str, **kwargs: Any) -> Any:
    response = server.api(method, "/api/v1" + path, **kwargs)
    assert response.is_success, f"{method} {path} -> {response.status_code}: {response.text}"
    return response.json() if response.content else None


def show(server: Deployment, ref: str) -> Any:
    """`warroom show REF --json`, as the demo admin."""
    return assert_ok(server.cli("show", ref, "--json")).json()
