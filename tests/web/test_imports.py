"""Import: a dry run lists problems by row and column and writes nothing; an import creates
exactly the valid rows (or nothing, all or nothing); a file that cannot be read at all is
refused next to the file field; progress reaches the browser as SSE; templates and the export."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from openpyxl import Workbook

from scheduler.platform.events import Event
from scheduler.services import Services
from tests.web.conftest import FULL, RecordingTransport, Tenant, csrf, log_in, once, soon, soup
from web.app import create_app
from web.live import PROGRESS, event_data, sse_names
from web.templating import create_templates

GOOD = [
    "@ana,First imported post,2030-01-08,09:30,Europe/Berlin",
    "@ana,Second imported post,2030-01-09,10:00,",
]
BAD = [
    "@ana,A date that does not exist,2030-13-40,10:00,",  # row 4
    "@nobody,An account that is not connected,2030-01-10,10:00,",  # row 5
]


def csv_file(*rows: str) -> bytes:
    return "\n".join(["account,text,date,time,timezone", *rows]).encode()


async def upload(
    owner: Tenant, path: str, data: bytes, name: str = "posts.csv", **fields: str
) -> httpx.Response:
    return await owner.client.post(
        path,
        data={"csrf_token": await csrf(owner.client), "import_id": "a" * 32, **fields},
        files={"file": (name, data, "text/csv")},
    )


async def test_a_check_lists_problems_by_row_and_column_and_writes_nothing(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    response = await upload(owner, "/import/check", csv_file(*GOOD, *BAD))

    assert response.status_code == 200, response.text
    assert response.template.name == ("imports/_report.html" if htmx else "imports/index.html")
    report = response.context["report"]
    assert report.dry_run and report.valid_rows == 2 and report.error_rows == [4, 5]
    assert {(issue.row, issue.column) for issue in report.errors} == {(4, "date"), (5, "account")}
    table = soup(response).find(id="report-errors")
    cells = {(tr["data-row"], tr["data-column"]) for tr in table.select("tbody tr")}
    assert cells == {("4", "date"), ("5", "account")}
    assert "@nobody" in table.find("tr", attrs={"data-row": "5"}).text
    assert "2 posts would be created" in soup(response).find(id="report-summary").text
    assert (await services.posts.find(owner.actor)).total == 0


async def test_an_import_creates_exactly_the_valid_rows(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    response = await upload(owner, "/import", csv_file(*GOOD, *BAD))

    report = response.context["report"]
    assert not report.dry_run and len(report.created) == 2
    posts = (await services.posts.find(owner.actor)).posts
    assert sorted(p.content.text for p in posts) == ["First imported post", "Second imported post"]
    assert all(p.status.value == "SCHEDULED" for p in posts)
    assert "2 posts created" in soup(response).find(id="report-summary").text


async def test_an_excel_workbook_imports_too(owner: Tenant, services: Services) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Posts"
    sheet.append(["account", "text", "date", "time"])
    sheet.append(["@ana", "From Excel", "2030-01-08", "09:30"])
    sheet.append(["@ana", "", "2030-01-08", "10:30"])  # row 3: no text
    data = io.BytesIO()
    book.save(data)
    response = await upload(owner, "/import", data.getvalue(), name="posts.xlsx")

    report = response.context["report"]
    assert (report.kind, report.sheet, len(report.created), report.error_rows) == (
        "xlsx",
        "Posts",
        1,
        [3],
    )
    [post] = (await services.posts.find(owner.actor)).posts
    assert post.content.text == "From Excel"


async def test_all_or_nothing_imports_nothing_when_a_row_is_bad(
    owner: Tenant, services: Services
) -> None:
    response = await upload(owner, "/import", csv_file(*GOOD, *BAD), all_or_nothing="on")

    assert "Nothing was imported" in soup(response).find(id="report").text
    assert (await services.posts.find(owner.actor)).total == 0
    response = await upload(owner, "/import", csv_file(*GOOD), all_or_nothing="on")
    assert len(response.context["report"].created) == 2


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("posts.xlsx", b"account,text\n@ana,hello\n", "is not a valid XLSX workbook"),
        ("posts.csv", "text\nolá".encode("latin-1"), "is not UTF-8 text"),
        ("posts.csv", b"", "The file is empty"),
        ("posts.csv", b"account,when\n@ana,tomorrow\n", "has no text column"),
    ],
)
async def test_a_file_that_cannot_be_read_is_refused_next_to_the_file_field(
    owner: Tenant, services: Services, htmx: bool, name: str, data: bytes, says: str
) -> None:
    response = await upload(owner, "/import", data, name=name, all_or_nothing="on")

    assert response.status_code == (200 if htmx else 422)
    assert response.template.name == ("imports/_panel.html" if htmx else "imports/index.html")
    if htmx:
        assert response.headers["HX-Retarget"] == "#import-panel"
    assert says in " ".join(response.context["errors"]["file"])
    field = soup(response).find("input", attrs={"name": "file"})
    assert field["aria-invalid"] == "true"
    assert says in soup(response).find(id=field["aria-describedby"]).text
    assert soup(response).find("input", attrs={"name": "all_or_nothing"}).has_attr("checked")
    assert response.context["report"] is None
    assert (await services.posts.find(owner.actor)).total == 0


async def test_a_form_without_a_file_asks_for_one(owner: Tenant, htmx: bool) -> None:
    response = await owner.client.post(
        "/import/check", data={"csrf_token": await csrf(owner.client)}
    )
    assert response.status_code == (200 if htmx else 422)
    assert response.context["errors"] == {"file": ["Choose a CSV or XLSX file to import."]}


async def test_an_upload_needs_the_csrf_token(owner: Tenant, services: Services) -> None:
    response = await owner.client.post(
        "/import", data={"import_id": "a" * 32}, files={"file": ("p.csv", csv_file(*GOOD))}
    )
    assert response.status_code == 403
    assert (await services.posts.find(owner.actor)).total == 0


@pytest.fixture
async def small_limit_client(make_tenant: Any, services: Services, make_settings: Any) -> Any:
    """A client of an app that accepts imports of up to 1,000 bytes."""
    owner: Tenant = await make_tenant()
    app = create_app(make_settings(import_max_bytes=1000), services=services)
    async with app.router.lifespan_context(app) as state:
        transport = RecordingTransport(app, state)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await log_in(client, owner.email)
            yield owner, client


async def test_a_file_too_large_is_refused_with_the_limit(
    small_limit_client: tuple[Tenant, httpx.AsyncClient], services: Services
) -> None:
    owner, client = small_limit_client
    token = await csrf(client)
    huge = csv_file(*(f"@ana,Post {i},2030-01-08,09:30," for i in range(20_000)))
    response = await client.post(
        "/import", data={"csrf_token": token}, files={"file": ("big.csv", huge)}
    )
    assert response.status_code == 413
    assert "files of up to 0.001 MB are accepted" in response.text
    assert (await services.posts.find(owner.actor)).total == 0


@pytest.fixture
async def events(services: Services) -> AsyncIterator[list[Event]]:
    seen: list[Event] = []
    async with services.events.subscribe(accept=lambda e: e.type == "import.progress") as found:

        async def collect() -> None:
            async for event in found:
                seen.append(event)

        task = asyncio.create_task(collect())
        yield seen
        task.cancel()


async def test_progress_reaches_the_page_as_a_rendered_bar(
    owner: Tenant, services: Services, events: list[Event]
) -> None:
    import asyncio

    page = await owner.client.get("/import", headers=FULL)
    area = soup(page).find(id="import-progress")
    import_id = page.context["values"]["import_id"]
    assert area["sse-swap"] == f"import-{import_id}"

    await owner.client.post(
        "/import",
        data={"csrf_token": await csrf(owner.client), "import_id": import_id},
        files={"file": ("posts.csv", csv_file(*GOOD))},
    )
    for _ in range(100):
        if events and events[-1].data["phase"] == "done":
            break
        await asyncio.sleep(0.05)
    assert {e.data["import_id"] for e in events} == {import_id}
    assert {e.owner_id for e in events} == {str(owner.actor.owner_id)}
    last = events[-1]
    assert sse_names(last) == [f"import-{import_id}"]
    html = event_data(last, create_templates().get_template(PROGRESS))
    bar = BeautifulSoup(html, "html.parser")
    assert bar.find("progress")["value"] == bar.find("progress")["max"] == "2"
    assert "Done: 2 of 2 rows" in bar.text


async def test_the_templates_download(owner: Tenant) -> None:
    response = await owner.client.get("/import/template.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[:3] == ["account", "type", "text"]
    response = await owner.client.get("/import/template.xlsx")
    assert response.content.startswith(b"PK")
    assert response.headers["content-disposition"].endswith('.xlsx"')


async def test_the_export_follows_the_lists_filters(owner: Tenant, services: Services) -> None:
    await owner.post(services, "Coffee at nine", schedule=once(soon(services, hours=2)))
    await owner.post(services, "Tea at five")
    link = soup(await owner.client.get("/posts?q=coffee", headers=FULL)).find(id="export-posts")
    assert link["href"].startswith("/posts/export.csv?") and "q=coffee" in link["href"]

    response = await owner.client.get(link["href"])
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["text"] for row in rows] == ["Coffee at nine"]
    assert rows[0]["account"] == "ana"
    everything = await owner.client.get("/posts/export.csv")
    assert everything.content.decode("utf-8-sig").count("\n") == 3  # the header and two posts
