"""Export: posts → CSV in the import format, so an export can be edited and imported again.

The columns are the import's (`columns.py`) plus read-only ones an import ignores. Cells that a
spreadsheet would run as a formula (text starting with `=`, `+`, `@`) get a leading `'`, which
the importer takes off again: opening an export can never execute anything.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping

from beanie import PydanticObjectId

from scheduler.bulk.cells import FORMULA_STARTS
from scheduler.platform.documents import Account, Post
from scheduler.posts.recurrence import Pattern, to_rrule

BASE_COLUMNS = ("id", "account", "status", "type", "text", "media_urls", "date", "time")
TAIL_COLUMNS = ("timezone", "recurrence", "topic_tag", "next_run_at", "last_published_at")


def _safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def post_row(post: Post, account: Account | None) -> dict[str, str]:
    """One post as a row of the export (and import) format."""
    row = {
        "id": str(post.id),
        "account": account.username if account else str(post.account_id),
        "status": post.status.value,
        "type": post.content.type.value,
        "text": _safe(post.content.text),
        "media_urls": "\n".join(item.url for item in post.content.media),
        "topic_tag": _safe(post.content.options.topic_tag or ""),
        "next_run_at": post.next_run_at.isoformat() if post.next_run_at else "",
        "last_published_at": post.last_published_at.isoformat() if post.last_published_at else "",
    }
    for i, reply in enumerate(post.replies, start=1):
        row[f"reply_{i}"] = _safe(reply.text)
    schedule = post.schedule
    if schedule is not None:
        # The rule's own start (DTSTART): a recurring post re-imports with the same rhythm.
        moment = schedule.times[0]
        row |= {
            "date": schedule.start_date.isoformat(),
            "time": moment.strftime("%H:%M:%S" if moment.second else "%H:%M"),
            "timezone": schedule.timezone,
        }
        if schedule.pattern is not Pattern.ONCE:
            row["recurrence"] = to_rrule(schedule).split("RRULE:", 1)[1]
    return row


def export_csv(posts: Iterable[Post], accounts: Mapping[PydanticObjectId, Account]) -> str:
    """The posts as CSV text (with a header row), in the import format."""
    rows = [post_row(post, accounts.get(post.account_id)) for post in posts]
    replies = max((sum(1 for key in row if key.startswith("reply_")) for row in rows), default=0)
    columns = [*BASE_COLUMNS, *(f"reply_{i}" for i in range(1, replies + 1)), *TAIL_COLUMNS]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
