"""Seed format: the seed system's Excel layout (`Danh Sách Bài Post`), imported unchanged.

People moving from the seed (Threads Auto-Post) bring sheets with Vietnamese headers; the layout is
described in `docs/import-format.md` §8. The seed had no date column: its rows become drafts
(distribute them, or add them to an account's queue, afterwards). Rows the seed had already
published are skipped; its failed rows come back as drafts.
"""

from __future__ import annotations

from collections.abc import Sequence

from scheduler.bulk import cells
from scheduler.bulk.cells import Cell
from scheduler.bulk.columns import Layout, match_headers
from scheduler.bulk.readers import RawRow, file_error, normalise_header
from scheduler.bulk.rows import (
    SKIPPED_STATUSES,
    AccountDirectory,
    ParsedRow,
    excel_errors,
    media_items,
    status,
)
from scheduler.posts.content import PostContent, PostType, ReplySpec, ThreadsOptions
from scheduler.posts.service import PostInput

TEXT = "nội dung bài post"
TYPE = "loại bài viết"
IMAGE_COLUMNS = tuple(f"link ảnh {i}" for i in range(1, 11))
COLUMNS = (
    TEXT,
    TYPE,
    "id",
    "chủ đề",
    "trạng thái",
    "skip ai",
    "comment",
    "link video",
    *IMAGE_COLUMNS,
    "gộp link",
)
REQUIRED = (TEXT, TYPE)
_KEYS = {name: name for name in COLUMNS}


def is_seed_layout(headers: Sequence[str]) -> bool:
    """Whether a header row is the seed's (it names the post text or type in Vietnamese)."""
    names = {normalise_header(header) for header in headers}
    return TEXT in names or TYPE in names


def seed_layout(headers: Sequence[str]) -> Layout:
    """Match the seed's headers; refuse the sheet when a required column is missing, by name."""
    layout = match_headers(headers, _KEYS)
    missing = [name for name in REQUIRED if name not in layout.found]
    if missing:
        raise file_error(
            "The sheet looks like the seed's layout but has no "
            + " and no ".join(f"'{name}'" for name in missing)
            + " column; add it to the header row (row 1)."
        )
    return layout


def parse_seed_row(raw: RawRow, layout: Layout, accounts: AccountDirectory) -> ParsedRow:
    """One row of the seed's sheet → a `ParsedRow` (always a draft: the seed has no dates)."""
    row = ParsedRow(number=raw.number)

    def cell(name: str) -> Cell:
        hit = layout.found.get(name)
        return raw.cells[hit[0]] if hit is not None and hit[0] < len(raw.cells) else None

    def header(name: str) -> str:
        return layout.header(name) or name

    row.ref = cells.text(cell("id")).strip() or None
    excel_errors(row, raw, layout)
    row_status = row.read(header("trạng thái"), status, cell("trạng thái"))
    if row_status in SKIPPED_STATUSES:
        why = SKIPPED_STATUSES[row_status]
        row.skipped = f"Row {raw.number} is {row_status} in the seed: {why}."
        return row
    if row_status == "SCHEDULED":
        row.notes.append(
            (
                header("trạng thái"),
                "The seed had no date for this post; it is imported as a draft. Distribute "
                "the imported posts or add them to the account's queue.",
            )
        )
    row.read(header("skip ai"), cells.boolean, cell("skip ai"))  # validated; there is no AI step
    account = row.read(header(TEXT), accounts.resolve, None)
    kind = row.read(header(TYPE), cells.post_type, cell(TYPE))
    if kind is None and not row.problems:
        row.problems.append(
            (header(TYPE), "The post type is missing; use TEXT, IMAGE, VIDEO or CAROUSEL.")
        )
    sources = [(header(name), cells.urls(cell(name))) for name in IMAGE_COLUMNS]
    sources.append((header("gộp link"), cells.urls(cell("gộp link"))))
    video_urls = cells.urls(cell("link video"))
    media = media_items(row, sources, kind)
    # The seed listed its video among the images; here it is the video, whatever its extension.
    for url in video_urls:
        if all(item.url != url for item in media):
            row.columns[f"media.{len(media)}"] = header("link video")
            media += media_items(ParsedRow(number=0), [("", [url])], PostType.VIDEO)
    if kind not in (None, PostType.TEXT) and not media:
        row.problems.append(
            (
                header(TYPE),
                f"A {kind} post needs at least one link: fill 'link ảnh 1' … 'link ảnh 10', "
                "'link video' or 'gộp link'.",
            )
        )
    comment = cells.text(cell("comment")).strip()
    topic = cells.text(cell("chủ đề")).strip() or None
    first_media = next((h for h, urls in sources if urls), header("link video"))
    row.columns |= {
        "account_id": header(TEXT),
        "text": header(TEXT),
        "options": header(TEXT),
        "options.topic_tag": header("chủ đề"),
        "media": first_media if media else header(TYPE),
        "replies": header("comment"),
    }
    if row.problems or account is None or kind is None:
        return row
    row.data = PostInput(
        account_id=str(account.id),
        content=PostContent(
            type=kind,
            text=cells.text(cell(TEXT)),
            media=media,
            options=ThreadsOptions(topic_tag=topic),
        ),
        replies=[ReplySpec(text=comment)] if comment else [],
    )
    return row
