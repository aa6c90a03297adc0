"""Cursors: batches of a find/aggregate result, served by `getMore` until exhausted.

A cursor holds a lazy iterator of encoded documents; each batch takes documents until the
batch size or MongoDB's 16 MiB reply limit is reached. Cursors idle for ten minutes are
killed, as a MongoDB server does (unless created with `noCursorTimeout`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

from bson.raw_bson import RawBSONDocument

from sandbox.standin.wire import MAX_BSON_SIZE

IDLE_TIMEOUT_SECONDS = 600.0
DEFAULT_FIRST_BATCH = 101
_BATCH_BYTES = MAX_BSON_SIZE - 64 * 1024  # leave room for the reply envelope


@dataclass(slots=True)
class Cursor:
    """An open cursor: what is left to send and when it was last used."""

    id: int
    namespace: str
    documents: Iterator[RawBSONDocument]
    last_used: float
    no_timeout: bool = False
    pending: RawBSONDocument | None = None
    exhausted: bool = False

    def batch(self, size: int | None) -> list[RawBSONDocument]:
        """Up to `size` documents (None: as many as fit in one reply)."""
        out: list[RawBSONDocument] = []
        total = 0
        while size is None or len(out) < size:
            document = self._next()
            if document is None:
                break
            length = len(document.raw)
            if out and total + length > _BATCH_BYTES:
                self.pending = document
                break
            out.append(document)
            total += length
        if not self.exhausted and self.pending is None:
            # Peek so a cursor that has just been drained is reported closed (id 0) now.
            self.pending = self._next()
        return out

    def _next(self) -> RawBSONDocument | None:
        if self.pending is not None:
            document, self.pending = self.pending, None
            return document
        if self.exhausted:
            return None
        try:
            return next(self.documents)
        except StopIteration:
            self.exhausted = True
            return None

    @property
    def alive(self) -> bool:
        return self.pending is not None or not self.exhausted


@dataclass(slots=True)
class CursorRegistry:
    """Open cursors by id."""

    cursors: dict[int, Cursor] = field(default_factory=dict)

    def open(
        self,
        namespace: str,
        documents: Iterator[RawBSONDocument],
        first_batch: int | None,
        now: float,
        *,
        single_batch: bool = False,
        no_timeout: bool = False,
    ) -> tuple[int, list[RawBSONDocument]]:
        """Cut the first batch; register a cursor only if more remains."""
        cursor = Cursor(0, namespace, documents, now, no_timeout=no_timeout)
        batch = cursor.batch(first_batch)
        if single_batch or not cursor.alive:
            return 0, batch
        cursor.id = self._new_id()  # only a cursor that stays open needs one
        self.cursors[cursor.id] = cursor
        return cursor.id, batch

    def more(
        self, cursor_id: int, size: int | None, now: float
    ) -> tuple[Cursor, list[RawBSONDocument]] | None:
        cursor = self.cursors.get(cursor_id)
        if cursor is None:
            return None
        cursor.last_used = now
        batch = cursor.batch(size)
        if not cursor.alive:
            del self.cursors[cursor_id]
        return cursor, batch

    def kill(self, cursor_id: int) -> bool:
        return self.cursors.pop(cursor_id, None) is not None

    def reap(self, now: float) -> int:
        """Kill cursors idle for longer than the timeout; return how many."""
        expired = [
            cursor.id
            for cursor in self.cursors.values()
            if not cursor.no_timeout and now - cursor.last_used > IDLE_TIMEOUT_SECONDS
        ]
        for cursor_id in expired:
            del self.cursors[cursor_id]
        return len(expired)

    def _new_id(self) -> int:
        # Positive int64, never 0 (0 means "no cursor"); random like MongoDB's.
        while True:
            candidate = secrets.randbits(62)
            if candidate and candidate not in self.cursors:
                return candidate
