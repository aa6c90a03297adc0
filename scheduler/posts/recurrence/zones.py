"""Zones: IANA zone lookup and the one rule that turns a wall-clock time into an instant.

DESIGN §6, made exact the way RFC 5545 §3.3.5 says it: a wall time that does not exist (spring
forward) is read with the UTC offset from *before* the gap, so it moves forward by the gap (02:30 on
a spring-forward day in America/New_York is 03:30 EDT); an ambiguous one (fall back) takes the first
instant (`fold=0`). Python's `zoneinfo` implements exactly this for `fold=0`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# Names `zoneinfo` can load that are not IANA zones a user means: the machine's own zone.
_NOT_ZONES = frozenset({"localtime", "posixrules"})


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    # Scans the tz database once (tens of ms); the answer cannot change while we run.
    return frozenset(available_timezones()) - _NOT_ZONES


@lru_cache(maxsize=1024)
def find_zone(name: str) -> ZoneInfo | None:
    """The `ZoneInfo` for an IANA name such as `Europe/Berlin`, or None if there is no such zone."""
    if name not in _known_zones():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def get_zone(name: str) -> ZoneInfo:
    """The `ZoneInfo` for an IANA name; raises ValueError for an unknown one."""
    zone = find_zone(name)
    if zone is None:
        raise ValueError(f"{name!r} is not a known IANA time zone, e.g. 'Europe/Berlin' or 'UTC'.")
    return zone


def to_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The aware UTC instant of a naive wall-clock time in `zone` (gap: forward, overlap: first)."""
    # utcoffset() of a fold=0 wall time is the offset in force before a transition, which is
    # what both halves of the rule need; it only reads the fields, so a naive value is fine.
    offset = zone.utcoffset(wall)
    return (wall - offset).replace(tzinfo=UTC)  # type: ignore[operator]


def local_wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time an aware instant shows in `zone`."""
    return instant.astimezone(zone).replace(tzinfo=None)


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    """The local calendar date of an aware instant, clamped at the ends of the calendar."""
    try:
        return instant.astimezone(zone).date()
    except OverflowError:
        return date.min if instant.year < 5000 else date.max


ONE_DAY = timedelta(days=1)
