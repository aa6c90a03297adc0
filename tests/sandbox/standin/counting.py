"""Counters for engine tests: how many documents a query reads, and how many it tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sandbox.standin import searches
from sandbox.standin.storage import StoredCollection


class CountingDict(dict[int, dict[str, Any]]):
    """A collection's `doc_of_seq` that counts the documents read through it."""

    reads = 0

    def get(self, key: int, default: Any = None) -> Any:
        self.reads += 1
        return super().get(key, default)

    def __getitem__(self, key: int) -> dict[str, Any]:
        self.reads += 1
        return super().__getitem__(key)


def counting_reads(collection: StoredCollection) -> CountingDict:
    """Count every document the engine reads from `collection` from now on."""
    counted = CountingDict(collection.doc_of_seq)
    collection.doc_of_seq = counted
    return counted


def counting_tests(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the documents tested against a filter (compiled filter or mongomock)."""
    calls = [0]
    original = searches.predicate

    def counting_predicate(query: Any, compiled: Any) -> Callable[[Any], bool]:
        test = original(query, compiled)

        def counted(document: Any) -> bool:
            calls[0] += 1
            return test(document)

        return counted

    monkeypatch.setattr(searches, "predicate", counting_predicate)
    return calls
