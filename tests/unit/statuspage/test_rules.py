"""Status page rollup, impact, public titles, uptime bars and post checks (protocols.md §3)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from warroom.errors import Invalid
from warroom.statuspage.rules import (
    COMPONENT_RANK,
    ComponentStatus,
    DayBar,
    Impact,
    PostStatus,
    StatusChange,
    SubscriberState,
    badness,
    impact_of,
    neutral_title,
    overall_uptime,
    page_status,
    subscriber_state,
    uptime_bars,
    validate_post,
)

OP = ComponentStatus.OPERATIONAL
DEG = ComponentStatus.DEGRADED_PERFORMANCE
PART = ComponentStatus.PARTIAL_OUTAGE
MAJ = ComponentStatus.MAJOR_OUTAGE
MAINT = ComponentStatus.UNDER_MAINTENANCE


@pytest.mark.parametrize(
    ("statuses", "impacts", "expected"),
    [
        ([], [], ("none", "All Systems Operational")),
        ([OP], [], ("none", "All Systems Operational")),
        ([OP, OP, OP], [], ("none", "All Systems Operational")),
        ([MAINT], [], ("maintenance", "Service Under Maintenance")),
        ([OP, MAINT], [], ("maintenance", "Service Under Maintenance")),
        ([DEG], [], ("minor", "Degraded System Service")),
        ([DEG, DEG], [], ("minor", "Degraded System Service")),
        ([OP, DEG], [], ("minor", "Partially Degraded Service")),
        ([MAINT, DEG], [], ("minor", "Partially Degraded Service")),
        ([PART], [], ("major", "Partial System Outage")),
        ([PART, PART], [], ("major", "Partial System Outage")),
        ([OP, PART], [], ("minor", "Minor Service Outage")),
        ([DEG, PART], [], ("minor", "Minor Service Outage")),
        ([MAJ], [], ("critical", "Major System Outage")),
        ([MAJ, MAJ], [], ("critical", "Major System Outage")),
        ([OP, MAJ], [], ("major", "Partial System Outage")),
        ([PART, MAJ], [], ("major", "Partial System Outage")),
        ([MAINT, MAJ], [], ("major", "Partial System Outage")),
        ([], [Impact.NONE], ("none", "All Systems Operational")),
        ([], [Impact.MAINTENANCE], ("maintenance", "Service Under Maintenance")),
        ([OP], [Impact.MINOR], ("minor", "Minor Service Outage")),
        ([OP], [Impact.MAJOR], ("major", "Partial System Outage")),
        ([OP], [Impact.CRITICAL], ("critical", "Major Service Outage")),
        ([OP], [Impact.MINOR, Impact.CRITICAL, Impact.NONE], ("critical", "Major Service Outage")),
        ([MAINT], [Impact.MINOR], ("minor", "Minor Service Outage")),
        ([DEG, OP], [Impact.MINOR], ("minor", "Partially Degraded Service")),
        ([MAJ], [Impact.MINOR], ("critical", "Major System Outage")),
        ([OP, MAJ], [Impact.CRITICAL], ("critical", "Major Service Outage")),
        ([DEG], [Impact.MAINTENANCE], ("minor", "Degraded System Service")),
    ],
)
def test_page_status(statuses, impacts, expected):
    assert page_status(statuses, open_impacts=impacts) == expected


INDICATOR_ORDER = ["none", "maintenance", "minor", "major", "critical"]


@pytest.mark.parametrize("statuses", list(itertools.product(ComponentStatus, repeat=3)))
def test_page_status_follows_the_worst_component(statuses):
    indicator, description = page_status(statuses)
    worst = max(statuses, key=badness)
    assert (
        indicator
        == {
            OP: "none",
            MAINT: "maintenance",
            DEG: "minor",
            PART: "major" if set(statuses) == {PART} else "minor",
            MAJ: "critical" if set(statuses) == {MAJ} else "major",
        }[worst]
    )
    assert description
    # Adding an open incident never makes the headline less severe.
    for impact in Impact:
        raised, _ = page_status(statuses, open_impacts=[impact])
        assert INDICATOR_ORDER.index(raised) >= INDICATOR_ORDER.index(indicator)


def test_component_rank_puts_maintenance_below_every_problem():
    assert sorted(ComponentStatus, key=badness) == [OP, MAINT, DEG, PART, MAJ]
    assert set(COMPONENT_RANK) == set(ComponentStatus)


@pytest.mark.parametrize(
    ("statuses", "impact"),
    [
        ([], Impact.NONE),
        ([OP], Impact.NONE),
        ([MAINT], Impact.MAINTENANCE),
        ([DEG], Impact.MINOR),
        ([OP, DEG], Impact.MINOR),
        ([PART], Impact.MAJOR),
        ([DEG, PART, OP], Impact.MAJOR),
        ([MAJ], Impact.CRITICAL),
        ([MAINT, DEG, PART, MAJ], Impact.CRITICAL),
        ([MAINT, DEG], Impact.MINOR),
    ],
)
def test_impact_of(statuses, impact):
    assert impact_of(statuses) == impact


@pytest.mark.parametrize(
    ("names", "worst", "title"),
    [
        ([], MAJ, "Service disruption"),
        (["  ", "\x00"], DEG, "Service disruption"),
        (["Checkout"], DEG, "Degraded performance of Checkout"),
        (["Checkout", "API"], DEG, "Degraded performance of Checkout and API"),
        (["Checkout"], PART, "Partial outage of Checkout"),
        (["Checkout", "API", "Search"], MAJ, "Major outage of Checkout, API and Search"),
        (["Checkout", "API", "Search", "Login"], MAJ, "Major outage of several services"),
        (["API", "api", " API "], PART, "Partial outage of API"),
        (["Web  app\n"], MAINT, "Scheduled maintenance of Web app"),
        (["Checkout"], OP, "Service disruption affecting Checkout"),
        (["x" * 150, "y" * 100], DEG, "Degraded performance of several services"),
    ],
)
def test_neutral_title(names, worst, title):
    assert neutral_title(names, worst) == title


FIXED_WORDS = {
    "service",
    "disruption",
    "affecting",
    "scheduled",
    "maintenance",
    "degraded",
    "performance",
    "partial",
    "major",
    "outage",
    "of",
    "and",
    "several",
    "services",
}


@pytest.mark.parametrize("worst", list(ComponentStatus))
@pytest.mark.parametrize(
    "names", [["Checkout"], ["Checkout", "Payments API"], ["A", "B", "C", "D", "E"]]
)
def test_neutral_title_says_nothing_but_names_and_status(names, worst):
    title = neutral_title(names, worst)
    words = set(re.findall(r"\w+", title.lower()))
    allowed = FIXED_WORDS | set(re.findall(r"\w+", " ".join(names).lower()))
    assert words <= allowed


LONDON = "Europe/London"
NEW_YORK = "America/New_York"


def local(
    tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(tz))


def bars_for(tz, changes, *, end, days=3, initial=OP, **kwargs) -> list[DayBar]:
    return uptime_bars(changes, initial=initial, end=end, days=days, tz=tz, **kwargs)


@pytest.mark.parametrize(
    ("tz", "day", "minutes"),
    [
        (LONDON, date(2024, 3, 31), 23 * 60),
        (LONDON, date(2024, 10, 27), 25 * 60),
        (LONDON, date(2024, 7, 1), 24 * 60),
        (NEW_YORK, date(2024, 3, 10), 23 * 60),
        (NEW_YORK, date(2024, 11, 3), 25 * 60),
        ("America/Tijuana", date(2024, 3, 10), 23 * 60),
    ],
)
def test_a_local_day_has_23_24_or_25_hours(tz, day, minutes):
    end = local(tz, day.year, day.month, day.day, 0) + timedelta(days=2)
    bars = bars_for(tz, [], end=end, days=3)
    assert [b.day for b in bars] == [day, day + timedelta(days=1), day + timedelta(days=2)]
    assert bars[0].minutes == {OP: minutes}
    assert bars[0].uptime == 100.0
    assert bars[2].minutes == {}
    assert bars[2].no_data


def test_outage_in_the_repeated_hour_counts_real_minutes():
    # 01:00-01:59 happens twice in New York on 2024-11-03; 05:00Z-07:00Z spans both.
    changes = [
        StatusChange(datetime(2024, 11, 3, 5, 0, tzinfo=UTC), MAJ),
        StatusChange(datetime(2024, 11, 3, 7, 0, tzinfo=UTC), OP),
    ]
    (bar,) = bars_for(NEW_YORK, changes, end=local(NEW_YORK, 2024, 11, 3, 23, 59, 59), days=1)
    assert bar.minutes[MAJ] == 120
    assert bar.total_minutes == pytest.approx(25 * 60 - 1 / 60)


def test_outage_across_midnight_splits_between_local_days():
    changes = [
        StatusChange(local(LONDON, 2024, 6, 10, 23, 30), MAJ),
        StatusChange(local(LONDON, 2024, 6, 11, 0, 45), PART),
        StatusChange(local(LONDON, 2024, 6, 11, 2, 25), OP),
    ]
    bars = bars_for(LONDON, changes, end=local(LONDON, 2024, 6, 12, 0, 0), days=3)
    first, second, third = bars
    assert first.minutes == {OP: 1410, MAJ: 30}
    assert first.worst == MAJ
    assert first.uptime == pytest.approx(100 * (1 - 30 / 1440))
    assert second.minutes == {OP: 1440 - 145, PART: 100, MAJ: 45}
    # A partial outage minute counts 30 % down.
    assert second.down_minutes == pytest.approx(45 + 30)
    assert second.uptime == pytest.approx(100 * (1 - 75 / 1440))
    assert third.day == date(2024, 6, 12)
    assert third.no_data


def test_initial_status_and_changes_before_the_range():
    changes = [StatusChange(datetime(2024, 1, 1, tzinfo=UTC), DEG)]
    bars = bars_for("UTC", changes, end=datetime(2024, 2, 2, 12, tzinfo=UTC), days=2, initial=MAJ)
    assert bars[0].minutes == {DEG: 1440}
    assert bars[0].worst == DEG
    assert bars[0].uptime == 100.0
    assert bars[1].minutes == {DEG: 720}


def test_changes_are_taken_in_time_order():
    changes = [
        StatusChange(datetime(2024, 5, 1, 12, tzinfo=UTC), OP),
        StatusChange(datetime(2024, 5, 1, 11, tzinfo=UTC), MAJ),
    ]
    (bar,) = bars_for("UTC", changes, end=datetime(2024, 5, 2, tzinfo=UTC), days=1)
    assert bar.day == date(2024, 5, 2)
    (bar,) = bars_for("UTC", changes, end=datetime(2024, 5, 1, 23, 59, tzinfo=UTC), days=1)
    assert bar.minutes == {OP: 1439 - 60, MAJ: 60}


def test_component_created_mid_range_has_no_data_before():
    created = local(NEW_YORK, 2024, 4, 3, 18, 0)
    end = local(NEW_YORK, 2024, 4, 5, 12, 0)
    bars = bars_for(NEW_YORK, [], end=end, days=5, created=created)
    assert [b.no_data for b in bars] == [True, True, False, False, False]
    assert [b.total_minutes for b in bars] == [0, 0, 360, 1440, 720]
    assert bars[0].uptime == 100.0
    assert bars[0].worst == OP


def test_maintenance_and_degraded_count_as_up():
    changes = [
        StatusChange(datetime(2024, 5, 1, 1, tzinfo=UTC), MAINT),
        StatusChange(datetime(2024, 5, 1, 2, tzinfo=UTC), DEG),
        StatusChange(datetime(2024, 5, 1, 3, tzinfo=UTC), OP),
    ]
    (bar,) = bars_for("UTC", changes, end=datetime(2024, 5, 1, 23, tzinfo=UTC), days=1)
    assert bar.worst == DEG
    assert bar.uptime == 100.0
    assert bar.minutes[MAINT] == 60
    assert bar.minutes[DEG] == 60


def test_incidents_are_attached_to_their_day():
    day = date(2024, 5, 1)
    end = datetime(2024, 5, 1, 12, tzinfo=UTC)
    bars = bars_for("UTC", [], end=end, days=2, incidents_by_day={day: ["Slow checkout"]})
    assert [b.incidents for b in bars] == [[], ["Slow checkout"]]


def test_ninety_days_by_default():
    end = datetime(2024, 5, 1, 12, tzinfo=UTC)
    bars = uptime_bars([], initial=OP, end=end, tz="UTC")
    assert len(bars) == 90
    assert bars[0].day == date(2024, 2, 2)
    assert bars[-1].day == date(2024, 5, 1)


def test_overall_uptime_weights_by_minutes_and_skips_days_without_data():
    def bar(minutes: dict[ComponentStatus, float], no_data: bool = False) -> DayBar:
        return DayBar(date(2024, 1, 1), 0.0, OP, minutes, [], no_data=no_data)

    bars = [bar({}, no_data=True), bar({OP: 1380, MAJ: 60}), bar({OP: 1340, PART: 100})]
    assert overall_uptime(bars) == pytest.approx(100 * (1 - 90 / 2880))
    assert overall_uptime([]) == 100.0
    assert overall_uptime([bar({}, no_data=True)]) == 100.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"end": datetime(2024, 5, 1)}, "end"),
        ({"created": datetime(2024, 5, 1)}, "created"),
        ({"days": 0}, "days"),
        ({"tz": "Mars/Olympus"}, "time_zone"),
        ({"changes": [StatusChange(datetime(2024, 5, 1), MAJ)]}, "at"),
    ],
)
def test_uptime_bars_refuse_bad_input(kwargs, field):
    args = {"changes": [], "end": datetime(2024, 5, 1, tzinfo=UTC), "tz": "UTC"} | kwargs
    changes = args.pop("changes")
    with pytest.raises(Invalid) as caught:
        uptime_bars(changes, initial=OP, **args)
    assert caught.value.field == field


RESOLVED, INVESTIGATING = PostStatus.RESOLVED, PostStatus.INVESTIGATING


@pytest.mark.parametrize(
    ("status", "message", "next_update"),
    [
        (INVESTIGATING, "We are looking into slow checkouts.", 30),
        (PostStatus.IDENTIFIED, "x", 1),
        (PostStatus.MONITORING, "A fix is live.", 7 * 24 * 60),
        (RESOLVED, "All good.", None),
        (PostStatus.POSTMORTEM, "What happened and why.", None),
        (RESOLVED, "m" * 10_000, None),
        ("resolved", "  padded  ", None),
    ],
)
def test_validate_post_accepts(status, message, next_update):
    validate_post(status, message, next_update)


@pytest.mark.parametrize(
    ("status", "message", "next_update", "field"),
    [
        (INVESTIGATING, "", 30, "message"),
        (INVESTIGATING, " \n\t", 30, "message"),
        (RESOLVED, "m" * 10_001, None, "message"),
        (INVESTIGATING, "Looking.", None, "next_update_minutes"),
        (PostStatus.MONITORING, "Watching.", 0, "next_update_minutes"),
        (INVESTIGATING, "Looking.", -5, "next_update_minutes"),
        (INVESTIGATING, "Looking.", 7 * 24 * 60 + 1, "next_update_minutes"),
        (RESOLVED, "Fixed.", 30, "next_update_minutes"),
        (PostStatus.POSTMORTEM, "Report.", 60, "next_update_minutes"),
        ("fixed", "Fixed.", None, "status"),
    ],
)
def test_validate_post_refuses(status, message, next_update, field):
    with pytest.raises(Invalid) as caught:
        validate_post(status, message, next_update)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("confirmed", "suppressed", "state"),
    [
        (False, False, SubscriberState.PENDING),
        (True, False, SubscriberState.CONFIRMED),
        (True, True, SubscriberState.SUPPRESSED),
        # suppressed, then signed up again without confirming yet: still no mail
        (False, True, SubscriberState.SUPPRESSED),
    ],
)
def test_subscriber_state(confirmed, suppressed, state):
    assert subscriber_state(confirmed=confirmed, suppressed=suppressed) is state
