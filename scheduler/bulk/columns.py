"""Columns: the documented import format (ours), and how a header row is matched against it.

One row is one post. Headers are matched after trimming, lower-casing and treating spaces and
hyphens as underscores, so `Media URLs`, `media-urls` and `media_urls` are the same column.

| column | meaning |
|---|---|
| `account` | the Threads username (with or without @) or account id; blank: the default account |
| `type` | TEXT, IMAGE, VIDEO or CAROUSEL (the seed's aliases too); blank: from the media |
| `text` | the post's text |
| `media_urls` | media URLs separated by new lines, spaces, `,` `;` or `|`; scheme-less get https |
| `date` | local date, YYYY-MM-DD (or an Excel date); with `time` it schedules the post |
| `time` | local time, HH:MM (or an Excel time) |
| `timezone` | IANA zone of date and time; blank: the account's zone |
| `recurrence` | blank/ONCE, DAILY, WEEKLY, MONTHLY, or an RRULE such as FREQ=WEEKLY;BYDAY=MO,TH |
| `reply_1` … `reply_10` | the reply chain: each reply's text, published after the post |
| `topic_tag` | Threads topic tag |
| `status` | DRAFT imports a draft even with a date; PUBLISHED and CANCELLED rows are skipped |
| `id` | your own row id (an export's post id); kept to name the row in reports |

An export (`export.py`) writes the same columns plus read-only ones (`next_run_at`,
`last_published_at`, `last_error`), which an import ignores: an export imports unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scheduler.bulk.readers import file_error, normalise_header

MAX_REPLIES = 10


@dataclass(frozen=True)
class Column:
    """One column of the import format: its name, what it means and an example value."""

    name: str
    meaning: str
    example: str = ""
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("account", "Threads username (with or without @) or account id", "@ana",
           ("username", "account_username")),
    Column("type", "TEXT, IMAGE, VIDEO or CAROUSEL; blank: guessed from the media", "IMAGE",
           ("post_type",)),
    Column("text", "The post's text (500 characters; emoji count as several)",
           "Our spring menu is here!", ("content", "body")),
    Column("media_urls", "Media URLs, separated by new lines, spaces, commas or |",
           "https://example.com/menu.jpg", ("media", "media_url", "urls", "images")),
    Column("date", "Local date YYYY-MM-DD; with a time it schedules the post", "2030-01-07",
           ("day", "publish_date")),
    Column("time", "Local time HH:MM (24 hours)", "09:30", ("publish_time",)),
    Column("timezone", "IANA time zone; blank: the account's zone", "Europe/Berlin",
           ("time_zone", "tz")),
    Column("recurrence", "Blank or ONCE, DAILY, WEEKLY, MONTHLY, or an RRULE", "",
           ("repeat", "rrule")),
    *(
        Column(f"reply_{i}", f"Text of reply {i} of the chain", "", (f"reply{i}",))
        for i in range(1, MAX_REPLIES + 1)
    ),
    Column("topic_tag", "Threads topic tag (no periods or ampersands)", "", ("topic", "tag")),
    Column("status", "DRAFT to import a draft; PUBLISHED and CANCELLED rows are skipped", "",
           ()),
    Column("id", "Your own id of the row, shown in reports", "", ("ref", "post_id")),
)  # fmt: skip
READ_ONLY = frozenset({"next_run_at", "last_published_at", "last_error", "duplicate_of"})
REQUIRED = ("text",)

_BY_KEY = {key: column.name for column in COLUMNS for key in (column.name, *column.aliases)}


def column_key(header: str) -> str:
    """A header reduced to the key it is matched by: `Media URLs` → `media_urls`."""
    return normalise_header(header).replace("-", "_").replace(" ", "_")


@dataclass
class Layout:
    """Where each known column is in a file: field name → (index, header as written)."""

    found: dict[str, tuple[int, str]]
    unknown: list[str]

    def header(self, name: str) -> str | None:
        hit = self.found.get(name)
        return hit[1] if hit else None


def match_headers(headers: Sequence[str], keys: dict[str, str]) -> Layout:
    """Match headers to column names (`keys`: normalised header → column name).

    Raises:
        ValidationFailed: when two headers name the same column.
    """
    found: dict[str, tuple[int, str]] = {}
    unknown: list[str] = []
    for index, header in enumerate(headers):
        if not header:
            continue
        name = keys.get(column_key(header)) or keys.get(normalise_header(header))
        if name is None:
            unknown.append(header)
        elif name in found:
            raise file_error(
                f"The columns {found[name][1]!r} and {header!r} both give {name}; keep one of them."
            )
        else:
            found[name] = (index, header)
    return Layout(found=found, unknown=unknown)


def our_layout(headers: Sequence[str]) -> Layout:
    """Match a header row against our format; refuse it when a required column is missing."""
    layout = match_headers(headers, _BY_KEY)
    layout.unknown = [h for h in layout.unknown if column_key(h) not in READ_ONLY]
    missing = [name for name in REQUIRED if name not in layout.found]
    if missing:
        raise file_error(
            f"The file has no {', '.join(missing)} column; its first row must name the columns "
            f"(found: {', '.join(repr(h) for h in headers if h) or 'none'}). Download the "
            "template to see the format."
        )
    return layout
