"""Rules: the `Schedule` model (embedded in a post) and its structural checks.

Representation, chosen so the model is plain JSON in MongoDB and easy to fill from a form:

- Everything a user means on the wall clock is local and naive: `start_date`/`end_date` are
  `date` values and `times` are naive `time` values (whole seconds), read in `timezone`.
  No instant is stored: instants are derived (DESIGN §6), so a zone's rule change (tzdata
  update) moves future occurrences with it, as the user expects.
- `end_date` is inclusive; `count` counts occurrences from the rule's start. A rule has at most
  one of them (RFC 5545 allows one end).
- For `RRULE` the rule text (`FREQ=...`, without `RRULE:`) lives in `rrule`, and its DTSTART is
  `start_date` at `times[0]`. Its end is stored inside the text: a `count` or `end_date` given
  alongside is moved into it as COUNT or UNTIL, so the stored form is canonical.

The model refuses structurally invalid rules (unknown zone, interval 0, ...) whenever it is built.
Checks that depend on the current time (an end in the past) live in `validate_schedule`.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from scheduler.posts.recurrence.limits import (
    FIRST_DATE,
    LAST_DATE,
    MAX_COUNT,
    MAX_INTERVAL,
    MAX_TIMES_PER_DAY,
)
from scheduler.posts.recurrence.parts import RuleParts, RuleTextError, format_rule, parse_rule
from scheduler.posts.recurrence.wording import format_day
from scheduler.posts.recurrence.zones import find_zone, to_instant

# Pass `context={DEFER_CHECKS: True}` to `Schedule.model_validate` to get the raw model and run
# `rule_errors` yourself (validate_schedule does, to report field paths instead of one message).
DEFER_CHECKS = "defer_schedule_checks"


class Pattern(StrEnum):
    """How a schedule repeats."""

    ONCE = "ONCE"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    DATE_RANGE = "DATE_RANGE"
    RRULE = "RRULE"


class Schedule(BaseModel):
    """When a post is published: a pattern evaluated on wall-clock time in an IANA zone.

    Args:
        pattern: ONCE, WEEKLY, MONTHLY, DATE_RANGE or RRULE.
        timezone: IANA zone name, e.g. `Europe/Berlin`.
        start_date: local date the rule starts on (ONCE: its date; RRULE: DTSTART's date).
        times: local wall times of day (ONCE and RRULE: exactly one).
        days_of_week: WEEKLY only; 0 = Monday ... 6 = Sunday.
        interval: every N weeks (WEEKLY, anchored at the week of `start_date`), months
            (MONTHLY) or days (DATE_RANGE).
        day_of_month: MONTHLY only; 1-31 (29-31 fall on the last day of shorter months) or
            -1 for the last day.
        end_date: last local date (inclusive); required for DATE_RANGE.
        count: number of occurrences from the start.
        rrule: RRULE only; an RFC 5545 rule value such as `FREQ=MONTHLY;BYDAY=-1FR`.
    """

    model_config = ConfigDict(extra="forbid")

    pattern: Pattern
    timezone: str = "UTC"
    start_date: date
    times: list[time] = Field(default_factory=list)
    days_of_week: list[int] = Field(default_factory=list)
    interval: int = 1
    day_of_month: int | None = None
    end_date: date | None = None
    count: int | None = None
    rrule: str | None = None

    @classmethod
    def once(
        cls, at_local: datetime | date, timezone: str = "UTC", at_time: time | None = None
    ) -> Schedule:
        """A ONCE schedule at a local wall time in `timezone`.

        `Schedule.once(datetime(2026, 12, 5, 14, 30), "Europe/Berlin")`, or with a date and a
        time: `Schedule.once(date(2026, 12, 5), "Europe/Berlin", time(14, 30))`.
        """
        if isinstance(at_local, datetime):
            if at_local.tzinfo is not None or at_time is not None:
                raise ValueError(
                    "Schedule.once takes a naive local datetime (the wall time in `timezone`), "
                    "or a date plus `at_time`; drop the tzinfo and pass the zone name instead."
                )
            day, moment = at_local.date(), at_local.time()
        else:
            if at_time is None:
                raise ValueError("Schedule.once(date, timezone, at_time) needs the time of day.")
            day, moment = at_local, at_time
        return cls(pattern=Pattern.ONCE, timezone=timezone, start_date=day, times=[moment])

    @field_validator("times", "days_of_week", mode="after")
    @classmethod
    def _sorted_unique(cls, values: list[Any]) -> list[Any]:
        # Order and repeats carry no meaning; one spelling keeps equality and round-trips exact.
        try:
            return sorted(set(values))
        except TypeError:  # aware and naive times do not compare; rule_errors reports it
            return values

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> Schedule:
        if info.context and info.context.get(DEFER_CHECKS):
            return self
        errors = rule_errors(self)
        if errors:
            raise ValueError(
                "Invalid schedule: "
                + " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
            )
        if self.pattern is Pattern.RRULE:
            self._canonicalize_rule()
        return self

    def _canonicalize_rule(self) -> None:
        # One spelling per rule (and its end inside it) keeps equality and round-trips exact.
        zone = find_zone(self.timezone)
        parts = parse_rule(self.rrule or "", zone)
        if self.count is not None:
            parts = dataclasses.replace(parts, count=self.count)
        if self.end_date is not None and zone is not None:
            parts = dataclasses.replace(parts, until=end_of_day(self.end_date, zone))
        self.rrule, self.count, self.end_date = format_rule(parts), None, None


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The UNTIL instant that ends a local day (23:59:59 there): how end dates become RRULE text."""
    return to_instant(datetime.combine(day, time(23, 59, 59)), zone)


def _skipped(day: date, zone: ZoneInfo) -> bool:
    """True for a calendar day a zone jumped over (Pacific/Apia, 30 Dec 2011)."""
    return all(
        to_instant(datetime.combine(day, moment), zone).astimezone(zone).date() != day
        for moment in (time(12), time(23, 59, 59))
    )


def rule_parts(schedule: Schedule) -> RuleParts:
    """The parsed rule of an RRULE schedule (which has already passed `rule_errors`)."""
    return parse_rule(schedule.rrule or "", find_zone(schedule.timezone))


def rule_errors(schedule: Schedule) -> dict[str, list[str]]:
    """Structural problems by field name (no prefix); empty when the rule is usable."""
    errors: dict[str, list[str]] = defaultdict(list)
    s = schedule
    if find_zone(s.timezone) is None:
        errors["timezone"].append(
            f"'{s.timezone}' is not a known IANA time zone; use a name like 'Europe/Berlin', "
            "'America/New_York' or 'UTC'."
        )
    _date_errors(s, errors)
    _time_errors(s, errors)
    _repeat_errors(s, errors)
    _end_errors(s, errors)
    return dict(errors)


def _date_errors(s: Schedule, errors: dict[str, list[str]]) -> None:
    allowed = f"between {format_day(FIRST_DATE)} and {format_day(LAST_DATE)}"
    if not FIRST_DATE <= s.start_date <= LAST_DATE:
        errors["start_date"].append(f"The start date must be {allowed}.")
    if s.end_date is not None:
        if not FIRST_DATE <= s.end_date <= LAST_DATE:
            errors["end_date"].append(f"The end date must be {allowed}.")
        elif s.end_date < s.start_date:
            errors["end_date"].append(
                f"The end date {format_day(s.end_date)} is before the start date "
                f"{format_day(s.start_date)}; choose an end on or after the start."
            )
        elif (zone := find_zone(s.timezone)) is not None and _skipped(s.end_date, zone):
            # Its end could not be said as an instant (UNTIL) without changing the rule.
            errors["end_date"].append(
                f"{format_day(s.end_date)} does not exist in {s.timezone} (the zone skipped "
                "that day); choose the day before or after."
            )


def _time_errors(s: Schedule, errors: dict[str, list[str]]) -> None:
    found = errors["times"]
    if s.pattern is Pattern.ONCE and len(s.times) != 1:
        found.append("A ONCE schedule needs exactly one time of day, e.g. 14:30.")
    elif s.pattern is Pattern.RRULE and len(s.times) != 1:
        found.append(
            "An RRULE schedule needs exactly one time: its DTSTART time of day. "
            "Give more times a day with BYHOUR and BYMINUTE in the rule."
        )
    elif not s.times:
        found.append("Give at least one time of day, e.g. 09:00.")
    elif len(s.times) > MAX_TIMES_PER_DAY:
        found.append(f"Give at most {MAX_TIMES_PER_DAY} times a day; got {len(s.times)}.")
    for moment in s.times:
        if moment.tzinfo is not None:
            found.append(
                f"{moment.isoformat()} has a UTC offset; times are local wall times in the "
                "schedule's time zone, so give them without one (e.g. 09:00)."
            )
        elif moment.microsecond:
            # Seconds are allowed (API clients and benchmarks schedule to the second).
            found.append(f"{moment.isoformat()} has a fraction of a second; use times like 09:30.")
    if not found:
        del errors["times"]


def _repeat_errors(s: Schedule, errors: dict[str, list[str]]) -> None:
    if s.pattern is Pattern.WEEKLY:
        if not s.days_of_week:
            errors["days_of_week"].append(
                "A WEEKLY schedule needs at least one day of the week: 0 = Monday ... 6 = Sunday."
            )
        elif any(not 0 <= d <= 6 for d in s.days_of_week):
            errors["days_of_week"].append(
                f"Days of the week are 0 (Monday) to 6 (Sunday); got {s.days_of_week}."
            )
    elif s.days_of_week:
        errors["days_of_week"].append(
            f"days_of_week is only used by WEEKLY schedules; leave it empty for {s.pattern}."
        )
    if s.pattern is Pattern.MONTHLY:
        if s.day_of_month is None or not (1 <= s.day_of_month <= 31 or s.day_of_month == -1):
            errors["day_of_month"].append(
                "A MONTHLY schedule needs day_of_month from 1 to 31 (29-31 fall on the last day "
                f"of shorter months) or -1 for the last day; got {s.day_of_month}."
            )
    elif s.day_of_month is not None:
        errors["day_of_month"].append(
            f"day_of_month is only used by MONTHLY schedules; leave it empty for {s.pattern}."
        )
    if s.pattern is Pattern.ONCE and s.interval != 1:
        errors["interval"].append("A ONCE schedule does not repeat; leave interval at 1.")
    elif s.pattern is Pattern.RRULE and s.interval != 1:
        errors["interval"].append(
            "For an RRULE schedule put the interval in the rule (INTERVAL=2); leave interval at 1."
        )
    elif not 1 <= s.interval <= MAX_INTERVAL:
        errors["interval"].append(
            f"The interval must be a whole number from 1 to {MAX_INTERVAL} "
            f"(1 = every time, 2 = every other); got {s.interval}."
        )


def _end_errors(s: Schedule, errors: dict[str, list[str]]) -> None:
    if s.count is not None and not 1 <= s.count <= MAX_COUNT:
        errors["count"].append(f"The count must be from 1 to {MAX_COUNT}; got {s.count}.")
    if s.pattern is Pattern.ONCE:
        for field in ("end_date", "count"):
            if getattr(s, field) is not None:
                errors[field].append(f"A ONCE schedule happens once; leave {field} empty.")
    elif s.count is not None and s.end_date is not None:
        errors["count"].append("Give either an end date or a count, not both.")
    if s.pattern is Pattern.DATE_RANGE:
        if s.end_date is None:
            errors["end_date"].append("A DATE_RANGE schedule needs an end date (inclusive).")
        if s.count is not None:
            errors["count"].append(
                "A DATE_RANGE schedule ends on its end date; leave count empty "
                "(for 'every N days, K times' use an RRULE with COUNT)."
            )
    if s.pattern is Pattern.RRULE:
        _rrule_errors(s, errors)
    elif s.rrule is not None:
        errors["rrule"].append(
            f"rrule is only used by RRULE schedules; leave it empty for {s.pattern}."
        )


def _rrule_errors(s: Schedule, errors: dict[str, list[str]]) -> None:
    text = (s.rrule or "").strip()
    if not text:
        errors["rrule"].append("An RRULE schedule needs a rule, e.g. FREQ=WEEKLY;BYDAY=MO,TH.")
        return
    if "\n" in text or "DTSTART" in text.upper():
        errors["rrule"].append(
            "rrule holds only the rule value (FREQ=...); the DTSTART is start_date at times[0]. "
            "To read a full iCalendar text with DTSTART use from_rrule."
        )
        return
    try:
        parts = parse_rule(text, find_zone(s.timezone))
    except RuleTextError as exc:
        errors["rrule"].extend(exc.messages)
        return
    if (parts.count is not None or parts.until is not None) and (
        s.count is not None or s.end_date is not None
    ):
        field = "count" if s.count is not None else "end_date"
        errors[field].append(
            "The rule already ends (COUNT or UNTIL); give the end once, in the rule or here."
        )
