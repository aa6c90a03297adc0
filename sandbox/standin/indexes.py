"""Indexes: declared index specs and the sorted key lists that make lookups avoid full scans.

mongomock matches documents by scanning the whole collection. The stand-in keeps, per declared
index, a sorted list of entries `(key_1, ..., key_n, seq)` where each key is `(type_rank,
value)` following MongoDB's BSON comparison order and `seq` is the document's insertion
number (so equal keys stay in natural order). Values that have no simple total order here
(arrays, embedded documents, regexes, ...) make the document "loose" for that index: it is then
always handed to the exact matcher, so an index only ever narrows candidates, never decides
a match. Unique indexes refuse loose values instead, because uniqueness must be exact.

Documents whose key holds a Decimal128 or binary value are also remembered as "unsure": their
key order is exact, but mongomock's equality on them is not the key's (Decimal128("1.0") is
not 1 there), so an index holding any of them never answers a filter on its own.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from bson import ObjectId
from bson.decimal128 import Decimal128

from sandbox.standin.bridge import matches
from sandbox.standin.failures import (
    BAD_VALUE,
    CANNOT_CREATE_INDEX,
    DUPLICATE_KEY,
    NOT_IMPLEMENTED,
    CommandFailed,
    refuse_option,
    unknown_field,
)

Key = tuple[Any, ...]


class _Top:
    """A sentinel greater than every key component (bisect probes for "past all of these")."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return False

    def __le__(self, other: object) -> bool:
        return other is self

    def __gt__(self, other: object) -> bool:
        return other is not self

    def __ge__(self, other: object) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "TOP"


TOP: Final = _Top()
NULL_KEY: Final[Key] = (5, 0)  # MongoDB indexes a missing field as null
_EXCLUDED: Final = object()  # sparse/partial index: the document is not in this index

# Ranks follow MongoDB's (and mongomock's) BSON type order: null < numbers < strings <
# objects < arrays < binary < ObjectId < bool < date.
RANK_NUMBER, RANK_STRING, RANK_BINARY, RANK_OBJECTID, RANK_BOOL, RANK_DATE = 10, 15, 30, 35, 40, 45


def scalar_key(value: Any) -> Key | None:
    """The index key of a scalar value, or None when it has no key (the document is loose)."""
    kind = type(value)
    if kind is str:
        return (RANK_STRING, value)
    if value is None:
        return NULL_KEY
    if kind is bool:
        return (RANK_BOOL, value)
    if kind is datetime:
        return (RANK_DATE, value)
    if isinstance(value, int | float):
        return None if value != value else (RANK_NUMBER, value)  # NaN has no order
    if kind is ObjectId:
        # Its 12 bytes order like the ObjectId itself, but compare in C (bisect, sort, heapq).
        return (RANK_OBJECTID, value.binary)
    if isinstance(value, Decimal128):
        number = value.to_decimal()
        return None if number.is_nan() else (RANK_NUMBER, number)
    if isinstance(value, bytes):
        # mongomock and MongoDB order binary by length, then bytes; the subtype breaks ties.
        return (RANK_BINARY, len(value), bytes(value), getattr(value, "subtype", 0))
    return None


def path_key(document: Mapping[str, Any], parts: tuple[str, ...]) -> Key | None:
    """The key of a (dotted) field of a document; None when the value is loose."""
    current: Any = document
    for part in parts:
        if isinstance(current, dict):
            if part not in current:
                return NULL_KEY
            current = current[part]
        elif isinstance(current, list):
            return None  # a path through an array can reach several values
        else:
            return NULL_KEY
    if isinstance(current, dict | list):
        return None
    return scalar_key(current)


def index_name(keys: tuple[tuple[str, int], ...]) -> str:
    """PyMongo's default index name (`status_1_next_run_at_1`)."""
    return "_".join(f"{name}_{direction}" for name, direction in keys)


_SPEC_FIELDS = {"key", "name", "unique", "sparse", "partialFilterExpression", "background", "v"}
_REFUSED_SPEC_FIELDS = {
    "collation",
    "expireAfterSeconds",
    "hidden",
    "weights",
    "default_language",
    "language_override",
    "textIndexVersion",
    "2dsphereIndexVersion",
    "bits",
    "min",
    "max",
    "wildcardProjection",
    "storageEngine",
    "clustered",
    "prepareUnique",
}


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """What an index was declared as: name, key pattern and options."""

    name: str
    keys: tuple[tuple[str, int], ...]
    unique: bool = False
    sparse: bool = False
    partial: dict[str, Any] | None = None

    @classmethod
    def id_index(cls) -> IndexSpec:
        return cls("_id_", (("_id", 1),), unique=True)

    @classmethod
    def parse(cls, document: Mapping[str, Any]) -> IndexSpec:
        """Validate one `createIndexes` entry; refuse what the stand-in cannot honour."""
        for option in document:
            if option in _REFUSED_SPEC_FIELDS:
                raise refuse_option(option, "createIndexes")
            if option not in _SPEC_FIELDS:
                raise unknown_field("createIndexes.indexes", option)
        pattern = document.get("key")
        if not isinstance(pattern, Mapping) or not pattern:
            raise CommandFailed(
                CANNOT_CREATE_INDEX, "Each index needs a non-empty 'key' document, e.g. {a: 1}."
            )
        keys: list[tuple[str, int]] = []
        for name, direction in pattern.items():
            if isinstance(direction, bool) or not isinstance(direction, int | float):
                raise CommandFailed(
                    NOT_IMPLEMENTED,
                    f"The MongoDB stand-in only supports ascending/descending indexes; the key "
                    f"{name!r}: {direction!r} (text, hashed, geo...) is refused.",
                )
            if direction not in (1, -1):
                raise CommandFailed(
                    CANNOT_CREATE_INDEX,
                    f"Index key {name!r} has direction {direction!r}; use 1 or -1.",
                )
            keys.append((name, int(direction)))
        partial = document.get("partialFilterExpression")
        if partial is not None and not isinstance(partial, Mapping):
            raise CommandFailed(BAD_VALUE, "partialFilterExpression must be a document.")
        name = document.get("name") or index_name(tuple(keys))
        if not isinstance(name, str):
            raise CommandFailed(BAD_VALUE, "The index 'name' must be a string.")
        if name == "_id_" and keys != [("_id", 1)]:
            raise CommandFailed(BAD_VALUE, "The index name '_id_' is reserved for the _id index.")
        spec = cls(
            name=name,
            keys=tuple(keys),
            unique=bool(document.get("unique", False)) or keys == [("_id", 1)],
            sparse=bool(document.get("sparse", False)),
            partial=dict(partial) if partial is not None else None,
        )
        if spec.partial is not None:
            matches(spec.partial, {})  # validate the expression now, not on first write
        return spec

    def options(self) -> tuple[bool, bool, dict[str, Any] | None]:
        return (self.unique, self.sparse, self.partial)

    def document(self) -> dict[str, Any]:
        """The entry `listIndexes` returns (and the snapshot stores)."""
        out: dict[str, Any] = {"v": 2, "key": dict(self.keys), "name": self.name}
        if self.unique and self.name != "_id_":
            out["unique"] = True
        if self.sparse:
            out["sparse"] = True
        if self.partial is not None:
            out["partialFilterExpression"] = self.partial
        return out


@dataclass(slots=True)
class Index:
    """One index's sorted entries, its loose documents and each document's key."""

    spec: IndexSpec
    paths: tuple[tuple[str, ...], ...] = ()
    roots: frozenset[str] = frozenset()  # the top-level fields the keys are read from
    entries: list[Key] = field(default_factory=list)
    loose: set[int] = field(default_factory=set)
    unsure: set[int] = field(default_factory=set)
    key_of: dict[int, Key | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.paths = tuple(tuple(name.split(".")) for name, _ in self.spec.keys)
        self.roots = frozenset(path[0] for path in self.paths)

    def depends_on(self, changed: frozenset[str] | None) -> bool:
        """Whether a change to these top-level fields (None: any) may change keys here."""
        # A partial index's filter may read any field, so it always recomputes.
        return (
            changed is None or self.spec.partial is not None or not self.roots.isdisjoint(changed)
        )

    @property
    def plannable(self) -> bool:
        """Sparse and partial indexes do not hold every document, so never serve queries."""
        return not self.spec.sparse and self.spec.partial is None

    def key(self, document: Mapping[str, Any]) -> Key | None | object:
        """The document's key: a tuple, None when loose, or _EXCLUDED (sparse/partial)."""
        if self.spec.partial is not None and not matches(self.spec.partial, document):
            return _EXCLUDED
        parts: list[Key] = []
        for path in self.paths:
            part = path_key(document, path)
            if part is None:
                if self.spec.unique and self.spec.name != "_id_":
                    raise CommandFailed(
                        NOT_IMPLEMENTED,
                        f"The MongoDB stand-in cannot hold arrays, embedded documents or this "
                        f"value type in the unique index '{self.spec.name}' (field "
                        f"'{'.'.join(path)}'); store a scalar there or use a real MongoDB.",
                    )
                return None
            parts.append(part)
        if self.spec.sparse and all(_missing(document, path) for path in self.paths):
            return _EXCLUDED
        return tuple(parts)

    def conflict(self, key: Key | None | object, seq: int) -> int | None:
        """The seq of another document holding `key` in this unique index, if any."""
        if not self.spec.unique or not isinstance(key, tuple):
            return None
        position = bisect.bisect_left(self.entries, key)
        for entry in self.entries[position : position + 2]:
            if entry[:-1] == key and entry[-1] != seq:
                return int(entry[-1])
        return None

    def add(self, seq: int, key: Key | None | object) -> None:
        if key is _EXCLUDED:
            return
        if key is None:
            self.loose.add(seq)
            self.key_of[seq] = None
            return
        assert isinstance(key, tuple)
        self.key_of[seq] = key
        bisect.insort(self.entries, (*key, seq))
        for part in key:
            if part[0] == RANK_BINARY or type(part[1]) is Decimal:
                self.unsure.add(seq)

    def remove(self, seq: int) -> None:
        if seq not in self.key_of:
            return
        key = self.key_of.pop(seq)
        self.unsure.discard(seq)
        if key is None:
            self.loose.discard(seq)
            return
        entry = (*key, seq)
        position = bisect.bisect_left(self.entries, entry)
        if position < len(self.entries) and self.entries[position] == entry:
            del self.entries[position]

    def duplicate_error(self, document: Mapping[str, Any], namespace: str) -> CommandFailed:
        """MongoDB's E11000 error, with keyPattern/keyValue so PyMongo raises DuplicateKeyError."""
        pattern = dict(self.spec.keys)
        values = {
            name: _value_at(document, path)
            for (name, _), path in zip(self.spec.keys, self.paths, strict=True)
        }
        shown = ", ".join(f"{name}: {value!r}" for name, value in values.items())
        return CommandFailed(
            DUPLICATE_KEY,
            f"E11000 duplicate key error collection: {namespace} index: {self.spec.name} "
            f"dup key: {{ {shown} }}",
            keyPattern=pattern,
            keyValue=values,
        )

    def scan(self, low: Key, low_inclusive: bool, high: Key, high_inclusive: bool) -> range:
        """Positions of entries between two key prefixes."""
        start = (
            bisect.bisect_left(self.entries, low)
            if low_inclusive
            else bisect.bisect_right(self.entries, (*low, TOP))
        )
        stop = (
            bisect.bisect_right(self.entries, (*high, TOP))
            if high_inclusive
            else bisect.bisect_left(self.entries, high)
        )
        return range(start, max(start, stop))

    def walk(self, positions: range, *, reverse: bool = False) -> Iterator[Key]:
        """The entries at `positions`, forwards or backwards."""
        if reverse:
            return reversed(self.entries[positions.start : positions.stop])
        return itertools.islice(self.entries, positions.start, positions.stop)


def _missing(document: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    current: Any = document
    for part in path:
        if not isinstance(current, dict) or part not in current:
            return True
        current = current[part]
    return False


def _value_at(document: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    current: Any = document
    for part in path:
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current
