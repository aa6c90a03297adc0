"""Contract: the list queries of the dashboard and the API (a page newest first, and its
total), through PyMongo. Runs against the stand-in, or unchanged against a real MongoDB.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

Db = AsyncDatabase[dict[str, Any]]

T0 = datetime(2030, 1, 1, tzinfo=UTC)
STATUSES = ["DRAFT", "SCHEDULED", "PUBLISHED", "FAILED"]
OWNER, OTHER = ObjectId(), ObjectId()
ACCOUNTS = [ObjectId(), ObjectId()]


def _post(n: int) -> dict[str, Any]:
    status = STATUSES[n % 4]
    return {
        "_id": ObjectId(),
        "owner_id": OWNER if n % 5 else OTHER,
        "account_id": ACCOUNTS[n % 2],
        "status": status,
        "next_run_at": T0 + timedelta(minutes=n) if status == "SCHEDULED" else None,
        "content": {"text": f"Post {n}" + (" about Tea" if n % 7 == 0 else "")},
        "created_at": T0 + timedelta(seconds=n),
    }


@pytest.fixture
async def posts(db: Db) -> list[dict[str, Any]]:
    """300 posts of two owners, in the `posts` collection with its indexes."""
    await db.posts.create_indexes(
        [
            IndexModel([("status", ASCENDING), ("next_run_at", ASCENDING)]),
            IndexModel([("owner_id", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel(
                [("owner_id", ASCENDING), ("status", ASCENDING), ("next_run_at", ASCENDING)]
            ),
            IndexModel([("account_id", ASCENDING), ("status", ASCENDING)]),
        ]
    )
    documents = [_post(n) for n in range(300)]
    await db.posts.insert_many([dict(document) for document in documents])
    return documents


QUERIES: dict[str, tuple[dict[str, Any], Any]] = {
    "owner": ({"owner_id": OWNER}, lambda p: p["owner_id"] == OWNER),
    "status": (
        {"owner_id": OWNER, "status": {"$in": ["SCHEDULED", "FAILED"]}},
        lambda p: p["owner_id"] == OWNER and p["status"] in ("SCHEDULED", "FAILED"),
    ),
    "account": (
        {"owner_id": OWNER, "account_id": ACCOUNTS[1]},
        lambda p: p["owner_id"] == OWNER and p["account_id"] == ACCOUNTS[1],
    ),
    "due": (
        {
            "owner_id": OWNER,
            "next_run_at": {"$gte": T0 + timedelta(minutes=20), "$lte": T0 + timedelta(hours=2)},
        },
        lambda p: (
            p["owner_id"] == OWNER
            and p["next_run_at"] is not None
            and T0 + timedelta(minutes=20) <= p["next_run_at"] <= T0 + timedelta(hours=2)
        ),
    ),
    "text": (
        {"owner_id": OWNER, "content.text": {"$regex": re.escape("tea"), "$options": "i"}},
        lambda p: p["owner_id"] == OWNER and "tea" in p["content"]["text"].lower(),
    ),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
@pytest.mark.parametrize("skip", [0, 20])
async def test_a_page_newest_first_and_its_total(
    db: Db, posts: list[dict[str, Any]], name: str, skip: int
) -> None:
    query, keep = QUERIES[name]
    matching = sorted((p["_id"] for p in posts if keep(p)), reverse=True)
    page = await db.posts.find(query, sort=[("_id", DESCENDING)], skip=skip, limit=11).to_list(None)
    assert [p["_id"] for p in page] == matching[skip : skip + 11]
    assert await db.posts.count_documents(query) == len(matching)
    assert await db.posts.count_documents(query, skip=3, limit=5) == min(
        5, max(0, len(matching) - 3)
    )
    assert (await db.command({"count": "posts", "query": query}))["n"] == len(matching)


async def test_counting_stages_give_no_document_for_no_match(
    db: Db, posts: list[dict[str, Any]]
) -> None:
    owned = sum(1 for p in posts if p["owner_id"] == OWNER)
    counted = await (
        await db.posts.aggregate([{"$match": {"owner_id": OWNER}}, {"$count": "n"}])
    ).to_list(None)
    assert counted == [{"n": owned}]
    grouped = await (
        await db.posts.aggregate(
            [{"$match": {"owner_id": OWNER}}, {"$group": {"_id": None, "n": {"$sum": 1}}}]
        )
    ).to_list(None)
    assert grouped == [{"_id": None, "n": owned}]
    first = posts[0]["_id"]
    assert await db.posts.count_documents({"_id": first}) == 1
    assert (await db.command({"count": "posts", "query": {"_id": first}}))["n"] == 1
    assert await db.posts.count_documents({"_id": ObjectId()}) == 0
    nobody = {"owner_id": ObjectId()}
    assert (
        await (await db.posts.aggregate([{"$match": nobody}, {"$count": "n"}])).to_list(None) == []
    )
    assert await db.posts.count_documents(nobody) == 0
    assert await db.missing.count_documents({"owner_id": OWNER}) == 0


async def test_totals_follow_writes(db: Db, posts: list[dict[str, Any]]) -> None:
    query = {"owner_id": OWNER, "content.text": {"$regex": "tea", "$options": "i"}}
    before = await db.posts.count_documents(query)
    newest = (await db.posts.find(query, sort=[("_id", DESCENDING)], limit=1).to_list(None))[0]
    await db.posts.insert_one({**_post(1000), "owner_id": OWNER, "content": {"text": "More TEA"}})
    assert await db.posts.count_documents(query) == before + 1
    await db.posts.update_one({"_id": newest["_id"]}, {"$set": {"content.text": "coffee"}})
    assert await db.posts.count_documents(query) == before
    status = {"owner_id": OWNER, "status": "DRAFT"}
    drafts = await db.posts.count_documents(status)
    await db.posts.update_many(status, {"$set": {"status": "CANCELLED"}})
    assert await db.posts.count_documents(status) == 0
    assert await db.posts.count_documents({"owner_id": OWNER, "status": "CANCELLED"}) == drafts


async def test_booleans_and_numbers_never_compare_equal(db: Db) -> None:
    await db.flags.create_index("a")
    await db.flags.insert_many([{"a": True}, {"a": 1}, {"a": 1.0}, {"a": False}, {"a": 0}])
    await db.plain.insert_many([{"a": True}, {"a": 1}, {"a": 1.0}, {"a": False}, {"a": 0}])
    for collection in (db.flags, db.plain):
        assert await collection.count_documents({"a": 1}) == 2
        assert await collection.count_documents({"a": True}) == 1
        assert await collection.count_documents({"a": {"$in": [0, True]}}) == 2
        assert await collection.count_documents({"a": {"$gte": 0}}) == 3
