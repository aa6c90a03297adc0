"""Queries: select, sort and project documents with mongomock's exact semantics, index-first.

`select` asks the planner for candidates, then hands each one to mongomock's `filter_applies`
and sorts with mongomock's own sort keys, so results are what mongomock would return, only
found without scanning the collection. When the chosen index already yields the sort order,
the scan stops as soon as `skip + limit` matches (and their ties) are collected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import bson
from bson.raw_bson import RawBSONDocument

from scheduler.standin import bridge
from scheduler.standin.bridge import matches
from scheduler.standin.failures import BAD_VALUE, NOT_IMPLEMENTED, CommandFailed, bad_value
from scheduler.standin.indexes import (
    NULL_KEY,
    RANK_BOOL,
    RANK_DATE,
    RANK_NUMBER,
    RANK_OBJECTID,
    RANK_STRING,
    scalar_key,
)
from scheduler.standin.planner import Plan, plan
from scheduler.standin.storage import StoredCollection, id_key

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


def select(
    collection: StoredCollection,
    query: Mapping[str, Any],
    sort: list[tuple[str, int]],
    skip: int = 0,
    limit: int = 0,
) -> list[Document]:
    """The stored documents matching `query`, sorted, skipped and limited (references)."""
    if not isinstance(query, Mapping):
        raise bad_value("The filter must be a document.")
    chosen = plan(collection.indexes, query, sort)
    if chosen.direction and limit:
        return _select_ordered(collection, chosen, query, sort, skip, limit)
    found: list[Document] = []
    wanted = skip + limit if limit and not sort else 0
    seen_any = False
    for document in _candidates(collection, chosen):
        seen_any = True
        if matches(query, document):
            found.append(document)
            if wanted and len(found) >= wanted:
                break
    if not seen_any:
        matches(query, {})  # still reject a malformed filter on an empty result
    if sort:
        found = sort_documents(found, sort)
    return found[skip : skip + limit] if limit else found[skip:]


def _candidates(collection: StoredCollection, chosen: Plan) -> Iterable[Document]:
    if chosen.kind == "scan":
        return collection.all_documents()
    if chosen.kind == "empty":
        return ()
    if chosen.kind == "ids":
        found: dict[int, Document] = {}
        for value in chosen.id_values:
            key = id_key(value)
            document = collection.docs.get(key)
            if document is not None:
                found[collection.seq_of[key]] = document
        return [found[seq] for seq in sorted(found)]
    assert chosen.index is not None
    entries = chosen.index.entries
    seqs = {entries[position][-1] for positions in chosen.ranges for position in positions}
    seqs.update(chosen.index.loose)
    return [doc for doc in map(collection.document, sorted(seqs)) if doc is not None]


def _select_ordered(
    collection: StoredCollection,
    chosen: Plan,
    query: Mapping[str, Any],
    sort: list[tuple[str, int]],
    skip: int,
    limit: int,
) -> list[Document]:
    """Walk the index in sort order; stop after skip+limit matches and the ties of the last."""
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
        if document is None or not matches(query, document):
            continue
        picked.append((entry[-1], document))
        if len(picked) == wanted:
            boundary = sort_key
    if not picked:
        matches(query, {})
    # Re-sort the few collected documents exactly as a full sort would (stable, natural order).
    picked.sort(key=lambda item: item[0])
    ordered = sort_documents([document for _, document in picked], sort)
    return ordered[skip : skip + limit]


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
