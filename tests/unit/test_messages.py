"""Editable message templates rendered in a sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from warroom.errors import Invalid
from warroom.incidents import messages

INTERNAL = messages.INTERNAL_UPDATE
SAMPLE = messages.SAMPLE_CONTEXT[INTERNAL]


def test_default_template_renders_every_field_of_the_sample():
    body = messages.render(messages.DEFAULT_TEMPLATES[INTERNAL], SAMPLE)
    assert body.startswith("[SEV-1] INC-1: Checkout failures\n")
    assert "Status: investigating for 25m since declared" in body
    assert "Impact: ~30% of checkouts fail" in body
    assert "IC @alice (Alice), Tech Lead @bob (Bob), Comms @carol (Carol)" in body
    assert "Current theory: DB pool exhausted" in body
    assert "Next action: restart order-service (ETA 10:45 UTC)" in body
    assert "Next update: in 15m (10:45 UTC)" in body
    assert "DRILL" not in body
    assert body.endswith("\n")


def test_default_template_fills_in_blanks_and_marks_drills():
    context = {
        **SAMPLE,
        "drill": True,
        "impact": "",
        "commander": "",
        "tech_lead": "",
        "comms": "",
        "theory": "",
        "next_action": "",
        "next_action_eta": "",
    }
    body = messages.render(messages.DEFAULT_TEMPLATES[INTERNAL], context)
    assert "(DRILL)" in body.splitlines()[0]
    assert "Impact: not yet known" in body
    assert "IC unassigned, Tech Lead unassigned, Comms unassigned" in body
    assert "Current theory: none yet" in body
    assert "Next action: to be decided\n" in body
    assert "ETA" not in body


def test_default_template_validates():
    messages.validate(INTERNAL, messages.DEFAULT_TEMPLATES[INTERNAL])


def test_validate_accepts_a_template_using_known_variables():
    messages.validate(INTERNAL, "{{ ref }} {{ title|upper }} is {{ phase }} ({{ severity }})")


def test_autoescape_is_off_for_plain_text_messages():
    assert messages.render("{{ title }}", {"title": "<b>&'\""}) == "<b>&'\""


@pytest.mark.parametrize(
    ("body", "hint"),
    [
        ("{{ title ", "does not render"),
        ("{% if drill %}unterminated", "does not render"),
        ("{% for %}{% endfor %}", "does not render"),
        ("{{ titel }}", "'titel' is undefined"),
        ("{{ incident.title }}", "'incident' is undefined"),
        ("{{ title.nope.deeper }}", "does not render"),
    ],
)
def test_validate_refuses_broken_templates(body, hint):
    with pytest.raises(Invalid) as caught:
        messages.validate(INTERNAL, body)
    assert caught.value.field == "body"
    assert hint in caught.value.message


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ title.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ lipsum.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ self.__init__.__globals__ }}",
        "{% set x = title.format_map.__self__ %}{{ x.__class__ }}",
    ],
)
def test_validate_refuses_sandbox_escapes(body):
    with pytest.raises(Invalid) as caught:
        messages.validate(INTERNAL, body)
    assert caught.value.field == "body"
    assert "unsafe" in caught.value.message or "undefined" in caught.value.message


def test_render_refuses_sandbox_escapes_even_for_stored_templates():
    body = messages.render("{{ ''.__class__.__mro__ }}", SAMPLE)
    assert body.startswith("(template error:")
    assert "<class" not in body


def test_validate_refuses_unknown_template_names():
    with pytest.raises(Invalid) as caught:
        messages.validate("status_page", "hello")
    assert caught.value.field == "name"
    assert INTERNAL in caught.value.message


def test_validate_refuses_overlong_templates():
    with pytest.raises(Invalid) as caught:
        messages.validate(INTERNAL, "x" * (messages.MAX_TEMPLATE + 1))
    assert caught.value.field == "body"
    messages.validate(INTERNAL, "x" * messages.MAX_TEMPLATE)


@pytest.mark.parametrize("body", ["{{ 1 / 0 }}", "{{ title + 1 }}", "{{ range(10**6)|list }}"])
def test_validate_refuses_templates_that_fail_at_runtime(body):
    with pytest.raises(Invalid):
        messages.validate(INTERNAL, body)


def test_render_falls_back_to_a_plain_dump_when_the_template_breaks():
    body = messages.render("{{ missing }}", {"title": "Checkout down", "phase": "triage"})
    assert body.startswith("(template error: 'missing' is undefined)")
    assert "title: Checkout down" in body
    assert "phase: triage" in body


def test_render_falls_back_when_the_template_fails_at_runtime():
    body = messages.render("{{ 100 // theory|length }}", {**SAMPLE, "theory": ""})
    assert body.startswith("(template error:")


def test_known_template():
    messages.known_template(INTERNAL)
    with pytest.raises(Invalid):
        messages.known_template("nope")


def test_clock_time_is_labelled_utc():
    assert messages.clock_time(datetime(2026, 11, 27, 9, 5, tzinfo=UTC)) == "09:05 UTC"


def test_clock_time_converts_other_zones_to_utc():
    berlin_winter = timezone(timedelta(hours=1))
    assert messages.clock_time(datetime(2026, 11, 27, 10, 5, tzinfo=berlin_winter)) == "09:05 UTC"
