"""Editable message templates, rendered in a sandbox.

Templates are written by admins through the API, so they run in Jinja's
sandbox with strict undefined variables: a typo is refused when the template
is saved, not discovered during an outage.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from warroom.errors import Invalid

INTERNAL_UPDATE = "internal_update"

DEFAULT_TEMPLATES: dict[str, str] = {
    INTERNAL_UPDATE: (
        "[{{ severity }}] {{ ref }}: {{ title }}{% if drill %} (DRILL){% endif %}\n"
        "Status: {{ phase }} for {{ duration }} since declared\n"
        "Impact: {{ impact or 'not yet known' }}\n"
        "Team: IC {{ commander or 'unassigned' }}, Tech Lead {{ tech_lead or 'unassigned' }}, "
        "Comms {{ comms or 'unassigned' }}\n"
        "Current theory: {{ theory or 'none yet' }}\n"
        "Next action: {{ next_action or 'to be decided' }}"
        "{% if next_action_eta %} (ETA {{ next_action_eta }}){% endif %}\n"
        "Next update: {{ next_update }}\n"
    ),
}

SAMPLE_CONTEXT: dict[str, dict[str, object]] = {
    INTERNAL_UPDATE: {
        "ref": "INC-1",
        "title": "Checkout failures",
        "severity": "SEV-1",
        "phase": "investigating",
        "drill": False,
        "duration": "25m",
        "impact": "~30% of checkouts fail",
        "commander": "@alice (Alice)",
        "tech_lead": "@bob (Bob)",
        "comms": "@carol (Carol)",
        "theory": "DB pool exhausted",
        "next_action": "restart order-service",
        "next_action_eta": "10:45 UTC",
        "next_update": "in 15m (10:45 UTC)",
        "declared_at": "10:05 UTC",
    }
}

MAX_TEMPLATE = 20_000
_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def known_template(name: str) -> None:
    """Raise NotFound-like Invalid unless ``name`` is a template warroom uses."""
    if name not in DEFAULT_TEMPLATES:
        known = ", ".join(sorted(DEFAULT_TEMPLATES))
        raise Invalid(f"unknown template {name!r}; known: {known}", field="name")


def validate(name: str, body: str) -> None:
    """Refuse a template that does not compile or render with the sample values."""
    known_template(name)
    if len(body) > MAX_TEMPLATE:
        raise Invalid(f"template is longer than {MAX_TEMPLATE} characters", field="body")
    try:
        _env.from_string(body).render(SAMPLE_CONTEXT[name])
    # An admin's template can fail in any way Python can (1/0, "a" + 1, a huge
    # range); all of them mean "this template is not usable".
    except Exception as error:
        raise Invalid(f"template does not render: {error}", field="body") from None


def render(body: str, context: Mapping[str, object]) -> str:
    """Render a stored template; fall back to a plain dump if it no longer renders."""
    try:
        return _env.from_string(body).render(context)
    except Exception as error:
        lines = [f"{key}: {value}" for key, value in context.items()]
        return f"(template error: {error})\n" + "\n".join(lines)


def clock_time(at: datetime) -> str:
    """A time of day for messages read in many time zones: always labelled UTC."""
    return at.astimezone(UTC).strftime("%H:%M UTC")
