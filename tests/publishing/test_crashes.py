"""Several worker processes, crashes, a wiped Redis: every post goes out once, on time."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from saq import Status

from sandbox.standin import standin_reset_stats, standin_stats
from scheduler.platform.documents import Occurrence, OccurrenceState, Post, PostStatus
from scheduler.publishing.engine import MARKER_KEY
from tests.publishing.conftest import Live, WorkerProcess, soon

pytestmark = pytest.mark.slow


async def _all_published(live: Live, texts: set[str], timeout: float) -> dict[str, datetime]:
    async def done() -> bool:
        return texts <= {p.text for p in await live.published()}

    await live.wait_for(done, timeout, f"{len(texts)} posts to be published")
    await asyncio.sleep(1.0)  # let any duplicate (there must be none) arrive
    published = await live.published()
    counts = Counter(p.text for p in published)
    duplicates = {text: n for text, n in counts.items() if n > 1}
    assert duplicates == {}, f"published more than once: {duplicates}"
    return {p.text or "": p.received_at for p in published}


def _never_early(received: dict[str, datetime], due: dict[str, datetime]) -> list[float]:
    lateness = [(received[text] - due[text]).total_seconds() for text in due]
    early = [x for x in lateness if x < 0]
    assert early == [], f"published before their time by {early}"
    return lateness


async def test_two_workers_racing_create_one_check_and_publish_every_post_once(
    live: Live, worker_processes: Callable[[], WorkerProcess]
) -> None:
    second = await live.add_account("bo")
    due: dict[str, datetime] = {}
    start = soon(12)
    for i in range(40):
        at = start + timedelta(seconds=i % 4)
        text = f"race {i}"
        await live.schedule(text, at, account=second if i % 2 else None)
        due[text] = at
    worker_processes()
    worker_processes()
    received = await _all_published(live, set(due), timeout=60)
    lateness = _never_early(received, due)
    assert max(lateness) < 2.0, lateness
    pending = [
        job.key
        async for job in live.services.scheduler_queue.iter_jobs(
            statuses=[Status.QUEUED, Status.NEW]
        )
        if job.function == "check-due-posts"
    ]
    assert len(pending) <= 1, pending
    assert await Post.find({"status": str(PostStatus.PUBLISHED)}).count() == 40


async def test_a_worker_restart_restores_the_state_and_publishes_on_time(
    live: Live, worker_processes: Callable[[], WorkerProcess]
) -> None:
    first = worker_processes()
    await asyncio.sleep(3)  # running, initialised
    at = soon(20)
    post = await live.schedule("after a restart", at)
    first.stop()  # graceful; nothing was due yet
    assert (await live.services.scheduler.state()).next_execution_at == post.check_at
    worker_processes()
    received = await _all_published(live, {"after a restart"}, timeout=40)
    lateness = _never_early(received, {"after a restart": at})
    assert lateness[0] < 1.0


async def test_a_worker_killed_right_after_the_publish_call_leads_to_exactly_one_publish(
    live: Live, worker_processes: Callable[[], WorkerProcess]
) -> None:
    # The simulator publishes, then never answers: the worker is killed while waiting.
    await live.admin.set_faults({"kind": "accept_then_hang", "endpoint": "publish", "count": 1})
    at = soon(12)
    post = await live.schedule("killed mid-call", at)
    doomed = worker_processes()

    async def publish_received() -> bool:
        return len(await live.published()) == 1

    await live.wait_for(publish_received, 30, "the publish call to reach Threads")
    doomed.kill()
    sent = await live.post(post.id)
    assert sent.status is PostStatus.PUBLISHING and sent.sending_for == at
    worker_processes()  # takes over when the lease expires, asks Threads, does not publish again
    done = await live.wait_status(post.id, PostStatus.PUBLISHED, timeout=40)
    published = await live.published()
    assert [p.text for p in published] == ["killed mid-call"]
    assert done.threads_media_ids == [published[0].media_id]
    occurrence = await Occurrence.find_one({"post_id": post.id})
    assert occurrence is not None and occurrence.state is OccurrenceState.PUBLISHED
    publish_calls = [e for e in await live.admin.journal() if e.endpoint == "publish"]
    assert len(publish_calls) == 1


async def test_wiping_redis_while_500_posts_are_scheduled_loses_none(
    live: Live, worker_processes: Callable[[], WorkerProcess]
) -> None:
    accounts = [live.account] + [await live.add_account(f"acct{i}") for i in range(4)]
    start = soon(25)
    due: dict[str, datetime] = {}
    for i in range(500):
        at = start + timedelta(seconds=i % 10)
        text = f"survivor {i}"
        await live.schedule(text, at, account=accounts[i % len(accounts)])
        due[text] = at
    worker_processes()
    worker_processes()
    await asyncio.sleep(3)
    # Everything Redis knew is gone: the pending check, SAQ's queues, the marker.
    await live.services.redis.flushdb()
    assert not await live.services.redis.exists(MARKER_KEY)
    received = await _all_published(live, set(due), timeout=120)
    _never_early(received, due)
    assert await Post.find({"status": str(PostStatus.PUBLISHED)}).count() == 500


async def test_no_mongodb_command_at_all_while_idle(live: Live, worker: asyncio.Event) -> None:
    # Something far in the future is scheduled, nothing is due.
    await live.schedule("next week", soon(7 * 24 * 3600))
    await asyncio.sleep(2)  # let the worker start and settle
    url = live.services.settings.mongodb_uri or ""
    await standin_reset_stats(url)
    await asyncio.sleep(12)  # more than one reconcile-cron period (10 s)
    assert await standin_stats(url) == {}


async def test_the_startup_sweep_race_is_held_off(live: Live, worker: asyncio.Event) -> None:
    await asyncio.sleep(0.5)
    for queue in ("scheduler-meta", "post-publishing"):
        ttl = await live.services.redis.ttl(f"saq:{queue}:sweep")
        assert 0 < ttl <= 60


async def test_publish_jobs_run_once_and_have_a_timeout(live: Live) -> None:
    # SAQ's `retries` counts attempts and a job without timeout is never recovered from a
    # dead worker: publish jobs run once (our leases recover) and always carry a timeout.
    post = await live.schedule("job shape", soon(2))
    await live.services.scheduler.process_due_posts()
    jobs = [
        job
        async for job in live.services.publish_queue.iter_jobs()
        if job.kwargs and job.kwargs.get("post_id") == str(post.id)
    ]
    assert len(jobs) == 1
    assert jobs[0].retries == 1 and jobs[0].timeout > 0
    assert jobs[0].key.startswith(f"publish:{post.id}:")
