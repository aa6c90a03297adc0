"""Bridge: every piece of mongomock the stand-in uses, typed, in one place.

mongomock is pinned exactly (pyproject.toml) because several of these are private helpers
(`Collection._apply_update_document`, `_copy_only_fields`, ...). If an upgrade moves them,
this is the only module to adapt; the contract suite says whether semantics still hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import mongomock
from mongomock import aggregate, collection, filtering, helpers

Document = dict[str, Any]

NOTHING: Final[Any] = filtering.NOTHING  # type: ignore[attr-defined]  # "field is missing"

# Helpers that live on Collection but only use `self` to reach sibling helpers.
_HELPERS: Final[Any] = mongomock.MongoClient()["standin"]["helpers"]


def matches(query: Mapping[str, Any], document: Mapping[str, Any]) -> bool:
    """MongoDB's match semantics as mongomock implements them."""
    return bool(filtering.filter_applies(query, document))  # type: ignore[no-untyped-call]


def resolve_key(name: str, document: Mapping[str, Any]) -> Any:
    return filtering.resolve_key(name, document)  # type: ignore[no-untyped-call]


def resolve_sort_key(name: str, document: Mapping[str, Any]) -> Any:
    return filtering.resolve_sort_key(name, document)  # type: ignore[no-untyped-call]


def key_candidates(name: str, document: Mapping[str, Any]) -> list[Any]:
    return list(filtering.iter_key_candidates(name, document))  # type: ignore[no-untyped-call]


def hashable(value: Any) -> Any:
    """A hashable stand-in for a value (embedded documents become hashdicts)."""
    return helpers.hashdict(value) if isinstance(value, dict) else value


def run_pipeline(documents: list[Document], database: Any, pipeline: list[Any]) -> Iterable[Any]:
    results: Iterable[Any] = aggregate.process_pipeline(  # type: ignore[no-untyped-call]
        documents, database, pipeline, None
    )
    return results


def check_update_stages(pipeline: list[Any]) -> None:
    collection._validate_document_stages(pipeline)  # type: ignore[no-untyped-call]


def apply_operators(
    engine_collection: Any, document: Document, query: Document, update: Any, inserting: bool
) -> None:
    """Apply update operators to `document` in place ($set, $inc, $push...)."""
    engine_collection._apply_update_document(document, query, update, inserting)


def apply_update_pipeline(engine_collection: Any, document: Document, pipeline: list[Any]) -> None:
    engine_collection._apply_update_pipeline(document, pipeline, None)


def expand_dots(flat: Document) -> Document:
    """`{"a.b": 1}` -> `{"a": {"b": 1}}`, refusing conflicting paths."""
    expanded: Document = _HELPERS._expand_dots(flat)
    return expanded


def project(document: Document, projection: Document) -> Document:
    """A copy of `document` reduced by `projection` (mutates its own copy of the spec)."""
    result: Document = _HELPERS._copy_only_fields(document, dict(projection), dict)
    return result


def new_client() -> Any:
    """A mongomock client: its store holds every database's documents."""
    return mongomock.MongoClient()


def collection_store(client: Any, database: str, name: str) -> tuple[Any, dict[Any, Document]]:
    """mongomock's Collection object and the live `_id -> document` dict of its store."""
    store = client[database]._store[name]
    store.create()
    return client[database][name], store._documents


def forget_collection(client: Any, database: str, name: str) -> None:
    client[database]._store._collections.pop(name, None)
