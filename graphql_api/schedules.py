"""Schedules: when a post publishes, as GraphQL types, the input, and the preview query."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

import strawberry

from graphql_api.context import Info
from graphql_api.enums import SchedulePattern
from graphql_api.errors import ValidationErrors
from graphql_api.fields import authenticated_field
from graphql_api.inputs import bounded, plain
from scheduler.platform.errors import ValidationFailed
from scheduler.posts.recurrence import Schedule as CoreSchedule
from scheduler.posts.recurrence import describe, upcoming, validate_schedule
from scheduler.posts.recurrence.zones import find_zone

MAX_PREVIEW = 100


@strawberry.type(description="When a post publishes: a pattern read on wall-clock time in a zone.")
class Schedule:
    pattern: SchedulePattern
    timezone: str
    start_date: date
    times: list[time]
    days_of_week: list[int] = strawberry.field(description="0 = Monday ... 6 = Sunday.")
    interval: int
    day_of_month: int | None
    end_date: date | None
    count: int | None
    rrule: str | None
    description: str = strawberry.field(description="The schedule in one sentence.")

    @classmethod
    def from_model(cls, schedule: CoreSchedule) -> Schedule:
        return cls(
            pattern=schedule.pattern,
            timezone=schedule.timezone,
            start_date=schedule.start_date,
            times=list(schedule.times),
            days_of_week=list(schedule.days_of_week),
            interval=schedule.interval,
            day_of_month=schedule.day_of_month,
            end_date=schedule.end_date,
            count=schedule.count,
            rrule=schedule.rrule,
            description=describe(schedule),
        )


@strawberry.input(
    description=(
        "A schedule. Dates are YYYY-MM-DD and times HH:MM[:SS], both local to `timezone` (an "
        "IANA name, default UTC). ONCE and RRULE take exactly one time; WEEKLY needs "
        "daysOfWeek; MONTHLY dayOfMonth (-1: the last day); DATE_RANGE an endDate."
    )
)
class ScheduleInput:
    pattern: SchedulePattern
    start_date: str
    timezone: str | None = None
    times: list[str] | None = None
    days_of_week: list[int] | None = None
    interval: int | None = None
    day_of_month: int | None = None
    end_date: str | None = None
    count: int | None = None
    rrule: str | None = None


@strawberry.type(description="One upcoming publication instant.")
class OccurrencePreview:
    at: datetime = strawberry.field(description="The instant, in UTC.")
    local: datetime = strawberry.field(description="The same instant in the preview's zone.")


@strawberry.type(description="What a schedule would do: its next instants and its description.")
class SchedulePreview:
    schedule: Schedule
    description: str
    timezone: str
    occurrences: list[OccurrencePreview]


PreviewResult = Annotated[
    SchedulePreview | ValidationErrors, strawberry.union("SchedulePreviewResult")
]


def preview(raw: object, now: datetime, count: int, timezone: str | None) -> SchedulePreview:
    """Validate `raw` as a schedule from `now` and list its next `count` instants."""
    bounded("count", count, 1, MAX_PREVIEW)
    schedule = validate_schedule(plain(raw), now)
    shown_in = timezone or schedule.timezone
    zone = find_zone(shown_in)
    if zone is None:
        raise ValidationFailed.single(
            "timezone", f"{shown_in!r} is not a known IANA time zone, e.g. Europe/Berlin."
        )
    instants = upcoming(schedule, now, count)
    return SchedulePreview(
        schedule=Schedule.from_model(schedule),
        description=describe(schedule),
        timezone=shown_in,
        occurrences=[OccurrencePreview(at=at, local=at.astimezone(zone)) for at in instants],
    )


@strawberry.type
class ScheduleQuery:
    @authenticated_field(
        description=(
            "The next `count` (1-100) instants of a schedule and its description; `timezone` "
            "shows them in another zone than the schedule's own."
        ),
    )
    def preview_occurrences(
        self, info: Info, schedule: ScheduleInput, timezone: str | None = None, count: int = 5
    ) -> PreviewResult:
        return preview(schedule, info.context.services.clock.now(), count, timezone)
