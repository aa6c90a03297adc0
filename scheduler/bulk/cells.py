"""Cells: turning one spreadsheet or CSV cell into a typed value, or a `CellProblem`.

A cell arrives as whatever the reader produced: a string (CSV, and most XLSX cells), a number, a
boolean, or a date/time/datetime (XLSX cells formatted as dates). Each function here accepts every
form a person may reasonably have typed and says precisely what it expected otherwise.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from scheduler.posts.content import MediaKind, PostType

Cell = str | int | float | bool | datetime | date | time | None

# Our type names and the seed's aliases for them (docs/import-format.md §4.2, §8.2).
POST_TYPES: dict[str, PostType] = {
    "TEXT": PostType.TEXT,
    "STATUS": PostType.TEXT,
    "IMAGE": PostType.IMAGE,
    "PHOTO": PostType.IMAGE,
    "PHOTOS": PostType.IMAGE,
    "SINGLE PHOTO": PostType.IMAGE,
    "SINGLE IMAGE": PostType.IMAGE,
    "VIDEO": PostType.VIDEO,
    "MOVIE": PostType.VIDEO,
    "MOVIES": PostType.VIDEO,
    "REEL": PostType.VIDEO,
    "REELS": PostType.VIDEO,
    "CAROUSEL": PostType.CAROUSEL,
    "MULTIPLE PHOTOS": PostType.CAROUSEL,
    "MULTI PHOTO": PostType.CAROUSEL,
}
VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".webm", ".avi", ".mkv")
_URL_SEPARATORS = re.compile(r"[,;|\s]+")
_TIME_TEXT = re.compile(r"^(\d{1,2})[:h.](\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?$", re.IGNORECASE)
# Characters a spreadsheet reads as the start of a formula: exports prefix them with ' (OWASP's
# CSV-injection advice) and imports take that prefix off again.
FORMULA_STARTS = ("=", "+", "@", "\t", "\r")


class CellProblem(Exception):
    """One cell could not be read; `message` says what was expected."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def text(cell: Cell) -> str:
    """The cell as text: numbers without a trailing `.0`, a leading formula-guard `'` removed."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime | date | time):
        return cell.isoformat()
    value = str(cell)
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def is_blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def post_type(cell: Cell) -> PostType | None:
    """TEXT, IMAGE, VIDEO or CAROUSEL in any case, or one of the seed's aliases; None if blank."""
    name = " ".join(text(cell).upper().replace("_", " ").split())
    if not name:
        return None
    found = POST_TYPES.get(name)
    if found is None:
        raise CellProblem(
            f"{text(cell)!r} is not a post type; use TEXT, IMAGE, VIDEO or CAROUSEL "
            "(or PHOTO, MULTIPLE PHOTOS, REEL, STATUS)."
        )
    return found


def urls(cell: Cell) -> list[str]:
    """The URLs of a cell: separated by `,` `;` `|`, spaces or new lines; scheme-less get https."""
    found: list[str] = []
    for part in _URL_SEPARATORS.split(text(cell)):
        url = part.strip()
        if not url:
            continue
        if "://" not in url:
            url = "https://" + url.removeprefix("//")
        found.append(url)
    return found


def media_kind(url: str, post: PostType | None) -> MediaKind:
    """VIDEO for a VIDEO post or a video file extension, else IMAGE."""
    path = url.split("?", 1)[0].lower()
    if post is PostType.VIDEO or path.endswith(VIDEO_EXTENSIONS):
        return MediaKind.VIDEO
    return MediaKind.IMAGE


def boolean(cell: Cell) -> bool:
    """true/1/yes/x or false/0/no/blank, in any case (Excel TRUE/FALSE cells too)."""
    if isinstance(cell, bool):
        return cell
    value = text(cell).strip().lower()
    if value in ("true", "1", "yes", "y", "x"):
        return True
    if value in ("false", "0", "no", "n", ""):
        return False
    raise CellProblem(f"{text(cell)!r} is not a yes/no value; use TRUE or FALSE (or 1 or 0).")


def day(cell: Cell) -> date | None:
    """A calendar date: an Excel date cell or YYYY-MM-DD text; None if blank."""
    if is_blank(cell):
        return None
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    value = text(cell).strip()
    try:
        return date.fromisoformat(value[:10]) if len(value) >= 10 else date.fromisoformat(value)
    except ValueError:
        raise CellProblem(
            f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2030-01-07."
        ) from None


def time_of_day(cell: Cell) -> time | None:
    """A local time: an Excel time cell, HH:MM (24 h), HH:MM:SS or 9:30 pm; None if blank."""
    if is_blank(cell):
        return None
    if isinstance(cell, datetime):
        return cell.time().replace(microsecond=0)
    if isinstance(cell, time):
        return cell.replace(microsecond=0)
    value = text(cell).strip()
    match = _TIME_TEXT.match(value)
    if match is None:
        raise CellProblem(f"{value!r} is not a time of day; write it as HH:MM, e.g. 09:30.")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if match[4]:
        if not 1 <= hour <= 12:
            raise CellProblem(f"{value!r}: with am/pm the hour is 1 to 12.")
        hour = hour % 12 + (12 if match[4].lower().startswith("p") else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise CellProblem(f"{value!r} is not a time of day; hours are 0-23, minutes 0-59.")
    return time(hour, minute, second)


def time_in_date(cell: Cell) -> time | None:
    """The time of a date cell that holds a date *and* a time (an Excel datetime, or text)."""
    if isinstance(cell, datetime):
        return cell.time().replace(microsecond=0) if cell.time() != time() else None
    value = text(cell).strip()
    return time_of_day(value[10:].strip(" T")) if len(value) > 10 else None
