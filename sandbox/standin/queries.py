"""Queries: select, sort, count and project documents with mongomock's semantics, index-first.

`select` asks the planner for candidates and tests each one with the compiled filter of
`filters.py` (mongomock's own matcher where that cannot decide), then sorts with mongomock's
ordering, so results are what mongomock would return, only found without scanning the
collection. Three shortcuts keep list queries cheap:

- when the chosen index decides every condition of the filter ("exact"), its range entries
  are the matches: `count` sums range lengths and selecting tests no document;
- a sort on `_id` alone walks the `_id` index until `skip + limit` matches (when matches are
  dense) or takes the top `skip + limit` candidates by their `_id` key (when they are few);
- when the chosen index already yields the sort order, the walk stops as soon as
  `skip + limit` matches (and their ties) are collected.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from typing import Any, cast

import bson
from bson.raw_bson import RawBSONDocument

from sandbox.standin import bridge
from sandbox.standin.failures import BAD_VALUE, NOT_IMPLEMENTED, CommandFailed, bad_value
from sandbox.standin.indexes import (
    NULL_KEY,
    RANK_BOOL,
    RANK_DATE,
    RANK_NUMBER,
    RANK_OBJECTID,
    RANK_STRING,
    Index,
    Key,
    scalar_key,
)
from sandbox.standin.searches import Search
from sandbox.standin.storage import StoredCollection

Document = dict[str, Any]
_FAST_SORT_RANKS = {NULL_KEY[0], RANK_NUMBER, RANK_STRING, RANK_OBJECTID, RANK_BOOL, RANK_DATE}


def parse_sort(sort: Any) -> list[tuple[str, int]]:
    """Validate a sort document (`{field: 1 | -1}`)."""
    if sort is None:
        return []
    if not isinstance(sort, Mapping):
        raise bad_value("The 'sort' option must be a document such as {next_run_at: 1}.")
    fields: list[tuple[str, int]] = []
    for name, direction in sort.items():
        if isinstance(direction, Mapping):
            raise CommandFailed(
                NOT_IMPLEMENTED,
                f"The MongoDB stand-in does not support sorting by {direction} ('{name}').",
            )
        if isinstance(direction, bool) or direction not in (1, -1):
            raise bad_value(f"Sort direction for '{name}' must be 1 or -1, not {direction!r}.")
        fields.append((name, int(direction)))
    return fields


# A walk of the `_id` index gives up after visiting this many times the entries it expects to
# visit (or, having all the matches in hand, this many times their number): an unlucky walk
# (matches bunched at the far end of the _id order) then costs about what it could have saved.
_WALK_PATIENCE = 4
# A walk before collecting the matches is only tried when it should visit at most this
# fraction of the candidates: more when index keys decide the filter (a visit is a key lookup)
# than when documents must be read (the count that follows reads them all anyway).
_WALK_SHARE_KEYED = 0.1
_WALK_SHARE_READING = 0.01


def select(
    collection: StoredCollection,
    query: Mapping[str, Any],
    sort: list[tuple[str, int]],
    skip: int = 0,
    limit: int = 0,
) -> list[Document]:
    """The stored documents matching `query`, sorted, skipped and limited (references)."""
    search = Search.of(collection, query, sort)
    if _sorted_by_unique_id(collection, sort):
        return _select_by_id(search, sort[0][1] < 0, skip, limit)
    if search.chosen.direction and limit:
        return _select_ordered(search, sort, skip, limit)
    wanted = skip + limit if limit and not sort else 0
    found: list[Document] = []
    for seq in search.matching() if wanted else search.all_matching():
        document = collection.document(seq)
        if document is not None:
            found.append(document)
            if wanted and len(found) >= wanted:
                break
    if sort:
        found = sort_documents(found, sort)
    return found[skip : skip + limit] if limit else found[skip:]


def count(collection: StoredCollection, query: Mapping[str, Any]) -> int:
    """How many stored documents match `query` (from the index alone when it decides)."""
    if isinstance(query, Mapping) and not query:
        return len(collection)
    return Search.of(collection, query, []).count()


def _sorted_by_unique_id(collection: StoredCollection, sort: list[tuple[str, int]]) -> bool:
    """Sorting by `_id` alone, whose index keys are all scalar and order like mongomock's sort."""
    if len(sort) != 1 or sort[0][0] != "_id":
        return False
    index = collection.indexes["_id_"]
    return not index.loose and not index.unsure


def _select_by_id(search: Search, reverse: bool, skip: int, limit: int) -> list[Document]:
    """Matches sorted by `_id`, the order of the `_id` index.

    A page first tries a short walk of the `_id` index testing each entry (dense matches end
    it in about a page). Otherwise it collects every match, then either walks the `_id` index
    keeping the collected ones, or takes the top skip+limit by `_id` key with a heap. `_id`
    keys are unique, so there are no ties: a top-k is exactly the head of a full sort.
    """
    collection = search.collection
    id_index = collection.indexes["_id_"]
    wanted = skip + limit
    if limit:
        found = _walk_testing(search, id_index, reverse, wanted)
        if found is not None:
            documents = map(collection.document, found[skip:])
            return [document for document in documents if document is not None]
    seqs = search.all_matching()
    id_of = cast(Callable[[int], Key], id_index.key_of.__getitem__)
    if not limit:
        top = sorted(seqs, key=id_of, reverse=reverse)
    else:
        top = _walk_keeping(id_index, seqs, reverse, wanted) or []
        if len(top) < min(wanted, len(seqs)):
            # _ids mostly grow with insertion (ObjectIds): feeding the likely winners first
            # keeps the heap full of them, so most matches cost one comparison.
            if reverse:
                top = heapq.nlargest(wanted, reversed(seqs), key=id_of)
            else:
                top = heapq.nsmallest(wanted, seqs, key=id_of)
    return [document for document in map(collection.document, top[skip:]) if document is not None]


def _walk_testing(search: Search, id_index: Index, reverse: bool, wanted: int) -> list[int] | None:
    """The first `wanted` matching seqs in `_id` order, testing each entry walked; None when
    the walk is not worth trying or gives up (see `_WALK_PATIENCE`).

    With matches spread evenly it visits `wanted * total / matches` entries, the plan's
    candidate count standing in for the matches.
    """
    chosen, total = search.chosen, len(search.collection)
    candidates = total if chosen.kind == "scan" else chosen.count
    if chosen.kind in ("ids", "empty") or not candidates:
        return None
    expected = wanted * total / candidates
    share = _WALK_SHARE_READING if search.residual else _WALK_SHARE_KEYED
    if expected > candidates * share:
        return None
    found: list[int] = []
    budget = expected * _WALK_PATIENCE
    for visited, entry in enumerate(id_index.walk(range(len(id_index.entries)), reverse=reverse)):
        if visited > budget:
            return None
        if search.admits_seq(entry[-1]):
            found.append(entry[-1])
            if len(found) == wanted:
                break
    if not found:
        search.validate()
    return found


def _walk_keeping(id_index: Index, seqs: list[int], reverse: bool, wanted: int) -> list[int] | None:
    """The first `wanted` of `seqs` in `_id` order, walking the `_id` index; None when a walk
    should not meet them soon, or gave up (see `_WALK_PATIENCE`)."""
    total = len(id_index.entries)
    if not seqs or wanted * total / len(seqs) > len(seqs):
        return None
    members = set(seqs)
    found: list[int] = []
    budget = len(seqs) * _WALK_PATIENCE
    for visited, entry in enumerate(id_index.walk(range(total), reverse=reverse)):
        if visited > budget:
            return None
        if entry[-1] in members:
            found.append(entry[-1])
            if len(found) == wanted:
                break
    return found


def _select_ordered(
    search: Search, sort: list[tuple[str, int]], skip: int, limit: int
) -> list[Document]:
    """Walk the index in sort order; stop after skip+limit matches and the ties of the last."""
    chosen, collection = search.chosen, search.collection
    assert chosen.index is not None
    wanted = skip + limit
    start, stop = chosen.sort_start, chosen.sort_start + chosen.sort_width
    picked: list[tuple[int, Document]] = []
    boundary: tuple[Any, ...] | None = None
    positions = chosen.ranges[0]
    for entry in chosen.index.walk(positions, reverse=chosen.direction < 0):
        sort_key = entry[start:stop]
        if boundary is not None and sort_key != boundary:
            break
        document = collection.document(entry[-1])
        if document is None or not _entry_matches(search, entry):
            continue
        picked.append((entry[-1], document))
        if len(picked) == wanted:
            boundary = sort_key
    if not picked:
        search.validate()
    # Re-sort the few collected documents exactly as a full sort would (stable, natural order).
    picked.sort(key=lambda item: item[0])
    ordered = sort_documents([document for _, document in picked], sort)
    return ordered[skip : skip + limit]


def _entry_matches(search: Search, entry: Key) -> bool:
    return search.admits(entry) if search.keyed else search.passes(entry[-1])


def sort_documents(documents: list[Document], sort: list[tuple[str, int]]) -> list[Document]:
    """Stable multi-key sort with mongomock's ordering (`resolve_sort_key`)."""
    for name, direction in reversed(sort):
        if name == "$natural":
            if direction < 0:
                documents = documents[::-1]
            continue
        if name.startswith("$"):
            raise bad_value(f"Cannot sort by '{name}'.")
        keys = [_fast_sort_key(name, document) for document in documents]
        if all(key is not None for key in keys):
            ranked = [(key, document) for key, document in zip(keys, documents, strict=True) if key]
            ranked.sort(key=lambda pair: pair[0], reverse=direction < 0)
            documents = [document for _, document in ranked]
        else:
            documents = sorted(
                documents,
                key=lambda document: bridge.resolve_sort_key(name, document),
                reverse=direction < 0,
            )
    return documents


def _fast_sort_key(name: str, document: Document) -> tuple[Any, ...] | None:
    """mongomock's sort key as a plain tuple, for the types where both orders agree."""
    value = bridge.resolve_key(name, document)
    if value is bridge.NOTHING:
        return (1, NULL_KEY)
    if isinstance(value, list):
        if not value:
            return (0, NULL_KEY)
        value = value[0]
    key = scalar_key(value)
    if key is None or key[0] not in _FAST_SORT_RANKS or isinstance(value, bson.Decimal128):
        return None
    return (1, key)


def project(document: Document, projection: Mapping[str, Any] | None) -> Document:
    """`document` reduced by a projection (mongomock's rules); the document itself if none."""
    if not projection:
        return document
    try:
        result = bridge.project(document, dict(projection))
    except (ValueError, NotImplementedError) as exc:
        raise CommandFailed(BAD_VALUE, f"Invalid projection {dict(projection)}: {exc}") from exc
    return result


def encode(document: Document, projection: Mapping[str, Any] | None = None) -> RawBSONDocument:
    """A document ready to be embedded in a reply (encoded once; size known)."""
    return RawBSONDocument(bson.encode(project(document, projection)))
