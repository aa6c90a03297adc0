"""Limits: the bounds a schedule must stay within, named once so messages and checks agree."""

from __future__ import annotations

from datetime import date

MAX_INTERVAL = 1000  # every N days/weeks/months/years
MAX_COUNT = 10_000  # occurrences a rule may count to (COUNT)
MAX_TIMES_PER_DAY = 48  # local times per day (one every 30 minutes)
FIRST_DATE = date(1900, 1, 1)  # earliest start or end date accepted
LAST_DATE = date(9000, 12, 31)  # latest start or end date accepted
HORIZON_YEARS = 200  # an RRULE with no occurrence this far ahead is treated as ended
MAX_SKIPPED_LISTED = 1000  # missed occurrences listed one by one (the count is always exact)
