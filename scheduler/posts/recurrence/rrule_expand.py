"""Expansion through dateutil: the rule on naive wall time, our DST rule on each instance.

dateutil expands in naive local time (the RFC's semantics for a TZID'd DTSTART), and each wall time
then becomes an instant through `zones.to_instant` (gap: forward by the gap; overlap: first
instant). Wall order is not always instant order: inside a spring-forward gap 02:30 becomes 03:30
while 03:15 stays 03:15, and two walls can even land on one instant. So a search keeps looking one
day past its first hit, starts one day before `after`, and results are strictly increasing, each
instant reported once. (A zone's offset never jumps by a day or more, which is what makes one day
of look-around enough.)

Two things keep this fast however far `after` lies from DTSTART:

- Without COUNT the rule is restarted at the start of the period (day, week, month or year, in
  phase with INTERVAL) just before `after`. The defaults dateutil would take from DTSTART
  (BYMONTHDAY, BYDAY, BYHOUR, ...) are made explicit first, so the restarted rule is the same rule.
- With COUNT (at most `MAX_COUNT`) the whole rule is expanded once and cached; a lookup is a
  binary search, and one past the last counted wall time converts nothing.

dateutil never sees COUNT or UNTIL: COUNT is applied by taking the first N wall times and UNTIL is
compared with each *instant* (not wall time). An RRULE may rarely or never match, so its search
gives up `HORIZON_YEARS` ahead; WEEKLY, MONTHLY and DATE_RANGE match in every period and run to
the end of the calendar.

WEEKLY, MONTHLY and DATE_RANGE let dateutil pick the days (`pattern_parts` at midnight) and give
each day the schedule's times, rather than BYHOUR/BYMINUTE/BYSETPOS as `to_rrule` writes them:
that form cannot say every list of times (seconds that differ, BYSETPOS past 366), and the end
date stays a last day, as the schedule says (an UNTIL instant differs where the end date's 23:59:59
falls in a gap, as in America/Nuuk every March).
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections import deque
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from dateutil import rrule as du

from scheduler.posts.recurrence.limits import HORIZON_YEARS
from scheduler.posts.recurrence.parts import RuleParts, parse_rule
from scheduler.posts.recurrence.rules import Pattern, end_of_day
from scheduler.posts.recurrence.zones import ONE_DAY, find_zone, local_wall, to_instant

if TYPE_CHECKING:
    from scheduler.posts.recurrence.rules import Schedule

_FREQ = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY, "YEARLY": du.YEARLY}
_LOOK_AROUND_FROM = 1901  # an earlier `after` searches from DTSTART (>= 1900): no underflow
# A later wall could overflow as a UTC instant; none up to it is an instant as late as _PAST_ALL.
_LAST_WALL = datetime.combine(date(9999, 12, 29), time(23, 59, 59))
_PAST_ALL = datetime(9999, 12, 31, tzinfo=UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class _Walls:
    """Where a rule's wall times come from (hashable: the caches below are keyed on it)."""

    parts: RuleParts
    dtstart: datetime
    times: tuple[time, ...]  # each day the rule picks gets these; () = the rule's own times
    last: datetime  # no wall after this one
    bounded: bool  # give up HORIZON_YEARS past where a search begins

    def walls(self, begin: datetime) -> Iterator[datetime]:
        """The wall times from `begin` (DTSTART, or a period start in phase with it) on."""
        until = self.last
        if self.bounded and begin.year + HORIZON_YEARS <= _LAST_WALL.year:
            until = min(until, datetime.combine(date(begin.year + HORIZON_YEARS, 1, 1), time()))
        rule = _to_calendar_end(_dateutil_rule(self.parts, self.dtstart, begin, until))
        if not self.times:
            return rule
        return (datetime.combine(day.date(), moment) for day in rule for moment in self.times)


def _to_calendar_end(rule: du.rrule) -> Iterator[datetime]:
    try:
        yield from rule
    except ValueError:  # dateutil builds whole weeks, and the calendar's last one runs past 9999
        return


def rrule_next(schedule: Schedule, zone: ZoneInfo, after: datetime | None) -> datetime | None:
    """The first occurrence of an RRULE schedule strictly after `after` (None: its first)."""
    parts = _parse(schedule.rrule or "", schedule.timezone)
    dtstart = datetime.combine(schedule.start_date, schedule.times[0])
    return next_from_parts(parts, dtstart, zone, after)


def simple_next(schedule: Schedule, zone: ZoneInfo, after: datetime | None) -> datetime | None:
    """The first occurrence of a WEEKLY, MONTHLY or DATE_RANGE schedule strictly after `after`."""
    s = schedule
    days = _day_rule(s.pattern, s.interval, tuple(s.days_of_week), s.day_of_month, s.count)
    last = _LAST_WALL if s.end_date is None else datetime.combine(s.end_date, time(23, 59, 59))
    source = _Walls(days, datetime.combine(s.start_date, time()), tuple(s.times), last, False)
    return _next(source, zone, after)


def pattern_parts(schedule: Schedule, zone: ZoneInfo) -> RuleParts:
    """A WEEKLY, MONTHLY or DATE_RANGE schedule as an RRULE at one time of day (DTSTART's).

    Weeks run Monday to Sunday (WKST=MO) in phase with the start's week; MONTHLY on the 29th-31st
    is the last of the days 28..N the month has (BYSETPOS=-1); the end date becomes UNTIL at
    23:59:59 local time.
    """
    s = schedule
    rule = _day_rule(s.pattern, s.interval, tuple(s.days_of_week), s.day_of_month, s.count)
    if s.end_date is None:
        return rule
    return dataclasses.replace(rule, until=end_of_day(s.end_date, zone))


@lru_cache(maxsize=1024)
def _day_rule(
    pattern: Pattern, interval: int, weekdays: tuple[int, ...], day: int | None, count: int | None
) -> RuleParts:
    if pattern is Pattern.WEEKLY:
        byday = tuple((0, wd) for wd in weekdays)
        return RuleParts(freq="WEEKLY", interval=interval, byday=byday, count=count)
    if pattern is Pattern.MONTHLY:
        day = day or 1
        if day >= 29:
            monthdays = tuple(range(28, day + 1))
            return RuleParts(
                freq="MONTHLY", interval=interval, bymonthday=monthdays, bysetpos=(-1,), count=count
            )
        return RuleParts(freq="MONTHLY", interval=interval, bymonthday=(day,), count=count)
    return RuleParts(freq="DAILY", interval=interval, count=count)


@lru_cache(maxsize=1024)
def _parse(text: str, timezone: str) -> RuleParts:
    return parse_rule(text, find_zone(timezone), allow_bysetpos=True)


def next_from_parts(
    parts: RuleParts, dtstart: datetime, zone: ZoneInfo, after: datetime | None
) -> datetime | None:
    """The first instant of a parsed rule strictly after `after` (None: the first one at all)."""
    last = _LAST_WALL if parts.until is None else local_wall(parts.until, zone) + ONE_DAY
    return _next(_Walls(parts, dtstart, (), last, True), zone, after)


def _next(source: _Walls, zone: ZoneInfo, after: datetime | None) -> datetime | None:
    if after is not None and after >= _PAST_ALL:
        return None
    parts = source.parts
    if parts.count is not None:
        last = _last_counted_wall(source)
        # Offsets are under a day, so no instant of the last wall is later than it plus a day.
        if last is None or (after is not None and after > (last + ONE_DAY).replace(tzinfo=UTC)):
            return None
        instants = _counted_instants(source, zone)
        i = 0 if after is None else bisect_right(instants, after)
        return instants[i] if i < len(instants) else None
    begin = source.dtstart
    if after is not None and after.year >= _LOOK_AROUND_FROM:
        begin = _period_start(parts, begin, local_wall(after, zone) - ONE_DAY)
    best: datetime | None = None
    look_until: datetime | None = None
    for wall in source.walls(begin):
        if look_until is not None and wall >= look_until:
            break
        instant = to_instant(wall, zone)
        if parts.until is not None and instant > parts.until:
            continue
        if (after is None or instant > after) and (best is None or instant < best):
            best = instant
            if look_until is None:
                look_until = wall + ONE_DAY  # a gap can push a wall time past tomorrow's
    return best


def _counted(source: _Walls) -> Iterator[datetime]:
    # COUNT counts wall times (RFC 5545); two of them may meet in one instant in a gap.
    return islice(source.walls(source.dtstart), source.parts.count)


@lru_cache(maxsize=1024)
def _last_counted_wall(source: _Walls) -> datetime | None:
    return next(iter(deque(_counted(source), maxlen=1)), None)


@lru_cache(maxsize=256)
def _counted_instants(source: _Walls, zone: ZoneInfo) -> tuple[datetime, ...]:
    return tuple(sorted({to_instant(wall, zone) for wall in _counted(source)}))


def _period_start(parts: RuleParts, dtstart: datetime, target: datetime) -> datetime:
    """The latest period start <= target that is in phase with DTSTART and INTERVAL."""
    if target <= dtstart:
        return dtstart
    n, first, day = parts.interval, dtstart.date(), target.date()
    if parts.freq == "DAILY":
        start = first + ONE_DAY * ((day - first).days // n * n)
    elif parts.freq == "WEEKLY":
        week0 = first - ONE_DAY * ((first.weekday() - parts.wkst) % 7)
        start = week0 + ONE_DAY * ((day - week0).days // (7 * n) * 7 * n)
    elif parts.freq == "MONTHLY":
        months = (day.year - first.year) * 12 + day.month - first.month
        year, month0 = divmod(first.month - 1 + months // n * n, 12)
        start = date(first.year + year, month0 + 1, 1)
    else:
        start = date(first.year + (day.year - first.year) // n * n, 1, 1)
    return max(dtstart, datetime.combine(start, time()))


@lru_cache(maxsize=1024)
def _dateutil_rule(
    parts: RuleParts, dtstart: datetime, begin: datetime, until: datetime
) -> du.rrule:
    return du.rrule(dtstart=begin, until=until, **_explicit_kwargs(parts, dtstart))


def _explicit_kwargs(parts: RuleParts, dtstart: datetime) -> dict[str, Any]:
    """dateutil keywords with every default it would take from DTSTART spelled out."""
    full = parts.explicit(dtstart)
    return {
        "freq": _FREQ[full.freq],
        "interval": full.interval,
        "wkst": full.wkst,
        "bymonth": full.bymonth or None,
        "bymonthday": full.bymonthday or None,
        "byweekday": [du.weekday(wd, n or None) for n, wd in full.byday] or None,
        "byhour": full.byhour or (dtstart.hour,),
        "byminute": full.byminute or (dtstart.minute,),
        "bysecond": (dtstart.second,),
        "bysetpos": full.bysetpos or None,
    }
