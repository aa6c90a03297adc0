"""A deliberately naive second implementation of the simple patterns, to test the fast one against.

It walks every calendar day, asks "does the rule match this day?" in the most literal way, and
converts wall times with PEP 495 (`datetime(..., tzinfo=zone)` with fold=0, then `astimezone`),
not with the production code's `utcoffset` arithmetic.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.posts.recurrence import Pattern, Schedule


def wall_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """PEP 495: fold=0 reads a missing time with the pre-gap offset, an ambiguous one first."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def exists(wall: datetime, zone: ZoneInfo) -> bool:
    """Whether a clock in `zone` ever shows `wall` (False inside a spring-forward gap)."""
    return wall_to_utc(wall, zone).astimezone(zone).replace(tzinfo=None) == wall


def matches(schedule: Schedule, day: date) -> bool:
    s = schedule
    if day < s.start_date or (s.end_date is not None and day > s.end_date):
        return False
    if s.pattern is Pattern.ONCE:
        return day == s.start_date
    if s.pattern is Pattern.WEEKLY:
        first_monday = s.start_date - timedelta(days=s.start_date.weekday())
        week = (day - first_monday).days // 7
        return day.weekday() in s.days_of_week and week % s.interval == 0
    if s.pattern is Pattern.MONTHLY:
        months = (day.year - s.start_date.year) * 12 + day.month - s.start_date.month
        last = calendar.monthrange(day.year, day.month)[1]
        wanted = last if s.day_of_month == -1 else min(s.day_of_month or 0, last)
        return months % s.interval == 0 and day.day == wanted
    if s.pattern is Pattern.DATE_RANGE:
        return (day - s.start_date).days % s.interval == 0
    raise AssertionError(f"the oracle does not cover {s.pattern}")


def slots(schedule: Schedule, last_day: date) -> list[datetime]:
    """The rule's (date, time) wall slots up to `last_day`, in order, cut at COUNT."""
    found: list[datetime] = []
    day = schedule.start_date
    while day <= last_day:
        if matches(schedule, day):
            found.extend(datetime.combine(day, t) for t in sorted(schedule.times))
        day += timedelta(days=1)
    return found if schedule.count is None else found[: schedule.count]


def occurrences(schedule: Schedule, last_day: date) -> list[datetime]:
    """Every distinct instant of the rule whose slot falls on or before `last_day`, sorted."""
    zone = ZoneInfo(schedule.timezone)
    return sorted({wall_to_utc(wall, zone) for wall in slots(schedule, last_day)})


def cutoff(last_day: date, zone_name: str) -> datetime:
    """Oracle results are complete only before this instant (a day's margin for DST shifts)."""
    return wall_to_utc(datetime.combine(last_day, datetime.min.time()), ZoneInfo(zone_name)) - (
        timedelta(days=1)
    )
