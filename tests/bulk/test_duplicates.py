"""Duplicate detection: the normalised hash, the window, and warn/block in PostService."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from scheduler.accounts.actors import Actor
from scheduler.platform.clock import ManualClock
from scheduler.platform.documents import Account, Post, PostStatus
from scheduler.platform.errors import ValidationFailed
from scheduler.platform.settings import Settings
from scheduler.posts.content import MediaItem, PostContent, PostType
from scheduler.posts.duplicates import DuplicatePolicy, content_hash
from scheduler.posts.service import PostInput
from scheduler.services import Services, build_services
from tests.bulk.conftest import AddAccount
from tests.factories import make_post

LATER = {"pattern": "ONCE", "timezone": "UTC", "start_date": "2030-01-09", "times": ["10:00"]}


def test_the_hash_ignores_case_spacing_unicode_form_and_media_order() -> None:
    a = PostContent(
        type=PostType.CAROUSEL,
        text="Cà phê  sáng\nnay",
        media=[MediaItem(url="https://E.com/1.jpg"), MediaItem(url="https://e.com/2.jpg/")],
    )
    b = PostContent(
        type=PostType.CAROUSEL,
        text=" CÀ PHÊ SÁNG NAY ".replace("À", "A\u0300"),  # decomposed accent
        media=[MediaItem(url="https://e.com/2.jpg"), MediaItem(url="https://e.com/1.jpg")],
    )
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(a.model_copy(update={"text": "Cà phê chiều nay"}))
    assert content_hash(a) != content_hash(a.model_copy(update={"media": a.media[:1]}))
    # Paths and queries keep their case: they may name different files.
    c = PostContent(type=PostType.IMAGE, text="x", media=[MediaItem(url="https://e.com/A.jpg")])
    d = PostContent(type=PostType.IMAGE, text="x", media=[MediaItem(url="https://e.com/a.jpg")])
    assert content_hash(c) != content_hash(d)


async def _post(services: Services, actor: Actor, account: Account, text: str, **kw: Any) -> Post:
    data = PostInput(account_id=str(account.id), content=PostContent(text=text), **kw)
    return await services.posts.create(actor, data)


async def test_warn_marks_the_repeat_and_saves_it(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    ana, bo = await add_account("ana"), await add_account("bo")
    first = await _post(services, actor, ana, "Hello there", schedule=LATER)
    assert first.content_hash is not None and first.duplicate_of is None

    repeat = await _post(services, actor, ana, "hello   THERE", schedule=LATER)
    other_account = await _post(services, actor, bo, "Hello there", schedule=LATER)

    assert repeat.duplicate_of == first.id
    assert other_account.duplicate_of is None  # per account
    stored = await Post.get(repeat.id)
    assert stored is not None and stored.duplicate_of == first.id

    edited = await services.posts.update(
        actor, repeat.id, PostInput(content=PostContent(text="Something else"))
    )
    assert edited.duplicate_of is None and edited.content_hash != first.content_hash


async def test_block_refuses_to_schedule_a_repeat_but_keeps_drafts(
    make_settings: Callable[..., Settings], clock: ManualClock, actor: Actor
) -> None:
    async with build_services(make_settings(duplicate_policy="BLOCK"), clock=clock) as services:
        assert services.duplicates.policy is DuplicatePolicy.BLOCK
        from tests.factories import make_account

        ana = await make_account(owner_id=actor.owner_id).insert()
        first = await _post(services, actor, ana, "Only once", schedule=LATER)

        with pytest.raises(ValidationFailed) as caught:
            await _post(services, actor, ana, "ONLY once", schedule=LATER)
        (message,) = caught.value.field_errors["text"]
        assert f"post {first.id} (scheduled for 2030-01-09 10:00 UTC)" in message
        assert "24 hours" in message

        draft = await _post(services, actor, ana, "Only once")  # a draft is only marked
        assert draft.duplicate_of == first.id
        copy = await services.posts.duplicate(actor, first.id)  # "duplicate this post" works
        assert copy.status is PostStatus.DRAFT
        with pytest.raises(ValidationFailed):
            await services.posts.schedule(actor, draft.id, LATER)
        await services.posts.cancel(actor, first.id)
        scheduled = await services.posts.schedule(actor, draft.id, LATER)
        assert scheduled.status is PostStatus.SCHEDULED


async def test_the_window_looks_24_hours_back_and_the_whole_future(
    services: Services, actor: Actor, add_account: AddAccount, clock: ManualClock
) -> None:
    ana = await add_account("ana")
    now = clock.now()

    async def published(text: str, ago: timedelta) -> Post:
        post = make_post(
            owner_id=actor.owner_id,
            account_id=ana.id,
            content=PostContent(text=text),
            status=PostStatus.PUBLISHED,
            last_published_at=now - ago,
            updated_at=now - ago,
            content_hash=content_hash(PostContent(text=text)),
        )
        return await post.insert()

    recent = await published("Recent", timedelta(hours=23))
    await published("Old", timedelta(hours=25))
    far = await _post(
        services, actor, ana, "Far future", schedule={**LATER, "start_date": "2031-06-01"}
    )

    assert (await _post(services, actor, ana, "Recent")).duplicate_of == recent.id
    assert (await _post(services, actor, ana, "Old")).duplicate_of is None
    assert (await _post(services, actor, ana, "Far future")).duplicate_of == far.id


async def test_create_many_finds_repeats_inside_the_batch(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    ana = await add_account("ana")
    inputs = [
        PostInput(account_id=str(ana.id), content=PostContent(text=text))
        for text in ("One", "Two", "one", "Three")
    ]
    results = await services.posts.create_many(actor, inputs)
    assert all(isinstance(r, Post) for r in results)
    posts = [r for r in results if isinstance(r, Post)]
    assert posts[2].duplicate_of == posts[0].id
    assert [p.duplicate_of for p in (posts[0], posts[1], posts[3])] == [None, None, None]
    assert await Post.count() == 4
