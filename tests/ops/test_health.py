"""/healthz, /readyz and /metrics over HTTP (the app in-process, everything else real)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sandbox.standin.launcher import StandinProcess
from scheduler.platform.clock import SystemClock
from scheduler.platform.documents import PostStatus
from scheduler.platform.settings import Settings
from scheduler.services import Services, build_services
from tests.conftest import AppClientFactory, _with_state
from tests.ops.conftest import RedisServer
from tests.publishing.conftest import Live, soon

NEXT_CHECK = "threads_scheduler_scheduler_next_check_seconds"


@asynccontextmanager
async def _client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    from web.app import create_app

    app = create_app(services=services)
    async with app.router.lifespan_context(app) as state:
        transport = httpx.ASGITransport(app=_with_state(app, state))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def _until(client: httpx.AsyncClient, status: int, timeout: float = 20) -> dict[str, Any]:
    """Poll /readyz until it answers `status`; returns its JSON."""
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get("/readyz")
        if response.status_code == status:
            body: dict[str, Any] = response.json()
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"/readyz stayed {response.status_code}: {response.text}")
        await asyncio.sleep(0.2)


async def test_healthz_answers_without_touching_anything(app_client: AppClientFactory) -> None:
    client = await app_client()
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_needs_a_worker_heartbeat(app_client: AppClientFactory) -> None:
    client = await app_client()
    response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["worker"]
    assert "threads-scheduler worker" in body["checks"]["worker"]["detail"]


async def test_readyz_flips_when_redis_or_mongodb_stops_and_recovers_when_they_return(
    make_settings: Callable[..., Settings], redis_server: RedisServer, database_name: str
) -> None:
    standin = StandinProcess().start()
    port = int(standin.url.rsplit(":", 1)[1])
    settings = make_settings(
        mongodb_uri=f"{standin.url}/{database_name}", redis_url=redis_server.url
    )
    try:
        async with build_services(settings, clock=SystemClock()) as services:
            # Beating often: after Redis returns (empty), the test waits for the next beat.
            beat = services.health.heartbeat("test-worker", interval=0.2)
            beat.start()
            async with _client(services) as client:
                ready = await _until(client, 200)
                assert ready["status"] == "ready" and ready["failing"] == []

                redis_server.stop()
                down = await _until(client, 503)
                assert "redis" in down["failing"] and "mongodb" not in down["failing"]
                redis_server.start()
                await _until(client, 200)

                standin.stop()
                down = await _until(client, 503)
                assert down["failing"] == ["mongodb"]
                assert down["checks"]["mongodb"]["detail"]
                standin = StandinProcess(port=port).start()
                await _until(client, 200)

                await beat.stop()  # the last worker leaves cleanly: not ready at once
                gone = await _until(client, 503, timeout=2)
                assert gone["failing"] == ["worker"]
    finally:
        standin.stop()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.usefixtures("worker")
async def test_metrics_parse_and_move_when_a_post_publishes(live: Live) -> None:
    await live.admin.set_faults({"endpoint": "publish", "kind": "transient", "count": 1})
    async with _client(live.services) as client:
        before = await client.get("/metrics")
        assert before.status_code == 200
        assert before.headers["content-type"].startswith("text/plain")
        start = _samples(before.text)
        assert _value(start, "threads_scheduler_posts_published_total") == 0
        for queue in ("scheduler-meta", "post-publishing", "background"):
            assert (
                "threads_scheduler_queue_jobs",
                (("queue", queue), ("state", "queued")),
            ) in start
        assert math.isnan(_value(start, NEXT_CHECK))  # nothing scheduled: the scheduler is idle

        post = await live.schedule("counted", soon(2))
        pending = _samples((await client.get("/metrics")).text)
        assert math.isfinite(_value(pending, NEXT_CHECK))  # a check is armed for the post
        await live.wait_status(post.id, PostStatus.PUBLISHED, timeout=30)
        after = _samples((await client.get("/metrics")).text)

    assert _value(after, "threads_scheduler_posts_published_total") == 1
    assert _value(after, "threads_scheduler_publish_lateness_seconds_count") == 1
    assert 0 <= _value(after, "threads_scheduler_publish_lateness_seconds_sum") < 1.0
    assert (
        _value(
            after,
            "threads_scheduler_threads_api_request_duration_seconds_count",
            operation="publish",
        )
        == 2
    )  # the refused call and the one that worked
    assert (
        _value(after, "threads_scheduler_threads_api_errors_total", operation="publish", code="2")
        == 1
    )
