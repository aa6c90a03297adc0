"""RRULE text: a schedule as iCalendar `DTSTART` + `RRULE` lines, and back.

`to_rrule` writes every pattern exactly, as RFC 5545 understands it:

- ONCE is a bare `DTSTART` (an event without a rule happens once).
- Several times a day become BYHOUR/BYMINUTE. Times that are not every hour-minute combination
  (09:00 and 17:30) also get BYSETPOS picking them out of that combination, which keeps COUNT exact.
- MONTHLY on the 29th-31st ("or the last day of shorter months") becomes
  `BYMONTHDAY=28,...,31;BYSETPOS=-1`: the last of those days that the month has.
- An end date becomes UNTIL at 23:59:59 local time on that day, written in UTC.

`from_rrule` reads such text back into the simplest pattern that writes the very same rule (so
`from_rrule(to_rrule(s)) == s`) and otherwise into an RRULE schedule, which accepts the subset
described in `parts` (no BYSETPOS there).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, time

from pydantic import ValidationError

from scheduler.platform.errors import ValidationFailed
from scheduler.posts.recurrence.parts import (
    RuleParts,
    RuleTextError,
    format_rule,
    parse_rule,
    parse_wall,
)
from scheduler.posts.recurrence.rrule_expand import pattern_parts
from scheduler.posts.recurrence.rules import Pattern, Schedule, rule_parts
from scheduler.posts.recurrence.validation import build_schedule
from scheduler.posts.recurrence.zones import find_zone, get_zone, local_wall

_DTSTART = re.compile(r"^DTSTART((?:;[A-Z-]+=[^;:]+)*):(\d{8})(?:T(\d{6})(Z?))?$", re.IGNORECASE)
_LAST_SECOND = time(23, 59, 59)
_SETPOS_LIMIT = 366  # RFC 5545 bounds BYSETPOS to +-366


def to_rrule(schedule: Schedule) -> str:
    """The schedule as `DTSTART;TZID=...:...` plus (unless ONCE) an `RRULE:` line."""
    dtstart = datetime.combine(schedule.start_date, schedule.times[0])
    head = f"DTSTART;TZID={schedule.timezone}:{dtstart:%Y%m%dT%H%M%S}"
    if schedule.pattern is Pattern.ONCE:
        return head
    return f"{head}\nRRULE:{format_rule(schedule_parts(schedule))}"


def schedule_parts(schedule: Schedule) -> RuleParts:
    """The RRULE parts that say exactly what a (non-ONCE) schedule says."""
    s = schedule
    if s.pattern is Pattern.RRULE:
        return rule_parts(s)
    parts = pattern_parts(s, get_zone(s.timezone))
    per_period = len(s.days_of_week) if s.pattern is Pattern.WEEKLY else 1
    hours, minutes, setpos = _encode_times(s.times, per_period, clamp=bool(parts.bysetpos))
    return dataclasses.replace(parts, byhour=hours, byminute=minutes, bysetpos=setpos)


def _encode_times(
    times: list[time], per_period: int, clamp: bool
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    hours = tuple(sorted({t.hour for t in times}))
    minutes = tuple(sorted({t.minute for t in times}))
    grid = [time(h, m) for h in hours for m in minutes]
    if len(times) == 1:
        hours = minutes = ()  # DTSTART's time of day says it
    if len(grid) == len(times) and not clamp:
        return hours, minutes, ()
    picked = [grid.index(t) for t in times]
    if clamp:  # within the last day of the period's set
        positions = [i - len(grid) for i in picked]
    else:
        positions = [day * len(grid) + i + 1 for day in range(per_period) for i in picked]
    if max(abs(p) for p in positions) > _SETPOS_LIMIT:
        raise ValidationFailed.single(
            "schedule.times",
            "These times of day cannot be written as one RRULE (BYSETPOS would exceed 366); "
            "use times that share their minutes, e.g. 09:00 and 17:00.",
        )
    return hours, minutes, tuple(positions)


def from_rrule(text: str, timezone: str | None = None, *, simplify: bool = True) -> Schedule:
    """Read iCalendar `DTSTART` + `RRULE` text; raises ValidationFailed.

    Args:
        text: e.g. `DTSTART;TZID=Europe/Berlin:20260105T090000\\nRRULE:FREQ=WEEKLY;BYDAY=MO`.
        timezone: the zone of a DTSTART without TZID; must agree with a TZID if both are given.
        simplify: return ONCE/WEEKLY/MONTHLY/DATE_RANGE when one of them writes the same rule;
            False keeps every rule with an RRULE line as an RRULE schedule (so our exports
            that need BYSETPOS, which RRULE schedules do not accept, are then refused).
    """
    dtstart_line, rule_lines = _split_lines(text)
    tz, start = _read_dtstart(dtstart_line, timezone)
    zone = get_zone(tz)
    if not rule_lines:
        return build_schedule({"pattern": Pattern.ONCE, "timezone": tz, **_start(start)})
    if len(rule_lines) > 1:
        raise ValidationFailed.single(
            "schedule.rrule", "Give one RRULE line; several are not supported."
        )
    try:
        parts = parse_rule(rule_lines[0], zone, allow_bysetpos=True)
    except RuleTextError as exc:
        raise ValidationFailed({"schedule.rrule": exc.messages}) from None
    if simplify and (simple := _simple_schedule(parts, start, tz)) is not None:
        return simple
    values = {"pattern": Pattern.RRULE, "timezone": tz, "rrule": format_rule(parts)}
    # A BYSETPOS that is not one of our exact exports is refused here, with the reason.
    return build_schedule(values | _start(start))


def _start(start: datetime) -> dict[str, object]:
    return {"start_date": start.date(), "times": [start.time()]}


def _split_lines(text: str) -> tuple[str | None, list[str]]:
    # Unfold continuation lines (RFC 5545 §3.1) before reading them.
    unfolded = re.sub(r"\r?\n[ \t]", "", text.strip())
    dtstart: str | None = None
    rules: list[str] = []
    for raw in unfolded.splitlines():
        line = raw.strip()
        if not line:
            continue
        name = re.split(r"[;:]", line, maxsplit=1)[0].upper()
        if name == "DTSTART" and dtstart is None:
            dtstart = line
        elif name == "RRULE":
            rules.append(line.split(":", 1)[1] if ":" in line else "")
        else:
            raise ValidationFailed.single(
                "schedule.rrule",
                f"'{line}' is not supported; give one DTSTART line and at most one RRULE line "
                "(RDATE, EXDATE and EXRULE are not supported).",
            )
    return dtstart, rules


def _read_dtstart(line: str | None, timezone: str | None) -> tuple[str, datetime]:
    match = _DTSTART.match(line or "")
    if match is None:
        raise ValidationFailed.single(
            "schedule.rrule",
            "Begin with a DTSTART line such as DTSTART;TZID=Europe/Berlin:20260105T090000.",
        )
    params = dict(p.split("=", 1) for p in match.group(1).split(";") if p)
    tzid = next((v for k, v in params.items() if k.upper() == "TZID"), None)
    if match.group(4):
        tzid = "UTC" if tzid is None else tzid
    tz = tzid or timezone
    if tz is None:
        raise ValidationFailed.single(
            "schedule.timezone", "DTSTART has no TZID; pass the time zone, e.g. 'Europe/Berlin'."
        )
    if timezone is not None and tz != timezone:
        raise ValidationFailed.single(
            "schedule.timezone",
            f"DTSTART says {tz} but the time zone given is {timezone}; make them agree.",
        )
    if find_zone(tz) is None:
        raise ValidationFailed.single(
            "schedule.timezone",
            f"'{tz}' is not a known IANA time zone; use a name like 'Europe/Berlin' or 'UTC'.",
        )
    start = parse_wall(match.group(2), match.group(3) or "000000")
    if start is None:
        raise ValidationFailed.single(
            "schedule.rrule", f"DTSTART {match.group(2)} is not a valid date; use YYYYMMDDTHHMMSS."
        )
    return tz, start


def _simple_schedule(parts: RuleParts, start: datetime, tz: str) -> Schedule | None:
    """The ONCE-free simple schedule whose exact export is this rule, if there is one."""
    times = _decode_times(parts, start.time())
    if times is None or times[0] != start.time() or parts.wkst or parts.bymonth:
        return None
    end_date = None
    if parts.until is not None:
        wall = local_wall(parts.until, get_zone(tz))
        if wall.time() != _LAST_SECOND:
            return None
        end_date = wall.date()
    values = {"timezone": tz, "start_date": start.date(), "times": times, "end_date": end_date}
    values |= {"interval": parts.interval, "count": parts.count}
    if parts.freq == "WEEKLY" and all(n == 0 for n, _ in parts.byday):
        values |= {"pattern": Pattern.WEEKLY, "days_of_week": [wd for _, wd in parts.byday]}
    elif parts.freq == "MONTHLY" and not parts.byday and parts.bymonthday:
        values |= {"pattern": Pattern.MONTHLY, "day_of_month": parts.bymonthday[-1]}
    elif parts.freq == "DAILY" and not parts.byday and not parts.bymonthday:
        values["pattern"] = Pattern.DATE_RANGE
    else:
        return None
    try:
        candidate = Schedule.model_validate(values)
    except ValidationError:
        return None
    return candidate if schedule_parts(candidate) == parts else None


def _decode_times(parts: RuleParts, dtstart: time) -> list[time] | None:
    grid = parts.times_of_day(dtstart)
    if not parts.bysetpos:
        return grid
    # Our exports pick the same times in every day of the period: read them off the first (or,
    # for negative positions, the last) day; the caller checks that re-encoding gives this rule.
    picked = {p - 1 if p > 0 else p + len(grid) for p in parts.bysetpos}
    return [grid[i] for i in sorted(picked) if 0 <= i < len(grid)] or None
