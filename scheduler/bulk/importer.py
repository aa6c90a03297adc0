"""Importer: a CSV or XLSX file of posts → a dry-run report, or the posts themselves.

    read the file (readers.py: size, encoding, workbook, formulas — or one file error)
      → match the header row (our columns, or the seed's layout)
      → read each row into a PostInput (rows.py, seed_format.py: problems by row and column)
      → find repeats inside the file (duplicates.py's hash, per account)
      → PostService.create_many: Threads limits, schedule, repeats of stored posts — then one
        insert per batch (or, for a dry run, nothing)

Every problem is reported with its row number (as a spreadsheet shows it), the column header as
written in the file and a sentence saying what to change. `all_or_nothing` validates every row
first and writes nothing unless all are valid; otherwise exactly the valid rows are created.
Progress goes to an optional callback (the CLI's indicator) and, as `import.progress` events, to
the dashboard.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from beanie import PydanticObjectId

from scheduler.accounts.actors import Actor
from scheduler.bulk.columns import our_layout
from scheduler.bulk.readers import Source, Table, file_error, read_table
from scheduler.bulk.rows import AccountDirectory, ParsedRow, parse_row
from scheduler.bulk.seed_format import is_seed_layout, parse_seed_row, seed_layout
from scheduler.platform.documents import Account, Post
from scheduler.platform.errors import ValidationFailed
from scheduler.platform.events import EventBus
from scheduler.posts.duplicates import Duplicate, DuplicateGuard, DuplicatePolicy, content_hash
from scheduler.posts.service import PostService

BATCH_SIZE = 250


@dataclass(frozen=True)
class RowIssue:
    """A problem (or warning) in one row: row number, column header as written, what to do."""

    row: int
    column: str
    message: str
    ref: str | None = None  # the row's own id (the `id` column), when it has one

    def __str__(self) -> str:
        ref = f" (id {self.ref})" if self.ref else ""
        return f"Row {self.row}{ref}, column {self.column!r}: {self.message}"


@dataclass(frozen=True)
class ImportProgress:
    """How far an import is: `phase` is reading, validating or importing; rows done of total."""

    import_id: str
    phase: str
    done: int
    total: int


ProgressCallback = Callable[[ImportProgress], None]


@dataclass(frozen=True)
class ImportOptions:
    """How to import a file.

    Args:
        account: default account (username or id) for rows without one; needed for the seed's
            sheets when the owner has several accounts.
        all_or_nothing: write nothing unless every row is valid.
        sheet: the worksheet of an XLSX to read (default: Posts, the seed's, or the only one).
        filename: the file's name as uploaded (words errors about a broken .xlsx).
        import_id: correlates `import.progress` events (generated when not given).
    """

    account: str | None = None
    all_or_nothing: bool = False
    sheet: str | None = None
    filename: str | None = None
    import_id: str | None = None


@dataclass
class ImportReport:
    """What an import (or dry run) found and did."""

    import_id: str
    dry_run: bool
    kind: str  # csv or xlsx
    layout: str  # "threads-scheduler" (ours) or "seed"
    sheet: str | None = None
    total_rows: int = 0
    valid_rows: int = 0
    created: list[PydanticObjectId] = field(default_factory=list)
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    skipped: list[RowIssue] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no row has an error."""
        return not self.errors

    @property
    def error_rows(self) -> list[int]:
        """The numbers of the rows with errors, in order."""
        return sorted({issue.row for issue in self.errors})

    def summary(self) -> str:
        """One line for people: what was (or would be) created, skipped and refused."""
        verb = "would be created" if self.dry_run else "created"
        count = self.valid_rows if self.dry_run else len(self.created)
        parts = [f"{self.total_rows} rows read", f"{count} posts {verb}"]
        if self.errors:
            parts.append(f"{len(self.error_rows)} rows with errors")
        if self.skipped:
            parts.append(f"{len(self.skipped)} rows skipped")
        if self.warnings:
            parts.append(f"{len(self.warnings)} warnings")
        return ", ".join(parts) + "."


class Importer:
    """Imports posts from CSV and XLSX files: `dry_run` checks, `run` creates."""

    def __init__(
        self,
        *,
        posts: PostService,
        duplicates: DuplicateGuard,
        events: EventBus,
        max_bytes: int,
        max_rows: int,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._posts = posts
        self._duplicates = duplicates
        self._events = events
        self._max_bytes = max_bytes
        self._max_rows = max_rows
        self._batch = batch_size

    async def dry_run(
        self,
        actor: Actor,
        source: Source,
        options: ImportOptions | None = None,
        progress: ProgressCallback | None = None,
    ) -> ImportReport:
        """Validate every row as the import would, and write nothing.

        Args:
            actor: who imports (the posts' owner).
            source: the file's bytes, or its path.
            options: default account, sheet, ...
            progress: called as rows are read and checked.

        Raises:
            ValidationFailed: on `file`, when the file itself cannot be imported.
        """
        return await self._import(actor, source, options or ImportOptions(), progress, dry=True)

    async def run(
        self,
        actor: Actor,
        source: Source,
        options: ImportOptions | None = None,
        progress: ProgressCallback | None = None,
    ) -> ImportReport:
        """Create the posts of every valid row (or none, with `all_or_nothing`, if one is bad).

        Raises:
            ValidationFailed: on `file`, when the file itself cannot be imported; nothing is
                written then.
        """
        return await self._import(actor, source, options or ImportOptions(), progress, dry=False)

    # --- the steps -------------------------------------------------------------------------

    async def _import(
        self,
        actor: Actor,
        source: Source,
        options: ImportOptions,
        progress: ProgressCallback | None,
        *,
        dry: bool,
    ) -> ImportReport:
        actor.require_write()
        import_id = options.import_id or uuid.uuid4().hex
        tell = _Reporter(self._events, actor, import_id, progress)
        await tell("reading", 0, 0)
        # Reading and parsing are pure CPU work (~0.5 s for 5,000 XLSX rows): in a thread, so a
        # web server importing a file keeps answering other requests meanwhile.
        table = await asyncio.to_thread(
            functools.partial(
                read_table,
                source,
                filename=options.filename,
                sheet=options.sheet,
                max_bytes=self._max_bytes,
                max_rows=self._max_rows,
            )
        )
        rows, report = await self._parse(actor, table, options, import_id, dry)
        total = len(rows)
        candidates = self._check_rows(rows, report)
        if dry or options.all_or_nothing:
            created = await self._create(actor, candidates, report, tell, "validating", True, True)
            report.valid_rows = len(created)
            if dry:
                return report
            if report.errors:
                report.notices.append(
                    f"Nothing was imported: {len(report.error_rows)} rows have errors and the "
                    "import was all-or-nothing. Fix them and import the file again."
                )
                await tell("done", total, total)
                return report
        # A validated file's warnings are already reported: the writing pass would repeat them.
        warn = dry or not options.all_or_nothing
        created = await self._create(actor, candidates, report, tell, "importing", False, warn)
        report.valid_rows = len(created)
        report.created = [post.id for post in created if post.id is not None]
        await tell("done", total, total)
        return report

    async def _parse(
        self, actor: Actor, table: Table, options: ImportOptions, import_id: str, dry: bool
    ) -> tuple[list[ParsedRow], ImportReport]:
        seed = is_seed_layout(table.headers)
        layout = seed_layout(table.headers) if seed else our_layout(table.headers)
        accounts = await Account.find({"owner_id": actor.owner_id}).to_list()
        directory = AccountDirectory(accounts, options.account)
        if directory.default is None and (seed or "account" not in layout.found):
            choices = ", ".join(f"@{a.username}" for a in accounts) or "none connected yet"
            raise file_error(
                "The file has no account column; choose the account to import into "
                f"(accounts: {choices})."
            )
        report = ImportReport(
            import_id=import_id,
            dry_run=dry,
            kind=table.kind,
            layout="seed" if seed else "threads-scheduler",
            sheet=table.sheet,
            total_rows=len(table.rows),
        )
        if layout.unknown:
            report.notices.append(
                "These columns are not part of the format and were ignored: "
                + ", ".join(repr(h) for h in layout.unknown)
                + "."
            )
        parse = parse_seed_row if seed else parse_row
        parsed = await asyncio.to_thread(
            lambda: [parse(raw, layout, directory) for raw in table.rows]
        )
        return parsed, report

    def _check_rows(self, rows: Sequence[ParsedRow], report: ImportReport) -> list[ParsedRow]:
        """Rows fit to hand to PostService; problems, skips and in-file repeats reported."""
        candidates: list[ParsedRow] = []
        first: dict[tuple[str, str], ParsedRow] = {}
        for row in rows:
            issue = _issuer(row)
            report.warnings.extend(issue(column, note) for column, note in row.notes)
            if row.skipped:
                report.skipped.append(issue("status", row.skipped))
                continue
            if row.problems or row.data is None:
                report.errors.extend(issue(column, problem) for column, problem in row.problems)
                continue
            assert row.data.content is not None
            key = (str(row.data.account_id), content_hash(row.data.content))
            earlier = first.setdefault(key, row)
            if earlier is not row and self._duplicates.policy is not DuplicatePolicy.OFF:
                found = Duplicate(post_id=None, earlier_item=earlier.number)
                label = _row_label
                row.repeats = earlier.number
                if self._duplicates.policy is DuplicatePolicy.BLOCK:
                    message = self._duplicates.blocked_message(found, label)
                    report.errors.append(issue(row.column_for("text"), message))
                    continue
                message = self._duplicates.warning_message(found, label)
                report.warnings.append(issue(row.column_for("text"), message))
            candidates.append(row)
        return candidates

    async def _create(
        self,
        actor: Actor,
        rows: Sequence[ParsedRow],
        report: ImportReport,
        tell: _Reporter,
        phase: str,
        validate_only: bool,
        warn: bool,
    ) -> list[Post]:
        created: list[Post] = []
        await tell(phase, 0, len(rows))
        try:
            for start in range(0, len(rows), self._batch):
                batch = rows[start : start + self._batch]
                results = await self._posts.create_many(
                    actor,
                    [row.data for row in batch if row.data is not None],
                    validate_only=validate_only,
                    strict_duplicates=True,
                    label=_batch_labels(batch),
                )
                for row, result in zip(batch, results, strict=True):
                    self._record(row, result, report, created, warn)
                await tell(phase, start + len(batch), len(rows))
        except BaseException:
            if not validate_only:
                await _undo(created, report)
            raise
        return created

    def _record(
        self,
        row: ParsedRow,
        result: Post | ValidationFailed,
        report: ImportReport,
        out: list[Post],
        warn: bool,
    ) -> None:
        issue = _issuer(row)
        if isinstance(result, ValidationFailed):
            for path, messages in result.field_errors.items():
                column = row.column_for(path)
                report.errors.extend(issue(column, message) for message in messages)
            return
        out.append(result)
        # A repeat inside the file was reported with its row already.
        if warn and result.duplicate_of is not None and row.repeats is None:
            found = Duplicate(post_id=result.duplicate_of)
            message = self._duplicates.warning_message(found)
            report.warnings.append(issue(row.column_for("text"), message))


class _Reporter:
    """Sends progress to the callback and, once per batch, as an `import.progress` event."""

    def __init__(
        self, events: EventBus, actor: Actor, import_id: str, callback: ProgressCallback | None
    ) -> None:
        self._events = events
        self._owner = actor.owner_id
        self._id = import_id
        self._callback = callback

    async def __call__(self, phase: str, done: int, total: int) -> None:
        if self._callback is not None:
            self._callback(ImportProgress(self._id, phase, done, total))
        await self._events.publish(
            "import.progress", self._owner, import_id=self._id, phase=phase, done=done, total=total
        )


def _issuer(row: ParsedRow) -> Callable[[str, str], RowIssue]:
    def issue(column: str, message: str) -> RowIssue:
        return RowIssue(row=row.number, column=column, message=message, ref=row.ref)

    return issue


def _row_label(number: int) -> str:
    return f"row {number} of this file"


def _batch_labels(batch: Sequence[ParsedRow]) -> Callable[[int], str]:
    """Names an item of a batch by its row (create_many counts items from 0)."""
    return lambda index: _row_label(batch[index].number)


async def _undo(created: list[Post], report: ImportReport) -> None:
    """Delete what an interrupted import wrote, so a failed import leaves nothing half-done."""
    ids: list[Any] = [post.id for post in created]
    if ids:
        await Post.get_pymongo_collection().delete_many({"_id": {"$in": ids}})
    report.created.clear()
    created.clear()
