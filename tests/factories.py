"""Plain data factories: documents with sensible defaults, overridable by keyword."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from beanie import PydanticObjectId

from scheduler.platform.documents import Account, Post
from scheduler.posts.content import PostContent

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def make_account(**overrides: Any) -> Account:
    values: dict[str, Any] = {
        "owner_id": PydanticObjectId(),
        "threads_user_id": "1000001",
        "username": "ana",
        "timezone": "UTC",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    return Account(**values)


def make_post(**overrides: Any) -> Post:
    values: dict[str, Any] = {
        "owner_id": PydanticObjectId(),
        "account_id": PydanticObjectId(),
        "content": PostContent(text="Hello Threads"),
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    return Post(**values)
