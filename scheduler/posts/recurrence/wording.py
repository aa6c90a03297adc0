"""Wording: how dates, times and lists read in descriptions and messages (English, no locale)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time

MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def format_day(day: date) -> str:
    """`5 Dec 2026`: unambiguous in every country, unlike 12/05/2026."""
    return f"{day.day} {MONTH_ABBR[day.month - 1]} {day.year}"


def format_time(moment: time) -> str:
    """`09:00` (24-hour clock), or `09:00:30` when the time has seconds."""
    text = f"{moment.hour:02d}:{moment.minute:02d}"
    return f"{text}:{moment.second:02d}" if moment.second else text


def join_words(words: Sequence[str]) -> str:
    """`Monday`, `Monday and Thursday`, `Monday, Wednesday and Friday`."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def ordinal(n: int) -> str:
    """`1st`, `2nd`, `3rd`, `11th`, `22nd`."""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
