"""Hostile and unusual text is stored and returned exactly, and never breaks the server."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.http.api import People, all_refs, declare, error_fields, snapshot

API = "/api/v1"
INCIDENTS = f"{API}/incidents"

HOSTILE = [
    "<script>alert('pwned')</script>",
    '<img src=x onerror="alert(1)"> &amp; &lt;b&gt;',
    "'; DROP TABLE incident; --",
    'Robert"); DELETE FROM "user" WHERE ("1"="1',
    "\u202eevil\u202c right-to-left override",
    "مرحبا بالعالم، الدفع معطل",
    "שלום checkout עולם",
    "🔥💥 👩‍💻 on it 🇪🇺",
    "Cafe\u0301 naïve ß \U0001d518\U0001d52b\U0001d526 (astral letters)",
    "zero\u200bwidth\ufeffbom",
    "{{ 7 * 7 }} {% for x in range(3) %}{{ x }}{% endfor %}",
    "%s %n %x {0} ${PATH} $(id) `id`",
    "back\\slash \\x00 \\n literal",
    "line one\nline two\ttabbed",
    "null",
    "🔥" * 200,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_round_trips_verbatim(client: TestClient, people: People, text: str) -> None:
    incident = declare(client, people.responder, title=text, customer_impact=text)
    ref = incident["ref"]
    assert incident["title"] == text
    assert incident["customer_impact"] == text

    note = client.post(f"{INCIDENTS}/{ref}/notes", json={"text": text}, headers=people.responder)
    assert note.status_code == 201
    assert note.json()["text"] == text
    patched = client.patch(
        f"{INCIDENTS}/{ref}",
        json={"current_theory": text, "next_action": text},
        headers=people.responder,
    )
    assert patched.status_code == 200
    assert patched.json()["current_theory"] == text

    shown = snapshot(client, people.viewer, ref)["incident"]
    assert (shown["title"], shown["customer_impact"], shown["next_action"]) == (text, text, text)
    timeline = shown["timeline"]
    assert timeline[0]["text"].endswith(f": {text}")
    assert timeline[1]["text"] == text
    assert timeline[2]["data"]["after"] == text

    listed = client.get(INCIDENTS, headers=people.viewer).json()["items"]
    assert [i["title"] for i in listed if i["ref"] == ref] == [text]


@pytest.mark.parametrize(
    "text",
    ["{{ 7 * 7 }}", "{% raw %}x{% endraw %}", "{{ ''.__class__.__mro__ }}", "<b>bold</b>"],
)
def test_internal_update_shows_text_as_written_not_as_template(
    client: TestClient, people: People, text: str
) -> None:
    ref = declare(client, people.responder, title=text)["ref"]
    update = client.post(
        f"{INCIDENTS}/{ref}/updates", json={"theory": text}, headers=people.responder
    )
    assert update.status_code == 201
    lines = update.json()["body"].splitlines()
    assert lines[0] == f"[SEV-1] {ref}: {text}"
    assert f"Current theory: {text}" in lines


def test_hostile_user_name_round_trips(client: TestClient, people: People) -> None:
    name = "<script>x</script> O'Brien \u202e"
    body = {"handle": "obrien", "name": name, "email": "o@example.com", "role": "viewer"}
    created = client.post(f"{API}/users", json=body, headers=people.admin)
    assert created.status_code == 201
    assert client.get(f"{API}/users/obrien", headers=people.viewer).json()["name"] == name
    ref = declare(client, people.responder)["ref"]
    # Incident roles are separate from account roles: a viewer may be named Comms Lead.
    roles = client.post(
        f"{INCIDENTS}/{ref}/roles", json={"comms": "obrien"}, headers=people.responder
    )
    assert roles.status_code == 200
    assert roles.json()["roles"]["comms"] == {"handle": "obrien", "name": name}


# PostgreSQL cannot store NUL in text, so for NUL the contract is: refused with a
# 422 naming the field and nothing written, or kept exactly; never a server error.


def test_nul_in_a_title_is_refused_by_name_or_kept(
    lenient_client: TestClient, people: People
) -> None:
    title = "before\x00after"
    response = lenient_client.post(
        INCIDENTS, json={"title": title, "severity": 1}, headers=people.responder
    )
    assert response.status_code in (201, 422), response.text
    if response.status_code == 422:
        assert error_fields(response.json()) == ["title"]
        assert all_refs(lenient_client, people.viewer) == []
    else:
        shown = lenient_client.get(f"{INCIDENTS}/{response.json()['ref']}", headers=people.viewer)
        assert shown.json()["title"] == title


@pytest.mark.parametrize(
    ("method", "suffix", "body", "field"),
    [
        ("POST", "/notes", {"text": "a\x00b"}, "text"),
        ("PATCH", "", {"current_theory": "\x00"}, "current_theory"),
        ("POST", "/roles", {"commander": "bob\x00"}, "commander"),
        ("POST", "/updates", {"impact": "half\x00"}, "impact"),
    ],
)
def test_nul_in_a_change_is_refused_by_name_or_kept(
    lenient_client: TestClient,
    people: People,
    method: str,
    suffix: str,
    body: dict[str, str],
    field: str,
) -> None:
    ref = declare(lenient_client, people.responder)["ref"]
    before = snapshot(lenient_client, people.viewer, ref)
    response = lenient_client.request(
        method, f"{INCIDENTS}/{ref}{suffix}", json=body, headers=people.responder
    )
    assert response.status_code in (200, 201, 422), response.text
    if response.status_code == 422:
        assert error_fields(response.json()) == [field]
        assert snapshot(lenient_client, people.viewer, ref) == before
    else:
        assert snapshot(lenient_client, people.viewer, ref) != before


@pytest.mark.parametrize(
    "url",
    [
        f"{INCIDENTS}?service=check%00out",
        f"{INCIDENTS}?severity=SEV-1%00",
        f"{INCIDENTS}/INC-1%00",
        f"{API}/users/rita%00",
        f"{API}/templates/internal_update%00",
        f"{INCIDENTS}?service=checkout%27%20OR%201%3D1%20--",
        f"{INCIDENTS}?severity=1%27%20OR%20%271%27%3D%271",
    ],
)
def test_hostile_lookups_are_client_errors(
    lenient_client: TestClient, people: People, url: str
) -> None:
    declare(lenient_client, people.responder)
    response = lenient_client.get(url, headers=people.viewer)
    assert 400 <= response.status_code < 500, response.text
