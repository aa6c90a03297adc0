"""PostService: validation before every write, owner scoping, and safe status changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from beanie import PydanticObjectId

from scheduler.accounts.actors import Actor
from scheduler.platform.documents import Account, Occurrence, Post, PostStatus, Role
from scheduler.platform.errors import (
    ConflictError,
    NotFoundError,
    PermissionDenied,
    StaleUpdate,
    ValidationFailed,
)
from scheduler.posts.content import PostContent, ReplySpec
from scheduler.posts.lifecycle import transition
from scheduler.posts.service import PostFilter, PostInput
from scheduler.services import Services
from tests.factories import make_account

T0_ISO = "2030-01-07"


def at(hhmm: str, day: str = T0_ISO, tz: str = "UTC") -> dict[str, Any]:
    return {"pattern": "ONCE", "timezone": tz, "start_date": day, "times": [hhmm]}


@pytest.fixture
def owner() -> Actor:
    return Actor(owner_id=PydanticObjectId(), user_id=PydanticObjectId())


@pytest.fixture
async def account(services: Services, owner: Actor) -> Account:
    return await make_account(owner_id=owner.owner_id).insert()


def draft(account: Account, text: str = "Hello", **kw: Any) -> PostInput:
    return PostInput(account_id=str(account.id), content=PostContent(text=text), **kw)


async def test_create_a_draft(services: Services, owner: Actor, account: Account) -> None:
    post = await services.posts.create(owner, draft(account))
    assert post.status is PostStatus.DRAFT
    assert post.next_run_at is None and post.check_at is None
    assert (await services.scheduler.state()).next_execution_at is None


async def test_create_scheduled_arms_the_check(
    services: Services, owner: Actor, account: Account
) -> None:
    post = await services.posts.create(owner, draft(account, schedule=at("12:00")))
    assert post.status is PostStatus.SCHEDULED
    assert (
        post.next_run_at is not None and post.next_run_at.isoformat() == "2030-01-07T12:00:00+00:00"
    )
    assert post.check_at == post.next_run_at - timedelta(seconds=10)
    assert (await services.scheduler.state()).next_execution_at == post.check_at


async def test_schedules_follow_the_time_zone(
    services: Services, owner: Actor, account: Account
) -> None:
    post = await services.posts.create(
        owner, draft(account, schedule=at("09:00", tz="America/New_York"))
    )
    assert post.next_run_at is not None
    assert post.next_run_at.isoformat() == "2030-01-07T14:00:00+00:00"


async def test_every_problem_is_reported_with_its_field_and_nothing_is_written(
    services: Services, owner: Actor, account: Account
) -> None:
    with pytest.raises(ValidationFailed) as info:
        await services.posts.create(
            owner,
            PostInput(
                account_id=str(PydanticObjectId()),
                content=PostContent(text="x" * 501),
                replies=[ReplySpec(text="")],
                schedule=at("08:00"),  # T0 is 09:00: in the past
            ),
        )
    errors = info.value.field_errors
    assert "account_id" in errors
    assert "text" in errors and "501" in errors["text"][0]
    assert "replies.0.text" in errors
    assert any(key.startswith("schedule") for key in errors)
    assert await Post.find_all().count() == 0


async def test_an_invalid_rule_names_its_field(
    services: Services, owner: Actor, account: Account
) -> None:
    rule = {
        "pattern": "WEEKLY",
        "timezone": "Mars/Olympus",
        "start_date": T0_ISO,
        "times": ["09:00"],
    }
    with pytest.raises(ValidationFailed) as info:
        await services.posts.create(owner, draft(account, schedule=rule))
    assert "schedule.timezone" in info.value.field_errors
    assert "schedule.days_of_week" in info.value.field_errors


async def test_another_owners_account_is_unknown(services: Services, account: Account) -> None:
    stranger = Actor(owner_id=PydanticObjectId())
    with pytest.raises(ValidationFailed) as info:
        await services.posts.create(stranger, draft(account))
    assert "account_id" in info.value.field_errors


async def test_another_owners_post_behaves_exactly_like_a_missing_one(
    services: Services, owner: Actor, account: Account
) -> None:
    post = await services.posts.create(owner, draft(account))
    stranger = Actor(owner_id=PydanticObjectId())
    for call in (
        services.posts.get(stranger, post.id),
        services.posts.cancel(stranger, post.id),
        services.posts.delete(stranger, post.id),
        services.posts.update(stranger, post.id, PostInput(content=PostContent(text="mine"))),
    ):
        with pytest.raises(NotFoundError) as info:
            await call
        assert (
            info.value.message
            == f"Post {post.id} was not found; check the id (it may have been deleted)."
        )
    with pytest.raises(NotFoundError):
        await services.posts.get(owner, "not-an-id")
    assert (await services.posts.find(stranger)).total == 0


async def test_a_viewer_cannot_change_anything(
    services: Services, owner: Actor, account: Account
) -> None:
    post = await services.posts.create(owner, draft(account))
    viewer = Actor(owner_id=owner.owner_id, user_id=PydanticObjectId(), role=Role.VIEWER)
    assert (await services.posts.get(viewer, post.id)).id == post.id
    for call in (
        services.posts.create(viewer, draft(account)),
        services.posts.cancel(viewer, post.id),
        services.posts.schedule(viewer, post.id, at("12:00")),
        services.posts.delete(viewer, post.id),
    ):
        with pytest.raises(PermissionDenied):
            await call
    assert (await services.posts.get(owner, post.id)).status is PostStatus.DRAFT


async def test_edit_bumps_the_version_and_a_stale_edit_loses(
    services: Services, owner: Actor, account: Account
) -> None:
    post = await services.posts.create(owner, draft(account))
    edited = await services.posts.update(
        owner, post.id, PostInput(content=PostContent(text="v2")), version=post.version
    )
    assert edited.content.text == "v2" and edited.version == post.version + 1
    with pytest.raises(StaleUpdate):
        await services.posts.update(
            owner, post.id, PostInput(content=PostContent(text="v3")), version=post.version
        )
    assert (await services.posts.get(owner, post.id)).content.text == "v2"


async def test_schedule_then_reschedule_moves_the_check(
    services: Services, owner: Actor, account: Account
) -> None:
    post = await services.posts.create(owner, draft(account))
    scheduled = await services.posts.schedule(owner, post.id, at("15:00"))
    assert scheduled.status is PostStatus.SCHEDULED
    moved = await services.posts.schedule(owner, post.id, at("11:00"))
    assert moved.next_run_at is not None and moved.next_run_at.hour == 11
    assert (await services.scheduler.state()).next_execution_at == moved.check_at


async def test_cancel_a_scheduled_post(services: Services, owner: Actor, account: Account) -> None:
    post = await services.posts.create(owner, draft(account, schedule=at("12:00")))
    cancelled = await services.posts.cancel(owner, post.id)
    assert cancelled.status is PostStatus.CANCELLED and cancelled.check_at is None
    assert (await services.scheduler.state()).next_execution_at is None


async def test_a_post_being_sent_cannot_be_cancelled_edited_or_deleted(
    services: Services, owner: Actor, account: Account
) -> None:
    post = await services.posts.create(owner, draft(account, schedule=at("12:00")))
    claimed = await transition(
        post.id,
        source=PostStatus.SCHEDULED,
        target=PostStatus.PUBLISHING,
        now=services.clock.now(),
        changes={"lease": "job", "sending_for": post.next_run_at},
    )
    assert claimed is not None
    for call in (
        services.posts.cancel(owner, post.id),
        services.posts.update(owner, post.id, PostInput(content=PostContent(text="late"))),
        services.posts.delete(owner, post.id),
    ):
        with pytest.raises(ConflictError, match="being published right now"):
            await call
    assert (await services.posts.get(owner, post.id)).content.text == "Hello"


async def test_a_claimed_post_not_yet_sent_can_still_be_cancelled(
    services: Services, owner: Actor, account: Account
) -> None:
    post = await services.posts.create(owner, draft(account, schedule=at("12:00")))
    await transition(
        post.id,
        source=PostStatus.SCHEDULED,
        target=PostStatus.PUBLISHING,
        now=services.clock.now(),
        changes={"lease": "job"},
    )
    cancelled = await services.posts.cancel(owner, post.id)
    assert cancelled.status is PostStatus.CANCELLED and cancelled.lease is None


async def test_published_posts_are_final(
    services: Services, owner: Actor, account: Account
) -> None:
    post = await services.posts.create(owner, draft(account))
    await Post.find_one({"_id": post.id}).update({"$set": {"status": "PUBLISHED"}})
    with pytest.raises(ConflictError, match="already published; duplicate it"):
        await services.posts.update(owner, post.id, PostInput(content=PostContent(text="x")))
    with pytest.raises(ConflictError):
        await services.posts.schedule(owner, post.id, at("12:00"))
    copy = await services.posts.duplicate(owner, post.id)
    assert copy.status is PostStatus.DRAFT and copy.content == post.content and copy.id != post.id


async def test_retry_only_failed_posts_and_resume_their_occurrence(
    services: Services, owner: Actor, account: Account
) -> None:
    post = await services.posts.create(owner, draft(account, schedule=at("12:00")))
    with pytest.raises(ConflictError, match="only failed posts"):
        await services.posts.retry(owner, post.id)
    await Post.find_one({"_id": post.id}).update(
        {"$set": {"status": "FAILED", "last_error": "boom", "check_at": None}}
    )
    retried = await services.posts.retry(owner, post.id)
    assert retried.status is PostStatus.SCHEDULED
    assert retried.next_run_at == post.next_run_at  # the same occurrence resumes
    assert retried.check_at == services.clock.now() and retried.last_error is None


async def test_publish_now(services: Services, owner: Actor, account: Account) -> None:
    post = await services.posts.create(owner, draft(account))
    now_post = await services.posts.publish_now(owner, post.id)
    assert now_post.status is PostStatus.SCHEDULED
    assert now_post.next_run_at == services.clock.now() == now_post.check_at


async def test_delete_removes_the_post_and_its_history(
    services: Services, owner: Actor, account: Account
) -> None:
    post = await services.posts.create(owner, draft(account, schedule=at("12:00")))
    await Occurrence(
        post_id=post.id,  # type: ignore[arg-type]
        owner_id=owner.owner_id,
        account_id=account.id,  # type: ignore[arg-type]
        scheduled_for=post.next_run_at,  # type: ignore[arg-type]
        post_version=1,
        claimed_at=services.clock.now(),
        updated_at=services.clock.now(),
    ).insert()
    await services.posts.delete(owner, post.id)
    assert await Post.find_all().count() == 0
    assert await Occurrence.find_all().count() == 0
    assert (await services.scheduler.state()).next_execution_at is None


async def test_find_filters_pages_and_counts(
    services: Services, owner: Actor, account: Account
) -> None:
    other = await make_account(owner_id=owner.owner_id, threads_user_id="2", username="bo").insert()
    for i in range(7):
        await services.posts.create(owner, draft(account, text=f"alpha {i}"))
    for hour in ("10:00", "11:00", "12:00"):
        await services.posts.create(owner, draft(other, text=f"beta {hour}", schedule=at(hour)))
    page = await services.posts.find(owner, limit=4)
    assert page.total == 10 and len(page.posts) == 4 and page.has_more
    last = await services.posts.find(owner, offset=8, limit=4)
    assert len(last.posts) == 2 and not last.has_more
    assert (await services.posts.find(owner, PostFilter(text="ALPHA"))).total == 7
    assert (await services.posts.find(owner, PostFilter(text="a 3"))).total == 1
    assert (await services.posts.find(owner, PostFilter(account_id=str(other.id)))).total == 3
    scheduled = await services.posts.find(owner, PostFilter(status=[PostStatus.SCHEDULED]))
    assert scheduled.total == 3
    window = PostFilter(
        due_from=services.clock.now() + timedelta(hours=1, minutes=30),
        due_until=services.clock.now() + timedelta(hours=2, minutes=30),
    )
    assert [p.content.text for p in (await services.posts.find(owner, window)).posts] == [
        "beta 11:00"
    ]
    with pytest.raises(ValidationFailed):
        await services.posts.find(owner, limit=1000)


async def test_counts_by_status_and_occurrences_in_a_range(
    services: Services, owner: Actor, account: Account
) -> None:
    first = await services.posts.create(owner, draft(account, schedule=at("10:00")))
    await services.posts.create(owner, draft(account, schedule=at("11:00")))
    await services.posts.create(owner, draft(account))
    counts = await services.posts.counts(owner)
    assert counts[PostStatus.SCHEDULED] == 2 and counts[PostStatus.DRAFT] == 1
    assert counts[PostStatus.PUBLISHED] == 0 and set(counts) == set(PostStatus)
    assert (await services.posts.counts(Actor(owner_id=PydanticObjectId())))[
        PostStatus.SCHEDULED
    ] == 0
    now = services.clock.now()
    for hours, post in ((1, first), (30, first)):
        await Occurrence(
            post_id=post.id,  # type: ignore[arg-type]
            owner_id=owner.owner_id,
            account_id=account.id,  # type: ignore[arg-type]
            scheduled_for=now + timedelta(hours=hours),
            post_version=1,
            claimed_at=now,
            updated_at=now,
        ).insert()
    found = await services.posts.occurrences_between(owner, now, now + timedelta(days=1))
    assert [o.scheduled_for for o in found] == [now + timedelta(hours=1)]
    stranger = Actor(owner_id=PydanticObjectId())
    assert await services.posts.occurrences_between(stranger, now, now + timedelta(days=2)) == []
