"""Graceful shutdown across processes: SIGTERM a worker holding an armed post; another worker
publishes it, once, at its instant."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

import pytest

from scheduler.ops.health import HEARTBEAT_KEY
from scheduler.platform.documents import Occurrence, OccurrenceState, PostStatus
from tests.publishing.conftest import Live, WorkerProcess, soon

pytestmark = [pytest.mark.slow, pytest.mark.integration]


async def test_sigterm_hands_an_armed_post_to_another_worker_which_publishes_it_once(
    live: Live, worker_processes: Callable[[], WorkerProcess]
) -> None:
    first = worker_processes()
    at = soon(20)  # claimed a text lead (10 s) ahead, then armed in the first worker
    post = await live.schedule("handed over", at)

    async def armed() -> bool:
        occurrence = await Occurrence.find_one({"post_id": post.id})
        return occurrence is not None and occurrence.state is OccurrenceState.CONTAINER_READY

    await live.wait_for(armed, 25, "the first worker to arm the post")
    claimed = await live.post(post.id)
    assert claimed.status is PostStatus.PUBLISHING and claimed.lease

    worker_processes()  # the second worker

    async def both_alive() -> bool:
        return int(await live.services.redis.zcard(HEARTBEAT_KEY)) == 2

    await live.wait_for(both_alive, 20, "the second worker's heartbeat")
    first.process.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(first.process.wait, 30)
    assert code == 0
    assert live.services.clock.now() < at  # it left before the instant, handing the post back

    done = await live.wait_status(post.id, PostStatus.PUBLISHED, timeout=40)
    published = [p for p in await live.published() if p.text == "handed over"]
    assert len(published) == 1 and published[0].received_at >= at
    assert done.threads_media_ids == [published[0].media_id]
    occurrence = await Occurrence.find_one({"post_id": post.id})
    assert occurrence is not None and occurrence.state is OccurrenceState.PUBLISHED
    assert occurrence.lease != claimed.lease  # the second worker's lease published it
    assert int(await live.services.redis.zcard(HEARTBEAT_KEY)) == 1  # the first one left cleanly
