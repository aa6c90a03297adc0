"""Bulk over HTTP: importing a CSV (dry run, real, all-or-nothing), the file's errors by row and
column, bad base64, duplicate warnings, export and the import template."""

from __future__ import annotations

import base64
from typing import Any

from sandbox.simulator.server import SimulatorServer
from scheduler.platform.documents import Account, Post
from scheduler.services import Services
from tests.graphql_api.conftest import Api, Caller, connect, make_post, snapshot

IMPORT = """mutation($input: ImportPostsInput!) { importPosts(input: $input) {
    __typename ... on Error { message } ... on ValidationErrors { errors { field messages } }
    ... on ImportReport { importId dryRun kind layout totalRows validRows errorRows createdIds
        errors { row column message ref } warnings { row column message }
        skipped { row column message } notices ok summary } } }"""
POST = """query($id: ID!) { post(id: $id) { __typename ... on Post {
    status nextRunAt content { text } duplicateWarning duplicateOf { id content { text } } } } }"""

GOOD_AND_BAD = (
    "account,text,date,time,timezone,id\n"
    "@ana,Imported and scheduled,2030-01-08,09:30,UTC,r1\n"
    "@ana,Imported as a draft,,,,r2\n"
    "@ana,A date nobody writes,07/01/2030,09:30,UTC,r3\n"
)


def b64(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return base64.b64encode(data).decode()


def upload(csv: str | bytes, **options: Any) -> dict[str, Any]:
    return {"input": {"content": b64(csv), "filename": "posts.csv", **options}}


async def test_dry_run_writes_nothing_and_reports_by_row_and_column(
    api: Api, account: Account, services: Services
):
    await api("{ me { role } }")  # the token's first use is recorded; do that before
    before = await snapshot(services)
    report = (await api(IMPORT, upload(GOOD_AND_BAD, dryRun=True)))["importPosts"]
    assert report["__typename"] == "ImportReport"
    assert (report["dryRun"], report["kind"], report["layout"]) == (
        True,
        "csv",
        "threads-scheduler",
    )
    assert (report["totalRows"], report["validRows"], report["errorRows"]) == (3, 2, [4])
    assert report["createdIds"] == [] and report["ok"] is False
    [error] = report["errors"]
    assert (error["row"], error["column"], error["ref"]) == (4, "date", "r3")
    assert "YYYY-MM-DD" in error["message"]
    assert report["summary"] == "3 rows read, 2 posts would be created, 1 rows with errors."
    assert await snapshot(services) == before


async def test_import_creates_exactly_the_valid_rows(
    api: Api, account: Account, owner: Caller, services: Services
):
    report = (await api(IMPORT, upload(GOOD_AND_BAD)))["importPosts"]
    assert report["dryRun"] is False and report["errorRows"] == [4]
    assert len(report["createdIds"]) == 2
    posts = [(await api(POST, {"id": i}))["post"] for i in report["createdIds"]]
    assert [(p["content"]["text"], p["status"]) for p in posts] == [
        ("Imported and scheduled", "SCHEDULED"),
        ("Imported as a draft", "DRAFT"),
    ]
    assert posts[0]["nextRunAt"] == "2030-01-08T09:30:00+00:00"
    assert await Post.find({"owner_id": owner.actor.owner_id}).count() == 2


async def test_all_or_nothing_imports_nothing_when_a_row_is_bad(
    api: Api, account: Account, owner: Caller
):
    report = (await api(IMPORT, upload(GOOD_AND_BAD, allOrNothing=True)))["importPosts"]
    assert report["createdIds"] == [] and report["errorRows"] == [4]
    assert any("Nothing was imported" in notice for notice in report["notices"])
    assert await Post.find({"owner_id": owner.actor.owner_id}).count() == 0


async def test_bad_base64_and_unreadable_files_are_validation_errors(
    api: Api, account: Account, services: Services
):
    await api("{ me { role } }")
    before = await snapshot(services)
    bad = {"input": {"content": "this is not base64!", "filename": "posts.csv"}}
    result = (await api(IMPORT, bad))["importPosts"]
    assert result["__typename"] == "ValidationErrors"
    assert [e["field"] for e in result["errors"]] == ["content"]
    assert "not base64" in result["errors"][0]["messages"][0]

    no_text = (await api(IMPORT, upload("account,date\n@ana,2030-01-08\n")))["importPosts"]
    assert no_text["__typename"] == "ValidationErrors"
    assert no_text["errors"][0]["field"] == "file"
    assert "no text column" in no_text["errors"][0]["messages"][0]

    not_a_workbook = {"input": {"content": b64("just text"), "filename": "posts.xlsx"}}
    refused = (await api(IMPORT, not_a_workbook))["importPosts"]
    assert "posts.xlsx is not a valid XLSX workbook" in refused["errors"][0]["messages"][0]
    assert await snapshot(services) == before


async def test_base64_with_line_breaks_is_accepted(api: Api, account: Account):
    wrapped = base64.encodebytes(GOOD_AND_BAD.encode()).decode()  # MIME: lines of 76
    assert "\n" in wrapped.strip()
    variables = {"input": {"content": wrapped, "filename": "posts.csv", "dryRun": True}}
    report = (await api(IMPORT, variables))["importPosts"]
    assert report["totalRows"] == 3


async def test_a_viewer_may_not_import_even_a_dry_run(api: Api, account: Account, viewer: Caller):
    result = (await api(IMPORT, upload(GOOD_AND_BAD, dryRun=True), token=viewer.token))[
        "importPosts"
    ]
    assert result["__typename"] == "PermissionDenied"
    assert "viewer" in result["message"]


async def test_rows_of_another_owners_account_are_refused_by_row(
    api: Api,
    account: Account,
    stranger: Caller,
    services: Services,
    simulator: SimulatorServer,
):
    theirs = await connect(services, simulator, stranger, "zed")
    csv = f"account,text\n{theirs.id},Into someone else's account\n@zed,By name\n"
    report = (await api(IMPORT, upload(csv)))["importPosts"]
    assert report["createdIds"] == [] and report["errorRows"] == [2, 3]
    assert {e["column"] for e in report["errors"]} == {"account"}
    default = upload("text\nno account column\n", accountId=str(theirs.id))
    refused = (await api(IMPORT, default))["importPosts"]
    assert refused["__typename"] == "ValidationErrors" and refused["errors"][0]["field"] == "file"
    assert await Post.find({"account_id": theirs.id}).count() == 0


async def test_a_reimport_and_a_repeated_post_carry_a_duplicate_warning(
    api: Api, account: Account, owner: Caller, services: Services
):
    csv = "account,text,date,time,timezone\n@ana,Spring menu is here,2030-01-08,09:30,UTC\n"
    first = (await api(IMPORT, upload(csv)))["importPosts"]
    again = (await api(IMPORT, upload(csv)))["importPosts"]
    [warning] = again["warnings"]
    assert (warning["row"], warning["column"]) == (2, "text")
    assert "already in post" in warning["message"]
    [original_id], [repeat_id] = first["createdIds"], again["createdIds"]

    repeat = (await api(POST, {"id": repeat_id}))["post"]
    assert repeat["duplicateOf"] == {"id": original_id, "content": {"text": "Spring menu is here"}}
    assert repeat["duplicateWarning"] == (
        f"The same text and media are already in post {original_id} (scheduled for "
        "2030-01-08 09:30 UTC) for this account; Threads may treat repeated posts as spam."
    )
    original = (await api(POST, {"id": original_id}))["post"]
    assert original["duplicateOf"] is None and original["duplicateWarning"] is None

    draft = await make_post(services, owner, account, "spring MENU   is here")
    marked = (await api(POST, {"id": str(draft.id)}))["post"]
    assert marked["duplicateOf"]["id"] == original_id
    await services.posts.delete(owner.actor, original_id)  # what it repeated is gone
    cleared = (await api(POST, {"id": str(draft.id)}))["post"]
    assert cleared["duplicateOf"] is None and cleared["duplicateWarning"] is None


async def test_export_is_csv_in_the_import_format(
    api: Api, account: Account, owner: Caller, services: Services, stranger: Caller
):
    await make_post(services, owner, account, "Exported draft")
    scheduled = {"pattern": "ONCE", "start_date": "2030-01-09", "times": ["12:00"]}
    await make_post(services, owner, account, "=1+1 exported", schedule=scheduled)
    query = "query($filter: PostFilterInput) { exportPosts(filter: $filter) }"
    csv = (await api(query))["exportPosts"]
    header, *rows = csv.strip().splitlines()
    assert header.startswith("id,account,status,type,text")
    assert len(rows) == 2 and "Exported draft" in rows[0]
    assert "'=1+1 exported" in rows[1]  # a formula cell is defused
    only = (await api(query, {"filter": {"status": ["SCHEDULED"]}}))["exportPosts"]
    assert len(only.strip().splitlines()) == 2 and "SCHEDULED" in only
    empty = (await api(query, token=stranger.token))["exportPosts"]
    assert empty.strip().splitlines()[1:] == []
    # The export imports again as it is (as drafts and scheduled posts).
    report = (await api(IMPORT, upload(csv, dryRun=True)))["importPosts"]
    assert report["validRows"] == 2 and report["errors"] == []


async def test_import_template_as_csv_and_xlsx(api: Api, viewer: Caller):
    query = """query($format: ImportTemplateFormat!) {
        importTemplate(format: $format) { filename contentType content } }"""
    csv = (await api(query, {"format": "CSV"}, token=viewer.token))["importTemplate"]
    assert csv["filename"] == "threads-scheduler-import-template.csv"
    assert csv["contentType"] == "text/csv; charset=utf-8"
    text = base64.b64decode(csv["content"]).decode("utf-8-sig")
    assert text.startswith("account,type,text,media_urls,date,time")
    assert "2030-01-08" in text  # dated tomorrow, by the (manual) clock

    xlsx = (await api(query, {"format": "XLSX"}))["importTemplate"]
    assert xlsx["filename"].endswith(".xlsx")
    assert xlsx["contentType"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert base64.b64decode(xlsx["content"]).startswith(b"PK\x03\x04")


async def test_the_template_imports_as_it_is(api: Api, account: Account):
    """The loop a user goes through: download the template, fill it in, import it."""
    template = (await api("{ importTemplate { content } }"))["importTemplate"]["content"]
    filled = base64.b64decode(template).decode("utf-8-sig").replace("@your_username", "@ana")
    report = (await api(IMPORT, upload(filled, dryRun=True)))["importPosts"]
    assert report["errors"] == [] and report["validRows"] == report["totalRows"] == 3
