"""Shared fixtures: the MongoDB stand-in (or real MongoDB), isolated real Redis, a manual clock,
settings, the wired services and an app-client factory.

`MONGODB_URI` in the environment points the whole suite at a real MongoDB instead of the stand-in;
`REDIS_URL` picks the Redis server (default 127.0.0.1:6379). Each test gets its own database and a
flushed Redis logical database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from sandbox.standin.launcher import StandinProcess
from scheduler.platform.clock import ManualClock
from scheduler.platform.database import connect_database
from scheduler.platform.settings import Settings, load_settings
from scheduler.services import Services, build_services

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # a Monday


def _strip_db(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", parts.query, ""))


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    """A MongoDB URL without a database: real MongoDB if MONGODB_URI is set, else the stand-in."""
    if uri := os.environ.get("MONGODB_URI"):
        yield _strip_db(uri)
        return
    with StandinProcess() as standin:
        yield standin.url


@pytest.fixture
def database_name() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def mongo(mongo_url: str, database_name: str) -> AsyncIterator[AsyncMongoClient[Any]]:
    """Beanie initialised on a fresh database for this test (dropped afterwards)."""
    client = await connect_database(mongo_url, database_name)
    try:
        yield client
    finally:
        await client.drop_database(database_name)
        await client.close()


def _redis_db() -> int:
    # TEST_REDIS_DB picks one explicitly (parallel test runs must not flush each other's data);
    # else one per xdist worker (gw0 -> 1, gw1 -> 2 ...). Database 0 is left to `dev`.
    if db := os.environ.get("TEST_REDIS_DB"):
        return int(db)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return 1 + int(worker.removeprefix("gw") or 0)


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """A real Redis logical database, flushed before the test."""
    base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
    parts = urlsplit(base)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{_redis_db()}", "", ""))
    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    yield url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def make_settings(mongo_url: str, database_name: str, redis_url: str) -> Callable[..., Settings]:
    """Settings for this test's database and Redis; keyword arguments override fields."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "app_env": "test",
            "mongodb_uri": f"{mongo_url}/{database_name}",
            "redis_url": redis_url,
            "secret_key": "test-secret-key-not-for-production",
        }
        values.update(overrides)
        return load_settings({}, **values)

    return make


@pytest.fixture
async def services(
    make_settings: Callable[..., Settings], clock: ManualClock, database_name: str
) -> AsyncIterator[Services]:
    """The wired core on this test's database, Redis and manual clock."""
    async with build_services(make_settings(), clock=clock) as built:
        try:
            yield built
        finally:
            await built.mongo.drop_database(database_name)


AppClientFactory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def app_client(services: Services) -> AsyncIterator[AppClientFactory]:
    """A factory of HTTP clients talking to the app in-process, on the test's event loop."""
    from web.app import create_app

    async with AsyncExitStack() as stack:

        async def make(**headers: str) -> httpx.AsyncClient:
            app = create_app(services=services)
            ctx = app.router.lifespan_context(app)
            state = await stack.enter_async_context(ctx)
            transport = httpx.ASGITransport(app=_with_state(app, state))
            client = httpx.AsyncClient(
                transport=transport, base_url="http://testserver", headers=headers
            )
            await stack.enter_async_context(client)
            return client

        yield make


def _with_state(app: Any, state: Any) -> Any:
    # ASGITransport does not run the lifespan; hand the lifespan state to every request ourselves.
    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope = {**scope, "state": dict(state or {})}
        await app(scope, receive, send)

    return asgi
