"""CRUD commands: find/getMore/killCursors, insert, update, delete, findAndModify, aggregate,
count and distinct.

Each write statement succeeds or fails on its own; failures become `writeErrors` entries
(with `keyPattern`/`keyValue` for duplicates) exactly where MongoDB puts them, so PyMongo
raises `DuplicateKeyError`/`BulkWriteError` as it would against a real server.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import bson
from bson import Int64
from bson.raw_bson import RawBSONDocument

from sandbox.standin import bridge
from sandbox.standin.context import Call, CommandSpec, Reply, spec
from sandbox.standin.cursors import DEFAULT_FIRST_BATCH
from sandbox.standin.failures import (
    BAD_VALUE,
    CURSOR_NOT_FOUND,
    FAILED_TO_PARSE,
    NOT_IMPLEMENTED,
    CommandFailed,
    bad_value,
    from_exception,
    refuse_option,
    unknown_field,
)
from sandbox.standin.queries import count as count_matching
from sandbox.standin.queries import encode, parse_sort, project, select
from sandbox.standin.storage import StoredCollection
from sandbox.standin.wire import CODEC_OPTIONS
from sandbox.standin.writes import apply_update, upsert, validate_update

Document = dict[str, Any]


# -- reads ---------------------------------------------------------------------------------


def find(call: Call) -> Reply:
    query = call.document("filter")
    sort = parse_sort(call.command.get("sort"))
    projection = call.document("projection") or None
    skip = call.integer("skip")
    limit = call.integer("limit")
    batch_size = call.integer("batchSize", -1, minimum=-1)
    collection = call.collection()
    stream: Iterator[RawBSONDocument] = iter(())
    if collection is None:
        bridge.matches(query, {})  # a malformed filter fails even on a missing collection
    else:
        stream = _current(collection, select(collection, query, sort, skip, limit), projection)
    return _open_cursor(
        call,
        stream,
        DEFAULT_FIRST_BATCH if batch_size < 0 else batch_size,
        single_batch=call.flag("singleBatch"),
        no_timeout=call.flag("noCursorTimeout"),
    )


def _current(
    collection: StoredCollection, documents: list[Document], projection: Mapping[str, Any] | None
) -> Iterator[RawBSONDocument]:
    """Encode each result when its batch is cut, as it is then (skipping deleted ones)."""
    seqs = [collection.seq_of_document(document) for document in documents]
    for seq in seqs:
        document = collection.document(seq)
        if document is not None:
            yield encode(document, projection)


def _open_cursor(
    call: Call,
    stream: Iterator[RawBSONDocument],
    first_batch: int,
    *,
    single_batch: bool = False,
    no_timeout: bool = False,
) -> Reply:
    namespace = call.namespace()
    cursor_id, batch = call.context.cursors.open(
        namespace,
        stream,
        first_batch,
        call.context.seconds(),
        single_batch=single_batch,
        no_timeout=no_timeout,
    )
    return {"cursor": {"firstBatch": batch, "id": Int64(cursor_id), "ns": namespace}}


def get_more(call: Call) -> Reply:
    cursor_id = call.command["getMore"]
    if isinstance(cursor_id, bool) or not isinstance(cursor_id, int):
        raise bad_value("getMore needs a cursor id (an int64).")
    size = call.integer("batchSize") or None  # 0 or absent: as much as fits in one reply
    served = call.context.cursors.more(int(cursor_id), size, call.context.seconds())
    if served is None:
        raise CommandFailed(
            CURSOR_NOT_FOUND,
            f"cursor id {cursor_id} not found; it was exhausted, killed or idle for 10 minutes.",
        )
    cursor, batch = served
    alive = cursor.id if cursor.id in call.context.cursors.cursors else 0
    return {"cursor": {"nextBatch": batch, "id": Int64(alive), "ns": cursor.namespace}}


def kill_cursors(call: Call) -> Reply:
    ids = call.command.get("cursors")
    if not isinstance(ids, list):
        raise bad_value("killCursors needs a 'cursors' array of ids.")
    killed: list[Int64] = []
    missing: list[Int64] = []
    for cursor_id in ids:
        (killed if call.context.cursors.kill(int(cursor_id)) else missing).append(Int64(cursor_id))
    return {
        "cursorsKilled": killed,
        "cursorsNotFound": missing,
        "cursorsAlive": [],
        "cursorsUnknown": [],
    }


def count(call: Call) -> Reply:
    query = call.document("query")
    collection = call.collection()
    if collection is None:
        return {"n": 0}
    limit = abs(call.integer("limit", minimum=-(2**62)))
    skip = call.integer("skip")
    total = len(collection) if not query else count_matching(collection, query)
    return {"n": _window(total, skip, limit)}


def _window(total: int, skip: int, limit: int) -> int:
    """How many of `total` matches remain after skipping `skip` and limiting to `limit` (0: all)."""
    remaining = max(0, total - skip)
    return min(remaining, limit) if limit else remaining


def distinct(call: Call) -> Reply:
    key = call.command.get("key")
    if not isinstance(key, str) or not key:
        raise bad_value("distinct needs 'key', the name of a field.")
    collection = call.collection()
    documents = select(collection, call.document("query"), []) if collection else []
    values: list[Any] = []
    seen: set[Any] = set()
    for document in documents:  # mongomock's Cursor.distinct, without its full scan
        for value in bridge.key_candidates(key, document):
            if value is bridge.NOTHING:
                continue
            for item in value if isinstance(value, list | tuple) else [value]:
                marker = bridge.hashable(item)
                if marker not in seen:
                    seen.add(marker)
                    values.append(item)
    return {"values": values}


def aggregate(call: Call) -> Reply:
    if not isinstance(call.command.get("aggregate"), str):
        raise CommandFailed(
            NOT_IMPLEMENTED,
            "The MongoDB stand-in only supports collection aggregations ({aggregate: 'name'}), "
            "not database-level ones ({aggregate: 1}).",
        )
    pipeline = call.command.get("pipeline")
    if not isinstance(pipeline, list) or not all(isinstance(s, Mapping) for s in pipeline):
        raise bad_value("aggregate needs 'pipeline', an array of stage documents.")
    if "cursor" not in call.command:
        raise CommandFailed(
            FAILED_TO_PARSE, "The 'cursor' option is required, except for aggregate with explain."
        )
    for stage in pipeline:
        for name in stage:
            if name == "$changeStream":
                raise refuse_option("$changeStream (change streams)", "aggregate")
            if name in ("$out", "$merge"):
                raise refuse_option(name, "aggregate")
    cursor_options = call.document("cursor")
    for name in cursor_options:
        if name != "batchSize":
            raise unknown_field("aggregate.cursor", name)
    batch_size = cursor_options.get("batchSize", DEFAULT_FIRST_BATCH)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 0:
        raise bad_value("aggregate's cursor.batchSize must be a non-negative integer.")
    collection = call.collection()
    counted = _counted(collection, pipeline)
    if counted is not None:
        return _open_cursor(call, _encoded(counted), batch_size)
    documents, rest = _pushed_down(collection, pipeline)
    copies = [bson.decode(bson.encode(document), CODEC_OPTIONS) for document in documents]
    results = bridge.run_pipeline(copies, call.context.engine.database(call.database), rest)
    return _open_cursor(call, _encoded(results), batch_size)


def _counted(
    collection: StoredCollection | None, pipeline: list[Mapping[str, Any]]
) -> list[Document] | None:
    """The result of a counting pipeline, counted through the indexes; None for other pipelines.

    Recognizes what `count_documents` sends, `[{$match}, {$skip}?, {$limit}?, {$group: {_id:
    <constant>, n: {$sum: 1}}}]`, and `[{$match}, {$count: "n"}]`. Like MongoDB, an empty input
    gives no document at all.
    """
    stages = list(pipeline)
    query: Any = {}
    if stages and set(stages[0]) == {"$match"}:
        query = stages.pop(0)["$match"]
    skip = _stage_number(stages, "$skip", minimum=0)
    limit = _stage_number(stages, "$limit", minimum=1)
    if skip is None or limit is None or len(stages) != 1 or not isinstance(query, dict):
        return None
    shape = _count_shape(stages[0])
    if shape is None:
        return None
    head, name = shape
    total = 0 if collection is None else count_matching(collection, query)
    n = _window(total, skip, limit)
    return [{**head, name: n}] if n else []


def _stage_number(stages: list[Mapping[str, Any]], name: str, *, minimum: int) -> int | None:
    """Pop a leading `{name: <int>}` stage: its value, 0 when absent, None when invalid."""
    if not stages or set(stages[0]) != {name}:
        return 0
    value = stages[0][name]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        return None  # mongomock reports the error
    stages.pop(0)
    return value


def _count_shape(stage: Mapping[str, Any]) -> tuple[Document, str] | None:
    """A counting stage's result, as (fields before the count, count field); None otherwise."""
    if set(stage) == {"$count"}:
        name = stage["$count"]
        if isinstance(name, str) and name and not name.startswith("$") and "." not in name:
            return {}, name
        return None
    group = stage.get("$group")
    if len(stage) != 1 or not isinstance(group, dict) or len(group) != 2 or "_id" not in group:
        return None
    constant = group["_id"]
    if not (
        constant is None
        or type(constant) in (int, float, bool)
        or (type(constant) is str and not constant.startswith("$"))
    ):
        return None  # a field path or an expression: a real grouping
    (name, accumulator), *_ = [(k, v) for k, v in group.items() if k != "_id"]
    if accumulator != {"$sum": 1} or type(accumulator["$sum"]) is not int:
        return None
    if name.startswith("$") or "." in name:
        return None
    return {"_id": constant}, name


def _pushed_down(
    collection: StoredCollection | None, pipeline: list[Mapping[str, Any]]
) -> tuple[list[Document], list[Mapping[str, Any]]]:
    """Run a leading $match (+ $sort, + $limit) through the indexes; return the rest."""
    if collection is None:
        return [], pipeline
    if not pipeline or set(pipeline[0]) != {"$match"}:
        return select(collection, {}, []), pipeline
    query = pipeline[0]["$match"]
    position, sort, limit = 1, [], 0
    if len(pipeline) > position and set(pipeline[position]) == {"$sort"}:
        sort = parse_sort(pipeline[position]["$sort"])
        position += 1
        if len(pipeline) > position and set(pipeline[position]) == {"$limit"}:
            value = pipeline[position]["$limit"]
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                limit = value
                position += 1
    return select(collection, query, sort, 0, limit), pipeline[position:]


def _encoded(results: Any) -> Iterator[RawBSONDocument]:
    for document in results:
        try:
            yield RawBSONDocument(bson.encode(document))
        except (bson.errors.InvalidDocument, TypeError, OverflowError) as exc:
            raise CommandFailed(
                BAD_VALUE, f"An aggregation result is not valid BSON: {exc}"
            ) from exc


# -- writes --------------------------------------------------------------------------------


def insert(call: Call) -> Reply:
    documents = call.command.get("documents")
    if not isinstance(documents, list) or not documents:
        raise bad_value("insert needs a non-empty 'documents' array.")
    collection = call.context.engine.create_collection(call.database, call.target())
    ordered = call.command.get("ordered", True)
    inserted, errors = 0, []
    for position, document in enumerate(documents):
        try:
            collection.insert(_document(document))
            inserted += 1
        except Exception as exc:
            errors.append(_write_error(position, exc))
            if ordered:
                break
    return _write_reply({"n": inserted}, errors)


_UPDATE_FIELDS = {"q", "u", "upsert", "multi"}
_UPDATE_REFUSED = {"collation", "arrayFilters", "hint", "c", "sort"}


def update(call: Call) -> Reply:
    statements = _statements(call, "updates", _UPDATE_FIELDS, _UPDATE_REFUSED)
    ordered = call.command.get("ordered", True)
    matched, modified, upserted, errors = 0, 0, [], []
    for position, statement in enumerate(statements):
        try:
            found, changed, new_id = _update_one_statement(call, statement)
            matched += found
            modified += changed
            if new_id is not None:
                upserted.append({"index": position, "_id": new_id})
        except Exception as exc:
            errors.append(_write_error(position, exc))
            if ordered:
                break
    reply: Reply = {"n": matched + len(upserted), "nModified": modified}
    if upserted:
        reply["upserted"] = upserted
    return _write_reply(reply, errors)


def _update_one_statement(call: Call, statement: Mapping[str, Any]) -> tuple[int, int, Any]:
    query, change = statement.get("q", {}), statement.get("u")
    if not isinstance(query, Mapping):
        raise bad_value("Each update needs 'q', a filter document.")
    kind = validate_update(change)
    multi = bool(statement.get("multi", False))
    if multi and kind == "replacement":
        raise CommandFailed(
            FAILED_TO_PARSE, "multi update is not supported for replacement-style update"
        )
    collection = call.collection()
    documents: list[Document] = []
    modified = 0
    if collection is None:
        bridge.matches(query, {})  # a malformed filter fails even on a missing collection
    else:
        documents = select(collection, query, [], 0, 0 if multi else 1)
        for document in documents:
            seq = collection.seq_of_document(document)
            if apply_update(collection, seq, document, query, change, kind) is not None:
                modified += 1
    if documents or not statement.get("upsert", False):
        return len(documents), modified, None
    target = call.context.engine.create_collection(call.database, call.target())
    return 0, 0, upsert(target, query, change)["_id"]


_DELETE_FIELDS = {"q", "limit"}
_DELETE_REFUSED = {"collation", "hint"}


def delete(call: Call) -> Reply:
    statements = _statements(call, "deletes", _DELETE_FIELDS, _DELETE_REFUSED)
    ordered = call.command.get("ordered", True)
    removed, errors = 0, []
    collection = call.collection()
    for position, statement in enumerate(statements):
        try:
            removed += _delete_statement(collection, statement)
        except Exception as exc:
            errors.append(_write_error(position, exc))
            if ordered:
                break
    return _write_reply({"n": removed}, errors)


def _delete_statement(collection: StoredCollection | None, statement: Mapping[str, Any]) -> int:
    limit = statement.get("limit", 0)
    if limit not in (0, 1):
        raise bad_value("A delete's 'limit' must be 0 (all matches) or 1.")
    query = statement.get("q", {})
    if not isinstance(query, Mapping):
        raise bad_value("Each delete needs 'q', a filter document.")
    if collection is None:
        bridge.matches(query, {})
        return 0
    documents = select(collection, query, [], 0, int(limit))
    for document in documents:
        collection.remove(collection.seq_of_document(document))
    return len(documents)


def _document(value: Any) -> Document:
    if not isinstance(value, dict):
        raise bad_value("Each inserted document must be a document.")
    return value


def find_and_modify(call: Call) -> Reply:
    query = call.document("query")
    sort = parse_sort(call.command.get("sort"))
    fields = call.document("fields") or None
    remove, change = call.flag("remove"), call.command.get("update")
    new, do_upsert = call.flag("new"), call.flag("upsert")
    if remove and (change is not None or new or do_upsert):
        raise CommandFailed(
            FAILED_TO_PARSE, "findAndModify cannot combine remove=true with update, new or upsert."
        )
    if not remove and change is None:
        raise CommandFailed(FAILED_TO_PARSE, "findAndModify needs either 'update' or remove=true.")
    kind = validate_update(change) if change is not None else None
    collection = call.collection()
    documents = select(collection, query, sort, 0, 1) if collection else []
    if collection is None:
        bridge.matches(query, {})
    if documents:
        assert collection is not None
        before = documents[0]
        seq = collection.seq_of_document(before)
        if remove:
            collection.remove(seq)
            return {"lastErrorObject": {"n": 1}, "value": project(before, fields)}
        after = apply_update(collection, seq, before, query, change, kind) or before
        return {
            "lastErrorObject": {"n": 1, "updatedExisting": True},
            "value": project(after if new else before, fields),
        }
    if do_upsert:
        target = call.context.engine.create_collection(call.database, call.target())
        inserted = upsert(target, query, change)
        return {
            "lastErrorObject": {"n": 1, "updatedExisting": False, "upserted": inserted["_id"]},
            "value": project(inserted, fields) if new else None,
        }
    error: Document = {"n": 0} if remove else {"n": 0, "updatedExisting": False}
    return {"lastErrorObject": error, "value": None}


def _statements(
    call: Call, field: str, allowed: set[str], refused: set[str]
) -> list[Mapping[str, Any]]:
    statements = call.command.get(field)
    if not isinstance(statements, list) or not statements:
        raise bad_value(f"{call.name} needs a non-empty '{field}' array.")
    for statement in statements:
        if not isinstance(statement, Mapping):
            raise bad_value(f"Each entry of '{field}' must be a document.")
        for name in statement:
            if name in refused:
                raise refuse_option(name, call.name)
            if name not in allowed:
                raise unknown_field(f"{call.name}.{field}", name)
    return statements


def _write_error(position: int, exc: Exception) -> Document:
    failure = from_exception(exc)
    if failure is None:
        raise exc
    return {"index": position, **failure.to_error_fields()}


def _write_reply(reply: Reply, errors: list[Document]) -> Reply:
    if errors:
        reply["writeErrors"] = errors
    return reply


_READ = "readConcern maxTimeMS comment"
_WRITE = "writeConcern bypassDocumentValidation maxTimeMS comment"

HANDLERS: dict[str, CommandSpec] = {
    "find": spec(
        find,
        f"filter sort projection skip limit batchSize singleBatch noCursorTimeout allowDiskUse "
        f"allowPartialResults {_READ}",
        "hint collation let min max returnKey showRecordId tailable awaitData oplogReplay readOnce",
    ),
    "getMore": spec(get_more, "collection batchSize maxTimeMS comment"),
    "killCursors": spec(kill_cursors, "cursors comment"),
    "count": spec(count, f"query limit skip {_READ}", "hint collation"),
    "distinct": spec(distinct, f"key query {_READ}", "hint collation"),
    "aggregate": spec(
        aggregate,
        f"pipeline cursor allowDiskUse bypassDocumentValidation writeConcern {_READ}",
        "hint collation let explain",
    ),
    "insert": spec(insert, f"documents ordered {_WRITE}"),
    "update": spec(update, f"updates ordered {_WRITE}", "let"),
    "delete": spec(delete, f"deletes ordered {_WRITE}", "let"),
    "findAndModify": spec(
        find_and_modify,
        f"query sort update remove new fields upsert {_WRITE}",
        "collation arrayFilters hint let",
    ),
}
