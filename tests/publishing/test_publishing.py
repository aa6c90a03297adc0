"""End to end on one in-process worker: posts go out at their instant, once, in order."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from scheduler.platform.documents import AccountStatus, Occurrence, OccurrenceState, PostStatus
from scheduler.posts.content import PostContent, ReplySpec
from tests.publishing.conftest import Live, soon

pytestmark = pytest.mark.usefixtures("worker")


async def test_a_post_publishes_at_its_instant_never_before(live: Live) -> None:
    at = soon(3)
    post = await live.schedule("on time", at)
    done = await live.wait_status(post.id, PostStatus.PUBLISHED, timeout=20)
    published = await live.published()
    assert [p.text for p in published] == ["on time"]
    lateness = (published[0].received_at - at).total_seconds()
    assert 0 <= lateness < 1.0
    assert done.threads_media_ids == [published[0].media_id]
    occurrence = await Occurrence.find_one({"post_id": post.id})
    assert occurrence is not None and occurrence.state is OccurrenceState.PUBLISHED
    assert occurrence.confirmed_at is not None and occurrence.publish_sent_at == at


async def test_reply_chains_publish_in_order_each_after_its_delay(live: Live) -> None:
    at = soon(3)
    replies = [
        ReplySpec(text="first reply", delay_seconds=1),
        ReplySpec(text="second", delay_seconds=1),
    ]
    post = await live.schedule("thread start", at, replies=replies)
    await live.wait_status(post.id, PostStatus.PUBLISHED, timeout=25)
    published = await live.published()
    assert [p.text for p in published] == ["thread start", "first reply", "second"]
    assert published[1].reply_to_id == published[0].media_id
    assert published[2].reply_to_id == published[1].media_id
    times = [p.received_at for p in published]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert all(gap >= 1.0 for gap in gaps), gaps


async def test_a_recurring_post_publishes_and_reschedules_itself(live: Live) -> None:
    start = soon(3)
    rule = {
        "pattern": "RRULE",
        "timezone": "UTC",
        "rrule": "FREQ=DAILY;COUNT=3",
        "start_date": start.date().isoformat(),
        "times": [start.strftime("%H:%M:%S")],
    }
    post = await live.schedule("every day", rule)
    await live.wait_for(lambda: _published_count(live, 1), timeout=20, what="the first occurrence")
    again = await live.wait_status(post.id, PostStatus.SCHEDULED, timeout=10)
    assert again.occurrence_count == 1
    assert again.next_run_at == start + timedelta(days=1)
    state = await live.services.scheduler.state()
    assert state.next_execution_at is not None
    assert state.next_execution_at <= again.next_run_at


async def _published_count(live: Live, n: int) -> bool:
    return len(await live.published()) >= n


async def test_a_post_cancelled_after_it_was_claimed_is_not_published(live: Live) -> None:
    at = soon(12)  # claimed ~10 s ahead (the text lead), cancelled while armed
    post = await live.schedule("cancel me", at)
    await live.wait_status(post.id, PostStatus.PUBLISHING, timeout=15)
    await live.services.posts.cancel(live.actor, post.id)
    await asyncio.sleep(max(0.0, (at - live.services.clock.now()).total_seconds()) + 1.5)
    assert await live.published() == []
    assert (await live.post(post.id)).status is PostStatus.CANCELLED
    occurrence = await Occurrence.find_one({"post_id": post.id})
    assert occurrence is not None and occurrence.state is OccurrenceState.CANCELLED


async def test_a_post_edited_after_it_was_claimed_is_published_in_its_edited_form(
    live: Live,
) -> None:
    from scheduler.posts.service import PostInput

    at = soon(12)
    post = await live.schedule("old text", at)
    claimed = await live.wait_status(post.id, PostStatus.PUBLISHING, timeout=15)
    await live.services.posts.update(
        live.actor, post.id, PostInput(content=PostContent(text="new text"))
    )
    await live.wait_status(post.id, PostStatus.PUBLISHED, timeout=20)
    published = await live.published()
    assert [p.text for p in published] == ["new text"]
    assert published[0].received_at >= at
    assert claimed.version < (await live.post(post.id)).version


async def test_transient_faults_retry_then_succeed(live: Live) -> None:
    await live.admin.set_faults({"endpoint": "publish", "kind": "transient", "count": 2})
    post = await live.schedule("eventually", soon(3))
    done = await live.wait_status(post.id, PostStatus.PUBLISHED, timeout=30)
    assert [p.text for p in await live.published()] == ["eventually"]
    occurrence = await Occurrence.find_one({"post_id": post.id})
    assert occurrence is not None
    # A 5xx from threads_publish may hide a publish that happened: each was resolved by asking
    # Threads (not published), then retried with the same container.
    assert [a.kind for a in occurrence.attempts] == ["unknown", "unknown"]
    assert done.last_error is None


async def test_permanent_faults_fail_with_a_readable_reason(live: Live) -> None:
    post = await live.schedule(
        "bad video",
        soon(3),
        content=PostContent(
            type="VIDEO",
            text="clip",
            media=[{"url": "https://cdn.example/fail-download.mp4", "kind": "VIDEO"}],
        ),
    )
    failed = await live.wait_status(post.id, PostStatus.FAILED, timeout=40)
    assert failed.last_error is not None
    assert "FAILED_DOWNLOADING_VIDEO" in failed.last_error
    assert "not published" in failed.last_error
    assert await live.published() == []
    # It failed while its containers were being prepared: the timeline still shows it.
    occurrence = await Occurrence.find_one({"post_id": post.id})
    assert occurrence is not None and occurrence.state is OccurrenceState.FAILED
    assert occurrence.error == failed.last_error
    assert occurrence.attempts and occurrence.attempts[-1].kind == "media"


async def test_an_expired_token_holds_posts_and_flags_the_account(live: Live) -> None:
    await live.admin.revoke_token(live.sim_account.access_token)
    first = await live.schedule("held one", soon(3))
    second = await live.schedule("held two", soon(600))

    async def flagged() -> bool:
        account = await live.services.accounts.get(live.actor, live.account.id)
        return account.status is AccountStatus.NEEDS_RECONNECT

    await live.wait_for(flagged, 20, "the account to need a reconnect")
    for post_id in (first.id, second.id):
        post = await live.post(post_id)
        assert post.status is PostStatus.SCHEDULED
        assert post.check_at is None
        assert post.held_reason and "reconnect" in post.held_reason
    assert await live.published() == []
    # Reconnecting releases them: the overdue one goes out at once.
    fresh = await live.admin.issue_token(live.sim_account.user_id)
    await live.services.accounts.connect_with_token(live.actor, fresh)
    await live.wait_status(first.id, PostStatus.PUBLISHED, timeout=25)
    assert [p.text for p in await live.published()] == ["held one"]


async def test_quota_exhaustion_defers_and_later_publishes(live: Live) -> None:
    await live.admin.set_faults(
        {"kind": "quota_exhausted", "endpoint": "publish", "retry_after": 4, "count": 1}
    )
    post = await live.schedule("after the quota frees", soon(3))

    async def deferred() -> bool:
        current = await live.post(post.id)
        return bool(current.held_reason and "quota" in current.held_reason)

    await live.wait_for(deferred, 20, "the post to be deferred")
    assert (await live.post(post.id)).status is PostStatus.SCHEDULED
    done = await live.wait_status(post.id, PostStatus.PUBLISHED, timeout=40)
    assert done.held_reason is None
    published = await live.published()
    assert [p.text for p in published] == ["after the quota frees"]
    refused = [e for e in await live.admin.journal() if e.endpoint == "publish" and e.fault]
    assert len(refused) == 1
    assert (published[0].received_at - refused[0].received_at).total_seconds() >= 4


def _ids(items: list[Any]) -> list[str]:
    return [str(i) for i in items]
