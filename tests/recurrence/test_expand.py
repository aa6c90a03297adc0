"""Occurrences of each pattern, worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.posts.recurrence import (
    Schedule,
    first_occurrence,
    is_recurring,
    next_occurrence,
    occurrences,
    rrule_expand,
    upcoming,
    zones,
)

BERLIN = ZoneInfo("Europe/Berlin")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local_days(instants: list[datetime], zone: ZoneInfo = BERLIN) -> list[str]:
    return [i.astimezone(zone).strftime("%a %d %b %Y %H:%M") for i in instants]


def weekly(**overrides: object) -> Schedule:
    values: dict[str, object] = {
        "pattern": "WEEKLY",
        "timezone": "Europe/Berlin",
        "start_date": date(2026, 1, 1),  # a Thursday
        "times": ["09:00"],
        "days_of_week": [0, 3],
    }
    return Schedule.model_validate(values | overrides)


def monthly(day: int, **overrides: object) -> Schedule:
    values: dict[str, object] = {
        "pattern": "MONTHLY",
        "timezone": "Europe/Berlin",
        "start_date": date(2026, 1, 1),
        "times": ["08:00"],
        "day_of_month": day,
    }
    return Schedule.model_validate(values | overrides)


def test_weekly_starts_on_the_start_date_and_keeps_09_00_across_dst() -> None:
    found = upcoming(weekly(), utc(2025, 1, 1), 4)

    assert local_days(found) == [
        "Thu 01 Jan 2026 09:00",
        "Mon 05 Jan 2026 09:00",
        "Thu 08 Jan 2026 09:00",
        "Mon 12 Jan 2026 09:00",
    ]
    around_dst = upcoming(weekly(), utc(2026, 3, 26), 3)  # Berlin springs forward on 29 Mar
    assert [i.hour for i in around_dst] == [8, 7, 7]  # 09:00 CET, then 09:00 CEST


def test_weekly_every_two_weeks_counts_weeks_from_the_start_week() -> None:
    found = upcoming(weekly(interval=2, days_of_week=[0]), utc(2025, 1, 1), 3)

    # The start's week (29 Dec - 4 Jan) has no Monday on or after the start; week 2 does.
    assert local_days(found) == [
        "Mon 12 Jan 2026 09:00",
        "Mon 26 Jan 2026 09:00",
        "Mon 09 Feb 2026 09:00",
    ]


def test_monthly_on_the_31st_lands_on_the_last_day_of_shorter_months() -> None:
    found = upcoming(monthly(31), utc(2026, 1, 1), 5)

    assert [i.astimezone(BERLIN).date() for i in found] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]


@pytest.mark.parametrize(
    ("day", "year", "expected"), [(29, 2028, 29), (30, 2028, 29), (29, 2027, 28), (-1, 2027, 28)]
)
def test_monthly_in_february(day: int, year: int, expected: int) -> None:
    schedule = monthly(day, start_date=date(year, 2, 1))

    assert first_occurrence(schedule) == datetime(year, 2, expected, 7, 0, tzinfo=UTC)


def test_monthly_skips_a_start_month_whose_day_has_passed_and_steps_by_interval() -> None:
    schedule = monthly(10, start_date=date(2026, 1, 20), interval=3, count=3)

    found = upcoming(schedule, utc(2026, 1, 1), 10)

    assert [i.date() for i in found] == [date(2026, 4, 10), date(2026, 7, 10), date(2026, 10, 10)]


def test_date_range_every_three_days_includes_the_end_date() -> None:
    schedule = Schedule(
        pattern="DATE_RANGE",
        timezone="UTC",
        start_date=date(2026, 6, 1),
        end_date=date(2026, 6, 7),
        times=["12:00"],
        interval=3,
    )

    assert upcoming(schedule, utc(2026, 1, 1), 10) == [
        utc(2026, 6, 1, 12),
        utc(2026, 6, 4, 12),
        utc(2026, 6, 7, 12),
    ]


def test_once_happens_once() -> None:
    schedule = Schedule.once(datetime(2026, 12, 5, 14, 30), "America/New_York")

    assert first_occurrence(schedule) == utc(2026, 12, 5, 19, 30)
    assert next_occurrence(schedule, utc(2026, 12, 5, 19, 29)) == utc(2026, 12, 5, 19, 30)
    assert next_occurrence(schedule, utc(2026, 12, 5, 19, 30)) is None
    assert not is_recurring(schedule)
    assert is_recurring(weekly())


def test_next_occurrence_is_strictly_after() -> None:
    first = first_occurrence(weekly())
    assert first is not None

    assert next_occurrence(weekly(), first - timedelta(microseconds=1)) == first
    assert next_occurrence(weekly(), first) == utc(2026, 1, 5, 8, 0)


def test_count_ends_the_rule_and_counts_from_the_start() -> None:
    schedule = weekly(times=["09:00", "18:00"], count=5)

    found = upcoming(schedule, utc(2025, 1, 1), 10)

    assert local_days(found) == [
        "Thu 01 Jan 2026 09:00",
        "Thu 01 Jan 2026 18:00",
        "Mon 05 Jan 2026 09:00",
        "Mon 05 Jan 2026 18:00",
        "Thu 08 Jan 2026 09:00",
    ]
    # Asked from the middle, the numbering still starts at the rule's start.
    assert upcoming(schedule, found[2], 10) == found[3:]


def test_end_date_is_inclusive() -> None:
    schedule = weekly(end_date=date(2026, 1, 8))

    assert local_days(upcoming(schedule, utc(2025, 1, 1), 10))[-1] == "Thu 08 Jan 2026 09:00"
    assert len(upcoming(schedule, utc(2025, 1, 1), 10)) == 3


@pytest.mark.parametrize(
    "schedule",
    [
        weekly(count=10_000),
        monthly(31, count=10_000),
        Schedule(
            pattern="RRULE",
            timezone="Europe/Berlin",
            start_date=date(2026, 1, 1),
            times=["09:00"],
            rrule="FREQ=DAILY",
        ),
    ],
    ids=["weekly-count", "monthly-count", "rrule-daily"],
)
def test_a_far_future_query_does_not_walk_from_the_start(
    schedule: Schedule, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversions = 0
    real = zones.to_instant

    def counting(wall: datetime, zone: ZoneInfo) -> datetime:
        nonlocal conversions
        conversions += 1
        return real(wall, zone)

    monkeypatch.setattr(occurrences, "to_instant", counting)
    monkeypatch.setattr(rrule_expand, "to_instant", counting)
    after = utc(2900, 6, 1)

    result = next_occurrence(schedule, after)

    assert conversions <= 6  # a day or two around `after`, never the centuries since the start
    if schedule.count is not None:
        assert result is None  # 10,000 occurrences ended long before 2900
    else:
        assert result is not None and result.date() == date(2900, 6, 1)


def test_naive_after_is_refused() -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        next_occurrence(weekly(), datetime(2026, 1, 1))


def test_rrule_last_friday_with_count() -> None:
    schedule = Schedule(
        pattern="RRULE",
        timezone="Europe/London",
        start_date=date(2026, 1, 1),
        times=["09:00"],
        rrule="FREQ=MONTHLY;BYDAY=-1FR;COUNT=3",
    )

    found = upcoming(schedule, utc(2025, 1, 1), 10)

    assert local_days(found, ZoneInfo("Europe/London")) == [
        "Fri 30 Jan 2026 09:00",
        "Fri 27 Feb 2026 09:00",
        "Fri 27 Mar 2026 09:00",
    ]
    assert next_occurrence(schedule, utc(2026, 3, 27, 9)) is None


def test_rrule_until_is_compared_as_an_instant() -> None:
    # UNTIL 08:00Z is 09:00 in Berlin: the 09:00 occurrence on that day is included.
    schedule = Schedule(
        pattern="RRULE",
        timezone="Europe/Berlin",
        start_date=date(2026, 1, 1),
        times=["09:00"],
        rrule="FREQ=DAILY;UNTIL=20260103T080000Z",
    )

    assert upcoming(schedule, utc(2025, 1, 1), 10) == [
        utc(2026, 1, 1, 8),
        utc(2026, 1, 2, 8),
        utc(2026, 1, 3, 8),
    ]


def test_rrule_weekly_interval_without_byday_uses_the_dtstart_weekday() -> None:
    schedule = Schedule(
        pattern="RRULE",
        timezone="UTC",
        start_date=date(2026, 1, 1),  # Thursday
        times=["10:00"],
        rrule="FREQ=WEEKLY;INTERVAL=2",
    )

    assert upcoming(schedule, utc(2027, 1, 1), 2) == [utc(2027, 1, 14, 10), utc(2027, 1, 28, 10)]


EDGE_CASES = [
    weekly(interval=1000, days_of_week=[6]),
    monthly(31, interval=7),
    Schedule(
        pattern="DATE_RANGE",
        timezone="Pacific/Kiritimati",  # UTC+14
        start_date=date(9000, 1, 1),
        end_date=date(9000, 12, 31),
        times=["23:59"],
        interval=1000,
    ),
    Schedule.once(datetime(9000, 12, 31, 23, 59), "Pacific/Pago_Pago"),  # UTC-11
    Schedule(
        pattern="RRULE",
        timezone="America/Adak",
        start_date=date(1900, 1, 1),
        times=["00:00"],
        rrule="FREQ=YEARLY;INTERVAL=100",
    ),
]


@pytest.mark.parametrize("schedule", EDGE_CASES, ids=lambda s: str(s.pattern))
def test_the_ends_of_the_calendar_are_handled(schedule: Schedule) -> None:
    assert next_occurrence(schedule, datetime.max.replace(tzinfo=UTC)) is None
    late = datetime(9990, 1, 1, tzinfo=UTC)
    found = next_occurrence(schedule, late)
    assert found is None or late < found < datetime(9999, 12, 31, tzinfo=UTC)
    assert next_occurrence(schedule, datetime.min.replace(tzinfo=UTC)) == first_occurrence(schedule)
