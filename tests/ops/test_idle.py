"""The operations parts keep the engine's promise: no MongoDB command while nothing is due."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.standin import standin_reset_stats, standin_stats
from scheduler.ops.webhooks import WebhookInput
from scheduler.platform.documents import PostInsights, PostStatus
from tests.ops.conftest import Receiver
from tests.publishing.conftest import Live, soon


@pytest.mark.usefixtures("worker")
async def test_heartbeat_reactor_and_insights_cron_send_no_mongodb_command_while_idle(
    live: Live, receiver: Receiver
) -> None:
    await live.services.webhooks.create(live.actor, WebhookInput(url=receiver.url))
    post = await live.schedule("then quiet", soon(2))
    await live.wait_status(post.id, PostStatus.PUBLISHED, timeout=20)
    await receiver.wait_for(2, timeout=20)  # post.published and queue.empty

    async def registered() -> bool:
        return await PostInsights.find_one({"post_id": post.id}) is not None

    await live.wait_for(registered, 10, "the post's insights schedule")
    await asyncio.sleep(3)  # the last check (the lease expiry) and deliveries settle
    url = live.services.settings.mongodb_uri or ""
    await standin_reset_stats(url)
    await asyncio.sleep(12)  # more than a reconcile period; heartbeats every 5 s
    assert await standin_stats(url) == {}
    assert len(await live.services.health.workers()) == 1
