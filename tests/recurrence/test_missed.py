"""The missed-occurrence policy after downtime: publish the latest missed one, skip the older."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from scheduler.posts.recurrence import MissedOccurrences, Schedule, resolve_missed

DAILY_NINE = Schedule(
    pattern="DATE_RANGE",
    timezone="UTC",
    start_date=date(2026, 1, 1),
    end_date=date(2036, 1, 1),
    times=["09:00"],
)
GRACE = timedelta(minutes=15)


def nine(day: int, month: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=UTC)


def test_a_merely_late_occurrence_is_published_as_itself() -> None:
    missed = resolve_missed(DAILY_NINE, nine(3), nine(3) + timedelta(minutes=10), GRACE)

    assert missed == MissedOccurrences(publish=nine(3))


def test_after_downtime_the_latest_passed_occurrence_is_published_and_older_ones_skipped() -> None:
    now = nine(6) + timedelta(hours=2)

    missed = resolve_missed(DAILY_NINE, nine(3), now, GRACE)

    assert missed.publish == nine(6)
    assert missed.skipped == [nine(3), nine(4), nine(5)]
    assert missed.skipped_count == 3


def test_the_next_occurrence_not_yet_due_is_left_alone() -> None:
    missed = resolve_missed(DAILY_NINE, nine(3), nine(4) - timedelta(seconds=1), GRACE)

    assert (missed.publish, missed.skipped) == (nine(3), [])


def test_a_long_downtime_lists_at_most_a_thousand_but_counts_them_all() -> None:
    now = nine(1, 1, 2030)

    missed = resolve_missed(DAILY_NINE, nine(1), now, GRACE)

    assert missed.publish == now
    assert len(missed.skipped) == 1000
    assert missed.skipped[:2] == [nine(1), nine(2)]
    assert missed.skipped_count == (date(2030, 1, 1) - date(2026, 1, 1)).days


def test_a_once_schedule_is_published_however_late() -> None:
    once = Schedule.once(datetime(2026, 1, 3, 9, 0), "UTC")

    missed = resolve_missed(once, nine(3), nine(20), GRACE)

    assert missed == MissedOccurrences(publish=nine(3))


def test_a_rule_that_ended_during_downtime_publishes_its_last_occurrence() -> None:
    short = DAILY_NINE.model_copy(update={"end_date": date(2026, 1, 5)})

    missed = resolve_missed(short, nine(3), nine(20), GRACE)

    assert missed.publish == nine(5)
    assert missed.skipped_count == 2


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        resolve_missed(DAILY_NINE, datetime(2026, 1, 3, 9), nine(4), GRACE)
