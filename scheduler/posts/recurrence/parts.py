"""Parts: one RFC 5545 RRULE value (`FREQ=...;BYDAY=...`) parsed into typed parts, and back.

The supported subset is FREQ (DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL, BYDAY (with ordinals such
as 1MO or -1FR under MONTHLY/YEARLY), BYMONTHDAY (also negative), BYMONTH, BYHOUR, BYMINUTE, COUNT,
UNTIL and WKST. BYSETPOS is parsed too, but only our own exports use it (to say "09:00 and 17:30" or
"the 31st, or the last day of shorter months" exactly); a user's rule may not. `format_rule` writes
one canonical spelling, so equal rules have equal text.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from scheduler.posts.recurrence.limits import (
    FIRST_DATE,
    LAST_DATE,
    MAX_COUNT,
    MAX_INTERVAL,
    MAX_TIMES_PER_DAY,
)
from scheduler.posts.recurrence.zones import to_instant

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SUPPORTED = "FREQ, INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, BYHOUR, BYMINUTE, COUNT, UNTIL and WKST"
_UNSUPPORTED_HINTS = {
    "BYSETPOS": "BYSETPOS is not supported; use an ordinal in BYDAY instead (e.g. BYDAY=-1FR).",
    "BYSECOND": "BYSECOND is not supported; schedules run on whole minutes (BYHOUR, BYMINUTE).",
    "BYWEEKNO": "BYWEEKNO is not supported; use FREQ=WEEKLY with INTERVAL, or BYMONTH.",
    "BYYEARDAY": "BYYEARDAY is not supported; use BYMONTH with BYMONTHDAY instead.",
}
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_UNTIL = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")


class RuleTextError(ValueError):
    """An RRULE value could not be used; `messages` says each problem and what is allowed."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


@dataclass(frozen=True, slots=True)
class RuleParts:
    """A parsed RRULE. `byday` holds (ordinal, weekday) pairs, ordinal 0 meaning "every"."""

    freq: str
    interval: int = 1
    wkst: int = 0
    bymonth: tuple[int, ...] = ()
    bymonthday: tuple[int, ...] = ()
    byday: tuple[tuple[int, int], ...] = ()
    byhour: tuple[int, ...] = ()
    byminute: tuple[int, ...] = ()
    bysetpos: tuple[int, ...] = ()
    count: int | None = None
    until: datetime | None = None  # aware UTC

    def explicit(self, dtstart: datetime) -> RuleParts:
        """The same rule with the days RFC 5545 takes from DTSTART spelled out (BYDAY for WEEKLY,
        BYMONTHDAY for MONTHLY, BYMONTH and BYMONTHDAY for YEARLY), so DTSTART may move."""
        if self.byday or self.bymonthday:
            return self
        if self.freq == "YEARLY":
            bymonth = self.bymonth or (dtstart.month,)
            return dataclasses.replace(self, bymonth=bymonth, bymonthday=(dtstart.day,))
        if self.freq == "MONTHLY":
            return dataclasses.replace(self, bymonthday=(dtstart.day,))
        if self.freq == "WEEKLY":
            return dataclasses.replace(self, byday=((0, dtstart.weekday()),))
        return self

    def times_of_day(self, dtstart: time) -> list[time]:
        """The wall times each matching day gets (before BYSETPOS picks among them)."""
        hours = self.byhour or (dtstart.hour,)
        minutes = self.byminute or (dtstart.minute,)
        return [time(h, m) for h in hours for m in minutes]


def format_until(until: datetime) -> str:
    """UNTIL in the only form RFC 5545 allows with a TZID'd DTSTART: a UTC date-time."""
    return until.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def format_rule(parts: RuleParts) -> str:
    """The canonical text of a rule, e.g. `FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=9;BYMINUTE=0;COUNT=6`."""
    items = [f"FREQ={parts.freq}"]
    if parts.interval != 1:
        items.append(f"INTERVAL={parts.interval}")
    if parts.wkst != 0:
        items.append(f"WKST={WEEKDAY_CODES[parts.wkst]}")
    if parts.bymonth:
        items.append("BYMONTH=" + _ints(parts.bymonth))
    if parts.bymonthday:
        items.append("BYMONTHDAY=" + _ints(parts.bymonthday))
    if parts.byday:
        days = sorted(parts.byday, key=lambda pair: (pair[1], pair[0]))
        items.append("BYDAY=" + ",".join(f"{n or ''}{WEEKDAY_CODES[wd]}" for n, wd in days))
    if parts.byhour:
        items.append("BYHOUR=" + _ints(parts.byhour))
    if parts.byminute:
        items.append("BYMINUTE=" + _ints(parts.byminute))
    if parts.bysetpos:
        items.append("BYSETPOS=" + _ints(parts.bysetpos))
    if parts.count is not None:
        items.append(f"COUNT={parts.count}")
    if parts.until is not None:
        items.append("UNTIL=" + format_until(parts.until))
    return ";".join(items)


def _ints(values: tuple[int, ...]) -> str:
    return ",".join(str(v) for v in sorted(values))


def parse_rule(text: str, zone: ZoneInfo | None, *, allow_bysetpos: bool = False) -> RuleParts:
    """Parse an RRULE value (an `RRULE:` prefix is accepted); raises RuleTextError.

    Args:
        text: e.g. `FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20270331T215959Z`.
        zone: reads a local UNTIL (`20270331` = the end of that day, or `20270331T180000`).
        allow_bysetpos: accept BYSETPOS (only for reading back our own exports).
    """
    values, errors = _split_parts(text, allow_bysetpos)
    if "FREQ" not in values:
        if not errors:
            errors.append("The rule needs FREQ=DAILY, WEEKLY, MONTHLY or YEARLY.")
        raise RuleTextError(errors)
    fields: dict[str, object] = {}
    for name, value in values.items():
        try:
            fields.update(_PARSERS[name](value, zone))
        except ValueError as exc:
            errors.append(str(exc))
    if errors:
        raise RuleTextError(errors)
    parts = RuleParts(**fields)  # type: ignore[arg-type]
    errors.extend(_combination_errors(parts))
    if errors:
        raise RuleTextError(errors)
    return parts


def _split_parts(text: str, allow_bysetpos: bool) -> tuple[dict[str, str], list[str]]:
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    errors: list[str] = []
    values: dict[str, str] = {}
    for item in filter(None, (i.strip() for i in body.split(";"))):
        name, sep, value = (x.strip().upper() for x in item.partition("="))
        if not sep or not name or not value:
            errors.append(f"'{item}' is not NAME=VALUE; write parts like FREQ=WEEKLY.")
        elif name in values:
            errors.append(f"{name} appears twice; give each part once.")
        elif name in _UNSUPPORTED_HINTS and not (name == "BYSETPOS" and allow_bysetpos):
            errors.append(_UNSUPPORTED_HINTS[name])
        elif name not in _PARSERS:
            errors.append(f"{name} is not supported; the supported parts are {SUPPORTED}.")
        else:
            values[name] = value
    return values, errors


def _parse_freq(value: str, zone: ZoneInfo | None) -> dict[str, object]:
    if value in ("HOURLY", "MINUTELY", "SECONDLY"):
        raise ValueError(
            f"FREQ={value} is not supported; use FREQ=DAILY with BYHOUR and BYMINUTE "
            "for several times a day."
        )
    if value not in FREQUENCIES:
        raise ValueError(f"FREQ={value} is not allowed; use DAILY, WEEKLY, MONTHLY or YEARLY.")
    return {"freq": value}


def _int_list(name: str, value: str, low: int, high: int, *, zero: bool = True) -> tuple[int, ...]:
    try:
        numbers = [int(v) for v in value.split(",")]
    except ValueError:
        raise ValueError(
            f"{name}={value} must be a comma-separated list of whole numbers."
        ) from None
    for n in numbers:
        if not low <= n <= high or (n == 0 and not zero):
            allowed = f"{low} to {high}" if zero else f"{low} to -1 or 1 to {high}"
            raise ValueError(f"{name}={n} is out of range; allowed values are {allowed}.")
    return tuple(sorted(set(numbers)))


def _one_int(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise ValueError(
            f"{name}={value} is not allowed; use one whole number from {low} to {high}."
        )
    return number


def _parse_interval(value: str, zone: ZoneInfo | None) -> dict[str, object]:
    return {"interval": _one_int("INTERVAL", value, 1, MAX_INTERVAL)}


def _parse_count(value: str, zone: ZoneInfo | None) -> dict[str, object]:
    return {"count": _one_int("COUNT", value, 1, MAX_COUNT)}


def _parse_wkst(value: str, zone: ZoneInfo | None) -> dict[str, object]:
    if value not in WEEKDAY_CODES:
        raise ValueError(f"WKST={value} is not a weekday; use one of {', '.join(WEEKDAY_CODES)}.")
    return {"wkst": WEEKDAY_CODES.index(value)}


def _parse_byday(value: str, zone: ZoneInfo | None) -> dict[str, object]:
    pairs: set[tuple[int, int]] = set()
    for token in value.split(","):
        match = _BYDAY.match(token.strip())
        if match is None or match.group(1) in ("0", "+0", "-0", "00"):
            raise ValueError(
                f"BYDAY value '{token}' is not a weekday; use MO, TU, WE, TH, FR, SA, SU, "
                "optionally with an ordinal such as 1MO (first Monday) or -1FR (last Friday)."
            )
        ordinal = int(match.group(1)) if match.group(1) else 0
        pairs.add((ordinal, WEEKDAY_CODES.index(match.group(2))))
    return {"byday": tuple(sorted(pairs, key=lambda pair: (pair[1], pair[0])))}


def _parse_until(value: str, zone: ZoneInfo | None) -> dict[str, object]:
    match = _UNTIL.match(value)
    wall = None if match is None else parse_wall(match.group(1), match.group(2) or "235959")
    if match is None or wall is None:
        raise ValueError(
            f"UNTIL={value} is not a date-time; write it in UTC like 20271231T235959Z "
            "(or as a local date like 20271231, meaning the end of that day)."
        )
    if not FIRST_DATE.year <= wall.year <= LAST_DATE.year:
        raise ValueError(
            f"UNTIL={value} is out of range; use a date from {FIRST_DATE.year} to {LAST_DATE.year}."
        )
    if match.group(3) == "Z":
        return {"until": wall.replace(tzinfo=UTC)}
    return {"until": to_instant(wall, zone or ZoneInfo("UTC"))}


def parse_wall(day: str, clock: str) -> datetime | None:
    """A naive wall time from iCalendar digits (`20260105`, `090000`), or None if invalid."""
    try:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock))
    except ValueError:
        return None


_Parser = Callable[[str, ZoneInfo | None], dict[str, object]]


def _list_parser(name: str, field: str, low: int, high: int, *, zero: bool = True) -> _Parser:
    def parse(value: str, zone: ZoneInfo | None) -> dict[str, object]:
        return {field: _int_list(name, value, low, high, zero=zero)}

    return parse


_PARSERS: dict[str, _Parser] = {
    "FREQ": _parse_freq,
    "INTERVAL": _parse_interval,
    "COUNT": _parse_count,
    "UNTIL": _parse_until,
    "WKST": _parse_wkst,
    "BYDAY": _parse_byday,
    "BYMONTH": _list_parser("BYMONTH", "bymonth", 1, 12),
    "BYMONTHDAY": _list_parser("BYMONTHDAY", "bymonthday", -31, 31, zero=False),
    "BYHOUR": _list_parser("BYHOUR", "byhour", 0, 23),
    "BYMINUTE": _list_parser("BYMINUTE", "byminute", 0, 59),
    "BYSETPOS": _list_parser("BYSETPOS", "bysetpos", -366, 366, zero=False),
}


def _combination_errors(parts: RuleParts) -> list[str]:
    errors: list[str] = []
    if parts.count is not None and parts.until is not None:
        errors.append("COUNT and UNTIL cannot both be given (RFC 5545); end the rule by one.")
    if any(n for n, _ in parts.byday) and parts.freq not in ("MONTHLY", "YEARLY"):
        errors.append(
            f"BYDAY ordinals like 1MO or -1FR need FREQ=MONTHLY or YEARLY, not {parts.freq}; "
            "use plain weekdays (MO, TH) here."
        )
    limit = 53 if parts.freq == "YEARLY" and not parts.bymonth else 5
    if any(abs(n) > limit for n, _ in parts.byday):
        errors.append(f"BYDAY ordinals must be from -{limit} to -1 or 1 to {limit} here.")
    if parts.bymonthday and parts.freq == "WEEKLY":
        errors.append("BYMONTHDAY cannot be used with FREQ=WEEKLY; use FREQ=MONTHLY.")
    if len(parts.byhour or (0,)) * len(parts.byminute or (0,)) > MAX_TIMES_PER_DAY:
        errors.append(
            f"BYHOUR and BYMINUTE together give more than {MAX_TIMES_PER_DAY} times a day; "
            "list fewer hours or minutes."
        )
    if parts.bymonthday and not _some_month_has_day(parts.bymonthday, parts.bymonth):
        months = ", ".join(calendar.month_name[m] for m in parts.bymonth)
        errors.append(f"No day in BYMONTHDAY ever occurs in {months}; pick days that exist.")
    return errors


def _some_month_has_day(days: tuple[int, ...], months: tuple[int, ...]) -> bool:
    longest = max(calendar.monthrange(2000, m)[1] for m in months or range(1, 13))  # 2000: leap
    return any(abs(d) <= longest for d in days)
