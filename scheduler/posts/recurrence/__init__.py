"""Recurrence: when a post's schedule says it should be published (DESIGN §6).

Pure functions over the `Schedule` model: no I/O, no clock (callers pass instants in).
"""

from __future__ import annotations

from scheduler.posts.recurrence.describe import describe
from scheduler.posts.recurrence.missed import MissedOccurrences, resolve_missed
from scheduler.posts.recurrence.occurrences import (
    first_occurrence,
    is_recurring,
    next_occurrence,
    upcoming,
)
from scheduler.posts.recurrence.rrule_text import from_rrule, to_rrule
from scheduler.posts.recurrence.rules import Pattern, Schedule
from scheduler.posts.recurrence.validation import build_schedule, validate_schedule

__all__ = [
    "MissedOccurrences",
    "Pattern",
    "Schedule",
    "build_schedule",
    "describe",
    "first_occurrence",
    "from_rrule",
    "is_recurring",
    "next_occurrence",
    "resolve_missed",
    "to_rrule",
    "upcoming",
    "validate_schedule",
]
