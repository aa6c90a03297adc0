"""The model and `validate_schedule`: what is refused, under which field path, saying what to do."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from pydantic import ValidationError

from scheduler.platform.errors import ValidationFailed
from scheduler.posts.recurrence import Pattern, Schedule, build_schedule, validate_schedule

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def raw(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "pattern": "WEEKLY",
        "timezone": "Europe/Berlin",
        "start_date": "2026-06-01",
        "times": ["09:00"],
        "days_of_week": [0, 3],
    }
    return values | overrides


def errors_of(data: dict[str, Any], now: datetime = NOW) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        validate_schedule(data, now)
    return caught.value.field_errors


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"timezone": "Mars/Olympus"}, "schedule.timezone", "not a known IANA time zone"),
        ({"timezone": "localtime"}, "schedule.timezone", "Europe/Berlin"),
        ({"interval": 0}, "schedule.interval", "from 1 to 1000"),
        ({"interval": -2}, "schedule.interval", "from 1 to 1000"),
        ({"days_of_week": []}, "schedule.days_of_week", "0 = Monday ... 6 = Sunday"),
        ({"days_of_week": [7]}, "schedule.days_of_week", "0 (Monday) to 6 (Sunday)"),
        ({"end_date": "2026-05-01"}, "schedule.end_date", "before the start date"),
        ({"times": []}, "schedule.times", "at least one time of day"),
        ({"times": ["09:00:30.5"]}, "schedule.times", "fraction of a second"),
        ({"times": ["09:00+02:00"]}, "schedule.times", "without one"),
        ({"count": 0}, "schedule.count", "from 1 to 10000"),
        ({"count": 3, "end_date": "2026-12-31"}, "schedule.count", "not both"),
        ({"day_of_month": 5}, "schedule.day_of_month", "only used by MONTHLY"),
        ({"rrule": "FREQ=DAILY"}, "schedule.rrule", "only used by RRULE"),
        ({"pattern": "MONTHLY", "days_of_week": []}, "schedule.day_of_month", "-1 for the last"),
        (
            {"pattern": "MONTHLY", "days_of_week": [], "day_of_month": 32},
            "schedule.day_of_month",
            "1 to 31",
        ),
        ({"pattern": "DATE_RANGE", "days_of_week": []}, "schedule.end_date", "needs an end date"),
        ({"pattern": "ONCE", "days_of_week": [], "count": 2}, "schedule.count", "happens once"),
        (
            {"pattern": "ONCE", "days_of_week": [], "times": ["09:00", "10:00"]},
            "schedule.times",
            "exactly one",
        ),
        ({"start_date": "1700-01-01"}, "schedule.start_date", "between 1 Jan 1900"),
        (
            {"timezone": "Pacific/Apia", "start_date": "2011-12-01", "end_date": "2011-12-30"},
            "schedule.end_date",
            "does not exist in Pacific/Apia",
        ),
    ],
)
def test_structural_errors_name_the_field_and_what_is_allowed(
    overrides: dict[str, Any], field: str, says: str
) -> None:
    found = errors_of(raw(**overrides))

    assert field in found, found
    assert says in " ".join(found[field])


def rrule(text: str, **overrides: Any) -> dict[str, Any]:
    return raw(pattern="RRULE", days_of_week=[], rrule=text, **overrides)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-1", "BYSETPOS is not supported"),
        ("FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO is not supported"),
        ("FREQ=YEARLY;BYYEARDAY=100", "BYYEARDAY is not supported"),
        ("FREQ=HOURLY", "FREQ=HOURLY is not supported"),
        ("FREQ=MINUTELY", "use FREQ=DAILY with BYHOUR"),
        ("FREQ=DAILY;BYSECOND=5", "BYSECOND is not supported"),
        ("FREQ=DAILY;BYEASTER=0", "supported parts are FREQ, INTERVAL"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL=0 is not allowed"),
        ("FREQ=WEEKLY;BYDAY=1MO", "need FREQ=MONTHLY or YEARLY"),
        ("FREQ=MONTHLY;BYDAY=6MO", "from -5 to -1 or 1 to 5"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "-31 to -1 or 1 to 31"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "ever occurs in February"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z", "cannot both be given"),
        ("FREQ=DAILY;UNTIL=tomorrow", "write it in UTC like"),
        ("FREQ=DAILY;FREQ=WEEKLY", "appears twice"),
        ("BYDAY=MO", "needs FREQ="),
        ("DTSTART:20260601T090000\nRRULE:FREQ=DAILY", "use from_rrule"),
        ("", "needs a rule"),
    ],
)
def test_unsupported_or_broken_rrules_are_refused_under_schedule_rrule(
    text: str, says: str
) -> None:
    found = errors_of(rrule(text))

    assert says in " ".join(found["schedule.rrule"]), found


def test_rrule_interval_goes_in_the_rule() -> None:
    found = errors_of(rrule("FREQ=DAILY", interval=2))

    assert "INTERVAL=2" in found["schedule.interval"][0]


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        (raw(end_date="2026-05-31", start_date="2026-01-01"), "schedule.end_date", "in the past"),
        (
            rrule("FREQ=DAILY;UNTIL=20260501T000000Z"),
            "schedule.rrule",
            "UNTIL=20260501T000000Z is in the past",
        ),
        (
            raw(pattern="ONCE", days_of_week=[], start_date="2026-06-01", times=["13:00"]),
            "schedule.start_date",
            "in the past",
        ),
        (raw(start_date="2026-01-01", count=3), "schedule.count", "no occurrence after now"),
        (
            rrule("FREQ=DAILY;COUNT=2", start_date="2026-01-01"),
            "schedule.rrule",
            "no occurrence after now",
        ),
        (
            rrule("FREQ=MONTHLY;INTERVAL=12;BYMONTH=6", start_date="2026-01-05"),
            "schedule.rrule",
            "The rule never matches",
        ),
        # Ends today, but today's Monday 09:00 in Berlin (07:00Z) has already passed.
        (
            raw(end_date="2026-06-01", days_of_week=[0]),
            "schedule.end_date",
            "no occurrence after now",
        ),
    ],
)
def test_rules_that_cannot_happen_any_more_are_refused(
    data: dict[str, Any], field: str, says: str
) -> None:
    found = errors_of(data)

    assert says in " ".join(found[field]), found


def test_a_valid_raw_dict_becomes_a_schedule() -> None:
    schedule = validate_schedule(raw(times=["17:30", "09:00", "09:00"], days_of_week=[3, 0]), NOW)

    assert schedule.pattern is Pattern.WEEKLY
    assert schedule.times == [time(9, 0), time(17, 30)]  # sorted, repeats dropped
    assert schedule.days_of_week == [0, 3]


def test_pydantic_errors_become_field_paths() -> None:
    found = errors_of(
        {
            "pattern": "HOURLY",
            "start_date": "June 1st",
            "times": ["9am"],
            "interval": "two",
            "colour": "red",
        }
    )

    assert "'ONCE'" in found["schedule.pattern"][0]
    assert found["schedule.start_date"] == ["Give a date as YYYY-MM-DD, e.g. 2026-12-05."]
    assert found["schedule.times.0"] == ["Give a time of day as HH:MM, e.g. 09:30."]
    assert found["schedule.interval"] == ["Give a whole number."]
    assert "not a schedule field" in found["schedule.colour"][0]


def test_field_prefix_can_be_chosen() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_schedule(raw(interval=0), NOW, field="input.schedule")

    assert list(caught.value.field_errors) == ["input.schedule.interval"]


def test_every_problem_is_reported_at_once() -> None:
    found = errors_of(raw(timezone="Nowhere", interval=0, days_of_week=[]))

    assert set(found) == {"schedule.timezone", "schedule.interval", "schedule.days_of_week"}


def test_the_model_itself_refuses_an_invalid_rule() -> None:
    with pytest.raises(ValidationError, match="interval: The interval must be"):
        Schedule.model_validate(raw(interval=0))


def test_an_rrule_end_given_as_fields_is_stored_in_the_rule() -> None:
    schedule = build_schedule(rrule("freq=monthly;byday=-1fr", count=6))
    until = build_schedule(rrule("FREQ=MONTHLY;BYDAY=-1FR", end_date="2026-12-31"))

    assert (schedule.rrule, schedule.count) == ("FREQ=MONTHLY;BYDAY=-1FR;COUNT=6", None)
    # 31 Dec 23:59:59 in Berlin (CET, +01:00)
    assert until.rrule == "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20261231T225959Z"
    assert until.end_date is None
    assert errors_of(rrule("FREQ=DAILY;COUNT=2", count=3))["schedule.count"] == [
        "The rule already ends (COUNT or UNTIL); give the end once, in the rule or here."
    ]


def test_once_helper_takes_a_naive_datetime_or_a_date_and_time() -> None:
    a = Schedule.once(datetime(2026, 12, 5, 14, 30), "Europe/Berlin")
    b = Schedule.once(date(2026, 12, 5), "Europe/Berlin", time(14, 30))

    assert a == b
    assert (a.pattern, a.start_date, a.times) == (Pattern.ONCE, date(2026, 12, 5), [time(14, 30)])
    with pytest.raises(ValueError, match="naive local datetime"):
        Schedule.once(datetime(2026, 12, 5, 14, 30, tzinfo=UTC), "Europe/Berlin")
    with pytest.raises(ValueError, match="needs the time of day"):
        Schedule.once(date(2026, 12, 5), "Europe/Berlin")


def test_validate_accepts_a_schedule_and_needs_an_aware_now() -> None:
    schedule = Schedule.model_validate(raw())

    assert validate_schedule(schedule, NOW) == schedule
    with pytest.raises(ValueError, match="aware"):
        validate_schedule(schedule, datetime(2026, 6, 1))
