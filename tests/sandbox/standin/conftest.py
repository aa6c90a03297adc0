"""Fixtures of the stand-in's tests: a server URL (real MongoDB when MONGODB_URI is set), a
tz-aware client and a fresh database per test.

The contract suite (`contract/`) runs unchanged against a real MongoDB; tests that need the
stand-in itself (its process, its counters, its refusals) take the `standin_only` fixture.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from sandbox.standin.launcher import StandinProcess

ON_REAL_MONGODB = bool(os.environ.get("MONGODB_URI"))


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    """The server under test, without a database: MONGODB_URI if set, else a stand-in process."""
    if uri := os.environ.get("MONGODB_URI"):
        parts = urlsplit(uri)
        yield urlunsplit((parts.scheme, parts.netloc, "", parts.query, ""))
        return
    with StandinProcess() as standin:
        yield standin.url


@pytest.fixture
def database_name() -> str:
    return f"standin_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def client(mongo_url: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def db(
    client: AsyncMongoClient[dict[str, Any]], database_name: str
) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    """A database used by this test only, dropped afterwards."""
    try:
        yield client[database_name]
    finally:
        await client.drop_database(database_name)


@pytest.fixture
def standin_only() -> None:
    """Skip on a real MongoDB: the test is about the stand-in itself."""
    if ON_REAL_MONGODB:
        pytest.skip("checks the MongoDB stand-in itself (MONGODB_URI points at a real server)")
