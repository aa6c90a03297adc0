"""Searches: the documents one filter matches, decided from index keys wherever possible.

A `Search` combines the planner's candidates with the compiled filter (`filters.py`) and
splits the filter's conditions by what decides them, cheapest first:

1. the ranges of the chosen index (its equality prefix and range field): free;
2. a later field of the chosen index, read from the candidate's own index entry;
3. a field of another index, read from that index's key of the document (`key_of`);
4. the rest (regexes, dotted paths, fields no index holds) on the document itself, with
   mongomock's matcher for whatever the compiled filter cannot decide.

Keys decide a condition exactly as mongomock would for every document an index holds with a
scalar key (see `filters.py`), so an index holding Decimal128 or binary keys ("unsure") decides
nothing, and a document whose key is loose (an array...) is tested whole. When nothing is left
for step 4, the search is `exact`, and with no step 2 or 3 either, counting is a sum of range
lengths.

A filter that had to read many documents remembers its matches on the collection until the
next write (`StoredCollection.memo`): a dashboard page asks for the page, then for the count of
the same filter, and the second answer then costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import bson

from sandbox.standin.bridge import matches
from sandbox.standin.failures import bad_value
from sandbox.standin.filters import FieldTest, Filter, compile_filter
from sandbox.standin.indexes import Index, Key
from sandbox.standin.planner import FieldBounds, Plan, by_id_alone, plan
from sandbox.standin.storage import StoredCollection, id_key

MEMO_SIZE = 8
MEMO_MIN_CANDIDATES = 256  # below this, matching again costs less than remembering

Document = dict[str, Any]
Predicate = Callable[[Document], bool]


def predicate(query: Mapping[str, Any], compiled: Filter | None) -> Predicate:
    """`query` as a test of one document: the compiled filter, mongomock where it cannot tell."""
    if compiled is None:
        return lambda document: matches(query, document)
    decide = compiled.fields[0].decide if len(compiled.fields) == 1 else compiled.decide

    def test(document: Document) -> bool:
        decided = decide(document)
        return matches(query, document) if decided is None else decided

    return test


def _anything(document: Document) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """One condition read from an index key: `bounds` applied to `key[position]`.

    `key_of` is another index's key by seq; None reads the candidate's own entry.
    """

    bounds: FieldBounds
    position: int
    key_of: dict[int, Key | None] | None = None


@dataclass(slots=True)
class Search:
    """One filter being answered: its plan, what decides each condition, and the results."""

    collection: StoredCollection
    query: Mapping[str, Any]
    chosen: Plan
    compiled: Filter | None
    test: Predicate  # the whole filter on one document
    # The conditions split by what decides them (see the module docstring), when `keyed`:
    range_checks: list[KeyCheck] = field(default_factory=list)  # what the ranges decide
    entry_checks: list[KeyCheck] = field(default_factory=list)
    lookups: list[KeyCheck] = field(default_factory=list)
    residual: Predicate | None = None  # what keys leave undecided, on the document
    keyed: bool = False  # the chosen index's ranges decide their fields

    @classmethod
    def of(
        cls, collection: StoredCollection, query: Mapping[str, Any], sort: list[tuple[str, int]]
    ) -> Search:
        """Plan `query` on `collection` (for `sort`) and split its conditions."""
        if not isinstance(query, Mapping):
            raise bad_value("The filter must be a document.")
        if by_id_alone(query):  # the hot path: the _id lookup itself decides the match
            chosen = plan(collection.indexes, query, sort)
            return cls(collection, query, chosen, None, _anything, residual=_anything)
        compiled = compile_filter(query)
        bounds = None if compiled is None else compiled.bounds()
        chosen = plan(collection.indexes, query, sort, bounds)
        search = cls(collection, query, chosen, compiled, predicate(query, compiled))
        index = chosen.index
        if compiled is None or index is None or index.unsure:
            search.residual = search.test
            return search
        search.keyed = True
        rest: list[FieldTest] = []
        for test in compiled.fields:
            check = _key_check(collection, index, test)
            if check is not None and test.name in chosen.fields:
                search.range_checks.append(check)  # the ranges decide it; the walk reads it
                continue
            if check is None:
                rest.append(test)
            elif check.key_of is None:
                search.entry_checks.append(check)
            else:
                search.lookups.append(check)
        if rest:
            search.residual = predicate(query, Filter(tuple(rest)))
        return search

    @property
    def exact(self) -> bool:
        """True when index keys decide every condition (no document is read to decide)."""
        return self.keyed and self.residual is None

    def validate(self) -> None:
        """Reject a malformed filter even when no document reached the matcher."""
        if self.compiled is None:
            matches(self.query, {})

    def passes(self, seq: int) -> bool:
        """Whether the document `seq` matches, tested whole."""
        document = self.collection.document(seq)
        return document is not None and self.test(document)

    def admits_seq(self, seq: int) -> bool:
        """Whether the document `seq` matches, from the chosen index's key of it if keyed."""
        index = self.chosen.index
        if not self.keyed or index is None:
            return self.passes(seq)
        key = index.key_of.get(seq)
        if key is None:
            return self.passes(seq)  # loose in the chosen index
        for check in self.range_checks:
            if not check.bounds.admits(key[check.position]):
                return False
        return self._admits(key, seq)

    def admits(self, entry: Key) -> bool:
        """Whether the document of an entry in the chosen index's ranges matches."""
        return self._admits(entry, entry[-1])

    def _admits(self, key: Key, seq: int) -> bool:
        """The checks beyond the ranges, for a document with this key in the chosen index."""
        for check in self.entry_checks:
            if not check.bounds.admits(key[check.position]):
                return False
        for check in self.lookups:
            assert check.key_of is not None
            other = check.key_of.get(seq)
            if other is None:
                return self.passes(seq)  # loose in that index: only the document can tell
            if not check.bounds.admits(other[check.position]):
                return False
        if self.residual is None:
            return True
        document = self.collection.document(seq)
        return document is not None and self.residual(document)

    def all_matching(self) -> list[int]:
        """Every matching seq in natural order, remembered when documents had to be read."""
        key = self._memo_key()
        if key is None:
            return self._collect()
        memo = self.collection.memo
        seqs = memo.get(key)
        if seqs is None:
            seqs = self._collect()
            if len(memo) >= MEMO_SIZE:
                del memo[next(iter(memo))]
            memo[key] = seqs
        return seqs

    def matching(self) -> Iterator[int]:
        """The seqs of the matching documents in natural order, lazily where possible."""
        if self.keyed:
            yield from self._collect()
            return
        candidates = _candidate_seqs(self.collection, self.chosen)
        if not candidates:
            self.validate()
        yield from filter(self.passes, candidates)

    def count(self) -> int:
        """How many documents match."""
        chosen = self.chosen
        if self.residual is not None:
            return len(self.all_matching())
        assert chosen.index is not None
        loose = sum(1 for seq in chosen.index.loose if self.passes(seq))
        if self.exact and not self.entry_checks and not self.lookups:
            return loose + sum(len(positions) for positions in chosen.ranges)
        return loose + len(self._admitted())

    def _collect(self) -> list[int]:
        if not self.keyed:
            return list(self.matching())
        assert self.chosen.index is not None
        seqs = self._admitted()  # in key order
        seqs.extend(seq for seq in self.chosen.index.loose if self.passes(seq))
        seqs.sort()  # natural order
        return seqs

    def _entry_test(self) -> Callable[[Key], bool]:
        """`admits`, specialized for the common shapes (one check read from keys)."""
        if self.residual is None and len(self.entry_checks) + len(self.lookups) == 1:
            if self.entry_checks:
                position, admits = self.entry_checks[0].position, self.entry_checks[0].bounds.admits
                return lambda entry: admits(entry[position])
            check, passes = self.lookups[0], self.passes
            assert check.key_of is not None
            key_of, position, admits = check.key_of.get, check.position, check.bounds.admits

            def test(entry: Key) -> bool:
                key = key_of(entry[-1])
                return passes(entry[-1]) if key is None else admits(key[position])

            return test
        return self.admits

    def _memo_key(self) -> bytes | None:
        """The memo key of a compiled filter that reads many documents; None: not worth it."""
        if self.compiled is None or self.residual is None:
            return None  # mongomock-only filters may not be deterministic ($expr...)
        chosen = self.chosen
        candidates = len(self.collection) if chosen.kind == "scan" else chosen.count
        if candidates < MEMO_MIN_CANDIDATES:
            return None
        try:
            return bson.encode(self.query)
        except (bson.errors.InvalidDocument, TypeError, OverflowError):
            return None

    def _admitted(self) -> list[int]:
        """The seqs of the entries in the chosen index's ranges whose documents match."""
        assert self.chosen.index is not None
        entries = self.chosen.index.entries
        ranges = [entries[positions.start : positions.stop] for positions in self.chosen.ranges]
        if self.entry_checks or self.lookups:
            test = self._entry_test()
            return [entry[-1] for part in ranges for entry in part if test(entry)]
        if self.residual is None:
            return [entry[-1] for part in ranges for entry in part]
        # The common shape, inlined: documents tested on what the keys left undecided.
        document, residual = self.collection.doc_of_seq.get, self.residual
        return [
            entry[-1]
            for part in ranges
            for entry in part
            if (found := document(entry[-1])) is not None and residual(found)
        ]


def _keyable(test: FieldTest) -> bool:
    """Index keys can decide this field's conditions (top level, no regex)."""
    return len(test.parts) == 1 and not test.patterns and test.bounds is not None


def _key_check(collection: StoredCollection, chosen: Index, test: FieldTest) -> KeyCheck | None:
    """Where an index key decides `test`: the chosen index's entries first, then another."""
    if not _keyable(test):
        return None
    assert test.bounds is not None
    for position, (name, _) in enumerate(chosen.spec.keys):
        if name == test.name:
            return KeyCheck(test.bounds, position)
    for index in collection.indexes.values():
        if not index.plannable or index.unsure:
            continue  # partial/sparse indexes lack documents; unsure keys decide nothing
        for position, (name, _) in enumerate(index.spec.keys):
            if name == test.name:
                return KeyCheck(test.bounds, position, index.key_of)
    return None


def _candidate_seqs(collection: StoredCollection, chosen: Plan) -> list[int]:
    """The seqs a plan may match, in natural order (a superset of the matches)."""
    if chosen.kind == "scan":
        return list(collection.key_of_seq)
    if chosen.kind == "empty":
        return []
    if chosen.kind == "ids":
        keys = [id_key(value) for value in chosen.id_values]
        return sorted({collection.seq_of[key] for key in keys if key in collection.seq_of})
    assert chosen.index is not None
    entries = chosen.index.entries
    seqs = {entries[position][-1] for positions in chosen.ranges for position in positions}
    seqs.update(chosen.index.loose)
    return sorted(seqs)
