"""Client commands that fail before reaching a server: exit 2 (usage) or 3 (unreachable)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.harness import Deployment, assert_refused

pytestmark = pytest.mark.e2e

TOKEN = "wr_offline-test-token"


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("declare", "Checkout failures"), "Missing option '--sev'"),
        (("ls", "--limit", "0"), "--limit"),
        (("phase", "INC-3"), "Missing argument 'PHASE'"),
        (("no-such-command",), "No such command"),
    ],
)
def test_bad_options_exit_2(offline: Deployment, args: tuple[str, ...], complaint: str) -> None:
    outcome = offline.cli(*args, token=TOKEN)
    assert outcome.code == 2, outcome
    assert complaint in outcome.err, outcome
    assert "Traceback" not in outcome.err, outcome
    assert outcome.out == "", outcome


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("update", "INC-3", "--eta", "soon"), "--eta: 'soon' is not a duration like 15m"),
        (("update", "INC-3", "--eta", "45d"), "--eta: duration must be between 1s and 30d"),
        (("assign", "INC-3"), "give at least one of --commander, --tech-lead, --comms"),
        (("show", "checkout"), "'checkout' is not an incident reference like INC-42"),
        (("note", "INC-3", "x", "--at", "yesterday"), "--at 'yesterday' is not an ISO 8601 time"),
    ],
)
def test_bad_values_exit_2_before_any_request(
    offline: Deployment, args: tuple[str, ...], message: str
) -> None:
    # The server is unreachable, so exit 2 (not 3) shows nothing was sent.
    assert_refused(offline.cli(*args, token=TOKEN), 2, message)


@pytest.mark.parametrize("args", [("ls",), ("declare", "Checkout failures", "--sev", "1")])
def test_no_token_configured_exits_2(offline: Deployment, args: tuple[str, ...]) -> None:
    outcome = offline.cli(*args, anonymous=True)
    assert_refused(outcome, 2, "not logged in: run `warroom login` or set WARROOM_TOKEN")


@pytest.mark.parametrize(
    "args",
    [
        ("ls",),
        ("resolve", "INC-3"),
        ("login", "--token", TOKEN),
    ],
)
def test_unreachable_server_exits_3(offline: Deployment, args: tuple[str, ...]) -> None:
    assert_refused(
        offline.cli(*args, token=TOKEN),
        3,
        f"cannot reach warroom at {offline.url} (ConnectError)",
        "WARROOM_URL",
    )


def test_the_callers_login_does_not_leak_in(
    offline: Deployment, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A developer's own WARROOM_TOKEN and ~/.config/warroom are invisible to the commands.
    saved = tmp_path / "xdg" / "warroom" / "credentials.json"
    saved.parent.mkdir(parents=True)
    saved.write_text(json.dumps({"url": offline.url, "token": "wr_developers-own"}))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(saved.parent.parent))
    monkeypatch.setenv("WARROOM_TOKEN", "wr_developers-own")
    monkeypatch.setenv("WARROOM_CONFIG_DIR", str(saved.parent))
    outcome = offline.cli("ls", anonymous=True)
    assert_refused(outcome, 2, "not logged in")


def test_unreadable_saved_credentials_exit_2(offline: Deployment) -> None:
    config = offline.root / "broken-cfg"
    config.mkdir()
    (config / "credentials.json").write_text("{not json")
    outcome = offline.cli("ls", anonymous=True, config_dir=config)
    assert_refused(outcome, 2, f"cannot read {config / 'credentials.json'}")


def test_saved_credentials_that_are_not_an_object_exit_2(offline: Deployment) -> None:
    config = offline.root / "odd-cfg"
    config.mkdir()
    (config / "credentials.json").write_text('["wr_token"]\n')
    outcome = offline.cli("ls", anonymous=True, config_dir=config)
    assert_refused(outcome, 2, f"cannot read {config / 'credentials.json'}")


def test_malformed_url_is_a_usage_error(offline: Deployment) -> None:
    outcome = offline.cli("ls", token=TOKEN, url="http://127.0.0.1:8o80")
    assert_refused(outcome, 2, "http://127.0.0.1:8o80")
