"""The package's public surface, and its fit inside a stored document."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

import scheduler.posts.recurrence as recurrence
from scheduler.posts.recurrence import Schedule


class Stored(BaseModel):
    """How a document embeds a schedule (`Post.schedule`), without needing a database."""

    schedule: Schedule | None = None


def test_all_is_sorted_and_lists_exactly_the_public_names() -> None:
    public = sorted(
        name
        for name, value in vars(recurrence).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("scheduler.")
        and not isinstance(value, type(recurrence))
    )

    assert recurrence.__all__ == sorted(recurrence.__all__)
    assert recurrence.__all__ == public


def test_a_post_stores_its_schedule_as_plain_json_and_reads_it_back() -> None:
    schedule = Schedule.once(datetime(2026, 12, 5, 14, 30), "America/New_York")
    document = Stored(schedule=schedule)

    stored = document.model_dump(mode="json")["schedule"]
    loaded = Stored.model_validate(document.model_dump(mode="json"))

    assert stored == {
        "pattern": "ONCE",
        "timezone": "America/New_York",
        "start_date": "2026-12-05",
        "times": ["14:30:00"],
        "days_of_week": [],
        "interval": 1,
        "day_of_month": None,
        "end_date": None,
        "count": None,
        "rrule": None,
    }
    assert loaded.schedule == schedule
    assert recurrence.first_occurrence(schedule) == datetime(2026, 12, 5, 19, 30, tzinfo=UTC)


def test_times_may_have_seconds_for_exact_instants() -> None:
    from datetime import UTC, datetime

    from scheduler.posts.recurrence import (
        Schedule,
        describe,
        from_rrule,
        next_occurrence,
        to_rrule,
        upcoming,
    )

    once = Schedule.model_validate(
        {"pattern": "ONCE", "timezone": "UTC", "start_date": "2030-01-02", "times": ["09:00:30"]}
    )
    assert next_occurrence(once, datetime(2030, 1, 1, tzinfo=UTC)) == datetime(
        2030, 1, 2, 9, 0, 30, tzinfo=UTC
    )
    assert describe(once) == "Once on 2 Jan 2030 at 09:00:30 (UTC)"
    assert from_rrule(to_rrule(once)) == once
    daily = Schedule.model_validate(
        {
            "pattern": "RRULE",
            "timezone": "UTC",
            "start_date": "2030-01-02",
            "times": ["09:00:30"],
            "rrule": "FREQ=DAILY;COUNT=3",
        }
    )
    assert upcoming(daily, datetime(2030, 1, 1, tzinfo=UTC), 5) == [
        datetime(2030, 1, day, 9, 0, 30, tzinfo=UTC) for day in (2, 3, 4)
    ]
