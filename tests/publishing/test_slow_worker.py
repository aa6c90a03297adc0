"""A worker presumed dead but only slow: what it already published is recognised, not repeated."""

from __future__ import annotations

import uuid
from datetime import timedelta

from scheduler.platform.documents import (
    Occurrence,
    OccurrencePart,
    OccurrenceState,
    Post,
    PostStatus,
)
from scheduler.posts.content import ReplySpec
from scheduler.posts.lifecycle import transition
from scheduler.publishing.publisher import Work
from scheduler.threads.models import ContainerRequest, MediaType
from tests.publishing.conftest import Live, soon


async def test_already_published_by_another_run_is_recorded_as_published(live: Live) -> None:
    services = live.services
    post = await live.schedule("published by the slow one", soon(3600))
    token = uuid.uuid4().hex
    due = services.clock.now().replace(microsecond=0)
    claimed = await transition(
        post.id,
        source=PostStatus.SCHEDULED,
        target=PostStatus.PUBLISHING,
        now=services.clock.now(),
        changes={"lease": token, "next_run_at": due},
    )
    assert claimed is not None
    # The "other run" (the slow worker) created this container and published it already.
    access = live.sim_account.access_token
    container = await services.threads.create_container(
        ContainerRequest(media_type=MediaType.TEXT, text="published by the slow one"),
        access_token=access,
    )
    media_id = await services.threads.publish(container, access_token=access)
    occurrence = await Occurrence(
        post_id=post.id,  # type: ignore[arg-type]
        owner_id=post.owner_id,
        account_id=post.account_id,
        scheduled_for=due,
        post_version=claimed.version,
        lease=token,
        state=OccurrenceState.CONTAINER_READY,
        parts=[OccurrencePart(index=0, due_at=due, container_id=container)],
        claimed_at=due,
        updated_at=due,
    ).insert()
    work = Work(post=claimed, occurrence=occurrence, token=token, due=due, access_token=access)

    await services.publisher.release(work)  # its publish call is refused: "already published"

    done = await Post.get(post.id)
    assert done is not None and done.status is PostStatus.PUBLISHED, done.last_error
    assert done.threads_media_ids == [media_id]
    assert [p.media_id for p in await live.published()] == [media_id]
    stored = await Occurrence.get(occurrence.id)
    assert stored is not None and stored.state is OccurrenceState.PUBLISHED
    assert stored.parts[0].media_id == media_id


async def test_a_stale_run_never_takes_the_record_of_a_newer_claim(live: Live) -> None:
    """Found by the chaos run: an edit (or a takeover) re-claims a post while the old run is
    still creating containers; the old run then took the occurrence's record back, so the new
    run's publish went unrecorded. Every claim has a higher version; the old run now stops."""
    services = live.services
    post = await live.schedule("claimed twice", soon(3600))
    due = services.clock.now().replace(microsecond=0) + timedelta(seconds=30)
    stale_token, fresh_token = uuid.uuid4().hex, uuid.uuid4().hex
    stale = await transition(
        post.id,
        source=PostStatus.SCHEDULED,
        target=PostStatus.PUBLISHING,
        now=services.clock.now(),
        changes={"lease": stale_token, "next_run_at": due},
    )
    assert stale is not None
    # The newer claim (as a takeover does it) and its record of the occurrence.
    await Post.get_pymongo_collection().update_one(
        {"_id": post.id}, {"$set": {"lease": fresh_token}, "$inc": {"version": 1}}
    )
    fresh = await Occurrence(
        post_id=post.id,  # type: ignore[arg-type]
        owner_id=post.owner_id,
        account_id=post.account_id,
        scheduled_for=due,
        post_version=stale.version + 1,
        lease=fresh_token,
        state=OccurrenceState.CONTAINER_READY,
        parts=[OccurrencePart(index=0, due_at=due, container_id="fresh-container")],
        claimed_at=due,
        updated_at=due,
    ).insert()

    result = await services.publisher.run(stale.model_dump(mode="json"), stale_token, due)

    assert result["result"] == "unresolved"
    stored = await Occurrence.get(fresh.id)
    assert stored is not None and stored.lease == fresh_token
    assert stored.parts[0].container_id == "fresh-container"
    assert await live.published() == []


async def test_an_earlier_occurrence_is_never_taken_for_an_unknown_publish(live: Live) -> None:
    """Found by the chaos run: a recurring post repeats its text, and resolving a publish whose
    outcome was unknown found the previous occurrence's post (same text, a minute earlier) and
    recorded it as this one's, so this occurrence was never published and looked early."""
    services = live.services
    access = live.sim_account.access_token
    earlier = await services.threads.create_container(
        ContainerRequest(media_type=MediaType.TEXT, text="every minute"), access_token=access
    )
    earlier_media = await services.threads.publish(earlier, access_token=access)
    now = services.clock.now()
    pending = await services.threads.create_container(
        ContainerRequest(media_type=MediaType.TEXT, text="every minute"), access_token=access
    )
    found = await services.threads.resolve_publish(
        pending, access_token=access, sent_at=now, text="every minute", known={earlier_media}
    )
    assert found.published is False  # its container was never published
    # And when the container was published but Threads' id for it is unknown, the earlier
    # post is not it either.
    await services.threads.publish(pending, access_token=access)
    found = await services.threads.resolve_publish(
        pending, access_token=access, sent_at=now, text="every minute", known={earlier_media}
    )
    assert found.published is True and found.media_id not in (None, earlier_media)


async def test_a_run_taken_over_mid_chain_sends_no_further_reply(live: Live) -> None:
    """Found by the chaos run: a slow run went on with its reply chain after another run had
    taken the post over, and both posted the next reply. A reply is now sent only after its
    record was stored under the run's own lease."""
    services = live.services
    post = await live.schedule("a chain", soon(3600), replies=[ReplySpec(text="the reply")])
    slow_token, new_token = uuid.uuid4().hex, uuid.uuid4().hex
    due = services.clock.now().replace(microsecond=0)
    claimed = await transition(
        post.id,
        source=PostStatus.SCHEDULED,
        target=PostStatus.PUBLISHING,
        now=services.clock.now(),
        changes={"lease": slow_token, "next_run_at": due, "sending_for": due},
    )
    assert claimed is not None
    access = live.sim_account.access_token
    container = await services.threads.create_container(
        ContainerRequest(media_type=MediaType.TEXT, text="a chain"), access_token=access
    )
    root = await services.threads.publish(container, access_token=access)
    published_root = OccurrencePart(
        index=0,
        due_at=due,
        container_id=container,
        media_id=root,
        state=OccurrenceState.PUBLISHED,
        publish_sent_at=due,
        published_at=due,
    )
    occurrence = await Occurrence(
        post_id=post.id,  # type: ignore[arg-type]
        owner_id=post.owner_id,
        account_id=post.account_id,
        scheduled_for=due,
        post_version=claimed.version + 1,
        lease=new_token,  # the record is the new run's: the slow run was taken over
        state=OccurrenceState.PUBLISH_SENT,
        parts=[published_root],
        claimed_at=due,
        updated_at=due,
    ).insert()
    slow = Work(post=claimed, occurrence=occurrence, token=slow_token, due=due, access_token=access)

    await services.publisher.release(slow)

    assert [p.text for p in await live.published()] == ["a chain"]
