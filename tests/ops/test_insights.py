"""Insights on the simulator with a manual clock: the reading schedule, the call budget, the
Redis-only idle cron, and what the service returns."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from beanie import PydanticObjectId

from sandbox.standin import standin_reset_stats, standin_stats
from scheduler.ops.insights import NEXT_DUE_KEY, POST_SCHEDULE
from scheduler.platform.documents import AccountInsights, PostInsights
from scheduler.platform.errors import NotFoundError
from tests.conftest import T0
from tests.ops.conftest import ManualWorld, ManualWorldFactory


async def _calls(world: ManualWorld, endpoint: str) -> list[datetime]:
    """When the simulator received each insights request (its clock is the manual one)."""
    return [entry.received_at for entry in await world.admin.journal(endpoint=endpoint)]


async def _register(world: ManualWorld, text: str) -> PostInsights:
    media_id = await world.publish_on_threads(text)
    registered = await world.services.insights.register(
        owner_id=world.actor.owner_id,
        account_id=world.account.id,
        post_id=PydanticObjectId(),
        media_id=media_id,
        published_at=world.clock.now(),
    )
    assert registered is not None
    return registered


async def _run_until(world: ManualWorld, end: datetime, step: timedelta) -> None:
    while world.clock.now() < end:
        world.clock.advance(step)
        await world.services.insights.refresh_due()


async def test_a_post_is_read_1h_6h_24h_then_weekly_until_30_days_then_never(
    manual_world: ManualWorldFactory,
) -> None:
    world = await manual_world()
    entry = await _register(world, "watch my numbers")
    published = entry.published_at
    assert published == T0

    await world.services.insights.refresh_due()  # the account's first daily reading, at T0
    await _run_until(world, published + timedelta(days=2), timedelta(minutes=15))
    await _run_until(world, published + timedelta(days=40), timedelta(hours=6))

    post_calls = await _calls(world, "post_insights")
    assert post_calls == [published + offset for offset in POST_SCHEDULE]
    stored = await PostInsights.get(entry.id)
    assert stored is not None
    assert stored.fetches == len(POST_SCHEDULE) and stored.next_fetch_at is None
    assert [sample.at for sample in stored.history] == post_calls
    views = [sample.metrics["views"] for sample in stored.history]
    assert views == sorted(views) and views[-1] > views[0]  # the simulator's numbers grow
    assert stored.metrics == stored.history[-1].metrics
    assert set(stored.metrics) == {"views", "likes", "replies", "reposts", "quotes", "shares"}

    # The account's own insights: once a day, from the first run on.
    account_calls = await _calls(world, "account_insights")
    assert account_calls == [T0 + timedelta(days=n) for n in range(41)]
    account = await AccountInsights.find_one({"account_id": world.account.id})
    assert account is not None and len(account.history) == 41
    assert "followers_count" in account.metrics


async def test_missed_readings_are_not_made_up(manual_world: ManualWorldFactory) -> None:
    world = await manual_world()
    entry = await _register(world, "the worker was down")
    world.clock.advance(timedelta(days=3))  # 1 h, 6 h and 24 h all passed unseen
    await world.services.insights.refresh_due()
    assert await _calls(world, "post_insights") == [entry.published_at + timedelta(days=3)]
    stored = await PostInsights.get(entry.id)
    assert stored is not None and stored.next_fetch_at == entry.published_at + timedelta(days=7)


async def test_the_hourly_call_budget_is_never_exceeded(manual_world: ManualWorldFactory) -> None:
    budget = 5
    world = await manual_world(insights_calls_per_hour=budget)
    entries = [await _register(world, f"post {n}") for n in range(12)]
    start = world.clock.now()

    await _run_until(world, start + timedelta(days=3), timedelta(minutes=5))

    calls = sorted(await _calls(world, "post_insights") + await _calls(world, "account_insights"))
    busiest = max(sum(1 for c in calls if t <= c < t + timedelta(hours=1)) for t in calls)
    assert busiest == budget  # the budget was the limit, and it held in every rolling hour
    for entry in entries:
        stored = await PostInsights.get(entry.id)
        assert stored is not None and stored.fetches >= 3  # everyone got read, just later
    used = await world.services.insights.calls_last_hour(world.account.id)
    assert 0 <= used <= budget


async def test_a_budget_of_zero_turns_insights_off(manual_world: ManualWorldFactory) -> None:
    world = await manual_world(insights_calls_per_hour=0)
    media_id = await world.publish_on_threads("quiet")
    registered = await world.services.insights.register(
        owner_id=world.actor.owner_id,
        account_id=world.account.id,
        post_id=PydanticObjectId(),
        media_id=media_id,
        published_at=world.clock.now(),
    )
    world.clock.advance(timedelta(days=2))
    run = await world.services.insights.refresh_due()
    assert registered is None and not run.ran
    assert await _calls(world, "post_insights") == []


async def test_the_cron_sends_no_mongodb_command_while_nothing_is_due(
    manual_world: ManualWorldFactory, mongo_url: str
) -> None:
    world = await manual_world()
    await _register(world, "later")
    first = await world.services.insights.refresh_due()  # the account's first daily reading
    assert first.ran and first.account_calls == 1
    assert first.next_due == world.clock.now() + timedelta(hours=1)

    await standin_reset_stats(mongo_url)
    for _ in range(5):
        world.clock.advance(timedelta(minutes=10))
        assert not (await world.services.insights.refresh_due()).ran
    assert await standin_stats(mongo_url) == {}

    world.clock.advance(timedelta(minutes=10))  # the post's 1 h reading is due
    run = await world.services.insights.refresh_due()
    assert run.ran and run.post_calls == 1


async def test_a_wiped_redis_is_rebuilt_from_mongodb(manual_world: ManualWorldFactory) -> None:
    world = await manual_world()
    entry = await _register(world, "survives a flush")
    await world.services.insights.refresh_due()
    await world.services.redis.flushdb()
    world.clock.advance(timedelta(hours=1))
    run = await world.services.insights.refresh_due()
    assert run.ran and run.post_calls == 1
    assert await world.services.redis.get(NEXT_DUE_KEY) is not None
    stored = await PostInsights.get(entry.id)
    assert stored is not None and stored.fetches == 1


async def test_deleted_posts_stop_being_read(manual_world: ManualWorldFactory) -> None:
    world = await manual_world()
    entry = await _register(world, "short-lived")
    await world.services.threads.delete_post(
        entry.media_id, access_token=world.sim_account.access_token
    )
    world.clock.advance(timedelta(hours=1))
    await world.services.insights.refresh_due()
    stored = await PostInsights.get(entry.id)
    assert stored is not None and stored.next_fetch_at is None and stored.error


async def test_reading_is_scoped_to_the_owner(manual_world: ManualWorldFactory) -> None:
    from scheduler.accounts.actors import Actor

    world = await manual_world()
    await world.services.insights.refresh_due()
    mine = await world.services.insights.for_account(world.actor, world.account.id)
    assert mine is not None and mine.metrics
    stranger = Actor(owner_id=PydanticObjectId())
    with pytest.raises(NotFoundError):
        await world.services.insights.for_account(stranger, world.account.id)
    with pytest.raises(NotFoundError):
        await world.services.insights.for_post(stranger, PydanticObjectId())
