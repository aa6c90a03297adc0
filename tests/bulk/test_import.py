"""Import of our own CSV/XLSX format: dry run, exact row/column errors, all-or-nothing, progress."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from scheduler.accounts.actors import Actor
from scheduler.bulk import ImportOptions, ImportProgress
from scheduler.platform.clock import ManualClock
from scheduler.platform.documents import Post, PostStatus
from scheduler.platform.events import Event
from scheduler.platform.settings import Settings
from scheduler.posts.content import MediaKind, PostType
from scheduler.services import Services, build_services
from tests.bulk.conftest import AddAccount, csv_bytes, database_state, xlsx_bytes

COLUMNS = [
    "account", "type", "text", "media_urls", "date", "time", "timezone", "recurrence",
    "reply_1", "topic_tag", "status",
]  # fmt: skip

# (what is wrong, the cells that make it wrong, the column the error must name)
BAD: list[tuple[str, dict[str, str], str]] = [
    ("unknown account", {"account": "@nobody"}, "account"),
    ("unknown type", {"type": "POSTCARD"}, "type"),
    ("text too long", {"text": "x" * 501}, "text"),
    ("date not ISO", {"date": "07/01/2030"}, "date"),
    ("time out of range", {"time": "25:99"}, "time"),
    ("unknown zone", {"timezone": "Mars/Olympus"}, "timezone"),
    ("date in the past", {"date": "2029-12-31"}, "date"),
    ("image without media", {"type": "IMAGE"}, "media_urls"),
    ("empty text", {"text": "   "}, "text"),
    ("bad recurrence", {"recurrence": "FREQ=SOMETIMES"}, "recurrence"),
    ("date without time", {"time": ""}, "time"),
    ("media not http", {"type": "IMAGE", "media_urls": "ftp://example.com/a.jpg"}, "media_urls"),
    ("topic with ampersand", {"topic_tag": "Food & Drink"}, "topic_tag"),
    ("reply too long", {"reply_1": "y" * 501}, "reply_1"),
    ("unknown status", {"status": "MAYBE"}, "status"),
    ("carousel of one", {"type": "CAROUSEL", "media_urls": "https://e.com/1.jpg"}, "media_urls"),
    ("text media on TEXT", {"type": "TEXT", "media_urls": "https://e.com/1.jpg"}, "media_urls"),
    ("recurrence without date", {"date": "", "time": "", "recurrence": "WEEKLY"}, "recurrence"),
    ("scheduled without date", {"date": "", "time": "", "status": "SCHEDULED"}, "date"),
    ("time with am/pm over 12", {"time": "13:00 pm"}, "time"),
]


def good_row(i: int) -> dict[str, str]:
    """A valid row; every fourth is a draft, every fifth an image, every seventh recurs."""
    row = {
        "account": "@ana" if i % 2 else "bo",
        "text": f"Post number {i} of the big import",
        "date": "2030-01-08",
        "time": f"{8 + i % 12:02d}:{i % 60:02d}",
        "timezone": "Europe/Berlin" if i % 3 else "",
    }
    if i % 4 == 0:
        row |= {"date": "", "time": ""}
    if i % 5 == 0:
        row |= {"type": "IMAGE", "media_urls": f"example.com/photos/{i}.jpg"}
    if i % 7 == 0 and row["date"]:
        row |= {"recurrence": "FREQ=WEEKLY;BYDAY=MO,TH", "reply_1": f"More about {i}"}
    return row


def big_file() -> tuple[bytes, dict[int, tuple[str, str]]]:
    """1,000 rows, 20 of them bad: returns the file and {row number: (reason, column)}."""
    rows, expected = [], {}
    for i in range(1000):
        row = good_row(i)
        if i % 50 == 25:
            reason, cells, column = BAD[len(expected)]
            row = {"account": "ana", "text": f"Bad {i}", "date": "2030-01-08", "time": "10:00"}
            row |= cells
            expected[i + 2] = (reason, column)  # the header is row 1
        rows.append(row)
    return csv_bytes(rows, COLUMNS), expected


@pytest.fixture
async def two_accounts(add_account: AddAccount) -> None:
    await add_account("ana", timezone="Europe/Berlin")
    await add_account("bo", timezone="America/New_York")


@pytest.mark.usefixtures("two_accounts")
async def test_a_thousand_rows_report_exactly_the_twenty_bad_ones_and_import_the_rest(
    services: Services, actor: Actor
) -> None:
    data, expected = big_file()

    dry = await services.bulk.dry_run(actor, data)

    assert dry.total_rows == 1000
    assert dry.error_rows == sorted(expected)
    for issue in dry.errors:
        reason, column = expected[issue.row]
        assert issue.column == column, f"{reason}: {issue}"
        assert issue.message.endswith(".") and len(issue.message) > 20
    assert dry.valid_rows == 980
    assert (await database_state())[0] == 0  # a dry run writes nothing

    report = await services.bulk.import_posts(actor, data)

    assert report.error_rows == sorted(expected)
    assert len(report.created) == 980
    stored = await Post.find({"owner_id": actor.owner_id}).to_list()
    assert len(stored) == 980
    assert {str(p.id) for p in stored} == {str(i) for i in report.created}
    texts = {p.content.text for p in stored}
    assert "Post number 0 of the big import" in texts
    assert "Post number 25 of the big import" not in texts  # row 27 was bad


@pytest.mark.usefixtures("two_accounts")
async def test_rows_become_the_posts_they_describe(services: Services, actor: Actor) -> None:
    rows = [good_row(i) for i in (1, 4, 5, 7)]
    report = await services.bulk.import_posts(actor, csv_bytes(rows, COLUMNS))
    assert report.ok, report.errors
    posts = {p.content.text.split()[2]: p for p in await Post.find_all().to_list()}

    one = posts["1"]
    assert one.status is PostStatus.SCHEDULED
    assert one.schedule is not None and one.schedule.timezone == "Europe/Berlin"
    assert (
        one.next_run_at is not None and one.next_run_at.isoformat() == "2030-01-08T08:01:00+00:00"
    )
    assert posts["4"].status is PostStatus.DRAFT  # no date: a draft
    image = posts["5"].content
    assert image.type is PostType.IMAGE
    assert [m.url for m in image.media] == ["https://example.com/photos/5.jpg"]
    assert image.media[0].kind is MediaKind.IMAGE
    weekly = posts["7"]
    assert weekly.schedule is not None and weekly.schedule.pattern.value == "WEEKLY"
    assert weekly.schedule.days_of_week == [0, 3]
    assert [r.text for r in weekly.replies] == ["More about 7"]


@pytest.mark.usefixtures("two_accounts")
async def test_a_reimport_is_caught_as_duplicates(services: Services, actor: Actor) -> None:
    rows = [good_row(i) for i in range(1, 41)]
    first = await services.bulk.import_posts(actor, csv_bytes(rows, COLUMNS))
    assert first.ok and len(first.created) == 40 and not first.warnings

    again = await services.bulk.dry_run(actor, csv_bytes(rows, COLUMNS))

    # Policy warn (the default): every row is flagged, with the post it repeats.
    assert again.ok
    assert sorted(w.row for w in again.warnings) == list(range(2, 42))
    assert all("already in post" in w.message and w.column == "text" for w in again.warnings)


async def test_with_policy_block_a_reimport_creates_nothing(
    make_settings: Callable[..., Settings], clock: ManualClock, actor: Actor
) -> None:
    async with build_services(make_settings(duplicate_policy="block"), clock=clock) as services:
        from tests.factories import make_account

        await make_account(owner_id=actor.owner_id, username="ana").insert()
        rows = [{"text": f"Only once {i}", "date": "2030-02-01", "time": "10:00"} for i in range(5)]
        rows.append({"text": "Only once 0", "date": "2030-02-02", "time": "10:00"})  # in-file
        data = csv_bytes(rows)
        first = await services.bulk.import_posts(actor, data)
        assert len(first.created) == 5
        assert [(e.row, e.column) for e in first.errors] == [(7, "text")]
        assert "row 2 of this file" in first.errors[0].message

        again = await services.bulk.import_posts(actor, data)

        assert again.created == []
        assert again.error_rows == [2, 3, 4, 5, 6, 7]
        assert "DUPLICATE_POLICY=block" in again.errors[0].message
        assert await Post.count() == 5


@pytest.mark.usefixtures("two_accounts")
async def test_all_or_nothing_writes_nothing_when_one_row_is_bad(
    services: Services, actor: Actor
) -> None:
    rows = [good_row(i) for i in range(1, 11)]
    rows[6]["type"] = "POSTCARD"

    report = await services.bulk.import_posts(
        actor, csv_bytes(rows, COLUMNS), ImportOptions(all_or_nothing=True)
    )

    assert report.error_rows == [8]
    assert report.created == []
    assert "Nothing was imported" in report.notices[0]
    assert (await database_state())[0] == 0

    rows[6]["type"] = "TEXT"
    fixed = await services.bulk.import_posts(
        actor, csv_bytes(rows, COLUMNS), ImportOptions(all_or_nothing=True)
    )
    assert fixed.ok and len(fixed.created) == 10


@pytest.mark.usefixtures("two_accounts")
async def test_progress_is_reported_to_the_callback_and_as_events(
    services: Services, actor: Actor
) -> None:
    rows = [good_row(i) for i in range(1, 601)]
    seen: list[ImportProgress] = []

    def mine(event: Event) -> bool:
        return event.type == "import.progress"

    async with services.events.subscribe(accept=mine) as events:
        report = await services.bulk.import_posts(
            actor, csv_bytes(rows, COLUMNS), ImportOptions(import_id="imp-1"), seen.append
        )
        received: list[Event] = []
        while len(received) < len(seen):
            received.append(await asyncio.wait_for(anext(events), timeout=5))

    assert len(report.created) == 600
    importing = [(p.done, p.total) for p in seen if p.phase == "importing"]
    assert importing == [(0, 600), (250, 600), (500, 600), (600, 600)]
    assert seen[-1].phase == "done"
    assert all(e.data["import_id"] == "imp-1" for e in received)
    assert all(e.owner_id == str(actor.owner_id) for e in received)


async def test_a_single_account_is_the_default_and_headers_are_forgiving(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    await add_account("ana")
    data = xlsx_bytes(
        {"Posts": [[" Text ", "Media URLs", "Time-Zone"], ["Hello from Excel", "", "UTC"]]}
    )
    report = await services.bulk.import_posts(actor, data, ImportOptions(filename="posts.xlsx"))
    assert report.ok and report.kind == "xlsx" and report.sheet == "Posts"
    (post,) = await Post.find_all().to_list()
    assert post.content.text == "Hello from Excel" and post.status is PostStatus.DRAFT


async def test_unknown_columns_are_named_in_a_notice(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    await add_account("ana")
    report = await services.bulk.dry_run(actor, csv_bytes([{"text": "Hi", "colour": "red"}]))
    assert report.ok
    assert report.notices == [
        "These columns are not part of the format and were ignored: 'colour'."
    ]


async def test_a_viewer_cannot_import(services: Services, actor: Actor) -> None:
    from scheduler.platform.documents import Role
    from scheduler.platform.errors import PermissionDenied

    viewer = Actor(owner_id=actor.owner_id, role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        await services.bulk.dry_run(viewer, csv_bytes([{"text": "Hi"}]))
