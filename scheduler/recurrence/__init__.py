"""Recurrence: when a post's schedule says it should be published (DESIGN §6).

Pure functions over the `Schedule` model: no I/O, no clock (callers pass instants in).
"""

from __future__ import annotations

from scheduler.recurrence.describe import describe
from scheduler.recurrence.expand import first_occurrence, is_recurring, next_occurrence, upcoming
from scheduler.recurrence.missed import MissedOccurrences, resolve_missed
from scheduler.recurrence.rrule_text import from_rrule, to_rrule
from scheduler.recurrence.rules import Pattern, Schedule
from scheduler.recurrence.validation import build_schedule, validate_schedule

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
