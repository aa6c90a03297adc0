"""A worker presumed dead but only slow: what it already published is recognised, not repeated."""

from __future__ import annotations

import uuid

from scheduler.documents import Occurrence, OccurrencePart, OccurrenceState, Post, PostStatus
from scheduler.lifecycle import transition
from scheduler.publishing import Work
from scheduler.threads.models import ContainerRequest, MediaType
from tests.engine.conftest import Live, soon


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
