"""Events: every state change, published once as JSON on one Redis pub/sub channel (DESIGN §7).

Workers and web processes publish; GraphQL subscriptions and the dashboard's SSE stream consume.
Each process keeps a single pub/sub connection and fans messages out in-process to one
`asyncio.Queue` per subscriber (as SAQ's PubSubMultiplexer does): a pub/sub connection is a whole
Redis connection, and a dashboard may have hundreds of open streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from scheduler.platform.clock import Clock

log = logging.getLogger(__name__)
CHANNEL = "threads-scheduler:events"
_QUEUE_SIZE = 1000


@dataclass(frozen=True)
class Event:
    """One change. `owner_id` scopes who may see it (None: operators only, e.g. scheduler state)."""

    type: str  # post.status, occurrence.state, job.status, scheduler.state, account.status, ...
    owner_id: str | None
    data: dict[str, Any]
    at: datetime
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "type": self.type,
                "owner_id": self.owner_id,
                "at": self.at.isoformat(),
                "data": self.data,
            },
            default=str,
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        value = json.loads(raw)
        return cls(
            type=value["type"],
            owner_id=value.get("owner_id"),
            data=value.get("data") or {},
            at=datetime.fromisoformat(value["at"]),
            id=value["id"],
        )


class EventBus:
    """Publishes events to Redis and hands every event to every local subscriber."""

    def __init__(self, redis: Redis, clock: Clock, channel: str = CHANNEL) -> None:
        self._redis = redis
        self._clock = clock
        self._channel = channel
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self._reader: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None

    async def publish(self, type: str, owner_id: object | None, **data: Any) -> Event:
        event = Event(
            type=type,
            owner_id=str(owner_id) if owner_id is not None else None,
            data=data,
            at=self._clock.now(),
        )
        try:
            await self._redis.publish(self._channel, event.to_json())
        except Exception:
            log.warning("could not publish event %s", event.type, exc_info=True)
        return event

    @contextlib.asynccontextmanager
    async def subscribe(
        self, accept: Callable[[Event], bool] | None = None
    ) -> AsyncIterator[AsyncIterator[Event]]:
        """Yield an iterator of the events published from now on (filtered by `accept`)."""
        queue: asyncio.Queue[Event] = asyncio.Queue(_QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            await self._ensure_reader()

            async def events() -> AsyncIterator[Event]:
                while True:
                    event = await queue.get()
                    if accept is None or accept(event):
                        yield event

            yield events()
        finally:
            self._subscribers.discard(queue)
            if not self._subscribers:
                await self._stop_reader()

    async def close(self) -> None:
        self._subscribers.clear()
        await self._stop_reader()

    async def _ensure_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._ready = asyncio.Event()
            self._reader = asyncio.create_task(self._read(self._ready))
        assert self._ready is not None
        await self._ready.wait()

    async def _stop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    async def _read(self, ready: asyncio.Event) -> None:
        # Reconnects on its own: a Redis restart or FLUSHALL must not end the live views.
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                ready.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._fan_out(Event.from_json(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("event stream interrupted; reconnecting", exc_info=True)
                ready.set()
                # Real time on purpose: reconnect pacing, not domain time a test would drive.
                await asyncio.sleep(1.0)  # noqa: TID251
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _fan_out(self, event: Event) -> None:
        for queue in list(self._subscribers):
            if queue.full():
                # A stalled consumer loses its oldest event rather than blocking everyone.
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)
