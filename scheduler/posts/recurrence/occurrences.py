"""Occurrences: the instants a schedule produces, strictly after a given instant.

ONCE is its one wall time; every other pattern is expanded by dateutil (`rrule_expand`), which
also holds the DST rule for walls that do not exist or happen twice.
"""

from __future__ import annotations

from datetime import datetime

from scheduler.posts.recurrence.rrule_expand import rrule_next, simple_next
from scheduler.posts.recurrence.rules import Pattern, Schedule
from scheduler.posts.recurrence.zones import get_zone, to_instant


def next_occurrence(schedule: Schedule, after: datetime) -> datetime | None:
    """The first occurrence strictly after the aware instant `after` (UTC), or None once ended."""
    _require_aware(after, "after")
    return _next(schedule, after)


def first_occurrence(schedule: Schedule) -> datetime | None:
    """The rule's first occurrence (UTC), counted from its start; None if it has none."""
    return _next(schedule, None)


def upcoming(schedule: Schedule, after: datetime, limit: int) -> list[datetime]:
    """Up to `limit` occurrences strictly after `after`, in order (for previews)."""
    _require_aware(after, "after")
    found: list[datetime] = []
    cursor: datetime | None = after
    while len(found) < limit and cursor is not None:
        cursor = _next(schedule, cursor)
        if cursor is not None:
            found.append(cursor)
    return found


def is_recurring(schedule: Schedule) -> bool:
    """True for every pattern except ONCE."""
    return schedule.pattern is not Pattern.ONCE


def _require_aware(instant: datetime, name: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"`{name}` must be an aware datetime (e.g. from the injected Clock).")


def _next(schedule: Schedule, after: datetime | None) -> datetime | None:
    zone = get_zone(schedule.timezone)
    if schedule.pattern is Pattern.RRULE:
        return rrule_next(schedule, zone, after)
    if schedule.pattern is Pattern.ONCE:
        instant = to_instant(datetime.combine(schedule.start_date, schedule.times[0]), zone)
        return instant if after is None or instant > after else None
    return simple_next(schedule, zone, after)
