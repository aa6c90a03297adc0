"""Export to CSV and the downloadable template: both import again as they are."""

from __future__ import annotations

import csv
import io

from scheduler.accounts.actors import Actor
from scheduler.bulk import ImportOptions
from scheduler.platform.documents import Post
from scheduler.posts.content import MediaItem, PostContent, PostType, ReplySpec
from scheduler.posts.service import PostInput
from scheduler.services import Services
from tests.bulk.conftest import AddAccount

WEEKLY = {
    "pattern": "WEEKLY",
    "timezone": "Europe/Berlin",
    "start_date": "2030-01-08",
    "times": ["09:30"],
    "days_of_week": [1, 4],
}


async def test_an_export_imports_again_as_the_same_posts(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    ana = await add_account("ana", timezone="Europe/Berlin")
    originals = [
        PostInput(
            account_id=str(ana.id),
            content=PostContent(text="+1 for the new menu, @all"),
            replies=[ReplySpec(text="first"), ReplySpec(text="second")],
            schedule=WEEKLY,
        ),
        PostInput(
            account_id=str(ana.id),
            content=PostContent(
                type=PostType.CAROUSEL,
                text="Album, with a comma",
                media=[
                    MediaItem(url="https://e.com/1.jpg"),
                    MediaItem(url="https://e.com/2.mp4", kind="VIDEO"),
                ],
            ),
        ),
    ]
    for data in originals:
        await services.posts.create(actor, data)

    exported = await services.bulk.export_csv(actor)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["text"] for r in rows] == ["'+1 for the new menu, @all", "Album, with a comma"]
    assert rows[0]["recurrence"] == "FREQ=WEEKLY;BYDAY=TU,FR" and rows[0]["reply_2"] == "second"

    await Post.get_pymongo_collection().delete_many({})
    report = await services.bulk.import_posts(actor, exported.encode())

    assert report.ok and not report.notices, (report.errors, report.notices)
    again = {p.content.text: p for p in await Post.find_all().to_list()}
    weekly = again["+1 for the new menu, @all"]
    assert weekly.schedule is not None and weekly.schedule.days_of_week == [1, 4]
    assert weekly.schedule.timezone == "Europe/Berlin"
    assert [r.text for r in weekly.replies] == ["first", "second"]
    album = again["Album, with a comma"].content
    assert [(m.url, m.kind.value) for m in album.media] == [
        ("https://e.com/1.jpg", "IMAGE"),
        ("https://e.com/2.mp4", "VIDEO"),
    ]


async def test_the_templates_import_as_they_are(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    await add_account("your_username")
    csv_template = services.bulk.template_csv()
    assert csv_template.startswith(b"\xef\xbb\xbf")  # a BOM, for Excel
    report = await services.bulk.dry_run(actor, csv_template)
    assert report.ok and report.valid_rows == 3, report.errors

    xlsx_template = services.bulk.template_xlsx()
    report = await services.bulk.dry_run(actor, xlsx_template, ImportOptions(filename="t.xlsx"))
    assert report.ok and report.valid_rows == 3 and report.sheet == "Posts", report.errors
