"""Health: is this deployment ready to do its job, and the metrics operators scrape.

- `/healthz` needs nothing from here: a process that answers is alive.
- `readiness()` pings MongoDB and Redis (each with a short timeout) and checks that some worker
  wrote its heartbeat recently. Workers beat every few seconds into one Redis sorted set
  (`workers:heartbeats`, member = worker id, score = time of the last beat), so the check is a
  single read however many workers there are, and a worker that stops cleanly leaves at once.
- `metrics()` renders this process's Prometheus metrics, with the shared gauges (queue depth,
  the scheduler's next check) read from Redis at that moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient
from redis.asyncio import Redis
from saq.queue.redis import RedisQueue

from scheduler.ops.metrics import Exposition, Metrics
from scheduler.platform.clock import Clock
from scheduler.publishing.engine import EventDrivenScheduler

log = logging.getLogger(__name__)

HEARTBEAT_KEY = "workers:heartbeats"
HEARTBEAT_SECONDS = 5.0
HEARTBEAT_FRESH = timedelta(seconds=20)  # four missed beats and the worker counts as gone
PING_TIMEOUT = 2.0


@dataclass(frozen=True)
class Check:
    """One part of readiness: ok, or what is wrong in words an operator can act on."""

    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Readiness:
    """The readiness verdict and each check behind it."""

    checks: dict[str, Check] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "unavailable",
            "checks": {
                name: {"ok": check.ok, "detail": check.detail}
                for name, check in self.checks.items()
            },
            "failing": [name for name, check in self.checks.items() if not check.ok],
        }


class Heartbeat:
    """A worker's "I am alive" in Redis, every `interval` seconds until stopped."""

    def __init__(
        self,
        redis: Redis,
        clock: Clock,
        *,
        worker_id: str | None = None,
        interval: float = HEARTBEAT_SECONDS,
    ) -> None:
        self._redis = redis
        self._clock = clock
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def beat(self) -> None:
        now = self._clock.now()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(HEARTBEAT_KEY, {self.worker_id: now.timestamp()})
            # Forget workers that died long ago (they never removed themselves).
            pipe.zremrangebyscore(HEARTBEAT_KEY, "-inf", (now - timedelta(hours=1)).timestamp())
            await pipe.execute()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="heartbeat")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await self._redis.zrem(HEARTBEAT_KEY, self.worker_id)

    async def _run(self) -> None:
        while True:
            try:
                await self.beat()
            except Exception as exc:  # Redis away: readiness says so; keep trying
                log.warning("heartbeat not written: %s", exc)
            await self._clock.sleep(self._interval)


class HealthService:
    """Readiness checks and the metrics exposition (what operators and load balancers ask)."""

    def __init__(
        self,
        *,
        mongo: AsyncMongoClient[Any],
        redis: Redis,
        clock: Clock,
        metrics: Metrics,
        queues: Sequence[RedisQueue],
        scheduler: EventDrivenScheduler,
        timeout: float = PING_TIMEOUT,
        fresh: timedelta = HEARTBEAT_FRESH,
    ) -> None:
        self._mongo = mongo
        self._redis = redis
        self._clock = clock
        self._metrics = metrics
        self._queues = list(queues)
        self._scheduler = scheduler
        self._timeout = timeout
        self._fresh = fresh

    def heartbeat(
        self, worker_id: str | None = None, *, interval: float = HEARTBEAT_SECONDS
    ) -> Heartbeat:
        """A heartbeat for a worker process (started by the worker)."""
        return Heartbeat(self._redis, self._clock, worker_id=worker_id, interval=interval)

    async def readiness(self) -> Readiness:
        """MongoDB and Redis reachable, and a worker heartbeat fresher than 20 s."""
        mongo, redis = await asyncio.gather(
            self._check(self._mongo.admin.command("ping"), "MongoDB"),
            self._check(self._redis.ping(), "Redis"),  # type: ignore[arg-type]
        )
        worker = await self._worker() if redis.ok else Check(False, "unknown: Redis is down")
        return Readiness({"mongodb": mongo, "redis": redis, "worker": worker})

    async def workers(self) -> dict[str, datetime]:
        """Worker id → last heartbeat, for the workers seen within the freshness window."""
        now = self._clock.now()
        beats = await self._redis.zrangebyscore(
            HEARTBEAT_KEY, (now - self._fresh).timestamp(), "+inf", withscores=True
        )
        return {
            (member.decode() if isinstance(member, bytes) else str(member)): _at(score, now)
            for member, score in beats
        }

    async def metrics(self) -> Exposition:
        """This process's metrics in the Prometheus text format (shared gauges read now)."""
        try:
            state = await self._scheduler.state()
            return await self._metrics.scrape(self._queues, state, self._clock.now())
        except Exception as exc:  # Redis down: still expose the process's own counters
            log.warning("metrics scrape without Redis gauges: %s", exc)
            return self._metrics.render()

    async def _check(self, call: Awaitable[Any], name: str) -> Check:
        try:
            await asyncio.wait_for(call, self._timeout)
        except TimeoutError:
            return Check(False, f"{name} did not answer a ping within {self._timeout:g} s.")
        except Exception as exc:
            return Check(False, f"{name} is unreachable: {type(exc).__name__}: {exc}")
        return Check(True)

    async def _worker(self) -> Check:
        try:
            workers = await asyncio.wait_for(self.workers(), self._timeout)
        except Exception as exc:
            return Check(False, f"Could not read worker heartbeats: {exc}")
        if not workers:
            seconds = int(self._fresh.total_seconds())
            return Check(
                False,
                f"No worker heartbeat in the last {seconds} s; start `threads-scheduler worker` "
                "(scheduled posts are not published without one).",
            )
        return Check(True, f"{len(workers)} worker(s) alive")


def _at(score: float, like: datetime) -> datetime:
    return datetime.fromtimestamp(score, like.tzinfo)
