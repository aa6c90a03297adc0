"""Describe: a schedule in one plain English sentence, for lists, previews and confirmations.

Examples: "Every Monday and Thursday at 09:00 (Europe/Berlin), until 31 Mar 2027",
"Once on 5 Dec 2026 at 14:30 (America/New_York)", "On the last day of every month at 08:00 (UTC)".
"""

from __future__ import annotations

from datetime import date, datetime, time

from scheduler.posts.recurrence.rules import Pattern, Schedule, rule_parts
from scheduler.posts.recurrence.wording import (
    MONTH_NAMES,
    WEEKDAY_NAMES,
    format_day,
    format_time,
    join_words,
    ordinal,
)
from scheduler.posts.recurrence.zones import get_zone, local_wall

_PERIODS = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
_NTH = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}


def describe(schedule: Schedule) -> str:
    """One sentence saying when the schedule publishes, in its zone, with its end."""
    s = schedule
    if s.pattern is Pattern.RRULE:
        return _describe_rule(s)
    at = f"at {_times(s.times)} ({s.timezone})"
    if s.pattern is Pattern.ONCE:
        return f"Once on {format_day(s.start_date)} {at}"
    if s.pattern is Pattern.WEEKLY:
        when = _weekly(s.days_of_week, s.interval)
    elif s.pattern is Pattern.MONTHLY:
        when = _monthly(s.day_of_month or 1, s.interval)
    else:  # DATE_RANGE, which always has an end date
        span = f"from {format_day(s.start_date)} to {format_day(s.end_date or s.start_date)}"
        return f"{_every(s.interval, 'day')} {span} {at}"
    return f"{when} {at}{_end(s.count, s.end_date)}"


def _times(times: list[time]) -> str:
    return join_words([format_time(t) for t in times])


def _every(n: int, unit: str) -> str:
    return f"Every {unit}" if n == 1 else f"Every {n} {unit}s"


def _weekly(days: list[int], n: int) -> str:
    if len(days) == 7:
        return "Every day" if n == 1 else f"Every {n} weeks on every day"
    names = join_words([WEEKDAY_NAMES[d] for d in days])
    return f"Every {names}" if n == 1 else f"Every {n} weeks on {names}"


def _monthly(day_of_month: int, n: int) -> str:
    months = "every month" if n == 1 else f"every {n} months"
    if day_of_month == -1:
        return f"On the last day of {months}"
    note = " (the last day in shorter months)" if day_of_month >= 29 else ""
    return f"On the {ordinal(day_of_month)} of {months}{note}"


def _end(count: int | None, end_date: date | None, until: datetime | None = None) -> str:
    if count is not None:
        return ", once" if count == 1 else f", {count} times"
    if end_date is not None:
        return f", until {format_day(end_date)}"
    if until is not None:
        clock = "" if until.time() == time(23, 59, 59) else f" {format_time(until.time())}"
        return f", until {format_day(until.date())}{clock}"
    return ""


def _describe_rule(s: Schedule) -> str:
    dtstart = datetime.combine(s.start_date, s.times[0])
    parts = rule_parts(s).explicit(dtstart)
    text = _every(parts.interval, _PERIODS[parts.freq])
    if parts.bymonthday:
        text += " on " + join_words([_month_day(d) for d in parts.bymonthday])
        if parts.byday:
            text += " when it is " + _weekday_words(parts.byday, " or ")
    elif parts.byday:
        text += " on " + _weekday_words(parts.byday, " and ")
    if parts.bymonth:
        text += " in " + join_words([MONTH_NAMES[m - 1] for m in parts.bymonth])
    text += f" at {_times(parts.times_of_day(dtstart.time()))} ({s.timezone})"
    until = None if parts.until is None else local_wall(parts.until, get_zone(s.timezone))
    return text + _end(parts.count, None, until)


def _month_day(day: int) -> str:
    if day > 0:
        return f"the {ordinal(day)}"
    return "the last day" if day == -1 else f"the {ordinal(-day)}-to-last day"


def _weekday_words(byday: tuple[tuple[int, int], ...], joiner: str) -> str:
    words = []
    for n, wd in byday:
        name = WEEKDAY_NAMES[wd]
        if n == 0:
            words.append(name)
        elif n in _NTH:
            words.append(f"the {_NTH[n]} {name}")
        else:
            words.append(f"the {ordinal(abs(n))}{'-to-last' if n < 0 else ''} {name}")
    if joiner == " and ":
        return join_words(words)
    return ", ".join(words[:-1]) + joiner + words[-1] if len(words) > 1 else words[0]
