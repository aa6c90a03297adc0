"""Fuzz fixtures: one app process for the whole session (`threads-scheduler serve` on a real
socket, over the stand-in and this run's Redis database) and its tenants.

Sharing one server across the fuzz and abuse tests is deliberate: what one test throws at it
must not disturb what the next one does, as it must not disturb other users in production.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from pymongo import MongoClient
from redis import Redis

from tests.conftest import _redis_db
from tests.fuzz.http_fuzz import Session, logged_in_session
from tests.fuzz.server import AppProcess, Tenant, describe_errors


def _redis_url() -> str:
    # The database TEST_REDIS_DB names (see tests/conftest.py), so parallel runs stay apart.
    base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{_redis_db()}", "", ""))


@pytest.fixture(scope="session")
def fuzz_app(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """The web app as its own process, on a fresh database (dropped afterwards)."""
    redis_url = _redis_url()
    with Redis.from_url(redis_url) as redis:
        redis.flushdb()
    database = f"fuzz_{uuid.uuid4().hex[:12]}"
    app = AppProcess(
        mongo_url=mongo_url,
        database=database,
        redis_url=redis_url,
        workdir=tmp_path_factory.mktemp("fuzz"),
    )
    with app:
        yield app
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as client:
        client.drop_database(database)


@pytest.fixture(scope="session")
def owner(fuzz_app: AppProcess) -> Tenant:
    """The fuzzing tenant: its ids go into the fuzz dictionaries."""
    return asyncio.run(fuzz_app.add_tenant("owner@fuzz.example"))


@pytest.fixture(scope="session")
def stranger(fuzz_app: AppProcess) -> Tenant:
    """Another tenant: its ids are fuzzed too (they must behave like missing ones)."""
    return asyncio.run(fuzz_app.add_tenant("stranger@fuzz.example"))


@pytest.fixture(scope="session")
def web_session(fuzz_app: AppProcess, owner: Tenant) -> Session:
    """The owner logged in to the dashboard, once: the fuzzed logins soon trip the login
    throttle for this client, and the signed session stays valid whatever is fuzzed."""
    return logged_in_session(fuzz_app.base_url, owner.email, owner.password)


@pytest.fixture
def bystander_tenant(fuzz_app: AppProcess) -> Tenant:
    """A well-behaved user of the same server while a test abuses it (a fresh one per test)."""
    return asyncio.run(fuzz_app.add_tenant(f"bystander-{uuid.uuid4().hex[:8]}@fuzz.example"))


@pytest.fixture
def no_server_errors(fuzz_app: AppProcess) -> Iterator[None]:
    """Fails the test when the server logged an error while it ran."""
    since = fuzz_app.log_size()
    yield
    errors = fuzz_app.server_errors(since)
    assert not errors, "The server logged errors:\n" + describe_errors(errors)
    assert fuzz_app.alive, "The server process died:\n" + fuzz_app.log_text()[-5000:]
