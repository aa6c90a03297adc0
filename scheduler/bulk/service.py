"""BulkService: import, export and the import template, behind one object of `Services`.

Interfaces call one method per action: the GraphQL API and the dashboard pass the uploaded bytes
(and the actor), the CLI passes a path.
"""

from __future__ import annotations

from scheduler.accounts.actors import Actor
from scheduler.bulk.export import export_csv
from scheduler.bulk.importer import (
    Importer,
    ImportOptions,
    ImportReport,
    ProgressCallback,
)
from scheduler.bulk.readers import Source
from scheduler.bulk.template import template_csv, template_xlsx
from scheduler.platform.clock import Clock
from scheduler.platform.documents import Account, Post
from scheduler.platform.events import EventBus
from scheduler.posts.duplicates import DuplicateGuard
from scheduler.posts.service import MAX_PAGE, PostFilter, PostService


class BulkService:
    """Bulk work on posts: CSV/XLSX import (with a dry run), CSV export, the template."""

    def __init__(
        self,
        *,
        clock: Clock,
        posts: PostService,
        duplicates: DuplicateGuard,
        events: EventBus,
        max_bytes: int,
        max_rows: int,
    ) -> None:
        self._clock = clock
        self._posts = posts
        self.max_bytes = max_bytes
        self._importer = Importer(
            posts=posts,
            duplicates=duplicates,
            events=events,
            max_bytes=max_bytes,
            max_rows=max_rows,
        )

    async def dry_run(
        self,
        actor: Actor,
        source: Source,
        options: ImportOptions | None = None,
        progress: ProgressCallback | None = None,
    ) -> ImportReport:
        """Check a file row by row and report what an import would do; writes nothing.

        Args:
            actor: the importing user (an owner).
            source: the uploaded bytes, or a path.
            options: default account, all-or-nothing, sheet, the file's name.
            progress: called as the rows are checked (the import also publishes
                `import.progress` events).

        Raises:
            ValidationFailed: on `file`, when the file cannot be imported at all.
        """
        return await self._importer.dry_run(actor, source, options, progress)

    async def import_posts(
        self,
        actor: Actor,
        source: Source,
        options: ImportOptions | None = None,
        progress: ProgressCallback | None = None,
    ) -> ImportReport:
        """Import a file: create exactly the valid rows (or nothing, all-or-nothing, if any fails).

        Raises:
            ValidationFailed: on `file`, when the file cannot be imported; nothing is written.
        """
        return await self._importer.run(actor, source, options, progress)

    async def export_csv(self, actor: Actor, filters: PostFilter | None = None) -> str:
        """The actor's posts (optionally filtered) as CSV in the import format, oldest first."""
        posts: list[Post] = []
        offset = 0
        while True:
            page = await self._posts.find(actor, filters, offset=offset, limit=MAX_PAGE)
            posts.extend(page.posts)
            if not page.has_more:
                break
            offset += MAX_PAGE
        accounts = await Account.find({"owner_id": actor.owner_id}).to_list()
        by_id = {account.id: account for account in accounts if account.id is not None}
        return export_csv(reversed(posts), by_id)

    def template_csv(self) -> bytes:
        """The import template as CSV (UTF-8 with BOM), example rows dated tomorrow."""
        return template_csv(self._clock.now().date())

    def template_xlsx(self) -> bytes:
        """The import template as an XLSX workbook with a sheet explaining the columns."""
        return template_xlsx(self._clock.now().date())
