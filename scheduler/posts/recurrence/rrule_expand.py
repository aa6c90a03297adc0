"""RRULE expansion: dateutil's rrule on naive wall time, our DST rule on each instance.

dateutil expands in naive local time (the RFC's semantics for a TZID'd DTSTART), and each wall time
then becomes an instant through `zones.to_instant`, as for every other pattern; the same one-day
look-around as in `expand` keeps results strictly increasing inside DST gaps.

Two things keep this fast however far `after` lies from DTSTART:

- Without COUNT the rule is restarted at the start of the period (day, week, month or year, in
  phase with INTERVAL) just before `after`. The defaults dateutil would take from DTSTART
  (BYMONTHDAY, BYDAY, BYHOUR, ...) are made explicit first, so the restarted rule is the same rule.
- With COUNT (at most `MAX_COUNT`) the whole rule is expanded once and cached; a lookup is a
  binary search.

dateutil never sees COUNT or UNTIL: COUNT is applied by taking the first N instances and UNTIL is
compared with each *instant* (not wall time), and a horizon of `HORIZON_YEARS` stops the search in
rules that rarely or never match.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from datetime import date, datetime, time
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from dateutil import rrule as du

from scheduler.posts.recurrence.limits import HORIZON_YEARS
from scheduler.posts.recurrence.parts import RuleParts, parse_rule
from scheduler.posts.recurrence.zones import ONE_DAY, find_zone, local_wall, to_instant

if TYPE_CHECKING:
    from scheduler.posts.recurrence.rules import Schedule

_FREQ = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY, "YEARLY": du.YEARLY}
_SAFE_YEARS = range(1901, 9999 - HORIZON_YEARS)  # walls we can look around without overflowing


def rrule_next(schedule: Schedule, zone: ZoneInfo, after: datetime | None) -> datetime | None:
    """The first occurrence of an RRULE schedule strictly after `after` (None: its first)."""
    parts = _parse(schedule.rrule or "", schedule.timezone)
    dtstart = datetime.combine(schedule.start_date, schedule.times[0])
    return next_from_parts(parts, dtstart, zone, after)


@lru_cache(maxsize=1024)
def _parse(text: str, timezone: str) -> RuleParts:
    return parse_rule(text, find_zone(timezone), allow_bysetpos=True)


def next_from_parts(
    parts: RuleParts, dtstart: datetime, zone: ZoneInfo, after: datetime | None
) -> datetime | None:
    """The first instant of a parsed rule strictly after `after` (None: the first one at all)."""
    if parts.count is not None:
        instants = _counted_instants(parts, dtstart, zone)
        i = 0 if after is None else bisect_right(instants, after)
        return instants[i] if i < len(instants) else None
    begin = dtstart
    if after is not None:
        if after.year > _SAFE_YEARS.stop:
            return None
        if after.year >= _SAFE_YEARS.start:
            begin = _period_start(parts, dtstart, local_wall(after, zone) - ONE_DAY)
    until_wall = None if parts.until is None else local_wall(parts.until, zone) + ONE_DAY
    best: datetime | None = None
    look_until: datetime | None = None
    for wall in _dateutil_rule(parts, dtstart, begin, until_wall):
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


@lru_cache(maxsize=256)
def _counted_instants(parts: RuleParts, dtstart: datetime, zone: ZoneInfo) -> tuple[datetime, ...]:
    # COUNT counts wall-time instances (RFC 5545); two of them may meet in one instant in a gap.
    rule = _dateutil_rule(dataclasses.replace(parts, count=None), dtstart, dtstart, None)
    walls = islice(rule, parts.count)
    return tuple(sorted({to_instant(wall, zone) for wall in walls}))


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
    parts: RuleParts, dtstart: datetime, begin: datetime, until_wall: datetime | None
) -> du.rrule:
    horizon = datetime.combine(date(begin.year + HORIZON_YEARS, 1, 1), time())
    until = horizon if until_wall is None else min(until_wall, horizon)
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
