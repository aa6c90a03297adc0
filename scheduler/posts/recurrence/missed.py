"""Missed: what to do with occurrences that passed while nothing was running (DESIGN §6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduler.posts.recurrence.limits import MAX_SKIPPED_LISTED
from scheduler.posts.recurrence.occurrences import next_occurrence
from scheduler.posts.recurrence.rules import Schedule


@dataclass(frozen=True, slots=True)
class MissedOccurrences:
    """The one occurrence to publish now, and the older ones skipped in its favour.

    `skipped` lists at most `MAX_SKIPPED_LISTED` of them, oldest first; `skipped_count` is
    always the true number.
    """

    publish: datetime
    skipped: list[datetime] = field(default_factory=list)
    skipped_count: int = 0


def resolve_missed(
    schedule: Schedule, due: datetime, now: datetime, grace: timedelta
) -> MissedOccurrences:
    """Apply the missed-occurrence policy: publish the latest missed occurrence, skip older ones.

    - If `due` is within `grace` of `now` (`due >= now - grace`) it is merely late: publish it,
      skip nothing.
    - Otherwise walk the occurrences from `due` up to `now` and publish only the latest one at or
      before `now` (however old it is: one post rather than a flood, and never none); every
      earlier one, `due` included, is skipped.

    A ONCE schedule therefore always publishes its single occurrence, late or not. The walk costs
    one `next_occurrence` per missed occurrence.

    Args:
        schedule: the post's schedule.
        due: the occurrence the scheduler was waiting for (aware, normally in the past).
        now: the current instant, from the injected clock.
        grace: how late an occurrence may still be published as itself.
    """
    if due.tzinfo is None or now.tzinfo is None:
        raise ValueError("`due` and `now` must be aware datetimes (from the injected Clock).")
    if due >= now - grace:
        return MissedOccurrences(publish=due)
    latest = due
    skipped: list[datetime] = []
    count = 0
    following = next_occurrence(schedule, due)
    while following is not None and following <= now:
        if count < MAX_SKIPPED_LISTED:
            skipped.append(latest)
        count += 1
        latest = following
        following = next_occurrence(schedule, latest)
    return MissedOccurrences(publish=latest, skipped=skipped, skipped_count=count)
