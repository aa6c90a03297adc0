"""Imports: upload a CSV or XLSX of posts, check it (a dry run listing problems by row and
column), import it (all or nothing, by choice) while a progress bar moves; the template; the
CSV export of the posts list.

Routes: `GET /import` (page), `POST /import/check` (dry run), `POST /import` (import),
`GET /import/template.csv` and `GET /import/template.xlsx`, `GET /posts/export.csv` (with the
posts list's filters).

Progress: the form carries an `import_id` drawn when the page is shown. The core publishes
`import.progress` events with it, and `web.live` sends them to the owner's browsers as
`import-{import_id}` SSE events carrying the rendered bar (`imports/_progress.html`), which the
page swaps in with `sse-swap`. Nothing is kept between a check and an import: the form still
holds the file and sends it again.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from scheduler.accounts.actors import Actor
from scheduler.bulk import ImportOptions, ImportReport
from scheduler.bulk.columns import COLUMNS, MAX_REPLIES
from scheduler.platform.errors import ValidationFailed
from scheduler.services import Services
from web.forms import FormValues, expect_form, form_values, optional, text
from web.htmx import is_htmx, render_fragment, render_page
from web.posts import post_filter
from web.sessions import current_actor
from web.state import get_services

PAGE = "imports/index.html"
PANEL = "imports/_panel.html"
REPORT = "imports/_report.html"
IMPORT_ID = re.compile(r"[0-9a-f]{32}")
ISSUES_SHOWN = 300  # a report lists this many problems; the summary counts them all
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def import_id(values: FormValues) -> str:
    """The form's import id (a fresh one when missing or not ours: it names an SSE event)."""
    raw = text(values, "import_id")
    return raw if IMPORT_ID.fullmatch(raw) else uuid.uuid4().hex


async def page_context(services: Services, actor: Actor) -> dict[str, Any]:
    return {
        "accounts": await services.accounts.all(actor),
        "columns": [c for c in COLUMNS if not c.name.startswith("reply_") or c.name == "reply_1"],
        "max_replies": MAX_REPLIES,
        "max_megabytes": services.bulk.max_bytes / 1_000_000,
        "values": {"import_id": uuid.uuid4().hex},
        "errors": {},
        "report": None,
        "issues_shown": ISSUES_SHOWN,
    }


def attachment(body: bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def import_page(request: Request) -> Response:
        actor = await current_actor(request)
        context = await page_context(get_services(request), actor)
        return render_page(templates, request, PAGE, context)

    async def run(request: Request, dry: bool) -> Response:
        """Check or import the uploaded file; the report replaces the last one."""
        actor = await current_actor(request)
        actor.require_write()
        services = get_services(request)
        context = await page_context(services, actor)
        async with request.form() as form:
            upload = form.get("file")
            values = form_values(form)
            values["import_id"] = import_id(values)
            expect_form(request, PAGE, values, context, fragment=PANEL, target="#import-panel")
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise ValidationFailed.single("file", "Choose a CSV or XLSX file to import.")
            data, filename = await upload.read(), upload.filename
        options = ImportOptions(
            account=optional(values, "account"),
            all_or_nothing=values.get("all_or_nothing") == "on",
            sheet=optional(values, "sheet"),
            filename=filename,
            import_id=values["import_id"],
        )
        bulk = services.bulk
        method = bulk.dry_run if dry else bulk.import_posts
        report: ImportReport = await method(actor, data, options)
        context |= {"values": values, "report": report, "filename": filename}
        if is_htmx(request):
            return render_fragment(templates, request, REPORT, context)
        return render_page(templates, request, PAGE, context)

    async def check(request: Request) -> Response:
        return await run(request, dry=True)

    async def import_file(request: Request) -> Response:
        return await run(request, dry=False)

    async def template_csv(request: Request) -> Response:
        await current_actor(request)
        body = get_services(request).bulk.template_csv()
        return attachment(body, "text/csv; charset=utf-8", "threads-scheduler-import.csv")

    async def template_xlsx(request: Request) -> Response:
        await current_actor(request)
        body = get_services(request).bulk.template_xlsx()
        return attachment(body, XLSX_TYPE, "threads-scheduler-import.xlsx")

    async def export(request: Request) -> Response:
        actor = await current_actor(request)
        services = get_services(request)
        filters, _ = post_filter(request.query_params)
        body = await services.bulk.export_csv(actor, filters)
        day = services.clock.now().date().isoformat()
        # With a BOM, spreadsheet programs read the file as UTF-8 (the importer accepts it).
        return attachment(body.encode("utf-8-sig"), "text/csv; charset=utf-8", f"posts-{day}.csv")

    return [
        Route("/import", import_page, methods=["GET"], name="import"),
        Route("/import/check", check, methods=["POST"], name="import_check"),
        Route("/import", import_file, methods=["POST"], name="import_run"),
        Route("/import/template.csv", template_csv, name="import_template_csv"),
        Route("/import/template.xlsx", template_xlsx, name="import_template_xlsx"),
        Route("/posts/export.csv", export, name="posts_export"),
    ]
