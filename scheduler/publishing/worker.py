"""Worker: the SAQ workers of one process, one per queue, sharing one `Services`.

`scheduler-meta` (concurrency 1) runs the delayed `check-due-posts` job and the crons;
`post-publishing` (WORKER_CONCURRENCY) prepares occurrences, whose releases then run in the
process's `Releaser`. At start the scheduler is initialised (restored or rebuilt from MongoDB).
`background` (10) delivers webhooks and runs the insights cron, out of publishing's way; beside
the queues run the heartbeat and the event reactor (`scheduler.ops.reactor`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import Any

from saq import CronJob, Worker
from saq.types import Context

from scheduler.accounts.bootstrap import bootstrap_account
from scheduler.ops.metrics import serve_metrics
from scheduler.ops.reactor import start_companions
from scheduler.platform.logs import redact
from scheduler.platform.queues import (
    BACKGROUND_QUEUE,
    CHECK_JOB,
    DELIVER_JOB,
    PUBLISH_JOB,
    PUBLISH_QUEUE,
    SCHEDULER_QUEUE,
)
from scheduler.platform.settings import Settings
from scheduler.publishing import jobs
from scheduler.services import Services, build_services

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 20


async def _mitigate_sweep_race(services: Services) -> None:
    # SAQ's first sweep at start-up can abort or double-run jobs that are being dequeued
    # (tobymao/saq#277). Holding the sweep lock for its first minute avoids the race; stuck jobs
    # are still swept a minute later, and our leases recover them sooner anyway.
    for queue in (services.scheduler_queue, services.publish_queue):
        await services.redis.set(f"saq:{queue.name}:sweep", 1, ex=60, nx=True)


def create_workers(services: Services) -> list[Worker[Context]]:
    """The `scheduler-meta` worker (concurrency 1) and the `post-publishing` worker."""

    async def startup(ctx: Context) -> None:
        ctx["services"] = services  # type: ignore[typeddict-unknown-key]

    async def after_process(ctx: Context) -> None:
        job = ctx.get("job")
        if job is None:
            return
        post = (job.kwargs or {}).get("post") or {}
        owner = post.get("owner_id") if isinstance(post, dict) else None
        record = await services.monitoring.record_job(job, owner)
        await services.events.publish(
            "job.status",
            owner,
            queue=record.queue,
            key=record.key,
            function=record.function,
            status=record.status,
            post_id=record.post_id,
            duration_ms=record.duration_ms,
            error=record.error,
        )

    crons = [
        CronJob(jobs.reconcile, cron="* * * * * */10", timeout=60),
        CronJob(jobs.refresh_tokens, cron="17 * * * *", timeout=600),
    ]
    scheduler = Worker(
        services.scheduler_queue,
        functions=[(CHECK_JOB, jobs.check_due_posts)],
        concurrency=1,
        cron_jobs=crons,
        startup=startup,
        after_process=after_process,
    )
    publisher = Worker(
        services.publish_queue,
        functions=[(PUBLISH_JOB, jobs.publish_occurrence)],
        concurrency=services.settings.worker_concurrency,
        startup=startup,
        after_process=after_process,
    )
    background = Worker(
        services.background_queue,
        functions=[(DELIVER_JOB, jobs.deliver_webhook)],
        concurrency=10,
        cron_jobs=[CronJob(jobs.refresh_insights, cron="* * * * *", timeout=900)],
        startup=startup,
    )
    for worker in (scheduler, publisher, background):
        # Signals are handled once for the whole process (see serve_worker), not per worker:
        # a second worker's handler would replace the first's and leave it running.
        worker.SIGNALS = []
    return [scheduler, publisher, background]


async def run_workers(services: Services, stop: asyncio.Event) -> None:
    """Initialise the scheduler, run the workers until `stop` is set, then shut down gracefully."""
    await _mitigate_sweep_race(services)
    await services.scheduler.initialize()
    companions = await start_companions(services)  # heartbeat, webhooks/inbox reactor, insights
    workers = create_workers(services)
    tasks = [asyncio.create_task(w.start()) for w in workers]
    try:
        await stop.wait()
    finally:
        await _finish_running_jobs(workers, SHUTDOWN_GRACE_SECONDS)
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)
        # Then armed releases go back to MongoDB for another worker; sends in flight finish.
        await services.releaser.drain(SHUTDOWN_GRACE_SECONDS)
        await companions.stop()


async def _finish_running_jobs(workers: list[Worker[Context]], grace: float) -> None:
    # SAQ's own grace period always waits in full (its upkeep loops never end), so wait here
    # only while jobs are actually running; whatever is still running after `grace` is
    # cancelled by stop() and re-queued by SAQ for another worker.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while any(w.job_task_contexts for w in workers) and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # noqa: TID251 - real time: shutting down real jobs


def install_stop_signals(stop: asyncio.Event) -> Callable[[], None]:
    """Set `stop` on SIGINT/SIGTERM; returns a function that removes the handlers."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    def remove() -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)

    return remove


async def serve_worker(settings: Settings, **build: Any) -> None:
    """The `threads-scheduler worker` process."""
    stop = asyncio.Event()
    remove = install_stop_signals(stop)
    try:
        async with build_services(settings, **build) as services:
            await bootstrap_account(services)
            if settings.worker_metrics_port:
                serve_metrics(services.metrics, settings.worker_metrics_port)
            print(
                f"worker connected to Redis {redact(settings.effective_redis_url)} and MongoDB "
                f"database {settings.database_name}; queues {SCHEDULER_QUEUE}, {PUBLISH_QUEUE}, "
                f"{BACKGROUND_QUEUE}",
                flush=True,
            )
            await run_workers(services, stop)
    finally:
        remove()
