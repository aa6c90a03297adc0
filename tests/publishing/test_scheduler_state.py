"""The event-driven scheduler's Redis state: one pending check, at the right moment, never stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
from saq import Status

from scheduler.posts.content import PostType
from scheduler.publishing.engine import (
    ACTIVE_JOB_KEY,
    MARKER_KEY,
    NEXT_EXECUTION_KEY,
    check_job_key,
)
from scheduler.publishing.timing import LEAD
from tests.publishing.conftest import Live, soon


async def _pending_checks(live: Live) -> list[str]:
    queue = live.services.scheduler_queue
    keys = []
    async for job in queue.iter_jobs(statuses=[Status.QUEUED, Status.NEW, Status.ACTIVE]):
        if job.function == "check-due-posts":
            keys.append(job.key)
    return keys


async def test_an_earlier_post_moves_the_pending_check_earlier(live: Live) -> None:
    later = await live.schedule("later", soon(3600))
    state = await live.services.scheduler.state()
    assert state.next_execution_at == later.check_at
    assert state.active_job_id == check_job_key(later.check_at)

    earlier = await live.schedule("earlier", soon(600))
    state = await live.services.scheduler.state()
    assert earlier.check_at is not None and later.check_at is not None
    assert earlier.check_at < later.check_at
    assert state.next_execution_at == earlier.check_at
    # Exactly one pending check: the superseded one was removed, not left to fire.
    assert await _pending_checks(live) == [check_job_key(earlier.check_at)]
    superseded = await live.services.scheduler_queue.job(check_job_key(later.check_at))
    assert superseded is not None and superseded.status is Status.ABORTED


async def test_a_later_post_leaves_the_pending_check_alone(live: Live) -> None:
    first = await live.schedule("first", soon(600))
    await live.schedule("second", soon(3600))
    state = await live.services.scheduler.state()
    assert state.next_execution_at == first.check_at
    assert len(await _pending_checks(live)) == 1


async def test_the_check_runs_a_lead_time_before_the_post(live: Live) -> None:
    at = soon(600)
    post = await live.schedule("text post", at)
    assert post.check_at == at - LEAD[PostType.TEXT]


async def test_cancelling_the_only_scheduled_post_leaves_the_scheduler_idle(live: Live) -> None:
    post = await live.schedule("only one", soon(600))
    assert await _pending_checks(live)
    await live.services.posts.cancel(live.actor, post.id)
    state = await live.services.scheduler.state()
    assert state.next_execution_at is None and state.active_job_id is None
    assert await live.services.redis.exists(NEXT_EXECUTION_KEY, ACTIVE_JOB_KEY) == 0
    assert await _pending_checks(live) == []


async def test_cancelling_one_of_two_moves_the_check_to_the_other(live: Live) -> None:
    first = await live.schedule("first", soon(600))
    second = await live.schedule("second", soon(1200))
    await live.services.posts.cancel(live.actor, first.id)
    state = await live.services.scheduler.state()
    assert state.next_execution_at == second.check_at
    assert await _pending_checks(live) == [check_job_key(second.check_at)]


async def test_initialize_rebuilds_lost_state_from_mongodb(live: Live) -> None:
    post = await live.schedule("survives", soon(600))
    await live.services.redis.flushdb()
    assert (await live.services.scheduler.state()).next_execution_at is None
    assert await live.services.scheduler.reconcile() == "rebuilt"
    state = await live.services.scheduler.state()
    assert state.next_execution_at == post.check_at
    assert await _pending_checks(live) == [check_job_key(post.check_at)]
    assert await live.services.redis.exists(MARKER_KEY)


async def test_initialize_keeps_a_live_pending_check(live: Live) -> None:
    await live.schedule("kept", soon(600))
    before = await live.services.scheduler.state()
    after = await live.services.scheduler.initialize()
    assert after.active_job_id == before.active_job_id
    assert len(await _pending_checks(live)) == 1


async def test_reconcile_is_redis_only_when_all_is_well(live: Live) -> None:
    await live.schedule("fine", soon(600))
    assert await live.services.scheduler.reconcile() == "ok"


async def test_a_stalled_check_is_re_armed(live: Live) -> None:
    post = await live.schedule("stalled", soon(600))
    # Simulate a check that should have run a minute ago but never did (its job vanished).
    stale = live.services.clock.now() - timedelta(minutes=1)
    await live.services.redis.set(NEXT_EXECUTION_KEY, int(stale.timestamp() * 1000))
    await live.services.redis.set(ACTIVE_JOB_KEY, check_job_key(stale))
    assert await live.services.scheduler.reconcile() == "re-armed"
    assert (await live.services.scheduler.state()).next_execution_at == post.check_at


async def test_check_jobs_are_scheduled_in_whole_seconds_never_zero_point_zero(live: Live) -> None:
    post = await live.schedule("rounding", soon(600))
    assert post.check_at is not None
    job = await live.services.scheduler_queue.job(check_job_key(post.check_at))
    assert job is not None
    assert isinstance(job.scheduled, int) and job.scheduled >= post.check_at.timestamp()
    await live.services.scheduler.schedule_immediate_check()
    immediate = (await live.services.scheduler.state()).active_job_id
    job = await live.services.scheduler_queue.job(immediate or "")
    assert job is not None and job.scheduled == 0 and isinstance(job.scheduled, int)


async def test_a_post_scheduled_while_the_next_check_is_computed_is_not_lost(live: Live) -> None:
    # The check computes "nothing left" (or "later") from MongoDB while, concurrently, a post due
    # sooner is scheduled and arms its own check: that check must survive.
    scheduler = live.services.scheduler
    dispatcher = scheduler._dispatcher
    real = dispatcher.next_check_at
    raced: list[object] = []

    async def racing_next_check_at() -> object:
        answer = await real()  # computed before the concurrent post exists
        raced.append(await live.schedule("scheduled meanwhile", soon(600)))
        return answer

    dispatcher.next_check_at = racing_next_check_at  # type: ignore[method-assign]
    try:
        await scheduler.schedule_next_check()  # saw nothing: would go idle
    finally:
        dispatcher.next_check_at = real  # type: ignore[method-assign]
    (post,) = raced
    state = await scheduler.state()
    assert state.next_execution_at == post.check_at  # type: ignore[attr-defined]
    assert await _pending_checks(live) == [check_job_key(post.check_at)]  # type: ignore[attr-defined]


async def test_a_later_recomputation_does_not_replace_an_earlier_concurrent_check(
    live: Live,
) -> None:
    later = await live.schedule("later", soon(3600))
    scheduler = live.services.scheduler
    dispatcher = scheduler._dispatcher
    real = dispatcher.next_check_at
    raced: list[object] = []

    async def racing_next_check_at() -> object:
        answer = await real()  # says: the later post
        raced.append(await live.schedule("sooner, meanwhile", soon(600)))
        return answer

    dispatcher.next_check_at = racing_next_check_at  # type: ignore[method-assign]
    try:
        await scheduler.schedule_next_check()
    finally:
        dispatcher.next_check_at = real  # type: ignore[method-assign]
    (sooner,) = raced
    assert (await scheduler.state()).next_execution_at == sooner.check_at  # type: ignore[attr-defined]
    assert later.check_at is not None
    assert await _pending_checks(live) == [check_job_key(sooner.check_at)]  # type: ignore[attr-defined]


async def test_a_check_that_dies_midway_leaves_a_fallback_check_armed(live: Live) -> None:
    await live.schedule("far", soon(600))
    scheduler = live.services.scheduler
    running = (await scheduler.state()).active_job_id
    dispatcher = scheduler._dispatcher

    async def dies(*args: object) -> int:
        raise RuntimeError("the worker died here")

    real = dispatcher.dispatch_due
    dispatcher.dispatch_due = dies  # type: ignore[method-assign]
    try:
        with pytest.raises(RuntimeError):
            await scheduler.process_due_posts(running)
    finally:
        dispatcher.dispatch_due = real  # type: ignore[method-assign]
    state = await scheduler.state()
    assert state.active_job_id != running and state.next_execution_at is not None
    wait = (state.next_execution_at - live.services.clock.now()).total_seconds()
    assert 25 < wait <= 31
    assert await _pending_checks(live) == [state.active_job_id]
    # A check that completes replaces its fallback with the real next check.
    await scheduler.process_due_posts(state.active_job_id)
    assert len(await _pending_checks(live)) == 1
    assert (await scheduler.state()).next_execution_at != state.next_execution_at
