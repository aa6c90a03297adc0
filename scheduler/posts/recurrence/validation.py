"""Validation: turn user input into a `Schedule`, or a `ValidationFailed` naming each bad field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from scheduler.platform.errors import ValidationFailed
from scheduler.posts.recurrence.limits import HORIZON_YEARS
from scheduler.posts.recurrence.occurrences import next_occurrence
from scheduler.posts.recurrence.parts import format_until
from scheduler.posts.recurrence.rules import (
    DEFER_CHECKS,
    Pattern,
    Schedule,
    rule_errors,
    rule_parts,
)
from scheduler.posts.recurrence.wording import format_day, format_time
from scheduler.posts.recurrence.zones import get_zone, local_date, to_instant

_FIELDS = ", ".join(Schedule.model_fields)
# Pydantic's wording for the common cases, said the way our messages say things.
_HINTS = {
    "missing": "This field is required.",
    "extra_forbidden": f"This is not a schedule field; the fields are {_FIELDS}.",
    "date_from_datetime_parsing": "Give a date as YYYY-MM-DD, e.g. 2026-12-05.",
    "date_parsing": "Give a date as YYYY-MM-DD, e.g. 2026-12-05.",
    "date_type": "Give a date as YYYY-MM-DD, e.g. 2026-12-05.",
    "time_parsing": "Give a time of day as HH:MM, e.g. 09:30.",
    "time_type": "Give a time of day as HH:MM, e.g. 09:30.",
    "int_parsing": "Give a whole number.",
    "int_type": "Give a whole number.",
}


def build_schedule(raw: Schedule | Mapping[str, Any], *, field: str = "schedule") -> Schedule:
    """A structurally valid `Schedule` from a model or a raw dict; raises ValidationFailed.

    Args:
        raw: a `Schedule`, or a dict such as a GraphQL input or a form's values.
        field: the path prefix of the messages (`schedule.timezone`, ...).
    """
    data = raw.model_dump() if isinstance(raw, Schedule) else raw
    try:
        schedule = Schedule.model_validate(data, context={DEFER_CHECKS: True})
    except ValidationError as exc:
        raise ValidationFailed(_pydantic_errors(exc, field)) from None
    errors = rule_errors(schedule)
    if errors:
        raise ValidationFailed({f"{field}.{name}": msgs for name, msgs in errors.items()})
    # Validate again with the checks on: they also store an RRULE's end in its text.
    return Schedule.model_validate(schedule.model_dump())


def validate_schedule(
    raw: Schedule | Mapping[str, Any], now: datetime, *, field: str = "schedule"
) -> Schedule:
    """Check a schedule for use from `now` on; returns it, or raises ValidationFailed.

    Beyond the structural checks (unknown zone, interval below 1, no days for WEEKLY, an end
    before the start, unsupported RRULE parts, ...), a schedule is refused when its end date,
    UNTIL or ONCE time is already past, or when it has no occurrence after `now` at all.

    Args:
        raw: a `Schedule` or a raw dict.
        now: the current instant, from the injected clock.
        field: the path prefix of the messages.
    """
    if now.tzinfo is None:
        raise ValueError("`now` must be an aware datetime (from the injected Clock).")
    schedule = build_schedule(raw, field=field)
    errors = _time_errors(schedule, now)
    if errors:
        raise ValidationFailed({f"{field}.{name}": [msg] for name, msg in errors.items()})
    return schedule


def _time_errors(s: Schedule, now: datetime) -> dict[str, str]:
    zone = get_zone(s.timezone)
    if s.pattern is Pattern.ONCE:
        at = datetime.combine(s.start_date, s.times[0])
        if to_instant(at, zone) <= now:
            when = f"{format_day(s.start_date)} at {format_time(s.times[0])} ({s.timezone})"
            return {"start_date": f"{when} is in the past; choose a later date or time."}
        return {}
    today = local_date(now, zone)
    if s.end_date is not None and s.end_date < today:
        return {
            "end_date": f"The end date {format_day(s.end_date)} is in the past; "
            f"choose {format_day(today)} or later."
        }
    until = rule_parts(s).until if s.pattern is Pattern.RRULE else None
    if until is not None and until <= now:
        return {
            "rrule": f"UNTIL={format_until(until)} is in the past; "
            "choose a later UNTIL, or remove it."
        }
    if next_occurrence(s, now) is None:
        return {_end_field(s): _never_message(s)}
    return {}


def _end_field(s: Schedule) -> str:
    if s.end_date is not None:
        return "end_date"
    if s.count is not None:
        return "count"
    return "rrule" if s.pattern is Pattern.RRULE else "start_date"


def _pydantic_errors(exc: ValidationError, field: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        path = ".".join([field, *(str(part) for part in error["loc"])])
        message = _HINTS.get(error["type"]) or (error["msg"].rstrip(".") + ".")
        errors.setdefault(path, []).append(message)
    return errors


def _never_message(s: Schedule) -> str:
    parts = rule_parts(s) if s.pattern is Pattern.RRULE else None
    if parts is not None and parts.count is None and parts.until is None:
        return (
            f"The rule never matches (nothing in the next {HORIZON_YEARS} years); check that its "
            "parts can happen together: FREQ=DAILY;INTERVAL=7 only lands on DTSTART's weekday, "
            "for example."
        )
    return (
        "This schedule has no occurrence after now; move its end later, raise its count, "
        "or move its start."
    )
