"""DST and zone-history cases, each checked against an instant worked out by hand."""

from __future__ import annotations

import io
import struct
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.posts.recurrence import (
    Schedule,
    first_occurrence,
    next_occurrence,
    occurrences,
    upcoming,
)
from scheduler.posts.recurrence.zones import to_instant


def daily(zone: str, start: date, end: date, *times: str) -> Schedule:
    return Schedule(
        pattern="DATE_RANGE", timezone=zone, start_date=start, end_date=end, times=list(times)
    )


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# (zone, local wall time, expected UTC instant, what the local clock shows then)
CASES = [
    # Spring forward 02:00 -> 03:00: 02:30 does not exist and moves forward by the gap.
    ("America/New_York", datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 7, 30), "03:30 EDT"),
    # Fall back 02:00 -> 01:00: 01:30 happens twice; the first (EDT) is taken.
    ("America/New_York", datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30), "01:30 EDT"),
    ("America/New_York", datetime(2026, 7, 1, 9, 0), utc(2026, 7, 1, 13, 0), "09:00 EDT"),
    ("Europe/London", datetime(2026, 3, 29, 1, 30), utc(2026, 3, 29, 1, 30), "02:30 BST"),
    ("Europe/London", datetime(2026, 10, 25, 1, 30), utc(2026, 10, 25, 0, 30), "01:30 BST"),
    # Southern hemisphere: spring forward in October, fall back in April.
    ("Australia/Sydney", datetime(2026, 10, 4, 2, 30), utc(2026, 10, 3, 16, 30), "03:30 AEDT"),
    ("Australia/Sydney", datetime(2026, 4, 5, 2, 30), utc(2026, 4, 4, 15, 30), "02:30 AEDT"),
    # No DST, a half-hour offset.
    ("Asia/Kolkata", datetime(2026, 3, 8, 2, 30), utc(2026, 3, 7, 21, 0), "02:30 IST"),
    # +12:45/+13:45, changing at 02:45 standard time.
    ("Pacific/Chatham", datetime(2026, 9, 27, 3, 0), utc(2026, 9, 26, 14, 15), "04:00 +1345"),
    ("Pacific/Chatham", datetime(2026, 4, 5, 3, 0), utc(2026, 4, 4, 13, 15), "03:00 +1345"),
    # Moscow went to permanent +04 in March 2011 and back to +03 in October 2014.
    ("Europe/Moscow", datetime(2011, 3, 27, 2, 30), utc(2011, 3, 26, 23, 30), "03:30 MSK"),
    ("Europe/Moscow", datetime(2012, 12, 1, 9, 0), utc(2012, 12, 1, 5, 0), "09:00 MSK"),
    ("Europe/Moscow", datetime(2014, 10, 26, 1, 30), utc(2014, 10, 25, 21, 30), "01:30 MSK"),
    ("Europe/Moscow", datetime(2015, 7, 1, 9, 0), utc(2015, 7, 1, 6, 0), "09:00 MSK"),
    # Sao Paulo changed at midnight, and dropped DST after February 2019.
    ("America/Sao_Paulo", datetime(2018, 11, 4, 0, 30), utc(2018, 11, 4, 3, 30), "01:30 -02"),
    ("America/Sao_Paulo", datetime(2019, 2, 16, 23, 30), utc(2019, 2, 17, 1, 30), "23:30 -02"),
    ("America/Sao_Paulo", datetime(2019, 11, 3, 0, 30), utc(2019, 11, 3, 3, 30), "00:30 -03"),
]


@pytest.mark.parametrize(("zone", "wall", "expected", "shown"), CASES)
def test_wall_time_becomes_the_documented_instant(
    zone: str, wall: datetime, expected: datetime, shown: str
) -> None:
    schedule = Schedule.once(wall, zone)

    instant = first_occurrence(schedule)

    assert instant == expected
    assert instant.astimezone(ZoneInfo(zone)).strftime("%H:%M %Z") == shown


@pytest.mark.parametrize(("zone", "wall", "expected", "shown"), CASES)
def test_daily_rule_through_the_change_keeps_its_wall_time_and_skips_nothing(
    zone: str, wall: datetime, expected: datetime, shown: str
) -> None:
    start = wall.date() - timedelta(days=2)
    schedule = daily(zone, start, wall.date() + timedelta(days=2), wall.strftime("%H:%M"))

    found = upcoming(schedule, utc(2000, 1, 1), 10)

    assert len(found) == 5  # one a day, none lost or doubled
    assert found[2] == expected
    local = [o.astimezone(ZoneInfo(zone)) for o in found]
    assert {o.time() for i, o in enumerate(local) if i != 2} == {wall.time()}


def test_two_times_meeting_in_a_gap_publish_once() -> None:
    # 02:30 moves to 03:30, where the 03:30 occurrence already is: one instant, not two.
    schedule = daily("America/New_York", date(2026, 3, 8), date(2026, 3, 8), "02:30", "03:30")

    assert upcoming(schedule, utc(2026, 1, 1), 5) == [utc(2026, 3, 8, 7, 30)]


def test_a_moved_time_comes_in_instant_order() -> None:
    # 02:30 becomes 03:30 EDT, after 03:15 EDT: results stay strictly increasing.
    schedule = daily("America/New_York", date(2026, 3, 8), date(2026, 3, 8), "02:30", "03:15")

    assert upcoming(schedule, utc(2026, 1, 1), 5) == [
        utc(2026, 3, 8, 7, 15),
        utc(2026, 3, 8, 7, 30),
    ]


def test_a_skipped_calendar_day_does_not_double_an_occurrence() -> None:
    # Samoa skipped 30 Dec 2011 (-10 to +14): that day's 09:00 is read with the offset before
    # the gap, which is 31 Dec 09:00 there, already an occurrence. Four days, three instants.
    schedule = daily("Pacific/Apia", date(2011, 12, 29), date(2012, 1, 1), "09:00")

    found = upcoming(schedule, utc(2011, 1, 1), 10)

    assert found == [
        utc(2011, 12, 29, 19, 0),
        utc(2011, 12, 30, 19, 0),
        utc(2011, 12, 31, 19, 0),
    ]
    assert next_occurrence(schedule, found[0]) == found[1]


def test_next_occurrence_just_after_a_moved_time() -> None:
    schedule = Schedule(
        pattern="WEEKLY",
        timezone="America/New_York",
        start_date=date(2026, 1, 1),
        times=["02:30"],
        days_of_week=[6],
    )
    moved = utc(2026, 3, 8, 7, 30)  # Sunday 02:30 -> 03:30 EDT

    assert next_occurrence(schedule, moved - timedelta(seconds=1)) == moved
    assert next_occurrence(schedule, moved) == utc(2026, 3, 15, 6, 30)
    # `after` already past the wall time 02:30 but before the moved instant
    assert next_occurrence(schedule, utc(2026, 3, 8, 7, 10)) == moved


def test_to_instant_matches_pep_495_everywhere_across_a_year() -> None:
    for name in ("America/New_York", "Pacific/Chatham", "America/Sao_Paulo", "Europe/Moscow"):
        zone = ZoneInfo(name)
        wall = datetime(2018, 1, 1)
        while wall < datetime(2019, 1, 1):
            for minute in (0, 30, 45):
                moment = datetime.combine(wall.date(), time(wall.hour, minute))
                assert to_instant(moment, zone) == moment.replace(tzinfo=zone).astimezone(UTC)
            wall += timedelta(hours=1)


def test_a_skipped_day_with_several_times_loses_none_of_the_next_days() -> None:
    # 30 Dec's times land on 31 Dec's: 31 Dec 12:00 must not be lost behind 30 Dec 23:00.
    simple = daily("Pacific/Apia", date(2011, 12, 29), date(2012, 1, 1), "09:00", "12:00", "23:00")
    rule = Schedule(
        pattern="RRULE",
        timezone="Pacific/Apia",
        start_date=date(2011, 12, 29),
        times=["09:00"],
        rrule="FREQ=DAILY;BYHOUR=9,12,23;BYMINUTE=0;UNTIL=20111231T235959Z",
    )
    expected = [
        utc(2011, 12, 29, 19, 0),  # 29 Dec, -10
        utc(2011, 12, 29, 22, 0),
        utc(2011, 12, 30, 9, 0),
        utc(2011, 12, 30, 19, 0),  # 31 Dec 09:00 +14 (and 30 Dec 09:00, read before the gap)
        utc(2011, 12, 30, 22, 0),
        utc(2011, 12, 31, 9, 0),
        utc(2011, 12, 31, 19, 0),  # 1 Jan
        utc(2011, 12, 31, 22, 0),
    ]

    assert upcoming(simple, utc(2011, 1, 1), 20) == [*expected, utc(2012, 1, 1, 9, 0)]
    assert upcoming(rule, utc(2011, 1, 1), 20) == expected  # UNTIL is 31 Dec 23:59:59 UTC


def test_rrule_grid_times_in_a_45_minute_gap_come_in_instant_order() -> None:
    # Chatham springs from 02:45 to 03:45: 03:00 moves to 04:00, after the real 03:45.
    rule = Schedule(
        pattern="RRULE",
        timezone="Pacific/Chatham",
        start_date=date(2026, 9, 27),
        times=["00:00"],
        rrule="FREQ=DAILY;BYHOUR=3;BYMINUTE=0,45;COUNT=2",
    )
    uncounted = rule.model_copy(update={"rrule": "FREQ=DAILY;BYHOUR=3;BYMINUTE=0,45"})
    expected = [utc(2026, 9, 26, 14, 0), utc(2026, 9, 26, 14, 15)]  # 03:45, then 04:00 (+1345)

    assert upcoming(rule, utc(2026, 1, 1), 5) == expected
    assert upcoming(uncounted, utc(2026, 1, 1), 2) == expected
    assert next_occurrence(uncounted, utc(2026, 9, 26, 13, 0)) == expected[0]


def _posix_zone(rule: str, standard_offset_hours: int) -> ZoneInfo:
    """A zone with no history, only a POSIX TZ rule: a minimal TZif v2 file built in memory."""
    counts = struct.pack(">6l", 0, 0, 0, 0, 1, 4)  # one type, four abbreviation bytes
    block = b"TZif2" + b"\0" * 15 + counts + struct.pack(">lbB", standard_offset_hours * 3600, 0, 0)
    block += b"XXX\0"
    return ZoneInfo.from_file(io.BytesIO(block + block + b"\n" + rule.encode() + b"\n"))


@pytest.mark.parametrize("pattern", ["DATE_RANGE", "RRULE"])
def test_a_gap_across_midnight_keeps_instants_in_order_across_days(
    pattern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No real zone springs forward at 23:30, but nothing forbids it: 8 Mar 23:45 then becomes
    # 9 Mar 00:45, later than 9 Mar 00:30, which the search must not skip.
    zone = _posix_zone("XXX3YYY,M3.2.0/23:30,M11.1.0/1", -3)
    monkeypatch.setattr(occurrences, "get_zone", lambda name: zone)
    schedule = Schedule(
        pattern=pattern,
        start_date=date(2026, 3, 7),
        times=["00:30", "23:45"] if pattern == "DATE_RANGE" else ["00:30"],
        end_date=date(2026, 3, 10) if pattern == "DATE_RANGE" else None,
        rrule="FREQ=DAILY;BYHOUR=0,23;BYMINUTE=30,45" if pattern == "RRULE" else None,
    )
    walls = [
        datetime.combine(date(2026, 3, d), time(h, m))
        for d in (7, 8, 9, 10)
        for h, m in ((0, 30), (23, 45))
    ]
    if pattern == "RRULE":  # the grid also has 00:45 and 23:30
        walls += [
            datetime.combine(date(2026, 3, d), time(h, m))
            for d in (7, 8, 9, 10)
            for h, m in ((0, 45), (23, 30))
        ]
    expected = sorted({w.replace(tzinfo=zone).astimezone(UTC) for w in walls})

    assert upcoming(schedule, utc(2026, 1, 1), len(expected)) == expected
    assert expected.index(utc(2026, 3, 9, 2, 30)) < expected.index(utc(2026, 3, 9, 2, 45))
