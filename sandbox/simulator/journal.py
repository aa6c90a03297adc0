"""The journal: every request and every published post, stamped when the request arrived.

Tests count publishes per post and measure lateness from it, so each record carries the server-side
receive instant (UTC, microseconds) taken before anything else is done with the request. Appending
is the only work on the hot path; the request log is bounded (oldest dropped first), the publish
log is not, since exactly-once checks need all of it.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any


def _iso(instant: datetime) -> str:
    return instant.isoformat(timespec="microseconds")


@dataclass(slots=True)
class RequestRecord:
    """One request; `status` is set when answered (0 while being handled, -1: no answer given)."""

    seq: int
    received_at: datetime
    method: str
    path: str
    endpoint: str = ""
    user_id: str | None = None
    status: int = 0
    container_id: str | None = None
    media_id: str | None = None
    fault: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "received_at": _iso(self.received_at),
            "method": self.method,
            "path": self.path,
            "endpoint": self.endpoint,
            "user_id": self.user_id,
            "status": self.status,
            "container_id": self.container_id,
            "media_id": self.media_id,
            "fault": self.fault,
        }


@dataclass(slots=True, frozen=True)
class PublishRecord:
    """One post that became public, by `threads_publish` or by `auto_publish_text`."""

    seq: int
    received_at: datetime
    user_id: str
    username: str
    container_id: str
    media_id: str
    media_type: str
    text: str | None
    reply_to_id: str | None
    quote_post_id: str | None
    children: tuple[str, ...]
    auto_published: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "received_at": _iso(self.received_at),
            "user_id": self.user_id,
            "username": self.username,
            "container_id": self.container_id,
            "media_id": self.media_id,
            "media_type": self.media_type,
            "text": self.text,
            "reply_to_id": self.reply_to_id,
            "quote_post_id": self.quote_post_id,
            "children": list(self.children),
            "auto_published": self.auto_published,
        }


class Journal:
    """Request and publish records, in arrival order, with one sequence across both."""

    def __init__(self, max_requests: int = 200_000) -> None:
        self.requests: deque[RequestRecord] = deque(maxlen=max_requests)
        self.published: list[PublishRecord] = []
        self._seq = itertools.count(1)

    def start(self, received_at: datetime, method: str, path: str) -> RequestRecord:
        """Record a request as it arrives."""
        record = RequestRecord(next(self._seq), received_at, method, path)
        self.requests.append(record)
        return record

    def add_publish(self, **fields: Any) -> PublishRecord:
        """Record a published post (fields as in `PublishRecord`, without `seq`)."""
        record = PublishRecord(seq=next(self._seq), **fields)
        self.published.append(record)
        return record

    def query_requests(
        self,
        *,
        user_id: str | None = None,
        endpoint: str | None = None,
        since_seq: int = 0,
        limit: int | None = None,
    ) -> list[RequestRecord]:
        """Requests matching every given filter, oldest first."""
        found = [
            r
            for r in self.requests
            if r.seq > since_seq
            and (user_id is None or r.user_id == user_id)
            and (endpoint is None or r.endpoint == endpoint)
        ]
        return found if limit is None else found[:limit]

    def query_published(
        self, *, user_id: str | None = None, container_id: str | None = None, since_seq: int = 0
    ) -> list[PublishRecord]:
        """Published posts matching every given filter, oldest first."""
        return [
            p
            for p in self.published
            if p.seq > since_seq
            and (user_id is None or p.user_id == user_id)
            and (container_id is None or p.container_id == container_id)
        ]

    def clear(self) -> None:
        self.requests.clear()
        self.published.clear()
