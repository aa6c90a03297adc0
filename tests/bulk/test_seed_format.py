"""The seed's Excel layout imports unchanged: Vietnamese headers, aliases, `gộp link`, statuses."""

from __future__ import annotations

import pytest

from scheduler.accounts.actors import Actor
from scheduler.bulk import ImportOptions
from scheduler.platform.documents import Post, PostStatus
from scheduler.posts.content import MediaKind, PostType
from scheduler.services import Services
from tests.bulk.conftest import AddAccount, xlsx_bytes

# As the seed's users typed them: odd case and spacing (matched after trimming, lower-casing and
# collapsing white space).
HEADERS = [
    "ID", "  Nội Dung  Bài Post ", "LOẠI BÀI VIẾT", "Chủ đề", "Trạng thái", "Skip AI",
    "Comment", "Link Video", "Link ảnh 1", "Link ảnh 2", "Link ảnh 3", "Gộp link",
]  # fmt: skip
ROWS = [
    # id, text, type, topic, status, skip ai, comment, video, image 1, 2, 3, merged links
    ["p1", "Chào buổi sáng!", "status", "", "NHÁP", "", "", "", "", "", "", ""],
    ["p2", "Một tấm ảnh", "Single Photo", "Ẩm thực", "", "1", "Bình luận đầu tiên", "", "",
     "cdn.example.com/a.jpg", "", ""],
    ["p3", "Album", "multiple photos", "", "ĐANG CHỜ", "true", "", "", "https://e.com/1.jpg",
     "", "", "e.com/2.jpg; https://e.com/3.jpg |e.com/1.jpg\nwww.e.com/4.png"],
    ["p4", "Xem video", "REELS", "", "", "", "", "videos.example.com/clip", "", "", "", ""],
    ["p5", "Đã đăng rồi", "TEXT", "", "ĐÃ ĐĂNG", "", "", "", "", "", "", ""],
    ["p6", "Lỗi trước đó", "text", "", "LỖI", "0", "", "", "", "", "", ""],
    ["p7", "Không có link", "PHOTO", "", "", "", "", "", "", "", "", ""],
    ["p8", "Loại lạ", "GIF", "", "", "", "", "", "", "", "", ""],
    ["p9", "Skip lạ", "TEXT", "", "", "maybe", "", "", "", "", "", ""],
]  # fmt: skip


@pytest.fixture
def seed_sheet() -> bytes:
    return xlsx_bytes({"Danh Sách Bài Post": [HEADERS, *ROWS], "Ghi chú": [["notes"]]})


async def test_the_seed_sheet_imports(
    services: Services, actor: Actor, add_account: AddAccount, seed_sheet: bytes
) -> None:
    account = await add_account("ana")
    await add_account("bo")

    report = await services.bulk.import_posts(
        actor, seed_sheet, ImportOptions(account="@ana", filename="seed.xlsx")
    )

    assert report.layout == "seed" and report.sheet == "Danh Sách Bài Post"
    errors = {(e.row, e.ref, e.column) for e in report.errors}
    assert errors == {
        (8, "p7", "LOẠI BÀI VIẾT"),  # a PHOTO needs a link
        (9, "p8", "LOẠI BÀI VIẾT"),  # GIF is not a type
        (10, "p9", "Skip AI"),  # not a boolean
    }
    assert [(s.row, s.ref) for s in report.skipped] == [(6, "p5")]  # already published
    assert [w.row for w in report.warnings] == [4]  # scheduled in the seed: imported as draft
    posts = {p.content.text: p for p in await Post.find_all().to_list()}
    assert len(posts) == len(report.created) == 5
    assert all(p.status is PostStatus.DRAFT and p.account_id == account.id for p in posts.values())

    assert posts["Chào buổi sáng!"].content.type is PostType.TEXT
    photo = posts["Một tấm ảnh"]
    assert photo.content.type is PostType.IMAGE
    assert [m.url for m in photo.content.media] == ["https://cdn.example.com/a.jpg"]
    assert photo.content.options.topic_tag == "Ẩm thực"
    assert [r.text for r in photo.replies] == ["Bình luận đầu tiên"]
    album = posts["Album"].content
    assert album.type is PostType.CAROUSEL
    assert [m.url for m in album.media] == [
        "https://e.com/1.jpg",
        "https://e.com/2.jpg",
        "https://e.com/3.jpg",
        "https://www.e.com/4.png",
    ]  # split on ; | and new lines, scheme added, the repeated 1.jpg dropped
    video = posts["Xem video"].content
    assert video.type is PostType.VIDEO
    assert [(m.url, m.kind) for m in video.media] == [
        ("https://videos.example.com/clip", MediaKind.VIDEO)
    ]
    assert posts["Lỗi trước đó"].status is PostStatus.DRAFT  # FAILED in the seed


async def test_the_seed_sheet_needs_an_account_when_there_are_several(
    services: Services, actor: Actor, add_account: AddAccount, seed_sheet: bytes
) -> None:
    from scheduler.platform.errors import ValidationFailed

    await add_account("ana")
    await add_account("bo")
    with pytest.raises(ValidationFailed) as caught:
        await services.bulk.dry_run(actor, seed_sheet)
    assert "choose the account" in caught.value.field_errors["file"][0]


async def test_a_reimported_seed_sheet_is_caught(
    services: Services, actor: Actor, add_account: AddAccount, seed_sheet: bytes
) -> None:
    await add_account("ana")
    await services.bulk.import_posts(actor, seed_sheet)

    again = await services.bulk.dry_run(actor, seed_sheet)

    repeats = sorted(w.row for w in again.warnings if "already in post" in w.message)
    assert repeats == [2, 3, 4, 5, 7]


async def test_a_seed_row_error_names_the_image_column(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    await add_account("ana")
    rows = [HEADERS, ["x1", "Ảnh hỏng", "PHOTO", "", "", "", "", "", "ftp://bad/a.jpg", "", "", ""]]
    report = await services.bulk.dry_run(actor, xlsx_bytes({"Danh Sách Bài Post": rows}))
    assert [(e.row, e.column) for e in report.errors] == [(2, "Link ảnh 1")]
