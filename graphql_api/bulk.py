"""Bulk: import posts from a CSV or XLSX file, export them as CSV, and the import template.

/graphql takes JSON only (the web app refuses other content types there), so a file travels
base64-encoded in a variable; `graphql_api.limits` lets an `importPosts` body grow to what a file
of IMPORT_MAX_BYTES needs, and the core refuses a larger file on the field `file`.
"""

from __future__ import annotations

import base64
from enum import Enum
from typing import Annotated

import strawberry

from graphql_api.context import Info
from graphql_api.errors import PermissionDenied, ValidationErrors
from graphql_api.fields import authenticated_field, authenticated_mutation
from graphql_api.inputs import decode_base64
from graphql_api.posts import PostFilterInput
from scheduler import bulk

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_NAME = "threads-scheduler-import-template"


@strawberry.enum(description="A file format of the import template.")
class ImportTemplateFormat(Enum):
    CSV = "csv"
    XLSX = "xlsx"


@strawberry.type(description="A problem or warning in one row of an imported file.")
class RowIssue:
    row: int = strawberry.field(description="The row number as a spreadsheet shows it (header 1).")
    column: str = strawberry.field(description="The column header as written in the file.")
    message: str = strawberry.field(description="What is wrong, and what to change.")
    ref: str | None = strawberry.field(description="The row's own `id` column, when it has one.")

    @classmethod
    def from_issue(cls, issue: bulk.RowIssue) -> RowIssue:
        return cls(row=issue.row, column=issue.column, message=issue.message, ref=issue.ref)


@strawberry.type(description="What an import (or its dry run) found in the file, and did.")
class ImportReport:
    import_id: str = strawberry.field(description="Correlates the `import.progress` events.")
    dry_run: bool
    kind: str = strawberry.field(description="csv or xlsx (told apart by content, not name).")
    layout: str = strawberry.field(description="threads-scheduler (ours), or seed.")
    sheet: str | None
    total_rows: int
    valid_rows: int = strawberry.field(description="Rows that are (or would be) imported.")
    error_rows: list[int] = strawberry.field(description="Numbers of the rows with errors.")
    created_ids: list[strawberry.ID] = strawberry.field(
        description="The posts created (none for a dry run, or a refused all-or-nothing import)."
    )
    errors: list[RowIssue]
    warnings: list[RowIssue] = strawberry.field(description="Saved anyway, e.g. repeated posts.")
    skipped: list[RowIssue] = strawberry.field(description="Rows left out on purpose (status).")
    notices: list[str] = strawberry.field(description="About the whole file.")
    ok: bool = strawberry.field(description="True when no row has an error.")
    summary: str = strawberry.field(description="One line for people.")

    @classmethod
    def from_report(cls, report: bulk.ImportReport) -> ImportReport:
        return cls(
            import_id=report.import_id,
            dry_run=report.dry_run,
            kind=report.kind,
            layout=report.layout,
            sheet=report.sheet,
            total_rows=report.total_rows,
            valid_rows=report.valid_rows,
            error_rows=report.error_rows,
            created_ids=[strawberry.ID(str(post_id)) for post_id in report.created],
            errors=[RowIssue.from_issue(issue) for issue in report.errors],
            warnings=[RowIssue.from_issue(issue) for issue in report.warnings],
            skipped=[RowIssue.from_issue(issue) for issue in report.skipped],
            notices=list(report.notices),
            ok=report.ok,
            summary=report.summary(),
        )


@strawberry.type(description="The import template, to save as `filename`.")
class ImportTemplate:
    filename: str
    content_type: str
    content: str = strawberry.field(description="The file, base64-encoded.")


@strawberry.input(
    description=(
        "A CSV or XLSX file of posts (download importTemplate for the columns). A file that "
        "cannot be imported at all is reported on the field `file`, its rows by row and column."
    )
)
class ImportPostsInput:
    content: str = strawberry.field(description="The file's bytes, base64-encoded.")
    filename: str = strawberry.field(description="The file's name, e.g. posts.xlsx.")
    dry_run: bool = strawberry.field(
        default=False, description="Check every row and report; write nothing."
    )
    all_or_nothing: bool = strawberry.field(
        default=False, description="Import nothing unless every row is valid."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="The account of rows without one (or of a seed sheet)."
    )
    sheet: str | None = strawberry.field(
        default=None, description="The worksheet of an XLSX (default: Posts, or the only one)."
    )

    def options(self) -> bulk.ImportOptions:
        return bulk.ImportOptions(
            account=str(self.account_id) if self.account_id is not None else None,
            all_or_nothing=self.all_or_nothing,
            sheet=self.sheet,
            filename=self.filename,
        )


ImportPostsResult = Annotated[
    ImportReport | ValidationErrors | PermissionDenied, strawberry.union("ImportPostsResult")
]


@strawberry.type
class BulkQuery:
    @authenticated_field(
        description="Your posts (all, or those the filter picks) as CSV in the import format.",
    )
    async def export_posts(self, info: Info, filter: PostFilterInput | None = None) -> str:
        query = filter.to_filter() if filter else None
        return await info.context.services.bulk.export_csv(info.context.caller, query)

    @authenticated_field(description="The import template with example rows, as CSV or XLSX.")
    def import_template(
        self, info: Info, format: ImportTemplateFormat = ImportTemplateFormat.CSV
    ) -> ImportTemplate:
        service = info.context.services.bulk
        if format is ImportTemplateFormat.XLSX:
            data, content_type = service.template_xlsx(), XLSX_TYPE
        else:
            data, content_type = service.template_csv(), "text/csv; charset=utf-8"
        return ImportTemplate(
            filename=f"{TEMPLATE_NAME}.{format.value}",
            content_type=content_type,
            content=base64.b64encode(data).decode(),
        )


@strawberry.type
class BulkMutation:
    @authenticated_mutation(
        description="Import posts from a file: a dry run reports what would happen; otherwise "
        "the valid rows are created (or none, with allOrNothing, if a row has an error).",
    )
    async def import_posts(self, info: Info, input: ImportPostsInput) -> ImportPostsResult:
        data = decode_base64("content", input.content)
        service, actor = info.context.services.bulk, info.context.caller
        if input.dry_run:
            report = await service.dry_run(actor, data, input.options())
        else:
            report = await service.import_posts(actor, data, input.options())
        return ImportReport.from_report(report)
