"""Metrics: the Prometheus registry of one process, and the observer the core reports to.

The core does not call prometheus_client itself: the Threads client and the publisher receive an
`Observer` through `build_services` (the base class records nothing, for tools and tests that
build them alone) and `Metrics` is the one that counts. Counters and histograms are per process:
the web process counts what it does, and each worker serves its own on `WORKER_METRICS_PORT`.
What all processes share (queue depth, the scheduler's next check) lives in Redis and is read at
scrape time by `Metrics.scrape`, so any process's /metrics shows it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import httpx
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

if TYPE_CHECKING:
    from saq.queue.redis import RedisQueue

    from scheduler.publishing.engine import SchedulerState

PREFIX = "threads_scheduler"
# From "right on time" to "minutes late": the goal is tens of milliseconds.
LATENESS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
API_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Observer:
    """What the core reports while it works. This base class records nothing."""

    def threads_call(
        self, operation: str, response: httpx.Response | None, error: Exception | None = None
    ) -> None:
        """One Threads API request finished with `response`, or failed in transport (`error`)."""

    def publish_released(self, due: datetime, at: datetime) -> None:
        """A release passed its gate at `at` and calls threads_publish for the instant `due`."""

    def post_published(self) -> None:
        """An occurrence was published completely (post and reply chain)."""

    def post_failed(self, reason: str) -> None:
        """An occurrence failed for good; `reason` is its kind (transient, rejected, media...)."""

    def post_held(self, reason: str) -> None:
        """An occurrence was parked: `quota` (deferred) or `reconnect` (held)."""

    def webhook_delivery(self, result: str) -> None:
        """One webhook delivery attempt ended: delivered, retrying or failed."""

    def insights_call(self, kind: str, result: str) -> None:
        """One insights request (`post` or `account`) ended: ok or error."""


class Metrics(Observer):
    """The Prometheus metrics of one process, on a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.published = Counter(
            f"{PREFIX}_posts_published", "Occurrences published completely.", registry=r
        )
        self.failed = Counter(
            f"{PREFIX}_posts_failed",
            "Occurrences that failed for good, by reason.",
            ["reason"],
            registry=r,
        )
        self.held = Counter(
            f"{PREFIX}_posts_held",
            "Occurrences parked until quota frees or the account is reconnected, by reason.",
            ["reason"],
            registry=r,
        )
        self.lateness = Histogram(
            f"{PREFIX}_publish_lateness_seconds",
            "Seconds between an occurrence's instant and its release calling threads_publish.",
            buckets=LATENESS_BUCKETS,
            registry=r,
        )
        self.api_latency = Histogram(
            f"{PREFIX}_threads_api_request_duration_seconds",
            "Threads Graph API request duration, by operation.",
            ["operation"],
            buckets=API_BUCKETS,
            registry=r,
        )
        self.api_errors = Counter(
            f"{PREFIX}_threads_api_errors",
            "Threads Graph API errors, by operation and Graph error code (or transport error).",
            ["operation", "code"],
            registry=r,
        )
        self.webhooks = Counter(
            f"{PREFIX}_webhook_deliveries",
            "Webhook delivery attempts, by result.",
            ["result"],
            registry=r,
        )
        self.insights = Counter(
            f"{PREFIX}_insights_requests",
            "Insights requests to Threads, by kind and result.",
            ["kind", "result"],
            registry=r,
        )
        self.queue_jobs = Gauge(
            f"{PREFIX}_queue_jobs",
            "Jobs per SAQ queue and state (read from Redis at scrape time).",
            ["queue", "state"],
            registry=r,
        )
        self.next_check = Gauge(
            f"{PREFIX}_scheduler_next_check_seconds",
            "Seconds until the pending check-due-posts job (negative: overdue; NaN: idle).",
            registry=r,
        )

    # --- the observer --------------------------------------------------------------------

    def threads_call(
        self, operation: str, response: httpx.Response | None, error: Exception | None = None
    ) -> None:
        if response is None:
            self.api_errors.labels(operation, type(error).__name__ if error else "unknown").inc()
            return
        try:
            self.api_latency.labels(operation).observe(response.elapsed.total_seconds())
        except RuntimeError:  # a streamed response not read to the end has no duration
            pass
        if response.status_code >= 400:
            self.api_errors.labels(operation, _graph_code(response)).inc()

    def publish_released(self, due: datetime, at: datetime) -> None:
        self.lateness.observe(max(0.0, (at - due).total_seconds()))

    def post_published(self) -> None:
        self.published.inc()

    def post_failed(self, reason: str) -> None:
        self.failed.labels(reason).inc()

    def post_held(self, reason: str) -> None:
        self.held.labels(reason).inc()

    def webhook_delivery(self, result: str) -> None:
        self.webhooks.labels(result).inc()

    def insights_call(self, kind: str, result: str) -> None:
        self.insights.labels(kind, result).inc()

    # --- scraping ------------------------------------------------------------------------

    async def scrape(
        self, queues: Sequence[RedisQueue], state: SchedulerState, now: datetime
    ) -> Exposition:
        """Read the shared gauges from Redis, then render every metric in the text format."""
        for queue in queues:
            queued = await queue.count("queued")
            active = await queue.count("active")
            incomplete = await queue.count("incomplete")
            self.queue_jobs.labels(queue.name, "queued").set(queued)
            self.queue_jobs.labels(queue.name, "active").set(active)
            # SAQ's "incomplete" also holds queued and active jobs; the rest wait for their time.
            self.queue_jobs.labels(queue.name, "scheduled").set(
                max(0, incomplete - queued - active)
            )
        if state.next_execution_at is None:
            self.next_check.set(math.nan)
        else:
            self.next_check.set((state.next_execution_at - now).total_seconds())
        return self.render()

    def render(self) -> Exposition:
        """Every metric of this process in the Prometheus text format."""
        return Exposition(generate_latest(self.registry), CONTENT_TYPE_LATEST)


@dataclass(frozen=True)
class Exposition:
    """A rendered scrape: the body and its content type."""

    body: bytes
    content_type: str


def _graph_code(response: httpx.Response) -> str:
    # Graph errors carry a numeric code (190: token, 4: rate limit, 24: not ready...); keep the
    # label set small by falling back to the HTTP status when the body says nothing.
    try:
        error = json.loads(response.content).get("error") or {}
        code = error.get("code")
    except (ValueError, AttributeError, httpx.ResponseNotRead):
        code = None
    return (
        str(code) if isinstance(code, int | str) and str(code) else f"http_{response.status_code}"
    )


def serve_metrics(metrics: Metrics, port: int, host: str = "0.0.0.0") -> Callable[[], None]:
    """Serve `metrics` on http://host:port/ from a thread (a worker has no web app); returns a
    function that stops it."""
    server, thread = start_http_server(port, addr=host, registry=metrics.registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return stop
