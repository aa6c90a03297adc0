"""Expand: the instants a schedule produces, computed directly for the simple patterns.

Every rule is expanded on naive local wall time, one (date, time) *slot* at a time, and each slot
becomes an instant through `zones.to_instant` (gap: forward by the gap; overlap: first instant).
Two consequences shape the code:

- Wall order is not always instant order: inside a spring-forward gap 02:30 becomes 03:30 while
  03:15 stays 03:15, and two slots can even land on one instant (02:30 and 03:30). So a search
  keeps looking one day past its first hit, starts one day before `after`, and results are
  strictly increasing, each instant reported once. (A zone's offset never jumps by a day or
  more, which is what makes one day of look-around enough.)
- COUNT counts slots, the way RFC 5545 counts wall-clock instances: the n-th slot has a closed-form
  number, so honouring COUNT costs the same however far `after` lies from the start.

WEEKLY, MONTHLY and DATE_RANGE are computed here in O(1) per call (dateutil is several times
slower for them, see bench/recurrence_bench.py); RRULE goes to `rrule_expand`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.posts.recurrence.rrule_expand import rrule_next
from scheduler.posts.recurrence.rules import Pattern, Schedule
from scheduler.posts.recurrence.zones import ONE_DAY, get_zone, local_date, to_instant

_LAST_DAY = date(9999, 12, 29)  # keeps date arithmetic (and UTC conversion) inside the calendar
_DaySlots = Iterator[tuple[date, int]]  # (local date, number of matching dates before it)


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
    pattern = schedule.pattern
    if pattern is Pattern.RRULE:
        return rrule_next(schedule, zone, after)
    if pattern is Pattern.ONCE:
        instant = to_instant(datetime.combine(schedule.start_date, schedule.times[0]), zone)
        return instant if after is None or instant > after else None
    start = schedule.start_date
    # A day early: a gap there can push its slots past `after` (see the module docstring).
    from_day = start if after is None else local_date(after, zone)
    from_day = from_day - ONE_DAY if from_day > start else start
    if from_day > _LAST_DAY:
        return None
    if pattern is Pattern.WEEKLY:
        days = _weekly_days(schedule, from_day)
    elif pattern is Pattern.MONTHLY:
        days = _monthly_days(schedule, from_day)
    else:
        days = _range_days(schedule, from_day)
    return _first_after(days, schedule, zone, after)


def _first_after(
    days: _DaySlots, schedule: Schedule, zone: ZoneInfo, after: datetime | None
) -> datetime | None:
    times = schedule.times
    per_day = len(times)
    count = schedule.count
    best: datetime | None = None
    look_until: date | None = None
    for day, ordinal in days:
        if look_until is not None and day > look_until:
            break
        first_slot = ordinal * per_day
        if count is not None and first_slot >= count:
            break
        for i, moment in enumerate(times):
            if count is not None and first_slot + i >= count:
                break
            instant = to_instant(datetime.combine(day, moment), zone)
            if (after is None or instant > after) and (best is None or instant < best):
                best = instant
        if best is not None and look_until is None:
            look_until = day + ONE_DAY  # a gap on this day can push its slots past tomorrow's
    return best


def month_day(day_of_month: int, year: int, month: int) -> int:
    """The day a MONTHLY rule falls on in a month: -1 and 29-31 clamp to the month's last day."""
    last = _days_in_month(year, month)
    return last if day_of_month == -1 else min(day_of_month, last)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _weekly_days(s: Schedule, from_day: date) -> _DaySlots:
    """Matching dates >= from_day: weeks run Monday-Sunday, every `interval`-th from the start's."""
    n, weekdays, start, end = s.interval, s.days_of_week, s.start_date, s.end_date
    anchor = start - timedelta(days=start.weekday())  # Monday of week 0
    week = (from_day - anchor).days // 7
    if week % n:
        week += n - week % n
    # Dates before the first one yielded: weeks 0, n, ... before `week` hold len(weekdays) each,
    # minus the days of week 0 before the start.
    ordinal = (week // n) * len(weekdays)
    if week:
        ordinal -= sum(1 for wd in weekdays if wd < start.weekday())
    last = (min(end or _LAST_DAY, _LAST_DAY) - anchor).days  # in days from the anchor
    while True:
        for wd in weekdays:
            if 7 * week + wd > last:
                return
            day = anchor + timedelta(days=7 * week + wd)
            if day >= from_day:
                yield day, ordinal
            if day >= start:
                ordinal += 1
        week += n


def _monthly_days(s: Schedule, from_day: date) -> _DaySlots:
    """Matching dates >= from_day: the (clamped) day of every `interval`-th month from the start."""
    n, dom, start, end = s.interval, s.day_of_month or 1, s.start_date, s.end_date
    index = (from_day.year - start.year) * 12 + from_day.month - start.month
    if index % n:
        index += n - index % n
    # The start month counts only if its day is not before the start date.
    first_counts = month_day(dom, start.year, start.month) >= start.day
    ordinal = index // n - (0 if first_counts or index == 0 else 1)
    while True:
        year, month0 = divmod(start.month - 1 + index, 12)
        year += start.year
        if year > _LAST_DAY.year:
            return
        day = date(year, month0 + 1, month_day(dom, year, month0 + 1))
        if day > _LAST_DAY or (end is not None and day > end):
            return
        if day >= start:
            if day >= from_day:
                yield day, ordinal
            ordinal += 1
        index += n


def _range_days(s: Schedule, from_day: date) -> _DaySlots:
    """Every `interval`-th date from the start up to the end date."""
    n, start = s.interval, s.start_date
    last = (min(s.end_date or _LAST_DAY, _LAST_DAY) - start).days  # in days from the start
    ordinal = -(-(from_day - start).days // n)  # ceiling division
    while ordinal * n <= last:
        yield start + timedelta(days=ordinal * n), ordinal
        ordinal += 1
