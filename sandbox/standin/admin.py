"""Admin commands: handshake, server info, databases, collections, indexes and stats."""

from __future__ import annotations

from typing import Any

from bson import Int64

from sandbox.standin.bridge import matches
from sandbox.standin.context import Call, CommandSpec, Reply, spec
from sandbox.standin.failures import (
    BAD_VALUE,
    ILLEGAL_OPERATION,
    NAMESPACE_EXISTS,
    NAMESPACE_NOT_FOUND,
    CommandFailed,
    bad_value,
)
from sandbox.standin.indexes import IndexSpec
from sandbox.standin.wire import MAX_BSON_SIZE, MAX_MESSAGE_SIZE

VERSION = "7.0.0"
MAX_WIRE_VERSION = 21  # MongoDB 7.0; PyMongo 4.20 needs at least 9
_ID_INDEX = {"v": 2, "key": {"_id": 1}, "name": "_id_"}


def hello(call: Call) -> Reply:
    # No `topologyVersion`: PyMongo then polls `hello` (every heartbeat) instead of streaming.
    # No `setName`/`msg`: a standalone server, so drivers never send transactions or txnNumber.
    reply: Reply = {"helloOk": True}
    if call.name == "hello":
        reply["isWritablePrimary"] = True
    else:
        reply["ismaster"] = True
    reply.update(
        {
            "maxBsonObjectSize": MAX_BSON_SIZE,
            "maxMessageSizeBytes": MAX_MESSAGE_SIZE,
            "maxWriteBatchSize": 100_000,
            "localTime": call.context.now(),
            "logicalSessionTimeoutMinutes": 30,
            "connectionId": call.connection_id,
            "minWireVersion": 0,
            "maxWireVersion": MAX_WIRE_VERSION,
            "readOnly": False,
        }
    )
    return reply


def ping(call: Call) -> Reply:
    return {}


def build_info(call: Call) -> Reply:
    return {
        "version": VERSION,
        "gitVersion": "mongo-standin",
        "versionArray": [7, 0, 0, 0],
        "bits": 64,
        "debug": False,
        "maxBsonObjectSize": MAX_BSON_SIZE,
        "storageEngines": ["mongomock"],
        "modules": [],
    }


def end_sessions(call: Call) -> Reply:
    return {}


def refuse_transactions(call: Call) -> Reply:
    raise transactions_refused()


def transactions_refused() -> CommandFailed:
    return CommandFailed(
        ILLEGAL_OPERATION,
        "Transactions (startTransaction/autocommit/commitTransaction) are not supported by the "
        "MongoDB stand-in, a standalone server; use single-document atomic updates "
        "(find_one_and_update) or run against a real MongoDB replica set.",
    )


def list_databases(call: Call) -> Reply:
    query = call.document("filter")
    entries = []
    for name, collections in sorted(call.context.engine.databases.items()):
        size = sum(len(collection) for collection in collections.values())
        entry: dict[str, Any] = {"name": name, "sizeOnDisk": size, "empty": size == 0}
        if matches(query, entry):
            entries.append({"name": name} if call.flag("nameOnly") else entry)
    reply: Reply = {"databases": entries}
    if not call.flag("nameOnly"):
        reply["totalSize"] = sum(entry.get("sizeOnDisk", 0) for entry in entries)
    return reply


def list_collections(call: Call) -> Reply:
    query = call.document("filter")
    name_only = call.flag("nameOnly")
    batch = []
    collections = call.context.engine.databases.get(call.database, {})
    for name in sorted(collections):
        entry: dict[str, Any] = {"name": name, "type": "collection"}
        if not name_only:
            entry.update(options={}, info={"readOnly": False}, idIndex=_ID_INDEX)
        if matches(query, entry):
            batch.append(entry)
    return {
        "cursor": {
            "id": Int64(0),
            "ns": f"{call.database}.$cmd.listCollections",
            "firstBatch": batch,
        }
    }


def create(call: Call) -> Reply:
    engine = call.context.engine
    if call.collection() is not None:
        raise CommandFailed(NAMESPACE_EXISTS, f"Collection {call.namespace()} already exists.")
    engine.create_collection(call.database, call.target())
    return {}


def drop(call: Call) -> Reply:
    dropped = call.context.engine.drop_collection(call.database, call.target())
    if dropped is None:
        return {}  # MongoDB 7 treats dropping a missing collection as success
    return {"ns": call.namespace(), "nIndexesWas": len(dropped.indexes)}


def drop_database(call: Call) -> Reply:
    call.context.engine.drop_database(call.database)
    return {"dropped": call.database}


def create_indexes(call: Call) -> Reply:
    raw = call.command.get("indexes")
    if not isinstance(raw, list) or not raw:
        raise bad_value("createIndexes needs a non-empty 'indexes' array.")
    specs = [IndexSpec.parse(entry) for entry in raw if isinstance(entry, dict)]
    if len(specs) != len(raw):
        raise bad_value("Each entry of 'indexes' must be a document.")
    engine = call.context.engine
    created_collection = call.collection() is None
    collection = engine.create_collection(call.database, call.target())
    before = len(collection.indexes)
    built: list[str] = []
    try:
        for index in specs:
            if collection.create_index(index):
                built.append(index.name)
    except CommandFailed:
        for name in built:  # all or nothing, like MongoDB's index builds
            collection.drop_index(name)
        raise
    reply: Reply = {
        "numIndexesBefore": before,
        "numIndexesAfter": len(collection.indexes),
        "createdCollectionAutomatically": created_collection,
    }
    if not built:
        reply["note"] = "all indexes already exist"
    return reply


def list_indexes(call: Call) -> Reply:
    collection = call.collection()
    if collection is None:
        raise CommandFailed(NAMESPACE_NOT_FOUND, f"ns does not exist: {call.namespace()}")
    batch = [index.spec.document() for index in collection.indexes.values()]
    return {"cursor": {"id": Int64(0), "ns": call.namespace(), "firstBatch": batch}}


def drop_indexes(call: Call) -> Reply:
    collection = call.collection()
    if collection is None:
        raise CommandFailed(NAMESPACE_NOT_FOUND, f"ns not found: {call.namespace()}")
    before = len(collection.indexes)
    target = call.command.get("index")
    if target == "*":
        names = [name for name in collection.indexes if name != "_id_"]
    elif isinstance(target, str):
        names = [target]
    elif isinstance(target, list) and all(isinstance(name, str) for name in target):
        names = list(target)
    elif isinstance(target, dict):
        names = [collection.index_named_by_key(target)]
    else:
        raise CommandFailed(BAD_VALUE, "dropIndexes needs 'index': a name, a key pattern or '*'.")
    for name in names:
        collection.drop_index(name)
    return {"nIndexesWas": before}


def standin_stats(call: Call) -> Reply:
    return call.context.stats.document()


def standin_reset_stats(call: Call) -> Reply:
    call.context.stats.reset()
    return {}


_CREATE_REFUSED = (
    "capped size max validator validationLevel validationAction viewOn pipeline timeseries "
    "expireAfterSeconds clusteredIndex collation storageEngine indexOptionDefaults idIndex "
    "changeStreamPreAndPostImages encryptedFields"
)

HANDLERS: dict[str, CommandSpec] = {
    "hello": spec(hello, None, monitoring=True),
    "isMaster": spec(hello, None, monitoring=True),
    "ismaster": spec(hello, None, monitoring=True),
    "ping": spec(ping, None, monitoring=True),
    "buildInfo": spec(build_info, None, monitoring=True),
    "buildinfo": spec(build_info, None, monitoring=True),
    "endSessions": spec(end_sessions, None, monitoring=True),
    "commitTransaction": spec(refuse_transactions, None),
    "abortTransaction": spec(refuse_transactions, None),
    "listDatabases": spec(list_databases, "filter nameOnly authorizedDatabases"),
    "listCollections": spec(list_collections, "filter nameOnly authorizedCollections cursor"),
    "create": spec(create, "", _CREATE_REFUSED),
    "drop": spec(drop),
    "dropDatabase": spec(drop_database),
    "createIndexes": spec(create_indexes, "indexes commitQuorum"),
    "listIndexes": spec(list_indexes, "cursor"),
    "dropIndexes": spec(drop_indexes, "index"),
    "standinStats": spec(standin_stats, monitoring=True),
    "standinResetStats": spec(standin_reset_stats, monitoring=True),
}
