"""Contract: what the stand-in does not implement is refused loudly, naming the option.

A real MongoDB implements all of these, so the module is skipped when MONGODB_URI is set.
"""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.collation import Collation
from pymongo.errors import OperationFailure

Db = AsyncDatabase[dict[str, Any]]

pytestmark = pytest.mark.usefixtures("standin_only")


@pytest.fixture
async def items(db: Db) -> Db:
    await db.items.insert_many([{"n": n, "tags": [{"t": n}]} for n in range(3)])
    return db


def _names(failure: pytest.ExceptionInfo[OperationFailure], option: str) -> None:
    assert option in str(failure.value), str(failure.value)


async def test_collation_is_refused_everywhere(items: Db) -> None:
    collation = Collation("en", strength=2)
    with pytest.raises(OperationFailure) as find:
        await items.items.find_one({"n": 1}, collation=collation)
    _names(find, "collation")
    with pytest.raises(OperationFailure) as update:
        await items.items.update_one({"n": 1}, {"$set": {"x": 1}}, collation=collation)
    _names(update, "collation")
    with pytest.raises(OperationFailure) as index:
        await items.items.create_index("n", collation=collation)
    _names(index, "collation")


async def test_array_filters_are_refused(items: Db) -> None:
    with pytest.raises(OperationFailure) as update:
        await items.items.update_one(
            {"n": 1}, {"$set": {"tags.$[e].t": 9}}, array_filters=[{"e.t": 1}]
        )
    _names(update, "arrayFilters")
    with pytest.raises(OperationFailure) as modify:
        await items.items.find_one_and_update(
            {"n": 1}, {"$set": {"tags.$[e].t": 9}}, array_filters=[{"e.t": 1}]
        )
    _names(modify, "arrayFilters")
    unchanged = await items.items.find_one({"n": 1})
    assert unchanged is not None and unchanged["tags"] == [{"t": 1}]  # nothing written


async def test_hint_is_refused(items: Db) -> None:
    with pytest.raises(OperationFailure) as find:
        await items.items.find({"n": 1}, hint=[("_id", 1)]).to_list(None)
    _names(find, "hint")
    with pytest.raises(OperationFailure) as count:
        await items.items.count_documents({}, hint="_id_")
    _names(count, "hint")
    with pytest.raises(OperationFailure) as delete:
        await items.items.delete_one({"n": 1}, hint="_id_")
    _names(delete, "hint")


async def test_transactions_are_refused(items: Db, client: AsyncMongoClient[Any]) -> None:
    async with client.start_session() as session:
        await session.start_transaction()
        with pytest.raises(OperationFailure) as failure:
            await items.items.insert_one({"n": 99}, session=session)
        _names(failure, "startTransaction")
        assert "ransaction" in str(failure.value)
    assert await items.items.count_documents({"n": 99}) == 0


async def test_let_change_streams_and_out_are_refused(items: Db) -> None:
    with pytest.raises(OperationFailure) as let:
        await items.items.find_one({"$expr": {"$eq": ["$n", "$$v"]}}, let={"v": 1})
    _names(let, "let")
    with pytest.raises(OperationFailure) as stream:
        await items.items.watch()
    _names(stream, "$changeStream")
    with pytest.raises(OperationFailure) as out:
        await items.items.aggregate([{"$out": "copy"}])
    _names(out, "$out")


async def test_unknown_options_and_commands_are_refused(items: Db) -> None:
    with pytest.raises(OperationFailure) as unknown:
        await items.command({"find": "items", "filter": {}, "frobnicate": True})
    assert unknown.value.code == 40415
    _names(unknown, "frobnicate")
    with pytest.raises(OperationFailure) as command:
        await items.command({"mapReduce": "items", "map": "", "reduce": "", "out": "x"})
    assert command.value.code == 59
    _names(command, "mapReduce")
    with pytest.raises(OperationFailure) as capped:
        await items.create_collection("capped", capped=True, size=1024)
    _names(capped, "capped")
    with pytest.raises(OperationFailure) as ttl:
        await items.items.create_index("n", expireAfterSeconds=60)
    _names(ttl, "expireAfterSeconds")
    with pytest.raises(OperationFailure) as text:
        await items.items.create_index([("body", "text")])
    _names(text, "text")


async def test_unsupported_update_operator_is_refused(items: Db) -> None:
    with pytest.raises(OperationFailure) as failure:
        await items.items.update_one({"n": 1}, {"$mul": {"n": 2}})
    _names(failure, "$mul")
