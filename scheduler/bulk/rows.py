"""Rows: one row of a file (our format) turned into a `PostInput`, or problems by column.

A row is read cell by cell; every cell that cannot be read is reported with its column, and a row
with any such problem is not handed on. A readable row becomes a `PostInput` that `PostService`
then validates like any other post (Threads limits, schedule, duplicates); those errors come back
as field paths (`media.1.url`, `schedule.timezone`, `replies.0.text`), which `ParsedRow.column_for`
maps back to the column the value came from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any, TypeVar

from scheduler.bulk import cells
from scheduler.bulk.cells import Cell, CellProblem
from scheduler.bulk.columns import MAX_REPLIES, Layout
from scheduler.bulk.readers import ExcelError, RawRow, file_error
from scheduler.platform.documents import Account
from scheduler.platform.errors import ValidationFailed
from scheduler.posts.content import MediaItem, PostContent, PostType, ReplySpec, ThreadsOptions
from scheduler.posts.recurrence import from_rrule
from scheduler.posts.recurrence.zones import find_zone
from scheduler.posts.service import PostInput

T = TypeVar("T")

# Statuses as written in our exports and in the seed's sheets (docs/import-format.md §4.10).
STATUSES: dict[str, str] = {
    "DRAFT": "DRAFT",
    "NHÁP": "DRAFT",
    "SCHEDULED": "SCHEDULED",
    "SCHEDULED FOR POSTING": "SCHEDULED",
    "ĐANG CHỜ": "SCHEDULED",
    "PUBLISHED": "PUBLISHED",
    "DONE": "PUBLISHED",
    "POSTED TO THREADS": "PUBLISHED",
    "ĐÃ ĐĂNG": "PUBLISHED",
    "FAILED": "FAILED",
    "ERROR": "FAILED",
    "LỖI": "FAILED",
    "CANCELLED": "CANCELLED",
    "PUBLISHING": "PUBLISHING",
}
SKIPPED_STATUSES = {
    "PUBLISHED": "it was already published",
    "PUBLISHING": "it was being published when it was exported",
    "CANCELLED": "it is cancelled",
}
RECURRENCE_WORDS = {"DAILY": "FREQ=DAILY", "WEEKLY": "FREQ=WEEKLY", "MONTHLY": "FREQ=MONTHLY"}


@dataclass
class ParsedRow:
    """A row read from a file: its `PostInput`, or the problems found, by column header."""

    number: int
    ref: str | None = None
    data: PostInput | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)
    # Field path (or prefix) of the PostInput → the header its value came from.
    columns: dict[str, str] = field(default_factory=dict)
    skipped: str | None = None  # why the row is left out on purpose
    repeats: int | None = None  # the earlier row of the same file it repeats
    notes: list[tuple[str, str]] = field(default_factory=list)  # (column, notice)

    def column_for(self, path: str) -> str:
        """The header of the column a field path's value came from (`media.1.url` → its column)."""
        parts = path.split(".")
        while parts:
            found = self.columns.get(".".join(parts))
            if found is not None:
                return found
            parts.pop()
        return self.columns.get("text", "text")

    def read(self, column: str | None, reader: Callable[[Cell], T], cell: Cell) -> T | None:
        """`reader(cell)`, or None with the problem recorded under `column`."""
        try:
            return reader(cell)
        except CellProblem as exc:
            self.problems.append((column or "?", exc.message))
            return None


def excel_errors(row: ParsedRow, raw: RawRow, layout: Layout) -> None:
    """Record every cell of a known column that holds an Excel error value (#REF!, ...)."""
    for index, header in layout.found.values():
        cell = raw.cells[index] if index < len(raw.cells) else None
        if isinstance(cell, ExcelError):
            row.problems.append(
                (header, f"The cell holds the Excel error {cell}; fix its formula or type a value.")
            )


class AccountDirectory:
    """The owner's accounts, found by username (with or without @) or id; one may be the default."""

    def __init__(self, accounts: Sequence[Account], default: str | None = None) -> None:
        self._by_key: dict[str, Account] = {}
        for account in accounts:
            self._by_key[str(account.id)] = account
            self._by_key[account.username.lower()] = account
        self._names = sorted(account.username for account in accounts)
        self.default: Account | None = None
        if default:
            found = self._by_key.get(_account_key(default))
            if found is None:
                raise file_error(
                    f"There is no connected account {default!r}; choose one of "
                    f"{self._choices()} (or connect it first on the Accounts page)."
                )
            self.default = found
        elif len(accounts) == 1:
            self.default = accounts[0]

    def resolve(self, cell: Cell) -> Account:
        """The account a cell names, or the default for a blank cell; raises CellProblem."""
        value = cells.text(cell).strip()
        if not value:
            if self.default is None:
                raise CellProblem(
                    f"No account given; write the username ({self._choices()}) or choose a "
                    "default account for the import."
                )
            return self.default
        found = self._by_key.get(_account_key(value))
        if found is None:
            raise CellProblem(
                f"There is no connected account {value!r}; use one of {self._choices()}."
            )
        return found

    def _choices(self) -> str:
        return ", ".join(f"@{name}" for name in self._names) or "your connected accounts"


def _account_key(value: str) -> str:
    return value.strip().removeprefix("@").lower()


def status(cell: Cell) -> str | None:
    """A row status, in English or as the seed wrote it in Vietnamese; None if blank."""
    value = " ".join(cells.text(cell).upper().split())
    if not value:
        return None
    found = STATUSES.get(value)
    if found is None:
        raise CellProblem(
            f"{cells.text(cell)!r} is not a status; use DRAFT or SCHEDULED (PUBLISHED and "
            "CANCELLED rows are skipped), or leave it blank."
        )
    return found


def media_items(
    row: ParsedRow, sources: Sequence[tuple[str, list[str]]], kind: PostType | None
) -> list[MediaItem]:
    """Media from (header, URLs) pairs, duplicates dropped keeping the first; records columns."""
    items: list[MediaItem] = []
    seen: set[str] = set()
    for header, urls in sources:
        for url in urls:
            if url in seen:
                continue
            seen.add(url)
            row.columns[f"media.{len(items)}"] = header
            items.append(MediaItem(url=url, kind=cells.media_kind(url, kind)))
    return items


def infer_type(media: Sequence[MediaItem]) -> PostType:
    """TEXT without media, IMAGE or VIDEO for one item, CAROUSEL for several."""
    if not media:
        return PostType.TEXT
    if len(media) == 1:
        return PostType.VIDEO if media[0].kind.value == "VIDEO" else PostType.IMAGE
    return PostType.CAROUSEL


def schedule_for(
    row: ParsedRow,
    day: date | None,
    moment: time | None,
    zone: str,
    recurrence: str,
    headers: dict[str, str],
) -> dict[str, Any] | None:
    """The row's schedule as a raw dict (None: a draft); problems recorded under `headers`."""
    if day is None and moment is None:
        if recurrence:
            row.problems.append(
                (headers["recurrence"], "A recurrence needs the date and time it starts at.")
            )
        return None
    if day is None or moment is None:
        missing = "date" if day is None else "time"
        row.problems.append(
            (
                headers[missing],
                f"The {missing} is missing; give both a date and a time to schedule the post, "
                "or neither to import it as a draft.",
            )
        )
        return None
    if find_zone(zone) is None:
        row.problems.append(
            (
                headers["timezone"],
                f"{zone!r} is not a known IANA time zone; use a name like Europe/Berlin, "
                "America/New_York or UTC.",
            )
        )
        return None
    rule = recurrence.strip().upper().removeprefix("RRULE:")
    if rule in ("", "ONCE"):
        return {
            "pattern": "ONCE",
            "timezone": zone,
            "start_date": day.isoformat(),
            "times": [moment.isoformat()],
        }
    rule = RECURRENCE_WORDS.get(rule, rule)
    try:
        schedule = from_rrule(f"DTSTART;TZID={zone}:{day:%Y%m%d}T{moment:%H%M%S}\nRRULE:{rule}")
    except ValidationFailed as exc:
        messages = [m for msgs in exc.field_errors.values() for m in msgs]
        row.problems.append((headers["recurrence"], " ".join(messages)))
        return None
    return schedule.model_dump(mode="json")


def parse_row(raw: RawRow, layout: Layout, accounts: AccountDirectory) -> ParsedRow:
    """One row of our format → a `ParsedRow` (see `columns.py` for the columns)."""
    row = ParsedRow(number=raw.number)

    def cell(name: str) -> Cell:
        hit = layout.found.get(name)
        return raw.cells[hit[0]] if hit is not None and hit[0] < len(raw.cells) else None

    def header(name: str, fallback: str = "text") -> str:
        return layout.header(name) or layout.header(fallback) or fallback

    row.ref = cells.text(cell("id")).strip() or None
    excel_errors(row, raw, layout)
    row_status = row.read(header("status"), status, cell("status"))
    if row_status in SKIPPED_STATUSES:
        row.skipped = f"Row {raw.number} is {row_status}: {SKIPPED_STATUSES[row_status]}."
        return row
    account = row.read(header("account"), accounts.resolve, cell("account"))
    kind = row.read(header("type"), cells.post_type, cell("type"))
    text = cells.text(cell("text"))
    urls = row.read(header("media_urls"), cells.urls, cell("media_urls")) or []
    media = media_items(row, [(header("media_urls"), urls)], kind)
    headers = {
        "date": header("date"),
        "time": header("time", "date"),
        "timezone": header("timezone", "date"),
        "recurrence": header("recurrence", "date"),
    }
    day = row.read(headers["date"], cells.day, cell("date"))
    moment = row.read(headers["time"], cells.time_of_day, cell("time"))
    if moment is None and cells.is_blank(cell("time")):
        moment = row.read(headers["date"], cells.time_in_date, cell("date"))
    replies = [
        (i, cells.text(cell(f"reply_{i}")))
        for i in range(1, MAX_REPLIES + 1)
        if not cells.is_blank(cell(f"reply_{i}"))
    ]
    topic = cells.text(cell("topic_tag")).strip() or None
    row.columns |= {
        "account_id": header("account"),
        "text": header("text"),
        "options": header("text"),
        "options.topic_tag": header("topic_tag"),
        "media": header("media_urls", "type"),
        "schedule": headers["date"],
        "schedule.start_date": headers["date"],
        "schedule.times": headers["time"],
        "schedule.timezone": headers["timezone"],
        "schedule.rrule": headers["recurrence"],
        "schedule.count": headers["recurrence"],
        "schedule.end_date": headers["recurrence"],
    }
    for position, (i, _) in enumerate(replies):
        row.columns[f"replies.{position}"] = header(f"reply_{i}")
    if row.problems or account is None:
        return row
    schedule = None
    if row_status != "DRAFT":
        zone = cells.text(cell("timezone")).strip() or account.timezone
        recurrence = cells.text(cell("recurrence"))
        schedule = schedule_for(row, day, moment, zone, recurrence, headers)
    if row_status == "SCHEDULED" and schedule is None and not row.problems:
        row.problems.append((headers["date"], "A SCHEDULED row needs a date and a time."))
    if row.problems:
        return row
    row.data = PostInput(
        account_id=str(account.id),
        content=PostContent(
            type=kind or infer_type(media),
            text=text,
            media=media,
            options=ThreadsOptions(topic_tag=topic),
        ),
        replies=[ReplySpec(text=reply) for _, reply in replies],
        schedule=schedule,
    )
    return row
