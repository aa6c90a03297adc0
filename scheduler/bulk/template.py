"""Template: the downloadable starting point of an import, as CSV and as an XLSX workbook.

The example rows are dated tomorrow (from the caller's clock), so the template imports as it is;
the workbook adds a `Columns` sheet that explains every column.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from scheduler.bulk.columns import COLUMNS

TEMPLATE_COLUMNS = (
    "account", "type", "text", "media_urls", "date", "time", "timezone", "recurrence",
    "reply_1", "reply_2", "topic_tag", "status",
)  # fmt: skip


def example_rows(today: date) -> list[dict[str, str]]:
    """Three example posts (text with a reply, image, weekly carousel) dated after `today`."""
    day = (today + timedelta(days=1)).isoformat()
    return [
        {
            "account": "@your_username",
            "type": "TEXT",
            "text": "Hello Threads! This post was imported from a spreadsheet.",
            "date": day,
            "time": "09:30",
            "timezone": "Europe/Berlin",
            "reply_1": "And this is the first reply of its chain.",
        },
        {
            "account": "@your_username",
            "type": "IMAGE",
            "text": "A photo post (leave date and time empty to import a draft).",
            "media_urls": "https://example.com/photo.jpg",
        },
        {
            "account": "@your_username",
            "type": "CAROUSEL",
            "text": "A carousel, every Monday at 08:00.",
            "media_urls": "https://example.com/1.jpg\nhttps://example.com/2.jpg",
            "date": day,
            "time": "08:00",
            "recurrence": "FREQ=WEEKLY;BYDAY=MO",
        },
    ]


def template_csv(today: date) -> bytes:
    """The template as CSV, UTF-8 with a BOM (so Excel shows accents and emoji correctly)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=TEMPLATE_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(example_rows(today))
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(today: date) -> bytes:
    """The template as an XLSX workbook: a `Posts` sheet and a `Columns` sheet explaining it."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    posts = book.active
    assert posts is not None  # a new workbook always has its first sheet
    posts.title = "Posts"
    posts.append(list(TEMPLATE_COLUMNS))
    for row in example_rows(today):
        posts.append([row.get(name, "") for name in TEMPLATE_COLUMNS])
    for cell in posts[1]:
        cell.font = Font(bold=True)
    posts.freeze_panes = "A2"
    help_sheet = book.create_sheet("Columns")
    help_sheet.append(["column", "meaning", "example", "also accepted as"])
    for column in COLUMNS:
        help_sheet.append([column.name, column.meaning, column.example, ", ".join(column.aliases)])
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
