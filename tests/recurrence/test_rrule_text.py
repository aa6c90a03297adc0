"""Schedules to and from iCalendar DTSTART/RRULE text."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from scheduler.platform.errors import ValidationFailed
from scheduler.posts.recurrence import Pattern, Schedule, from_rrule, to_rrule, upcoming


def make(**values: object) -> Schedule:
    return Schedule.model_validate(
        {"timezone": "Europe/Berlin", "start_date": "2026-01-05"} | values
    )


@pytest.mark.parametrize(
    ("schedule", "text"),
    [
        (
            make(pattern="ONCE", times=["14:30"]),
            "DTSTART;TZID=Europe/Berlin:20260105T143000",
        ),
        (
            make(pattern="WEEKLY", times=["09:00"], days_of_week=[3, 0], end_date="2027-03-31"),
            "DTSTART;TZID=Europe/Berlin:20260105T090000\n"
            "RRULE:FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20270331T215959Z",
        ),
        (
            make(
                pattern="WEEKLY", times=["09:00", "17:00"], days_of_week=[1], interval=2, count=10
            ),
            "DTSTART;TZID=Europe/Berlin:20260105T090000\n"
            "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=9,17;BYMINUTE=0;COUNT=10",
        ),
        (  # 09:00 and 17:30 are two of the four hour/minute combinations: BYSETPOS picks them
            make(pattern="WEEKLY", times=["09:00", "17:30"], days_of_week=[1, 4]),
            "DTSTART;TZID=Europe/Berlin:20260105T090000\n"
            "RRULE:FREQ=WEEKLY;BYDAY=TU,FR;BYHOUR=9,17;BYMINUTE=0,30;BYSETPOS=1,4,5,8",
        ),
        (
            make(pattern="MONTHLY", times=["08:00"], day_of_month=-1),
            "DTSTART;TZID=Europe/Berlin:20260105T080000\nRRULE:FREQ=MONTHLY;BYMONTHDAY=-1",
        ),
        (  # the 30th, or the last day of a shorter month
            make(pattern="MONTHLY", times=["08:00"], day_of_month=30, interval=3),
            "DTSTART;TZID=Europe/Berlin:20260105T080000\n"
            "RRULE:FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=28,29,30;BYSETPOS=-1",
        ),
        (
            make(pattern="DATE_RANGE", times=["12:00"], end_date="2026-02-01", interval=2),
            "DTSTART;TZID=Europe/Berlin:20260105T120000\n"
            "RRULE:FREQ=DAILY;INTERVAL=2;UNTIL=20260201T225959Z",
        ),
        (
            make(pattern="RRULE", times=["09:00"], rrule="FREQ=MONTHLY;BYDAY=-1FR;COUNT=6"),
            "DTSTART;TZID=Europe/Berlin:20260105T090000\nRRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=6",
        ),
    ],
)
def test_to_rrule_and_back(schedule: Schedule, text: str) -> None:
    assert to_rrule(schedule) == text
    assert from_rrule(text, "Europe/Berlin") == schedule
    assert from_rrule(text) == schedule  # the TZID is enough


def test_the_exported_text_means_the_same_to_dateutil() -> None:
    from dateutil.rrule import rrulestr

    schedule = make(pattern="MONTHLY", times=["08:00", "20:15"], day_of_month=31, count=6)
    text = to_rrule(schedule).replace(";TZID=Europe/Berlin", "")  # dateutil: naive wall times

    walls = list(rrulestr(text))

    assert [w.date() for w in walls[::2]] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
    assert [w.time() for w in walls[:2]] == [time(8, 0), time(20, 15)]


def test_a_rule_simpler_patterns_cannot_say_stays_an_rrule() -> None:
    text = "DTSTART;TZID=America/New_York:20260101T090000\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU"

    schedule = from_rrule(text)

    assert schedule.pattern is Pattern.RRULE
    assert schedule.rrule == "FREQ=YEARLY;BYMONTH=3;BYDAY=2SU"
    assert upcoming(schedule, datetime(2026, 1, 1, tzinfo=UTC), 1) == [
        datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # DST has begun at 09:00 that day
    ]


def test_simplify_false_keeps_the_rrule() -> None:
    text = "DTSTART;TZID=UTC:20260105T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO"

    assert from_rrule(text).pattern is Pattern.WEEKLY
    assert from_rrule(text, simplify=False) == make(
        pattern="RRULE", timezone="UTC", times=["09:00"], rrule="FREQ=WEEKLY;BYDAY=MO"
    )


@pytest.mark.parametrize(
    ("text", "timezone", "start"),
    [
        ("DTSTART:20260105T090000\nRRULE:FREQ=DAILY;COUNT=2", "Asia/Kolkata", time(9)),  # floating
        ("DTSTART:20260105T090000Z\nRRULE:FREQ=DAILY;COUNT=2", None, time(9)),  # UTC
        ("DTSTART;VALUE=DATE:20260105\nRRULE:FREQ=DAILY;COUNT=2", "UTC", time(0)),  # a date
        # folded continuation line, CRLF, lower case
        ("dtstart;tzid=UTC:20260105T090000\r\nrrule:FREQ=DAILY;\r\n COUNT=2", None, time(9)),
    ],
)
def test_dtstart_forms(text: str, timezone: str | None, start: time) -> None:
    schedule = from_rrule(text, timezone)

    assert schedule.start_date == date(2026, 1, 5)
    assert schedule.times == [start]
    assert schedule.timezone == (timezone or "UTC")


@pytest.mark.parametrize(
    ("text", "timezone", "field", "says"),
    [
        ("RRULE:FREQ=DAILY", None, "schedule.rrule", "Begin with a DTSTART line"),
        ("DTSTART:20260105T090000\nRRULE:FREQ=DAILY", None, "schedule.timezone", "has no TZID"),
        (
            "DTSTART;TZID=UTC:20260105T090000",
            "Europe/Paris",
            "schedule.timezone",
            "make them agree",
        ),
        ("DTSTART;TZID=Atlantis/Capital:20260105T090000", None, "schedule.timezone", "not a known"),
        ("DTSTART;TZID=UTC:20261305T090000", None, "schedule.rrule", "not a valid date"),
        (
            "DTSTART;TZID=UTC:20260105T090000\nEXDATE:20260106T090000",
            None,
            "schedule.rrule",
            "EXDATE",
        ),
        (
            "DTSTART;TZID=UTC:20260105T090000\nRDATE:20260106T090000",
            None,
            "schedule.rrule",
            "RDATE",
        ),
        (
            "DTSTART;TZID=UTC:20260105T090000\nRRULE:FREQ=DAILY\nRRULE:FREQ=WEEKLY",
            None,
            "schedule.rrule",
            "one RRULE line",
        ),
        (
            "DTSTART;TZID=UTC:20260105T090000\nRRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=2",
            None,
            "schedule.rrule",
            "BYSETPOS is not supported",
        ),
        (
            "DTSTART;TZID=UTC:20260105T090000\nRRULE:FREQ=SECONDLY",
            None,
            "schedule.rrule",
            "not supported",
        ),
    ],
)
def test_from_rrule_errors(text: str, timezone: str | None, field: str, says: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        from_rrule(text, timezone)

    assert says in " ".join(caught.value.field_errors[field]), caught.value.field_errors


def test_times_that_bysetpos_cannot_reach_are_refused_with_advice() -> None:
    many = [
        f"{h:02d}:{m:02d}"
        for h, m in zip(range(24), [0, 7, 13, 19, 23, 29, 31, 37, 41, 43] * 3, strict=False)
    ]
    schedule = make(pattern="WEEKLY", times=many, days_of_week=[0, 1, 2, 3, 4, 5, 6])

    with pytest.raises(ValidationFailed) as caught:
        to_rrule(schedule)

    assert "share their minutes" in caught.value.field_errors["schedule.times"][0]
