"""PostService.create_many: the bulk path the import uses (validation per item, one insert)."""

from __future__ import annotations

from datetime import date, time

from beanie import PydanticObjectId
from beanie.odm.utils.dump import get_dict

from scheduler.accounts.actors import Actor
from scheduler.platform.documents import Post, PostStatus, bson_document
from scheduler.platform.errors import ValidationFailed
from scheduler.posts.content import MediaItem, PostContent, PostType, ReplySpec, ThreadsOptions
from scheduler.posts.recurrence import Schedule
from scheduler.posts.service import PostInput
from scheduler.services import Services
from tests.bulk.conftest import AddAccount
from tests.factories import make_post

LATER = {"pattern": "ONCE", "timezone": "UTC", "start_date": "2030-01-09", "times": ["10:00"]}


async def test_bson_document_stores_what_beanie_stores(services: Services) -> None:
    post = make_post(
        id=PydanticObjectId(),
        content=PostContent(
            type=PostType.CAROUSEL,
            text="Hi",
            media=[MediaItem(url="https://e.com/1.jpg"), MediaItem(url="https://e.com/2.jpg")],
            options=ThreadsOptions(topic_tag="food"),
        ),
        replies=[ReplySpec(text="one", delay_seconds=5)],
        schedule=Schedule(
            pattern="DATE_RANGE",
            timezone="Europe/Berlin",
            start_date=date(2030, 1, 1),
            end_date=date(2030, 2, 1),
            times=[time(9), time(17, 30)],
        ),
        duplicate_of=PydanticObjectId(),
        status=PostStatus.SCHEDULED,
    )
    assert bson_document(post) == get_dict(post, to_db=True, keep_nulls=True)


async def test_valid_items_are_created_and_bad_ones_returned(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    ana = await add_account("ana")
    inputs = [
        PostInput(account_id=str(ana.id), content=PostContent(text="Good"), schedule=LATER),
        PostInput(account_id=str(ana.id), content=PostContent(text="")),
        PostInput(account_id="nope", content=PostContent(text="No account")),
        PostInput(account_id=str(ana.id), content=PostContent(text="Draft")),
    ]
    dry = await services.posts.create_many(actor, inputs, validate_only=True)
    assert [type(r).__name__ for r in dry] == [
        "Post",
        "ValidationFailed",
        "ValidationFailed",
        "Post",
    ]
    assert await Post.count() == 0

    results = await services.posts.create_many(actor, inputs)

    bad = [r for r in results if isinstance(r, ValidationFailed)]
    assert list(bad[0].field_errors) == ["text"] and list(bad[1].field_errors) == ["account_id"]
    stored = {p.content.text: p for p in await Post.find_all().to_list()}
    assert set(stored) == {"Good", "Draft"}
    assert stored["Good"].status is PostStatus.SCHEDULED and stored["Good"].check_at is not None
    assert stored["Good"].content_hash is not None
    state = await services.scheduler.state()
    assert state.next_execution_at == stored["Good"].check_at  # the scheduler was told
