"""The engine in-process: index-backed queries return exactly what a full scan returns, do not
scan the collection, and cursors time out on the injected clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import bson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sandbox.standin import queries, writes
from sandbox.standin.commands import Dispatcher
from sandbox.standin.indexes import IndexSpec
from sandbox.standin.planner import plan
from sandbox.standin.storage import Engine, StoredCollection, normalized
from scheduler.platform.clock import ManualClock
from tests.sandbox.standin.counting import counting_reads, counting_tests

T0 = datetime(2030, 1, 1)

# Small domains, so that generated filters often match (and mix types, nulls, arrays).
VALUES = st.one_of(
    st.none(),
    st.integers(0, 3),
    st.just(2.5),
    st.sampled_from(["a", "b"]),
    st.sampled_from([T0, T0 + timedelta(hours=1)]),
    st.lists(st.integers(0, 3), min_size=1, max_size=2),
    st.just({"x": 1}),
)
DOCUMENT = st.dictionaries(st.sampled_from(["a", "b"]), VALUES)
SCALARS = st.one_of(st.none(), st.integers(0, 3), st.just("a"), st.just(T0 + timedelta(hours=1)))


def _condition() -> st.SearchStrategy[Any]:
    ranges = st.dictionaries(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), SCALARS, min_size=1)
    return st.one_of(
        SCALARS,
        st.builds(lambda v: {"$eq": v}, SCALARS),
        st.builds(lambda vs: {"$in": vs}, st.lists(SCALARS, max_size=3)),
        ranges,
        st.builds(lambda v: {"$ne": v}, SCALARS),
    )


QUERY = st.one_of(
    st.dictionaries(st.sampled_from(["a", "b"]), _condition()),
    st.builds(lambda a, b: {"$and": [{"a": a}, {"b": b}]}, _condition(), _condition()),
)
SORT = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.sampled_from([1, -1])),
    max_size=2,
    unique_by=lambda s: s[0],
)


def _collections(documents: list[dict[str, Any]]) -> tuple[StoredCollection, StoredCollection]:
    engine = Engine()
    indexed = engine.create_collection("t", "indexed")
    plain = engine.create_collection("t", "plain")
    for keys in ((("a", 1),), (("b", -1),), (("a", 1), ("b", 1))):
        indexed.create_index(IndexSpec("_".join(f"{k}_{d}" for k, d in keys), keys))
    for document in documents:
        indexed.insert(dict(document))
        plain.insert(dict(document))
    return indexed, plain


MIXED = [{"a": None}, {}, {"a": "a"}, {"a": 0}, {"a": 2}, {"a": T0}, {"a": [0, 2]}, {"a": 2.5}]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(
    documents=[{"a": [1, 2]}, {"a": 1}, {"a": {"x": 1}}, {"b": 2}],
    query={"a": 1},
    sort=[],
    skip=0,
    limit=0,
)
@example(
    documents=[{"a": 1, "b": 2}, {"a": 1, "b": 1}, {"a": 1}, {"a": 2, "b": 0}, {"a": 1, "b": 1}],
    query={"a": 1},
    sort=[("b", -1)],
    skip=1,
    limit=2,
)
@example(documents=MIXED, query={"a": {"$lte": 2}}, sort=[("a", 1)], skip=0, limit=0)
@example(documents=MIXED, query={"a": {"$gt": 0, "$lt": "b"}}, sort=[], skip=0, limit=0)
@example(documents=MIXED, query={"a": {"$lt": 1}}, sort=[], skip=0, limit=0)
@example(documents=MIXED, query={"a": {"$lt": "b"}}, sort=[], skip=0, limit=0)
@example(documents=MIXED, query={"a": {"$in": [None, "a"]}}, sort=[("a", -1)], skip=0, limit=3)
@given(
    documents=st.lists(DOCUMENT, min_size=3, max_size=25),
    query=QUERY,
    sort=SORT,
    skip=st.integers(0, 2),
    limit=st.integers(0, 4),
)
def test_index_backed_queries_match_a_full_scan(
    documents: list[dict[str, Any]],
    query: dict[str, Any],
    sort: list[tuple[str, int]],
    skip: int,
    limit: int,
) -> None:
    numbered = [{"_id": n, **document} for n, document in enumerate(documents)]
    indexed, plain = _collections(numbered)
    try:
        expected = [d["_id"] for d in queries.select(plain, query, sort, skip, limit)]
    except Exception as exc:  # mongomock rejects some generated filters; so must the index path
        with pytest.raises(type(exc)):
            queries.select(indexed, query, sort, skip, limit)
        return
    found = [d["_id"] for d in queries.select(indexed, query, sort, skip, limit)]
    assert found == expected
    assert queries.count(indexed, query) == queries.count(plain, query)


@pytest.fixture
def posts() -> StoredCollection:
    engine = Engine()
    collection = engine.create_collection("app", "posts")
    collection.create_index(IndexSpec("status_due", (("status", 1), ("next_run_at", 1))))
    for n in range(5_000):
        collection.insert(
            {
                "status": "SCHEDULED" if n % 2 else "PUBLISHED",
                "next_run_at": T0 + timedelta(minutes=n),
            }
        )
    return collection


def test_due_post_query_walks_only_the_index_range(posts: StoredCollection) -> None:
    reads = counting_reads(posts)
    due = {"status": "SCHEDULED", "next_run_at": {"$lte": T0 + timedelta(minutes=1000)}}
    found = queries.select(posts, due, [("next_run_at", 1)], 0, 10)
    assert [d["next_run_at"] for d in found] == [T0 + timedelta(minutes=n) for n in range(1, 21, 2)]
    assert reads.reads <= 11  # ten matches plus the tie check, not 5,000


def test_range_without_limit_only_touches_candidates(
    posts: StoredCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads, tests = counting_reads(posts), counting_tests(monkeypatch)
    due = {"status": "SCHEDULED", "next_run_at": {"$lt": T0 + timedelta(minutes=100)}}
    found = queries.select(posts, due, [("next_run_at", -1)])
    assert len(found) == 50
    assert found[0]["next_run_at"] == T0 + timedelta(minutes=99)
    assert reads.reads == 50  # the results themselves: the index decided the filter
    assert tests[0] == 0


def test_id_lookups_do_not_scan(posts: StoredCollection, monkeypatch: pytest.MonkeyPatch) -> None:
    target = next(iter(posts.docs.values()))
    chosen = plan(posts.indexes, {"_id": target["_id"]}, [])
    assert chosen.kind == "ids"
    tests, reads = counting_tests(monkeypatch), counting_reads(posts)
    assert queries.select(posts, {"_id": target["_id"]}, []) == [target]
    assert tests[0] == 0  # the _id lookup decides the match
    assert reads.reads <= 2
    assert queries.select(posts, {"_id": "missing"}, []) == []


def test_unindexed_field_falls_back_to_a_full_scan(posts: StoredCollection) -> None:
    assert plan(posts.indexes, {"text": "x"}, []).kind == "scan"
    assert plan(posts.indexes, {"status": "NOPE"}, []).count == 0


def _run(dispatcher: Dispatcher, command: dict[str, Any]) -> dict[str, Any]:
    """Serve a command and decode the reply as a client would see it."""
    return bson.decode(bson.encode(dispatcher.run({**command, "$db": "t"})))


def test_idle_cursors_time_out_on_the_clock() -> None:
    clock = ManualClock(datetime(2030, 1, 1, tzinfo=UTC))
    dispatcher = Dispatcher(clock=clock)
    _run(dispatcher, {"insert": "c", "documents": [{"n": n} for n in range(10)]})
    opened = _run(dispatcher, {"find": "c", "batchSize": 2})
    kept = _run(dispatcher, {"find": "c", "batchSize": 2, "noCursorTimeout": True})
    clock.advance(timedelta(minutes=9))
    assert _run(dispatcher, {"getMore": opened["cursor"]["id"], "collection": "c", "batchSize": 2})[
        "ok"
    ]
    clock.advance(timedelta(minutes=10, seconds=1))
    assert dispatcher.reap_cursors() == 1
    gone = _run(dispatcher, {"getMore": opened["cursor"]["id"], "collection": "c"})
    assert gone["code"] == 43
    rest = _run(dispatcher, {"getMore": kept["cursor"]["id"], "collection": "c"})
    assert len(rest["cursor"]["nextBatch"]) == 8 and rest["cursor"]["id"] == 0


def test_failed_update_leaves_the_document_untouched() -> None:
    dispatcher = Dispatcher()
    _run(dispatcher, {"insert": "c", "documents": [{"_id": 1, "n": "text", "m": 1}]})
    failed = _run(
        dispatcher,
        {"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"m": 2}, "$inc": {"n": 1}}}]},
    )
    assert failed["writeErrors"][0]["code"] != 0
    found = _run(dispatcher, {"find": "c", "filter": {"_id": 1}})
    assert found["cursor"]["firstBatch"] == [{"_id": 1, "n": "text", "m": 1}]


def test_unique_index_build_refuses_existing_duplicates() -> None:
    dispatcher = Dispatcher()
    _run(dispatcher, {"insert": "c", "documents": [{"k": 1}, {"k": 1}]})
    reply = _run(
        dispatcher,
        {"createIndexes": "c", "indexes": [{"key": {"k": 1}, "name": "k_1", "unique": True}]},
    )
    assert reply["code"] == 11000
    listed = _run(dispatcher, {"listIndexes": "c"})
    assert [index["name"] for index in listed["cursor"]["firstBatch"]] == ["_id_"]


def test_unique_index_refuses_arrays_loudly() -> None:
    dispatcher = Dispatcher()
    _run(
        dispatcher,
        {"createIndexes": "c", "indexes": [{"key": {"k": 1}, "name": "k_1", "unique": True}]},
    )
    reply = _run(dispatcher, {"insert": "c", "documents": [{"k": [1, 2]}]})
    assert "unique index 'k_1'" in reply["writeErrors"][0]["errmsg"]


FIELD_VALUES = st.one_of(
    st.none(),
    st.integers(-3, 3),
    st.floats(-2, 2, allow_nan=False),
    st.text(max_size=2),
    st.lists(st.integers(0, 2), max_size=2),
    st.booleans(),
)
NUMBERS = st.one_of(st.integers(-(2**40), 2**40), st.floats(-5, 5, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(
    document=st.dictionaries(st.sampled_from(["a", "b", "c"]), FIELD_VALUES),
    sets=st.dictionaries(st.sampled_from(["a", "b", "d"]), FIELD_VALUES, max_size=2),
    incs=st.dictionaries(st.sampled_from(["a", "c", "e"]), NUMBERS, max_size=2),
)
def test_set_and_inc_hot_path_matches_mongomock(
    document: dict[str, Any], sets: dict[str, Any], incs: dict[str, Any]
) -> None:
    update = {key: value for key, value in (("$set", sets), ("$inc", incs)) if value}
    if not update:
        return
    engine = Engine()
    collection = engine.create_collection("t", "c")
    stored = collection.insert({"_id": 1, **document})

    def outcome(fast: bool) -> Any:
        original = writes._set_and_inc
        if not fast:
            writes._set_and_inc = lambda document, update: None
        try:
            new, _ = normalized(writes.updated(collection, stored, {"_id": 1}, update))
            return ("ok", new, [type(v) for v in new.values()])
        except Exception as exc:
            return ("error", type(exc))
        finally:
            writes._set_and_inc = original

    assert outcome(fast=True) == outcome(fast=False)


def test_session_fields_and_retryable_write_numbers_are_accepted() -> None:
    dispatcher = Dispatcher()
    session = {"lsid": {"id": bson.Binary(b"s" * 16, 4)}, "$readPreference": {"mode": "primary"}}
    reply = _run(
        dispatcher,
        {"insert": "c", "documents": [{"_id": 1}], "txnNumber": bson.Int64(1), **session},
    )
    assert reply == {"n": 1, "ok": 1.0}
    refused = _run(
        dispatcher,
        {
            "insert": "c",
            "documents": [{"_id": 2}],
            "txnNumber": bson.Int64(2),
            "startTransaction": True,
            "autocommit": False,
            **session,
        },
    )
    assert refused["ok"] == 0 and "startTransaction" in refused["errmsg"]
    assert _run(dispatcher, {"count": "c"})["n"] == 1
