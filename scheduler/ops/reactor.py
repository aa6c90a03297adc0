"""Reactor: what a worker does when something happened — webhooks, the inbox, insights.

Each worker process subscribes to the event bus and turns events into notices
(`notifications.notice_from_event`): a notice is queued for the owner's webhooks, failures go to
the inbox, and a published post starts its insights schedule.

Why the bus and not calls from the publisher: the events already exist wherever things happen
(the publisher, the account service in a web request, post edits and cancels), so nothing on the
publishing path waits for webhook or inbox I/O, and no core service learns about notifications.
Every worker receives every event, so the first one to claim an event id in Redis handles it
(and unique indexes on deliveries, inbox entries and insights make a repeat harmless). The bus is
fire-and-forget: an event published while no worker runs produces no notice; insights catch up
through their own hourly look at MongoDB.

`start_companions` also starts the worker's heartbeat and a first insights pass (which
rebuilds the insights schedule in Redis at start, so the cron stays Redis-only while idle).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from beanie import PydanticObjectId
from redis.asyncio import Redis

from scheduler.ops.health import Heartbeat
from scheduler.ops.insights import InsightsService
from scheduler.ops.notifications import (
    Notice,
    NoticeKind,
    NotificationService,
    account_leaving_queue,
    notice_from_event,
)
from scheduler.ops.webhooks import WebhookService
from scheduler.platform.documents import Post, PostStatus
from scheduler.platform.events import Event, EventBus
from scheduler.platform.logs import log_context

if TYPE_CHECKING:
    from scheduler.services import Services

log = logging.getLogger(__name__)

CLAIM_KEY = "reactor:event:{id}"
CLAIM_SECONDS = 24 * 3600
EMPTY_KEY = "reactor:queue-empty:{account_id}"
EMPTY_QUIET_SECONDS = 60  # one queue.empty per account per minute, however many posts finish
_QUEUED = [str(PostStatus.SCHEDULED), str(PostStatus.PUBLISHING)]


class Reactor:
    """Turns bus events into webhook deliveries, inbox entries and insights schedules."""

    def __init__(
        self,
        *,
        redis: Redis,
        events: EventBus,
        webhooks: WebhookService,
        notifications: NotificationService,
        insights: InsightsService,
    ) -> None:
        self._redis = redis
        self._events = events
        self._webhooks = webhooks
        self._notifications = notifications
        self._insights = insights
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def handle(self, event: Event) -> list[Notice]:
        """React to one event; returns the notices it produced (empty if another worker did)."""
        notice = notice_from_event(event)
        account_id = account_leaving_queue(event)
        if notice is None and account_id is None:
            return []
        if not await self._redis.set(CLAIM_KEY.format(id=event.id), 1, nx=True, ex=CLAIM_SECONDS):
            return []
        notices = []
        if notice is not None:
            with log_context(post_id=notice.data.get("post_id")):
                if notice.kind is NoticeKind.POST_PUBLISHED:
                    notice = await self._published(notice)
                await self._notifications.record(notice)
                await self._webhooks.dispatch(notice)
            notices.append(notice)
        if account_id is not None and event.owner_id is not None:
            empty = await self._queue_empty(event, account_id)
            if empty is not None:
                await self._webhooks.dispatch(empty)
                notices.append(empty)
        return notices

    def start(self) -> None:
        """Subscribe and react in the background until `stop`."""
        if self._task is None or self._task.done():
            self._subscribed.clear()
            self._task = asyncio.create_task(self._run(), name="reactor")

    async def wait_subscribed(self, within: float = 10.0) -> bool:
        """Wait until events published from now on reach this reactor; False if not `within`."""
        try:
            async with asyncio.timeout(within):
                await self._subscribed.wait()
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        async with self._events.subscribe(accept=_interesting) as events:
            self._subscribed.set()
            async for event in events:
                try:
                    await self.handle(event)
                except Exception:
                    log.exception("could not react to event %s (%s)", event.id, event.type)

    async def _published(self, notice: Notice) -> Notice:
        """Add the account to a published notice and start the post's insights schedule."""
        post_id = notice.data.get("post_id")
        post = (
            await Post.get(PydanticObjectId(post_id))
            if post_id and PydanticObjectId.is_valid(post_id)
            else None
        )
        if post is None:
            return notice
        media_id = notice.data.get("media_id")
        published_at = _parse(notice.data.get("published_at")) or notice.at
        if media_id:
            await self._insights.register(
                owner_id=post.owner_id,
                account_id=post.account_id,
                post_id=post.id,
                media_id=str(media_id),
                published_at=published_at,
            )
        data = {**notice.data, "account_id": str(post.account_id), "text": post.content.text}
        return Notice(notice.id, notice.kind, notice.owner_id, notice.at, data)

    async def _queue_empty(self, event: Event, account_id: str) -> Notice | None:
        if not PydanticObjectId.is_valid(account_id):
            return None
        left = await Post.get_pymongo_collection().count_documents(
            {"account_id": PydanticObjectId(account_id), "status": {"$in": _QUEUED}}, limit=1
        )
        if left:
            return None
        key = EMPTY_KEY.format(account_id=account_id)
        if not await self._redis.set(key, 1, nx=True, ex=EMPTY_QUIET_SECONDS):
            return None
        assert event.owner_id is not None
        return Notice(
            id=f"{event.id}:queue-empty",
            kind=NoticeKind.QUEUE_EMPTY,
            owner_id=event.owner_id,
            at=event.at,
            data={"account_id": account_id, "last_post_id": event.data.get("post_id")},
        )


def _interesting(event: Event) -> bool:
    return event.owner_id is not None and event.type in {
        "post.status",
        "post.deleted",
        "occurrence.state",
        "account.status",
    }


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@dataclass
class Companions:
    """What runs beside a worker's SAQ queues: the heartbeat, the reactor, the insights pass."""

    heartbeat: Heartbeat
    reactor: Reactor
    catch_up: asyncio.Task[object]

    async def stop(self) -> None:
        self.catch_up.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.catch_up
        await self.reactor.stop()
        await self.heartbeat.stop()


async def start_companions(services: Services) -> Companions:
    """Start the heartbeat and the reactor (subscribed before this returns) and catch up on
    insights in the background."""
    heartbeat = services.health.heartbeat()
    await heartbeat.beat()
    heartbeat.start()
    services.reactor.start()
    await services.reactor.wait_subscribed()
    catch_up: asyncio.Task[object] = asyncio.create_task(
        _insights_catch_up(services.insights), name="insights catch-up"
    )
    return Companions(heartbeat, services.reactor, catch_up)


async def _insights_catch_up(insights: InsightsService) -> object:
    try:
        return await insights.refresh_due()
    except Exception:
        log.exception("insights catch-up at start failed; the cron tries again")
        return None
