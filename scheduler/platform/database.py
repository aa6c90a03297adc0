"""Database: the MongoDB client and Beanie initialisation."""

from __future__ import annotations

from beanie import init_beanie
from pymongo import AsyncMongoClient

from scheduler.platform.documents import DOCUMENT_MODELS


async def connect_database(url: str, name: str) -> AsyncMongoClient[dict[str, object]]:
    """Connect to MongoDB (or the stand-in) and initialise Beanie on database `name`.

    The client is timezone-aware: datetimes come back as aware UTC, never naive.
    """
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        url, tz_aware=True, serverSelectionTimeoutMS=5000, appname="threads-scheduler"
    )
    await init_beanie(database=client.get_database(name), document_models=DOCUMENT_MODELS)
    return client
