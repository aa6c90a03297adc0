"""Monitoring: queue health and stats, recent jobs, scheduled posts and scheduler state.

Everything here reads Redis (SAQ's own bookkeeping and a capped list of recent jobs written by the
worker hooks) except `scheduled_posts`, which reads MongoDB, scoped to the actor.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from saq import Job
from saq.queue.redis import RedisQueue

from scheduler.accounts.actors import Actor
from scheduler.platform.clock import Clock
from scheduler.platform.documents import Post, PostStatus
from scheduler.platform.queues import SCHEDULER_QUEUE
from scheduler.publishing.engine import EventDrivenScheduler, SchedulerState

RECENT_JOBS_KEY = "monitoring:recent-jobs"
RECENT_JOBS_KEPT = 500


@dataclass(frozen=True)
class QueueStats:
    name: str
    queued: int
    active: int
    scheduled: int
    workers: int
    complete: int
    failed: int
    retried: int
    aborted: int


@dataclass(frozen=True)
class QueueHealth:
    name: str
    healthy: bool
    workers: int
    problems: list[str]


@dataclass(frozen=True)
class JobRecord:
    """One finished (or failed) job, as the worker hook recorded it."""

    queue: str
    key: str
    function: str
    status: str
    started_at: float | None
    duration_ms: float | None
    error: str | None
    post_id: str | None
    owner_id: str | None
    result: dict[str, Any] | None

    @classmethod
    def from_job(cls, job: Job, owner_id: str | None) -> JobRecord:
        kwargs = job.kwargs or {}
        duration = (job.completed - job.started) if job.completed and job.started else None
        result = job.result if isinstance(job.result, dict) else None
        error = (job.error or "").strip().splitlines()[-1] if job.error else None
        return cls(
            queue=job.queue.name if job.queue else "",
            key=job.key,
            function=job.function,
            status=str(job.status.value if hasattr(job.status, "value") else job.status),
            started_at=job.started / 1000 if job.started else None,
            duration_ms=float(duration) if duration is not None else None,
            error=error,
            post_id=kwargs.get("post_id"),
            owner_id=owner_id,
            result=result,
        )

    def to_json(self) -> str:
        return json.dumps(self.__dict__, default=str)


class MonitoringService:
    """What operators and the dashboard's queue page look at."""

    def __init__(
        self,
        *,
        redis: Redis,
        queues: Sequence[RedisQueue],
        scheduler: EventDrivenScheduler,
        clock: Clock,
    ) -> None:
        self._redis = redis
        self._queues = list(queues)
        self._scheduler = scheduler
        self._clock = clock

    async def queue_stats(self) -> list[QueueStats]:
        stats = []
        for queue in self._queues:
            info = cast(dict[str, Any], await queue.info())
            workers = info.get("workers", {})
            totals = {"complete": 0, "failed": 0, "retried": 0, "aborted": 0}
            for worker in workers.values():
                for name in totals:
                    totals[name] += int((worker.get("stats") or {}).get(name, 0))
            stats.append(
                QueueStats(
                    name=queue.name,
                    queued=int(info.get("queued", 0)),
                    active=int(info.get("active", 0)),
                    scheduled=int(info.get("scheduled", 0)),
                    workers=len(workers),
                    **totals,
                )
            )
        return stats

    async def queue_health(self) -> list[QueueHealth]:
        state = await self._scheduler.state()
        now = self._clock.now()
        health = []
        for stat in await self.queue_stats():
            problems = []
            if stat.workers == 0:
                problems.append(
                    "no worker is running for this queue; start `threads-scheduler worker`"
                )
            if (
                stat.name == SCHEDULER_QUEUE
                and state.next_execution_at is not None
                and (now - state.next_execution_at).total_seconds() > 30
            ):
                problems.append("the pending scheduler check is overdue by more than 30 s")
            health.append(
                QueueHealth(
                    name=stat.name, healthy=not problems, workers=stat.workers, problems=problems
                )
            )
        return health

    async def record_job(self, job: Job, owner_id: str | None) -> JobRecord:
        """Called by the worker after each job: keep a capped list for `recent_jobs`."""
        record = JobRecord.from_job(job, owner_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.lpush(RECENT_JOBS_KEY, record.to_json())
            pipe.ltrim(RECENT_JOBS_KEY, 0, RECENT_JOBS_KEPT - 1)
            await pipe.execute()
        return record

    async def recent_jobs(
        self, actor: Actor | None, limit: int = 50, queue: str | None = None
    ) -> list[JobRecord]:
        """Newest first; an actor sees its own jobs and the scheduler's (which carry no data)."""
        raw = await self._redis.lrange(RECENT_JOBS_KEY, 0, RECENT_JOBS_KEPT - 1)  # type: ignore[misc]
        records = []
        for item in raw:
            record = JobRecord(**json.loads(item))
            if queue and record.queue != queue:
                continue
            if actor is not None and record.owner_id not in (None, str(actor.owner_id)):
                continue
            records.append(record)
            if len(records) >= limit:
                break
        return records

    async def scheduled_posts(self, actor: Actor, limit: int = 50) -> list[Post]:
        """The actor's next posts to go out, soonest first."""
        return (
            await Post.find(
                {
                    "owner_id": actor.owner_id,
                    "status": {"$in": [str(PostStatus.SCHEDULED), str(PostStatus.PUBLISHING)]},
                }
            )
            .sort("next_run_at")
            .limit(limit)
            .to_list()
        )

    async def scheduler_state(self) -> SchedulerState:
        return await self._scheduler.state()
