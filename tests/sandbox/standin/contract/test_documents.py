"""Contract: document-level behaviour the scheduler relies on (duplicates, claims, datetimes,
Beanie). Runs against the stand-in, or unchanged against a real MongoDB (MONGODB_URI).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from beanie import Document, Indexed, UpdateResponse, init_beanie
from bson import Int64, ObjectId
from pydantic import AwareDatetime
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

Db = AsyncDatabase[dict[str, Any]]


async def test_duplicate_key_reports_key_pattern_and_value(db: Db) -> None:
    await db.posts.create_index([("account", ASCENDING), ("slug", ASCENDING)], unique=True)
    await db.posts.insert_one({"account": "a", "slug": "s"})
    with pytest.raises(DuplicateKeyError) as failure:
        await db.posts.insert_one({"account": "a", "slug": "s"})
    assert failure.value.code == 11000
    assert failure.value.details is not None
    assert failure.value.details["keyPattern"] == {"account": 1, "slug": 1}
    assert failure.value.details["keyValue"] == {"account": "a", "slug": "s"}


async def test_duplicate_id_reports_id_key_pattern(db: Db) -> None:
    await db.posts.insert_one({"_id": "x"})
    with pytest.raises(DuplicateKeyError) as failure:
        await db.posts.insert_one({"_id": "x"})
    assert failure.value.details is not None
    assert failure.value.details["keyPattern"] == {"_id": 1}


async def test_duplicate_from_update_and_find_and_modify(db: Db) -> None:
    await db.users.create_index("email", unique=True)
    await db.users.insert_many([{"email": "a@x"}, {"email": "b@x"}])
    with pytest.raises(DuplicateKeyError):
        await db.users.update_one({"email": "b@x"}, {"$set": {"email": "a@x"}})
    with pytest.raises(DuplicateKeyError) as failure:
        await db.users.find_one_and_update({"email": "b@x"}, {"$set": {"email": "a@x"}})
    assert failure.value.details is not None
    assert failure.value.details["keyPattern"] == {"email": 1}
    assert await db.users.count_documents({"email": "b@x"}) == 1  # unchanged


async def test_unordered_insert_many_keeps_going_after_duplicates(db: Db) -> None:
    await db.items.create_index("k", unique=True)
    with pytest.raises(BulkWriteError) as failure:
        await db.items.insert_many([{"k": 1}, {"k": 1}, {"k": 2}], ordered=False)
    assert failure.value.details["nInserted"] == 2
    assert [error["index"] for error in failure.value.details["writeErrors"]] == [1]


async def test_find_one_and_update_claims_each_document_once(db: Db) -> None:
    await db.jobs.insert_many([{"n": n, "claimed_by": None} for n in range(20)])
    claimed: list[int] = []
    while job := await db.jobs.find_one_and_update(
        {"claimed_by": None},
        {"$set": {"claimed_by": "me"}},
        sort=[("n", ASCENDING)],
        return_document=ReturnDocument.AFTER,
    ):
        assert job["claimed_by"] == "me"
        claimed.append(job["n"])
    assert claimed == list(range(20))


async def test_aware_datetimes_round_trip_with_millisecond_precision(db: Db) -> None:
    instant = datetime(2030, 3, 30, 23, 59, 58, 123456, tzinfo=UTC)
    elsewhere = datetime(2030, 3, 31, 2, 0, 0, 999999, tzinfo=timezone(timedelta(hours=2)))
    await db.times.insert_one({"_id": 1, "at": instant, "other": elsewhere})
    document = await db.times.find_one({"_id": 1})
    assert document is not None
    assert document["at"] == instant.replace(microsecond=123000)
    assert document["at"].utcoffset() == timedelta(0)
    assert document["other"] == datetime(2030, 3, 31, 0, 0, 0, 999000, tzinfo=UTC)
    earlier = await db.times.find_one({"at": {"$lt": instant + timedelta(milliseconds=1)}})
    assert earlier is not None


async def test_bson_types_round_trip(db: Db) -> None:
    document = {
        "_id": ObjectId(),
        "big": Int64(2**40),
        "small": 7,
        "ratio": 0.5,
        "flag": True,
        "none": None,
        "blob": b"\x00\x01",
        "nested": {"list": [1, "two", {"three": 3}]},
    }
    await db.types.insert_one(dict(document))
    found = await db.types.find_one({"_id": document["_id"]})
    assert found == document
    assert isinstance(found["big"], Int64)


class Post(Document):
    """A small Beanie document with the index kinds the scheduler uses."""

    slug: Indexed(str, unique=True)  # type: ignore[valid-type]
    status: str = "SCHEDULED"
    next_run_at: AwareDatetime
    version: int = 0

    class Settings:
        name = "posts"
        indexes = [
            IndexModel([("status", ASCENDING), ("next_run_at", ASCENDING)], name="status_due"),
        ]


async def test_beanie_init_and_crud(db: Db) -> None:
    await init_beanie(database=db, document_models=[Post])
    await init_beanie(database=db, document_models=[Post])  # indexes already there: no-op
    due = datetime(2030, 1, 1, 9, tzinfo=UTC)
    posts = [Post(slug=f"p{n}", next_run_at=due + timedelta(minutes=n)) for n in range(5)]
    for post in posts:
        await post.insert()
    with pytest.raises(DuplicateKeyError):
        await Post(slug="p0", next_run_at=due).insert()

    fetched = await Post.get(posts[2].id)
    assert fetched is not None and fetched.next_run_at == due + timedelta(minutes=2)

    found = (
        await Post.find(Post.status == "SCHEDULED", Post.next_run_at <= due + timedelta(minutes=3))
        .sort("-next_run_at")
        .limit(2)
        .to_list()
    )
    assert [post.slug for post in found] == ["p3", "p2"]

    claimed = await Post.find_one(Post.status == "SCHEDULED", Post.version == 0).update(
        {"$set": {"status": "PUBLISHING", "version": 1}},
        response_type=UpdateResponse.NEW_DOCUMENT,
        sort=[("next_run_at", ASCENDING)],
    )
    assert isinstance(claimed, Post) and claimed.slug == "p0" and claimed.status == "PUBLISHING"

    await fetched.delete()
    assert await Post.find_all().count() == 4
    indexes = await db.posts.index_information()
    assert {"_id_", "slug_1", "status_due"} <= set(indexes)
