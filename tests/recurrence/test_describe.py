"""Descriptions read as plain sentences."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.posts.recurrence import Schedule, describe


def make(**values: Any) -> Schedule:
    return Schedule.model_validate({"start_date": "2026-01-05"} | values)


@pytest.mark.parametrize(
    ("values", "text"),
    [
        (
            {
                "pattern": "WEEKLY",
                "timezone": "Europe/Berlin",
                "times": ["09:00"],
                "days_of_week": [0, 3],
                "end_date": "2027-03-31",
            },
            "Every Monday and Thursday at 09:00 (Europe/Berlin), until 31 Mar 2027",
        ),
        (
            {
                "pattern": "ONCE",
                "timezone": "America/New_York",
                "start_date": "2026-12-05",
                "times": ["14:30"],
            },
            "Once on 5 Dec 2026 at 14:30 (America/New_York)",
        ),
        (
            {"pattern": "MONTHLY", "times": ["08:00"], "day_of_month": -1},
            "On the last day of every month at 08:00 (UTC)",
        ),
        (
            {
                "pattern": "WEEKLY",
                "timezone": "Asia/Kolkata",
                "times": ["17:30", "09:00"],
                "days_of_week": [1],
                "interval": 2,
                "count": 10,
            },
            "Every 2 weeks on Tuesday at 09:00 and 17:30 (Asia/Kolkata), 10 times",
        ),
        (
            {"pattern": "WEEKLY", "times": ["07:00"], "days_of_week": [0, 2, 4]},
            "Every Monday, Wednesday and Friday at 07:00 (UTC)",
        ),
        (
            {"pattern": "WEEKLY", "times": ["07:00"], "days_of_week": list(range(7)), "count": 1},
            "Every day at 07:00 (UTC), once",
        ),
        (
            {"pattern": "MONTHLY", "times": ["08:00"], "day_of_month": 31, "interval": 3},
            "On the 31st of every 3 months (the last day in shorter months) at 08:00 (UTC)",
        ),
        (
            {"pattern": "MONTHLY", "times": ["08:00", "12:00", "18:45"], "day_of_month": 2},
            "On the 2nd of every month at 08:00, 12:00 and 18:45 (UTC)",
        ),
        (
            {
                "pattern": "DATE_RANGE",
                "times": ["09:00"],
                "start_date": "2026-06-01",
                "end_date": "2026-06-30",
            },
            "Every day from 1 Jun 2026 to 30 Jun 2026 at 09:00 (UTC)",
        ),
        (
            {
                "pattern": "DATE_RANGE",
                "times": ["09:00"],
                "start_date": "2026-06-01",
                "end_date": "2026-06-30",
                "interval": 3,
            },
            "Every 3 days from 1 Jun 2026 to 30 Jun 2026 at 09:00 (UTC)",
        ),
        (
            {
                "pattern": "RRULE",
                "timezone": "Europe/London",
                "times": ["09:00"],
                "rrule": "FREQ=MONTHLY;BYDAY=1MO,-1FR;COUNT=6",
            },
            "Every month on the first Monday and the last Friday at 09:00 (Europe/London), 6 times",
        ),
        (
            {
                "pattern": "RRULE",
                "times": ["09:00"],
                "rrule": "FREQ=YEARLY;BYMONTH=3,9;BYMONTHDAY=-2;BYHOUR=9,18",
            },
            "Every year on the 2nd-to-last day in March and September at 09:00 and 18:00 (UTC)",
        ),
        (
            {
                "pattern": "RRULE",
                "times": ["09:00"],
                "rrule": "FREQ=WEEKLY;INTERVAL=2",
                "end_date": "2026-12-31",
            },
            "Every 2 weeks on Monday at 09:00 (UTC), until 31 Dec 2026",
        ),
        (
            {"pattern": "RRULE", "times": ["09:00"], "rrule": "FREQ=DAILY;UNTIL=20261231T180000Z"},
            "Every day at 09:00 (UTC), until 31 Dec 2026 18:00",
        ),
        (
            {
                "pattern": "RRULE",
                "times": ["09:00"],
                "rrule": "FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR",
            },
            "Every month on the 13th when it is Friday at 09:00 (UTC)",
        ),
        (
            {"pattern": "RRULE", "times": ["09:00"], "rrule": "FREQ=MONTHLY;BYDAY=-2TH"},
            "Every month on the 2nd-to-last Thursday at 09:00 (UTC)",
        ),
    ],
)
def test_describe(values: dict[str, Any], text: str) -> None:
    assert describe(make(**values)) == text
