"""Monitoring read-outs, and the polling fallback (USE_EVENT_DRIVEN_SCHEDULER=false)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from beanie import PydanticObjectId

from sandbox.simulator.server import SimulatorServer
from scheduler.accounts.actors import Actor
from scheduler.platform.clock import SystemClock
from scheduler.platform.documents import PostStatus
from scheduler.platform.settings import Settings
from scheduler.publishing.worker import run_workers
from scheduler.services import build_services
from tests.publishing.conftest import Live, soon


async def test_queue_stats_and_health_see_the_running_worker(
    live: Live, worker: asyncio.Event
) -> None:
    await asyncio.sleep(11)  # SAQ writes worker info every 10 s
    stats = {s.name: s for s in await live.services.monitoring.queue_stats()}
    assert set(stats) == {"scheduler-meta", "post-publishing"}
    assert all(s.workers == 1 for s in stats.values())
    health = await live.services.monitoring.queue_health()
    assert all(h.healthy for h in health), health


async def test_health_reports_a_queue_without_workers(live: Live) -> None:
    health = await live.services.monitoring.queue_health()
    assert not any(h.healthy for h in health)
    assert "no worker is running" in health[0].problems[0]


async def test_recent_jobs_and_scheduled_posts_are_the_owners_own(
    live: Live, worker: asyncio.Event
) -> None:
    post = await live.schedule("watched", soon(2))
    await live.wait_status(post.id, PostStatus.PUBLISHED, timeout=20)
    jobs = await live.services.monitoring.recent_jobs(live.actor, limit=20)
    publish = [j for j in jobs if j.function == "publish-occurrence"]
    assert publish and publish[0].post_id == str(post.id)
    assert publish[0].status == "complete" and publish[0].owner_id == str(live.actor.owner_id)
    stranger = Actor(owner_id=PydanticObjectId())
    assert not [j for j in await live.services.monitoring.recent_jobs(stranger) if j.post_id]
    later = await live.schedule("later", soon(3600))
    upcoming = await live.services.monitoring.scheduled_posts(live.actor)
    assert [p.id for p in upcoming] == [later.id]
    assert await live.services.monitoring.scheduled_posts(stranger) == []
    state = await live.services.monitoring.scheduler_state()
    assert state.mode == "event-driven" and state.last_check is not None


@pytest.fixture
async def polling_live(
    make_settings: Callable[..., Settings], simulator: SimulatorServer
) -> AsyncIterator[Live]:
    settings = make_settings(
        threads_api_base_url=simulator.base_url,
        use_event_driven_scheduler=False,
        poll_interval_seconds=2,
        job_timeout=3000,
    )
    async with build_services(settings, clock=SystemClock()) as services:
        actor = Actor(owner_id=PydanticObjectId())
        sim_account = await simulator.admin.create_account("poller")
        account = await services.accounts.connect_with_token(actor, sim_account.access_token)
        yield Live(services, simulator.admin, actor, account, sim_account)


async def test_the_polling_fallback_publishes_too(polling_live: Live) -> None:
    live = polling_live
    stop = asyncio.Event()
    task = asyncio.create_task(run_workers(live.services, stop))
    try:

        async def armed() -> bool:
            return (await live.services.scheduler.state()).next_execution_at is not None

        await live.wait_for(armed, 10, "the first poll to be armed")
        assert (await live.services.scheduler.state()).mode == "polling"
        post = await live.schedule("polled", soon(3))
        await live.wait_status(post.id, PostStatus.PUBLISHED, timeout=30)
        assert [p.text for p in await live.published()] == ["polled"]
        # Polling keeps a check armed even with nothing left to do (that is its cost).
        await asyncio.sleep(2.5)
        assert (await live.services.scheduler.state()).next_execution_at is not None
    finally:
        stop.set()
        await task
