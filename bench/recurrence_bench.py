"""Benchmark: next-occurrence computations per second, per pattern (goal: >= 20,000/s for WEEKLY,
MONTHLY and DATE_RANGE; the engine needs tens a second).

One expansion is one `next_occurrence(schedule, after)` call: the first instant strictly after
`after`. The same 1,000 `after` instants (four years, 31 h 7 min apart) are cycled for `--seconds`
per measurement, so dateutil rules restarted near them are partly cached.

"next_occurrence" is the public path: dateutil (`rrule_expand`) for every pattern but ONCE; for
WEEKLY, MONTHLY and DATE_RANGE it picks the days and each day gets the schedule's times. "one
RRULE" runs the schedule's exported RRULE text (`to_rrule`: BYHOUR/BYMINUTE/BYSETPOS for several
times a day) through `rrule_expand`, for comparison.

Run: `.venv/bin/python bench/recurrence_bench.py [--seconds 1.0]`. Prints a table and writes
`bench/results/recurrence.json`. Numbers are printed, never asserted (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

from scheduler.posts.recurrence import Schedule, next_occurrence
from scheduler.posts.recurrence.rrule_expand import next_from_parts
from scheduler.posts.recurrence.rrule_text import schedule_parts
from scheduler.posts.recurrence.zones import get_zone

GOAL_PER_SECOND = 20_000
RESULTS = Path(__file__).parent / "results" / "recurrence.json"

CASES: dict[str, Schedule] = {
    "WEEKLY Mon 09:00": Schedule(
        pattern="WEEKLY", timezone="Europe/Berlin", start_date=date(2026, 1, 5),
        times=["09:00"], days_of_week=[0],
    ),
    "WEEKLY Mon+Thu 09:00,17:30 every 2 weeks": Schedule(
        pattern="WEEKLY", timezone="America/New_York", start_date=date(2026, 1, 5),
        times=["09:00", "17:30"], days_of_week=[0, 3], interval=2,
    ),
    "WEEKLY Tue, count 500": Schedule(
        pattern="WEEKLY", timezone="Asia/Kolkata", start_date=date(2026, 1, 5),
        times=["09:00"], days_of_week=[1], count=500,
    ),
    "MONTHLY 15th 08:00": Schedule(
        pattern="MONTHLY", timezone="Australia/Sydney", start_date=date(2026, 1, 1),
        times=["08:00"], day_of_month=15,
    ),
    "MONTHLY 31st (clamped) 08:00": Schedule(
        pattern="MONTHLY", timezone="Europe/London", start_date=date(2026, 1, 1),
        times=["08:00"], day_of_month=31,
    ),
    "MONTHLY last day 08:00": Schedule(
        pattern="MONTHLY", timezone="UTC", start_date=date(2026, 1, 1),
        times=["08:00"], day_of_month=-1,
    ),
    "DATE_RANGE daily 09:00": Schedule(
        pattern="DATE_RANGE", timezone="Pacific/Chatham", start_date=date(2026, 1, 1),
        end_date=date(2035, 12, 31), times=["09:00"],
    ),
    "ONCE": Schedule.once(datetime(2030, 6, 1, 12, 0), "Europe/Moscow"),
    "RRULE monthly last Friday": Schedule(
        pattern="RRULE", timezone="Europe/Berlin", start_date=date(2026, 1, 1),
        times=["09:00"], rrule="FREQ=MONTHLY;BYDAY=-1FR",
    ),
    "RRULE yearly BYMONTH=3,9 BYDAY=1MO": Schedule(
        pattern="RRULE", timezone="America/Sao_Paulo", start_date=date(2026, 1, 1),
        times=["09:00"], rrule="FREQ=YEARLY;BYMONTH=3,9;BYDAY=1MO",
    ),
    "RRULE weekly MO,WE,FR COUNT=2000": Schedule(
        pattern="RRULE", timezone="Europe/London", start_date=date(2026, 1, 1),
        times=["09:00"], rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=2000",
    ),
}  # fmt: skip


def _afters(n: int = 1000) -> list[datetime]:
    """Instants spread over four years (so DST changes are crossed), 31 h 7 min apart."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [start + timedelta(minutes=1867 * i) for i in range(n)]


def _rate(compute: Callable[[datetime], object], afters: list[datetime], seconds: float) -> float:
    calls = 0
    began = time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        for after in afters:
            compute(after)
        calls += len(afters)
    return calls / elapsed


def _via_rrule_text(schedule: Schedule) -> Callable[[datetime], object] | None:
    """The same rule as its exported RRULE text, through `rrule_expand`, for comparison."""
    if schedule.pattern in ("ONCE", "RRULE"):
        return None
    parts = schedule_parts(schedule)
    dtstart = datetime.combine(schedule.start_date, schedule.times[0])
    zone = get_zone(schedule.timezone)
    return lambda after: next_from_parts(parts, dtstart, zone, after)


def _next(schedule: Schedule, after: datetime) -> datetime | None:
    return next_occurrence(schedule, after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = parser.parse_args()
    afters = _afters()
    results: dict[str, dict[str, float | None]] = {}
    print(f"{'pattern':44} {'next_occurrence/s':>18} {'one RRULE/s':>12}")
    for name, schedule in CASES.items():
        direct = _rate(partial(_next, schedule), afters, args.seconds)
        other = _via_rrule_text(schedule)
        baseline = None if other is None else _rate(other, afters, args.seconds)
        results[name] = {
            "per_second": round(direct),
            "rrule_text_per_second": baseline and round(baseline),
        }
        shown = "-" if baseline is None else f"{baseline:,.0f}"
        print(f"{name:44} {direct:>18,.0f} {shown:>12}")
    print(f"goal: >= {GOAL_PER_SECOND:,}/s for WEEKLY, MONTHLY and DATE_RANGE (not asserted)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "goal_per_second": GOAL_PER_SECOND,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "results": results,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
