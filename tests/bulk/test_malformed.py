"""Malformed files: each gets one clear error on `file`, and the database stays as it was."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from scheduler.accounts.actors import Actor
from scheduler.bulk import ImportOptions
from scheduler.platform.documents import Post
from scheduler.platform.errors import ValidationFailed
from scheduler.services import Services
from tests.bulk.conftest import AddAccount, csv_bytes, database_state, xlsx_bytes


@pytest.fixture
async def existing(services: Services, actor: Actor, add_account: AddAccount) -> None:
    """One account and a post already imported, so "unchanged" is not trivially "empty"."""
    await add_account("ana")
    data = csv_bytes([{"text": "Already here", "date": "2030-02-01", "time": "10:00"}])
    assert len((await services.bulk.import_posts(actor, data)).created) == 1


async def refused(services: Services, actor: Actor, source: bytes | Path, **options: str) -> str:
    """Import `source`, expect the whole file refused, check nothing changed; the message."""
    before = await database_state()
    with pytest.raises(ValidationFailed) as caught:
        await services.bulk.import_posts(actor, source, ImportOptions(**options))  # type: ignore[arg-type]
    assert await database_state() == before
    assert list(caught.value.field_errors) == ["file"]
    (message,) = caught.value.field_errors["file"]
    return message


pytestmark = pytest.mark.usefixtures("existing")


async def test_wrong_encoding(services: Services, actor: Actor) -> None:
    data = "text\nCafé crème à 9 €\n".encode("cp1252")
    message = await refused(services, actor, data)
    assert "not UTF-8" in message and "line 2" in message and "CSV UTF-8" in message


async def test_utf16_with_bom_is_read(services: Services, actor: Actor) -> None:
    data = "text\tdate\ttime\nTiếng Việt 🧵\t2030-02-02\t10:00\n".encode("utf-16")
    report = await services.bulk.dry_run(actor, data)
    assert report.ok and report.valid_rows == 1


async def test_missing_columns(services: Services, actor: Actor) -> None:
    message = await refused(services, actor, csv_bytes([{"body_text": "Hi", "when": "now"}]))
    assert "no text column" in message and "'body_text'" in message and "template" in message


async def test_missing_seed_columns_are_named(services: Services, actor: Actor) -> None:
    data = xlsx_bytes({"Danh Sách Bài Post": [["Nội dung bài post", "ID"], ["Xin chào", "1"]]})
    message = await refused(services, actor, data)
    assert "'loại bài viết'" in message


async def test_formulas_without_results(services: Services, actor: Actor) -> None:
    rows = [["text", "topic_tag"], ["Hi", "=UPPER(A2)"], ["Ho", "=A3"]]
    message = await refused(services, actor, xlsx_bytes({"Posts": rows}))
    assert "formulas" in message and "B2, B3" in message and "paste the values" in message


async def test_formulas_with_stored_results_are_read(services: Services, actor: Actor) -> None:
    book = xlsx_bytes({"Posts": [["text", "date", "time"], ["=A1", "2030-02-03", "10:00"]]})
    # Excel stores each formula's last result beside it; openpyxl does not, so add one.
    computed = _with_cached_value(book, "Computed by Excel")
    report = await services.bulk.import_posts(actor, computed)
    assert report.ok and len(report.created) == 1
    post = await Post.get(report.created[0])
    assert post is not None and post.content.text == "Computed by Excel"


async def test_excel_error_values_are_row_errors(services: Services, actor: Actor) -> None:
    book = xlsx_bytes({"Posts": [["text"], ["=1/0"], ["Fine"]]})
    report = await services.bulk.dry_run(actor, _with_cached_value(book, "#DIV/0!", error=True))
    assert [(e.row, e.column) for e in report.errors] == [(2, "text")]
    assert "#DIV/0!" in report.errors[0].message and report.valid_rows == 1


async def test_a_50_mb_file_is_refused_by_its_size_before_reading(
    services: Services, actor: Actor, tmp_path: Path
) -> None:
    big = tmp_path / "huge.csv"
    with big.open("wb") as out:
        out.truncate(50_000_000)  # sparse: refused on its size, never read
    message = await refused(services, actor, big)
    assert "50.0 MB" in message and "10.0 MB" in message and "Split" in message


async def test_an_xlsx_that_is_not_a_zip(services: Services, actor: Actor) -> None:
    message = await refused(services, actor, b"text\nHello\n", filename="posts.xlsx")
    assert "posts.xlsx is not a valid XLSX workbook" in message


async def test_a_damaged_xlsx(services: Services, actor: Actor) -> None:
    book = xlsx_bytes({"Posts": [["text"], ["Hi"]]})
    message = await refused(services, actor, book[: len(book) // 2])
    assert "damaged" in message


async def test_a_zip_that_is_no_workbook(services: Services, actor: Actor) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert "not an Excel workbook" in await refused(services, actor, out.getvalue())


async def test_an_old_xls_file(services: Services, actor: Actor) -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    assert ".xls" in await refused(services, actor, data)


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
async def test_an_empty_file(services: Services, actor: Actor, data: bytes) -> None:
    message = await refused(services, actor, data)
    assert "empty" in message or "no header row" in message


async def test_a_header_without_rows_imports_nothing(services: Services, actor: Actor) -> None:
    report = await services.bulk.import_posts(actor, b"text,date,time\n")
    assert report.total_rows == 0 and report.created == []


async def test_an_unclosed_quote(services: Services, actor: Actor) -> None:
    message = await refused(services, actor, b'text\n"Hello\nworld\n')
    assert "quote" in message


async def test_several_sheets_need_a_choice(services: Services, actor: Actor) -> None:
    data = xlsx_bytes({"Jan": [["text"], ["a"]], "Feb": [["text"], ["b"]]})
    message = await refused(services, actor, data)
    assert "'Jan', 'Feb'" in message
    report = await services.bulk.dry_run(actor, data, ImportOptions(sheet="feb"))
    assert report.sheet == "Feb" and report.valid_rows == 1
    assert "no sheet named 'Mar'" in await refused(services, actor, data, sheet="Mar")


async def test_too_many_rows(services: Services, actor: Actor) -> None:
    rows = [{"text": f"Row {i}"} for i in range(10_001)]
    message = await refused(services, actor, csv_bytes(rows))
    assert "10001 rows" in message and "10000" in message


async def test_duplicate_columns(services: Services, actor: Actor) -> None:
    message = await refused(services, actor, b"text,content\nHi,Ho\n")
    assert "'text' and 'content' both give text" in message


async def test_an_unknown_default_account(services: Services, actor: Actor) -> None:
    message = await refused(services, actor, b"text\nHi\n", account="@nobody")
    assert "no connected account '@nobody'" in message and "@ana" in message


def _with_cached_value(book: bytes, value: str, *, error: bool = False) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(book))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                kind = b"e" if error else b"str"
                data = data.replace(b"><f>", b' t="' + kind + b'"><f>', 1)
                data = data.replace(b"<v />", b"<v>" + value.encode() + b"</v>", 1)
            target.writestr(info, data)
    return out.getvalue()
