"""Storage: databases and collections kept in mongomock's store, with the stand-in's indexes.

Documents live in mongomock's own `CollectionStore` (so aggregation stages such as `$lookup`
see them), keyed by `_id`. The stand-in adds what mongomock lacks for speed and exactness:
an insertion number (`seq`) per document (and the documents by seq), the sorted indexes of
`indexes.py`, O(log n) unique checks that report `keyPattern`/`keyValue`, a memo of recent
matches for `searches.py` that every write clears, and a change counter for snapshots.

Invariant: a stored document is always the BSON decoding of its own encoding (ints that
overflowed are Int64, datetimes are naive UTC with millisecond precision), so what a query
sees is exactly what a restart or a real MongoDB would hold. Stored documents are never
mutated in place: a write builds a new document and swaps it in.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import bson
from bson import ObjectId
from bson.regex import Regex

from sandbox.standin import bridge
from sandbox.standin.failures import (
    BAD_VALUE,
    DUPLICATE_KEY,
    INDEX_KEY_SPECS_CONFLICT,
    INDEX_NOT_FOUND,
    INDEX_OPTIONS_CONFLICT,
    INVALID_NAMESPACE,
    INVALID_OPTIONS,
    OBJECT_TOO_LARGE,
    CommandFailed,
)
from sandbox.standin.indexes import Index, IndexSpec
from sandbox.standin.wire import CODEC_OPTIONS, MAX_BSON_SIZE


def id_key(value: Any) -> Hashable:
    """The dictionary key of an `_id` (mongomock's convention: embedded documents hashed)."""
    key: Hashable = bridge.hashable(value)
    return key


def normalized(document: Mapping[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The document as MongoDB would store it, and its BSON; refuses what BSON cannot hold."""
    try:
        raw = bson.encode(document)
    except (bson.errors.InvalidDocument, OverflowError, TypeError) as exc:
        raise CommandFailed(BAD_VALUE, f"The document cannot be stored as BSON: {exc}") from exc
    if len(raw) > MAX_BSON_SIZE:
        raise CommandFailed(
            OBJECT_TOO_LARGE,
            f"The document is {len(raw)} bytes; MongoDB's limit is {MAX_BSON_SIZE} bytes.",
        )
    return bson.decode(raw, CODEC_OPTIONS), raw


def check_id(value: Any) -> None:
    if isinstance(value, list | Regex):
        raise CommandFailed(
            BAD_VALUE, f"The '_id' value cannot be of type {type(value).__name__}; use a scalar."
        )


class StoredCollection:
    """One collection: documents by `_id`, their insertion numbers, and the indexes."""

    def __init__(self, client: Any, database: str, name: str, changed: Callable[[], None]) -> None:
        self.name = name
        self.namespace = f"{database}.{name}"
        # mongomock's Collection (for update operators) and its live document dict.
        self.engine_collection, self.docs = bridge.collection_store(client, database, name)
        self.seq_of: dict[Hashable, int] = {}
        self.key_of_seq: dict[int, Hashable] = {}
        # The same documents by seq: reading one skips hashing its _id (ObjectId hashes in Python).
        self.doc_of_seq: dict[int, dict[str, Any]] = {}
        self.indexes: dict[str, Index] = {"_id_": Index(IndexSpec.id_index())}
        self._seqs = itertools.count(1)
        self._on_change = changed
        # The matching seqs of recent filters that had to read documents, by encoded filter, so
        # a list query's count (the same filter, right after) reads none; writes clear it.
        self.memo: dict[bytes, list[int]] = {}

    def __len__(self) -> int:
        return len(self.docs)

    def _changed(self) -> None:
        self.memo.clear()
        self._on_change()

    def document(self, seq: int) -> dict[str, Any] | None:
        return self.doc_of_seq.get(seq)

    def insert(self, document: dict[str, Any]) -> dict[str, Any]:
        """Store a new document (assigning `_id` first if missing); return the stored copy."""
        if "_id" not in document:
            document = {"_id": ObjectId(), **document}
        elif next(iter(document)) != "_id":
            document = {"_id": document["_id"], **document}  # MongoDB stores _id first
        for name in document:
            if name.startswith("$"):
                raise CommandFailed(
                    BAD_VALUE, f"Top-level field names cannot start with '$' (found '{name}')."
                )
        check_id(document["_id"])
        stored, _ = normalized(document)
        key = id_key(stored["_id"])
        if key in self.docs:
            raise self.indexes["_id_"].duplicate_error(stored, self.namespace)
        keys = self._keys(stored, seq=-1)
        seq = next(self._seqs)
        self.docs[key] = stored
        self.seq_of[key] = seq
        self.key_of_seq[seq] = key
        self.doc_of_seq[seq] = stored
        for index, index_key in zip(self.indexes.values(), keys, strict=True):
            index.add(seq, index_key)
        self._changed()
        return stored

    def replace(self, seq: int, new: dict[str, Any], changed: frozenset[str] | None = None) -> None:
        """Swap in a new version of a stored document (same `_id`, already normalized).

        `changed` names the top-level fields that may differ (None: any); the keys of indexes
        on other fields are kept without being computed again.
        """
        indexes = [index for index in self.indexes.values() if index.depends_on(changed)]
        keys = self._keys(new, seq, indexes)
        for index, index_key in zip(indexes, keys, strict=True):
            if seq in index.key_of and index.key_of[seq] == index_key:
                continue  # most updates leave most index keys alone (always _id)
            index.remove(seq)
            index.add(seq, index_key)
        self.docs[self.key_of_seq[seq]] = new
        self.doc_of_seq[seq] = new
        self._changed()

    def remove(self, seq: int) -> None:
        key = self.key_of_seq.pop(seq)
        del self.doc_of_seq[seq]
        del self.docs[key]
        del self.seq_of[key]
        for index in self.indexes.values():
            index.remove(seq)
        self._changed()

    def seq_of_document(self, document: Mapping[str, Any]) -> int:
        return self.seq_of[id_key(document["_id"])]

    def _keys(
        self, document: Mapping[str, Any], seq: int, indexes: list[Index] | None = None
    ) -> list[Any]:
        """Each index's key for `document` (every index by default), after checking the unique
        ones (except _id)."""
        indexes = list(self.indexes.values()) if indexes is None else indexes
        keys = [index.key(document) for index in indexes]
        for index, key in zip(indexes, keys, strict=True):
            if index.spec.name != "_id_" and index.conflict(key, seq) is not None:
                raise index.duplicate_error(document, self.namespace)
        return keys

    # -- indexes -------------------------------------------------------------------------

    def create_index(self, spec: IndexSpec) -> bool:
        """Build an index; False when an identical one exists (a no-op, as in MongoDB)."""
        existing = self.indexes.get(spec.name)
        if existing is not None:
            if existing.spec.keys != spec.keys:
                raise CommandFailed(
                    INDEX_KEY_SPECS_CONFLICT,
                    f"An index named '{spec.name}' already exists on {self.namespace} with key "
                    f"{dict(existing.spec.keys)}; drop it first or pick another name.",
                )
            if existing.spec.options() != spec.options():
                raise CommandFailed(
                    INDEX_OPTIONS_CONFLICT,
                    f"An index named '{spec.name}' already exists on {self.namespace} with "
                    f"different options ({existing.spec.document()}); drop it first to change "
                    "them.",
                )
            return False
        for other in self.indexes.values():
            if other.spec.keys == spec.keys and other.spec.partial == spec.partial:
                raise CommandFailed(
                    INDEX_OPTIONS_CONFLICT,
                    f"Index with key {dict(spec.keys)} already exists on {self.namespace} as "
                    f"'{other.spec.name}'; reuse that name or drop it first.",
                )
        index = Index(spec)
        for key, seq in self.seq_of.items():
            document = self.docs[key]
            index_key = index.key(document)
            if index.conflict(index_key, seq) is not None:
                raise CommandFailed(
                    DUPLICATE_KEY,
                    f"Index build failed: {index.duplicate_error(document, self.namespace)}",
                )
            index.add(seq, index_key)
        self.indexes[spec.name] = index
        self._changed()
        return True

    def drop_index(self, name: str) -> None:
        if name == "_id_":
            raise CommandFailed(INVALID_OPTIONS, "The _id index cannot be dropped.")
        if name not in self.indexes:
            raise CommandFailed(
                INDEX_NOT_FOUND, f"index not found with name [{name}] on {self.namespace}."
            )
        del self.indexes[name]
        self._changed()

    def index_named_by_key(self, pattern: Mapping[str, Any]) -> str:
        keys = tuple((name, int(direction)) for name, direction in pattern.items())
        for name, index in self.indexes.items():
            if index.spec.keys == keys:
                return name
        raise CommandFailed(
            INDEX_NOT_FOUND, f"can't find index with key: {dict(pattern)} on {self.namespace}."
        )


class Engine:
    """Every database of the server, on one mongomock client."""

    def __init__(self) -> None:
        self.client = bridge.new_client()
        self.databases: dict[str, dict[str, StoredCollection]] = {}
        self.changes = 0  # bumped by every write; the snapshotter compares it

    def touch(self) -> None:
        self.changes += 1

    def database(self, name: str) -> Any:
        """mongomock's Database object (for aggregation stages that read other collections)."""
        return self.client[name]

    def collection(self, database: str, name: str) -> StoredCollection | None:
        return self.databases.get(database, {}).get(name)

    def create_collection(self, database: str, name: str) -> StoredCollection:
        found = self.collection(database, name)
        if found is None:  # names are checked once, when the collection is created
            _check_names(database, name)
            collections = self.databases.setdefault(database, {})
            found = collections[name] = StoredCollection(self.client, database, name, self.touch)
            self.touch()
        return found

    def drop_collection(self, database: str, name: str) -> StoredCollection | None:
        collections = self.databases.get(database, {})
        dropped = collections.pop(name, None)
        if dropped is not None:
            dropped.key_of_seq.clear()
            dropped.doc_of_seq.clear()  # open cursors on it now yield nothing, as on MongoDB
            bridge.forget_collection(self.client, database, name)
            if not collections:
                self.databases.pop(database, None)
            self.touch()
        return dropped

    def drop_database(self, database: str) -> None:
        for name in list(self.databases.get(database, {})):
            self.drop_collection(database, name)


def _check_names(database: str, collection: str) -> None:
    if not database or any(ch in database for ch in '/\\. "$\x00'):
        raise CommandFailed(INVALID_NAMESPACE, f"Invalid database name: '{database}'.")
    if not collection or "$" in collection or "\x00" in collection or collection.startswith("."):
        raise CommandFailed(INVALID_NAMESPACE, f"Invalid collection name: '{collection}'.")
