"""Property tests: the fast expansion agrees with a brute-force oracle and with dateutil, across DST
changes and zone-history changes, for arbitrary rules, starts and query instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule as du
from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from scheduler.posts.recurrence import (
    Pattern,
    Schedule,
    first_occurrence,
    from_rrule,
    next_occurrence,
    resolve_missed,
    to_rrule,
    upcoming,
)
from scheduler.posts.recurrence.rrule_expand import next_from_parts
from scheduler.posts.recurrence.rrule_text import schedule_parts
from tests.recurrence import oracle

# Times that fall into or next to the gaps and overlaps of the zones above.
TRICKY_TIMES = [time(h, m) for h in (0, 1, 2, 3, 23) for m in (0, 15, 30, 45)]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WINDOW_DAYS = 420  # how far the oracle looks from the start

times_st = st.lists(
    st.one_of(st.sampled_from(TRICKY_TIMES), st.times().map(lambda t: time(t.hour, t.minute))),
    min_size=1,
    max_size=4,
    unique=True,
)
# Days on which each zone changes offset (or, for Samoa, skips a day).
TRANSITIONS = {
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1)],
    "Europe/London": [date(2026, 3, 29), date(2026, 10, 25)],
    "Australia/Sydney": [date(2026, 4, 5), date(2026, 10, 4)],
    "Pacific/Chatham": [date(2026, 4, 5), date(2026, 9, 27)],
    "Europe/Moscow": [date(2011, 3, 27), date(2014, 10, 26)],  # permanent +04, back to +03
    "America/Sao_Paulo": [date(2018, 11, 4), date(2019, 2, 16)],  # its last DST (dropped 2019)
    "Pacific/Apia": [date(2011, 12, 30)],  # the skipped day
    "Asia/Kolkata": [date(2026, 3, 8)],  # none: a fixed +05:30
    "UTC": [date(2026, 3, 8)],
}
ZONES = list(TRANSITIONS)


@st.composite
def zone_and_start(draw: st.DrawFn) -> tuple[str, date]:
    """A zone and a start date: any day in 2010-2028, or (mostly) up to two weeks before one of
    that zone's transitions, so the rules cross it."""
    zone = draw(st.sampled_from(ZONES))
    if draw(st.integers(0, 3)) == 0:
        return zone, draw(st.dates(min_value=date(2010, 1, 1), max_value=date(2028, 12, 31)))
    day = draw(st.sampled_from(TRANSITIONS[zone]))
    return zone, day - timedelta(days=draw(st.integers(0, 14)))


@st.composite
def schedules(draw: st.DrawFn, patterns: tuple[Pattern, ...] = tuple(Pattern)[:4]) -> Schedule:
    pattern = draw(st.sampled_from(patterns))
    zone, start = draw(zone_and_start())
    values: dict[str, object] = {
        "pattern": pattern,
        "timezone": zone,
        "start_date": start,
        "times": draw(times_st) if pattern is not Pattern.ONCE else [draw(times_st)[0]],
    }
    if pattern is not Pattern.ONCE:
        values["interval"] = draw(st.integers(1, 3))
        end = draw(st.one_of(st.none(), st.integers(0, WINDOW_DAYS + 30)))
        if pattern is Pattern.DATE_RANGE:
            values["end_date"] = start + timedelta(days=end if end is not None else 60)
        elif end is not None:
            values["end_date"] = start + timedelta(days=end)
        else:
            values["count"] = draw(st.one_of(st.none(), st.integers(1, 40)))
    if pattern is Pattern.WEEKLY:
        values["days_of_week"] = draw(st.lists(st.integers(0, 6), min_size=1, unique=True))
    if pattern is Pattern.MONTHLY:
        values["day_of_month"] = draw(st.one_of(st.integers(1, 31), st.just(-1)))
    try:
        return Schedule.model_validate(values)
    except ValidationError:  # e.g. an end date the zone skipped (Samoa, 30 Dec 2011)
        reject()


def _everything(schedule: Schedule, limit: int = 200) -> list[datetime]:
    return upcoming(schedule, datetime(1990, 1, 1, tzinfo=UTC), limit)


@SETTINGS
@given(schedules(), st.integers(-2 * 24 * 60, WINDOW_DAYS * 24 * 60), st.integers(1, 8))
def test_upcoming_equals_the_brute_force_oracle(schedule: Schedule, minutes: int, k: int) -> None:
    last_day = schedule.start_date + timedelta(days=WINDOW_DAYS)
    expected_all = oracle.occurrences(schedule, last_day)
    cutoff = oracle.cutoff(last_day, schedule.timezone)
    start = oracle.wall_to_utc(
        datetime.combine(schedule.start_date, time()), ZoneInfo(schedule.timezone)
    )
    after = start + timedelta(minutes=minutes)

    found = upcoming(schedule, after, k)

    assert all(a < b for a, b in zip([after, *found], found, strict=False))  # strictly increasing
    expected = [o for o in expected_all if o > after and o < cutoff][:k]
    before_cutoff = [o for o in found if o < cutoff]
    assert before_cutoff == expected[: len(before_cutoff)]
    if len(before_cutoff) < k:
        assert before_cutoff == expected


@SETTINGS
@given(schedules())
def test_first_occurrence_is_the_oracles_first(schedule: Schedule) -> None:
    expected = oracle.occurrences(schedule, schedule.start_date + timedelta(days=WINDOW_DAYS))
    assume(expected)

    assert first_occurrence(schedule) == expected[0]


@SETTINGS
@given(schedules())
def test_local_wall_time_is_the_rules_except_in_a_gap(schedule: Schedule) -> None:
    zone = ZoneInfo(schedule.timezone)
    for instant in _everything(schedule, 60):
        local = instant.astimezone(zone)
        wall = local.replace(tzinfo=None)
        if wall.time() in schedule.times:
            # Shown as the rule says; if that wall time happens twice, this is the first.
            assert oracle.wall_to_utc(wall, zone) == instant
        else:
            # Only a wall time that does not exist moves: forward by exactly the gap's size.
            candidates = [
                datetime.combine(day, t)
                for day in (wall.date(), wall.date() - timedelta(days=1))
                for t in schedule.times
            ]
            moved = [
                m
                for m in candidates
                if not oracle.exists(m, zone) and oracle.wall_to_utc(m, zone) == instant
            ]
            assert moved, f"{instant} shows {wall}, which is none of the rule's times"
            after, before = local.utcoffset(), zone.utcoffset(moved[0])
            assert after is not None and before is not None
            assert wall - moved[0] == after - before > timedelta(0)  # the gap's size


@SETTINGS
@given(schedules())
def test_the_same_rule_through_dateutil_gives_the_same_instants(schedule: Schedule) -> None:
    assume(schedule.pattern is not Pattern.ONCE)
    parts = schedule_parts(schedule)
    dtstart = datetime.combine(schedule.start_date, schedule.times[0])
    zone = ZoneInfo(schedule.timezone)
    ours = _everything(schedule, 40)
    theirs: list[datetime] = []
    cursor = next_from_parts(parts, dtstart, zone, None)
    while cursor is not None and len(theirs) < 40:
        theirs.append(cursor)
        cursor = next_from_parts(parts, dtstart, zone, cursor)

    assert ours == theirs


@SETTINGS
@given(schedules())
def test_count_and_end_date_are_respected(schedule: Schedule) -> None:
    found = _everything(schedule, 400)
    zone = ZoneInfo(schedule.timezone)
    if schedule.count is not None:
        slots = oracle.slots(schedule, schedule.start_date + timedelta(days=10 * 366))
        assert len(found) == len({oracle.wall_to_utc(w, zone) for w in slots})
        assert len(found) <= schedule.count
        assert next_occurrence(schedule, found[-1]) is None
        assert next_occurrence(schedule, datetime(8000, 1, 1, tzinfo=UTC)) is None
    if schedule.end_date is not None:
        last_wall = datetime.combine(schedule.end_date, max(schedule.times))
        assert all(o <= oracle.wall_to_utc(last_wall, zone) for o in found)


@SETTINGS
@given(schedules())
def test_schedules_round_trip_through_json_and_rrule_text(schedule: Schedule) -> None:
    stored = schedule.model_dump(mode="json")

    assert Schedule.model_validate(stored) == schedule
    assert from_rrule(to_rrule(schedule), schedule.timezone) == schedule


@SETTINGS
@given(schedules(), st.integers(0, 200 * 24 * 60), st.integers(0, 3 * 24 * 60))
def test_missed_policy_publishes_the_latest_and_skips_the_rest(
    schedule: Schedule, downtime_minutes: int, grace_minutes: int
) -> None:
    due = first_occurrence(schedule)
    assume(due is not None)
    assert due is not None
    now = due + timedelta(minutes=downtime_minutes)
    grace = timedelta(minutes=grace_minutes)

    missed = resolve_missed(schedule, due, now, grace)

    passed = [due, *[o for o in upcoming(schedule, due, 2000) if o <= now]]
    if due >= now - grace:
        assert (missed.publish, missed.skipped, missed.skipped_count) == (due, [], 0)
    else:
        assert missed.publish == passed[-1]
        assert missed.skipped == passed[:-1][:1000]
        assert missed.skipped_count == len(passed) - 1


# --- RRULE: the restart-near-`after` shortcut against dateutil expanding from DTSTART ---

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@st.composite
def rrule_texts(draw: st.DrawFn) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    items = [f"FREQ={freq}"]
    if draw(st.booleans()):
        items.append(f"INTERVAL={draw(st.integers(1, 4))}")
    if freq in ("MONTHLY", "YEARLY") and draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(_WEEKDAYS), min_size=1, max_size=2, unique=True))
        ordinal = draw(st.sampled_from(["", "1", "2", "-1", "-2"]))
        items.append("BYDAY=" + ",".join(ordinal + d for d in days))
    elif freq != "DAILY" and draw(st.booleans()):
        items.append(
            "BYDAY=" + ",".join(draw(st.lists(st.sampled_from(_WEEKDAYS), min_size=1, unique=True)))
        )
    if freq in ("MONTHLY", "YEARLY") and draw(st.booleans()):
        items.append(f"BYMONTHDAY={draw(st.sampled_from([1, 15, 28, 30, 31, -1, -3]))}")
    if freq == "YEARLY" or draw(st.booleans()):
        months = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True))
        if freq != "DAILY" or len(months) > 1:
            items.append("BYMONTH=" + ",".join(map(str, months)))
    if draw(st.booleans()):
        items.append(
            "BYHOUR="
            + ",".join(
                map(
                    str,
                    draw(
                        st.lists(
                            st.sampled_from([0, 1, 2, 3, 9, 23]),
                            min_size=1,
                            max_size=2,
                            unique=True,
                        )
                    ),
                )
            )
        )
    if draw(st.booleans()):
        items.append(
            "BYMINUTE="
            + ",".join(
                map(
                    str,
                    draw(
                        st.lists(st.sampled_from([0, 30, 45]), min_size=1, max_size=2, unique=True)
                    ),
                )
            )
        )
    if draw(st.booleans()):
        items.append(f"COUNT={draw(st.integers(1, 30))}")
    return ";".join(items)


@settings(max_examples=150, deadline=None)
@given(
    rrule_texts(),
    zone_and_start(),
    st.sampled_from(TRICKY_TIMES),
    # minutes from DTSTART to `after`: mostly the first weeks (across the transition), or years
    st.one_of(st.integers(-2 * 1440, 30 * 1440), st.integers(0, 3 * 365 * 1440)),
)
def test_rrule_agrees_with_dateutil_expanding_from_dtstart(
    text: str, zone_and_start: tuple[str, date], moment: time, offset_minutes: int
) -> None:
    zone_name, start = zone_and_start
    try:
        schedule = Schedule(
            pattern="RRULE", timezone=zone_name, start_date=start, times=[moment], rrule=text
        )
    except ValidationError:  # a combination that never occurs, like BYMONTH=2;BYMONTHDAY=30
        reject()
    zone = ZoneInfo(zone_name)
    dtstart = datetime.combine(start, moment)
    horizon = dtstart.replace(year=start.year + 8, month=1, day=1)
    walls = du.rrulestr(text, dtstart=dtstart, unfold=True)
    expected_all = sorted(
        {oracle.wall_to_utc(w, zone) for w in walls.between(dtstart, horizon, inc=True)}
    )
    cutoff = oracle.wall_to_utc(horizon, zone) - timedelta(days=1)
    after = oracle.wall_to_utc(dtstart, zone) + timedelta(minutes=offset_minutes)

    found = upcoming(schedule, after, 5)

    expected = [o for o in expected_all if after < o < cutoff][:5]
    before_cutoff = [o for o in found if o < cutoff]
    assert before_cutoff == expected[: len(before_cutoff)]
    if len(before_cutoff) < 5:
        assert before_cutoff == expected
