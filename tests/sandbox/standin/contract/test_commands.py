"""Contract: every command the stand-in serves, through PyMongo's AsyncMongoClient.

Runs against the stand-in, or unchanged against a real MongoDB when MONGODB_URI is set.
"""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure
from pymongo.monitoring import CommandListener, CommandStartedEvent

Db = AsyncDatabase[dict[str, Any]]


class Recorder(CommandListener):
    """Remembers the names of the commands a client sent."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


async def test_ping_and_build_info(db: Db) -> None:
    assert (await db.command("ping"))["ok"] == 1
    info = await db.command("buildInfo")
    assert int(info["version"].split(".")[0]) >= 6


async def test_hello_says_writable_standalone(client: AsyncMongoClient[dict[str, Any]]) -> None:
    hello = await client.admin.command("hello")
    assert hello["isWritablePrimary"] is True
    assert hello["maxWireVersion"] >= 17  # MongoDB 6.0+
    assert "setName" not in hello or hello["setName"]  # standalone here; a replica set is fine


async def test_list_databases_and_drop_database(client: AsyncMongoClient[Any], db: Db) -> None:
    await db.things.insert_one({"a": 1})
    assert db.name in await client.list_database_names()
    await client.drop_database(db.name)
    assert db.name not in await client.list_database_names()


async def test_list_collections_honours_filter_and_name_only(db: Db) -> None:
    await db.create_collection("alpha")
    await db.beta.insert_one({"x": 1})
    assert sorted(await db.list_collection_names()) == ["alpha", "beta"]
    filtered = await db.list_collection_names(filter={"name": "beta"})
    assert filtered == ["beta"]
    reply = await db.command(
        {"listCollections": 1, "nameOnly": True, "authorizedCollections": True}
    )
    names = {entry["name"] for entry in reply["cursor"]["firstBatch"]}
    assert names == {"alpha", "beta"}
    full = await (await db.list_collections(filter={"name": "alpha"})).to_list(None)
    assert full[0]["type"] == "collection"


async def test_create_and_drop_collection(db: Db) -> None:
    await db.create_collection("made")
    assert "made" in await db.list_collection_names()
    await db.drop_collection("made")
    assert "made" not in await db.list_collection_names()
    await db.drop_collection("never-existed")  # dropping a missing collection is fine


async def test_create_indexes_lists_and_drops(db: Db) -> None:
    names = await db.posts.create_indexes(
        [
            IndexModel([("slug", ASCENDING)], unique=True, name="slug_unique"),
            IndexModel([("status", ASCENDING), ("next_run_at", DESCENDING)]),
            IndexModel([("job", ASCENDING)], sparse=True, unique=True),
            IndexModel(
                [("owner", ASCENDING)],
                unique=True,
                partialFilterExpression={"active": True},
            ),
        ]
    )
    assert names == ["slug_unique", "status_1_next_run_at_-1", "job_1", "owner_1"]
    info = await db.posts.index_information()
    assert info["slug_unique"]["unique"] is True
    assert info["status_1_next_run_at_-1"]["key"] == [("status", 1), ("next_run_at", -1)]
    assert info["job_1"]["sparse"] is True
    assert info["owner_1"]["partialFilterExpression"] == {"active": True}
    await db.posts.drop_index("job_1")
    assert "job_1" not in await db.posts.index_information()
    await db.posts.drop_index([("owner", ASCENDING)])
    await db.posts.drop_indexes()
    assert list(await db.posts.index_information()) == ["_id_"]


async def test_identical_index_creation_is_a_no_op(db: Db) -> None:
    model = IndexModel([("slug", ASCENDING)], unique=True)
    await db.posts.create_indexes([model])
    reply = await db.command(
        {
            "createIndexes": "posts",
            "indexes": [{"key": {"slug": 1}, "name": "slug_1", "unique": True}],
        }
    )
    assert reply["numIndexesBefore"] == reply["numIndexesAfter"] == 2
    assert reply["note"] == "all indexes already exist"


async def test_same_index_name_with_other_options_or_keys_conflicts(db: Db) -> None:
    await db.posts.create_index([("slug", ASCENDING)], name="slug")
    with pytest.raises(OperationFailure) as options:
        await db.posts.create_index([("slug", ASCENDING)], name="slug", unique=True)
    assert options.value.code == 85
    with pytest.raises(OperationFailure) as keys:
        await db.posts.create_index([("other", ASCENDING)], name="slug")
    assert keys.value.code in (85, 86)


async def test_sparse_unique_index_allows_many_missing(db: Db) -> None:
    await db.jobs.create_index("job_key", unique=True, sparse=True)
    await db.jobs.insert_many([{"n": 1}, {"n": 2}])
    await db.jobs.insert_one({"job_key": "a"})
    with pytest.raises(OperationFailure):
        await db.jobs.insert_one({"job_key": "a"})


async def test_partial_unique_index_only_covers_matching_documents(db: Db) -> None:
    await db.tokens.create_index("owner", unique=True, partialFilterExpression={"active": True})
    await db.tokens.insert_many([{"owner": "u", "active": False}, {"owner": "u", "active": False}])
    await db.tokens.insert_one({"owner": "u", "active": True})
    with pytest.raises(OperationFailure):
        await db.tokens.insert_one({"owner": "u", "active": True})


async def test_find_filter_projection_sort_skip_limit(db: Db) -> None:
    await db.items.insert_many([{"n": n, "even": n % 2 == 0, "tag": f"t{n}"} for n in range(20)])
    found = await db.items.find(
        {"even": True, "n": {"$gte": 4}},
        {"_id": 0, "n": 1},
        sort=[("n", DESCENDING)],
        skip=1,
        limit=3,
    ).to_list(None)
    assert found == [{"n": 16}, {"n": 14}, {"n": 12}]
    excluded = await db.items.find_one({"n": 3}, {"tag": 0, "_id": 0})
    assert excluded == {"n": 3, "even": False}


async def test_get_more_across_batches(db: Db, mongo_url: str) -> None:
    await db.items.insert_many([{"n": n} for n in range(250)])
    recorder = Recorder()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, event_listeners=[recorder]
    )
    try:
        cursor = client[db.name].items.find({}, sort=[("n", ASCENDING)], batch_size=60)
        found = [document["n"] async for document in cursor]
    finally:
        await client.close()
    assert found == list(range(250))
    assert recorder.names.count("find") == 1
    assert recorder.names.count("getMore") == 4  # 60 + 60 + 60 + 60 + 10


async def test_single_batch_and_kill_cursors(db: Db) -> None:
    await db.items.insert_many([{"n": n} for n in range(30)])
    reply = await db.command({"find": "items", "batchSize": 5, "singleBatch": True})
    assert len(reply["cursor"]["firstBatch"]) == 5
    assert reply["cursor"]["id"] == 0
    empty_first = await db.command({"find": "items", "batchSize": 0})
    assert empty_first["cursor"]["firstBatch"] == [] and empty_first["cursor"]["id"] != 0
    rest = await db.command({"getMore": empty_first["cursor"]["id"], "collection": "items"})
    assert len(rest["cursor"]["nextBatch"]) == 30 and rest["cursor"]["id"] == 0
    opened = await db.command({"find": "items", "batchSize": 5})
    cursor_id = opened["cursor"]["id"]
    assert cursor_id != 0
    killed = await db.command({"killCursors": "items", "cursors": [cursor_id]})
    assert killed["cursorsKilled"] == [cursor_id]
    with pytest.raises(OperationFailure) as gone:
        await db.command({"getMore": cursor_id, "collection": "items"})
    assert gone.value.code == 43


async def test_update_operators_multi_and_replacement(db: Db) -> None:
    await db.items.insert_many([{"n": n, "group": n % 2} for n in range(6)])
    many = await db.items.update_many({"group": 1}, {"$inc": {"n": 100}, "$set": {"seen": True}})
    assert (many.matched_count, many.modified_count) == (3, 3)
    assert sorted(d["n"] for d in await db.items.find({"seen": True}).to_list(None)) == [
        101,
        103,
        105,
    ]
    one = await db.items.update_one({"n": 0}, {"$set": {"n": 0}})
    assert (one.matched_count, one.modified_count) == (1, 0)
    replaced = await db.items.replace_one({"n": 2}, {"n": 2, "replaced": True})
    assert replaced.modified_count == 1
    document = await db.items.find_one({"n": 2}, {"_id": 0})
    assert document == {"n": 2, "replaced": True}
    pushed = await db.items.update_one({"n": 4}, {"$push": {"tags": "a"}, "$unset": {"group": ""}})
    assert pushed.modified_count == 1
    assert await db.items.find_one({"n": 4}, {"_id": 0}) == {"n": 4, "tags": ["a"]}


async def test_upsert_creates_from_equality_fields(db: Db) -> None:
    result = await db.items.update_one(
        {"key": "k1", "n": {"$gt": 5}},
        {"$set": {"value": 1}, "$setOnInsert": {"new": True}},
        upsert=True,
    )
    assert result.upserted_id is not None
    document = await db.items.find_one({"_id": result.upserted_id}, {"_id": 0})
    assert document == {"key": "k1", "value": 1, "new": True}
    again = await db.items.update_one(
        {"key": "k1"}, {"$set": {"value": 2}, "$setOnInsert": {"new": False}}, upsert=True
    )
    assert again.upserted_id is None and again.modified_count == 1
    kept = await db.items.find_one({"key": "k1"})
    assert kept is not None and kept["new"] is True


async def test_update_cannot_change_id(db: Db) -> None:
    await db.items.insert_one({"_id": 1, "a": 1})
    with pytest.raises(OperationFailure) as failure:
        await db.items.update_one({"_id": 1}, {"$set": {"_id": 2}})
    assert failure.value.code == 66


async def test_delete_one_and_many(db: Db) -> None:
    await db.items.insert_many([{"n": n, "odd": n % 2 == 1} for n in range(10)])
    assert (await db.items.delete_one({"odd": True})).deleted_count == 1
    assert (await db.items.delete_many({"odd": True})).deleted_count == 4
    assert await db.items.count_documents({}) == 5


async def test_find_and_modify_forms(db: Db) -> None:
    await db.jobs.insert_many([{"n": n, "state": "ready"} for n in range(3)])
    before = await db.jobs.find_one_and_update(
        {"state": "ready"},
        {"$set": {"state": "taken"}},
        sort=[("n", DESCENDING)],
        projection={"_id": 0},
    )
    assert before == {"n": 2, "state": "ready"}
    after = await db.jobs.find_one_and_update(
        {"state": "ready"},
        {"$set": {"state": "taken"}},
        sort=[("n", ASCENDING)],
        projection={"_id": 0, "state": 1},
        return_document=ReturnDocument.AFTER,
    )
    assert after == {"state": "taken"}
    removed = await db.jobs.find_one_and_delete({"state": "ready"}, projection={"_id": 0})
    assert removed == {"n": 1, "state": "ready"}
    assert await db.jobs.find_one_and_update({"state": "ready"}, {"$set": {"x": 1}}) is None
    upserted = await db.jobs.find_one_and_update(
        {"n": 9}, {"$set": {"state": "new"}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    assert upserted is not None and upserted["n"] == 9 and upserted["state"] == "new"
    replaced = await db.jobs.find_one_and_replace(
        {"n": 9}, {"n": 9, "state": "replaced"}, return_document=ReturnDocument.AFTER
    )
    assert replaced is not None and replaced["state"] == "replaced"


async def test_aggregate_count_and_distinct(db: Db) -> None:
    await db.sales.insert_many(
        [
            {"shop": shop, "amount": amount}
            for shop, amount in [("a", 1), ("a", 2), ("b", 5), ("c", 7)]
        ]
    )
    totals = await (
        await db.sales.aggregate(
            [
                {"$match": {"amount": {"$gte": 2}}},
                {"$group": {"_id": "$shop", "total": {"$sum": "$amount"}}},
                {"$sort": {"_id": 1}},
            ]
        )
    ).to_list(None)
    assert totals == [{"_id": "a", "total": 2}, {"_id": "b", "total": 5}, {"_id": "c", "total": 7}]
    assert await db.sales.count_documents({"shop": "a"}) == 2
    assert await db.sales.count_documents({}, skip=1, limit=2) == 2
    assert await db.sales.estimated_document_count() == 4
    assert sorted(await db.sales.distinct("shop")) == ["a", "b", "c"]
    assert sorted(await db.sales.distinct("shop", {"amount": {"$gt": 1}})) == ["a", "b", "c"]
    assert (await db.command({"count": "sales", "query": {"shop": "b"}}))["n"] == 1
    await db.shops.insert_many([{"_id": "a", "city": "Oslo"}, {"_id": "b", "city": "Rome"}])
    joined = await (
        await db.sales.aggregate(
            [
                {"$match": {"shop": "b"}},
                {
                    "$lookup": {
                        "from": "shops",
                        "localField": "shop",
                        "foreignField": "_id",
                        "as": "at",
                    }
                },
                {"$project": {"_id": 0, "city": "$at.city"}},
            ]
        )
    ).to_list(None)
    assert joined == [{"city": ["Rome"]}]


async def test_aggregate_in_batches(db: Db) -> None:
    await db.items.insert_many([{"n": n} for n in range(150)])
    cursor = await db.items.aggregate([{"$sort": {"n": -1}}], batchSize=40)
    found = [document["n"] async for document in cursor]
    assert found == list(range(149, -1, -1))


async def test_unknown_command_is_command_not_found(db: Db) -> None:
    with pytest.raises(OperationFailure) as failure:
        await db.command("noSuchCommandAnywhere")
    assert failure.value.code == 59
    assert "noSuchCommandAnywhere" in str(failure.value)
