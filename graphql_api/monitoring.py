"""Monitoring: the scheduler's state, the queues' stats and health, and recent jobs."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from graphql_api.context import Info
from graphql_api.fields import authenticated_field
from graphql_api.inputs import bounded
from scheduler.ops import monitoring
from scheduler.ops.monitoring import RECENT_JOBS_KEPT
from scheduler.publishing import engine


@strawberry.type(description="What the event-driven scheduler waits for (stored in Redis).")
class SchedulerState:
    next_execution_at: datetime | None
    active_job_id: str | None
    last_check: datetime | None
    mode: str = strawberry.field(description="event-driven, or polling (the fallback).")

    @classmethod
    def from_state(cls, state: engine.SchedulerState) -> SchedulerState:
        return cls(
            next_execution_at=state.next_execution_at,
            active_job_id=state.active_job_id,
            last_check=state.last_check,
            mode=state.mode,
        )


@strawberry.type(description="One SAQ queue's counts, summed over its live workers.")
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

    @classmethod
    def from_stats(cls, stats: monitoring.QueueStats) -> QueueStats:
        return cls(**stats.__dict__)


@strawberry.type(description="Whether a queue is served, and what is wrong if not.")
class QueueHealth:
    name: str
    healthy: bool
    workers: int
    problems: list[str]

    @classmethod
    def from_health(cls, health: monitoring.QueueHealth) -> QueueHealth:
        return cls(**health.__dict__)


@strawberry.type(description="A finished job, as the worker recorded it.")
class JobRecord:
    queue: str
    key: str
    function: str
    status: str
    started_at: datetime | None
    duration_ms: float | None
    error: str | None
    post_id: strawberry.ID | None

    @classmethod
    def from_record(cls, record: monitoring.JobRecord) -> JobRecord:
        started = record.started_at
        return cls(
            queue=record.queue,
            key=record.key,
            function=record.function,
            status=record.status,
            started_at=datetime.fromtimestamp(started, UTC) if started is not None else None,
            duration_ms=record.duration_ms,
            error=record.error,
            post_id=strawberry.ID(record.post_id) if record.post_id else None,
        )


@strawberry.type
class MonitoringQuery:
    @authenticated_field()
    async def scheduler_state(self, info: Info) -> SchedulerState:
        return SchedulerState.from_state(await info.context.services.monitoring.scheduler_state())

    @authenticated_field()
    async def queue_stats(self, info: Info) -> list[QueueStats]:
        return [
            QueueStats.from_stats(s) for s in await info.context.services.monitoring.queue_stats()
        ]

    @authenticated_field()
    async def queue_health(self, info: Info) -> list[QueueHealth]:
        return [
            QueueHealth.from_health(h)
            for h in await info.context.services.monitoring.queue_health()
        ]

    @authenticated_field(
        description=f"Your jobs and the scheduler's, newest first (limit 1-{RECENT_JOBS_KEPT}).",
    )
    async def recent_jobs(
        self, info: Info, limit: int = 50, queue: str | None = None
    ) -> list[JobRecord]:
        bounded("limit", limit, 1, RECENT_JOBS_KEPT)
        found = await info.context.services.monitoring.recent_jobs(
            info.context.caller, limit, queue
        )
        return [JobRecord.from_record(record) for record in found]
