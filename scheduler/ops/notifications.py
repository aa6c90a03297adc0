"""Notifications: what an owner is told about, and the inbox of what needs their attention.

The event bus carries low-level changes (`post.status`, `occurrence.state`, `account.status`);
`notice_from_event` turns the ones people care about into a `Notice` of one `NoticeKind`:

| kind                        | from the bus event                                             |
|-----------------------------|----------------------------------------------------------------|
| `post.published`            | `occurrence.state` PUBLISHED for part 0 (the post itself)      |
| `post.failed`               | `post.status` carrying an `error` (failed, or a recurring post |
|                             | whose occurrence failed and moved on)                          |
| `post.deferred`             | `post.status` whose `held_reason` says "Deferred" (quota)      |
| `account.needs_reconnect`   | `account.status` NEEDS_RECONNECT                               |
| `queue.empty`               | a post left an account's queue and none is left (see Reactor)  |

Notices go to webhooks (`scheduler.ops.webhooks`); failures, deferrals and reconnects also land in
the inbox kept here (`Notification` documents, per owner, linked to the post, read/unread).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import PydanticObjectId
from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from scheduler.accounts.actors import Actor
from scheduler.platform.clock import Clock
from scheduler.platform.documents import Notification
from scheduler.platform.errors import NotFoundError, ValidationFailed
from scheduler.platform.events import Event, EventBus

MAX_PAGE = 200


class NoticeKind(StrEnum):
    POST_PUBLISHED = "post.published"
    POST_FAILED = "post.failed"
    POST_DEFERRED = "post.deferred"
    ACCOUNT_NEEDS_RECONNECT = "account.needs_reconnect"
    QUEUE_EMPTY = "queue.empty"
    WEBHOOK_TEST = "webhook.test"  # sent on request to one webhook, whatever it subscribes to


SUBSCRIBABLE = tuple(kind for kind in NoticeKind if kind is not NoticeKind.WEBHOOK_TEST)
# What lands in the inbox, and how loud.
INBOX_LEVELS = {
    NoticeKind.POST_FAILED: "error",
    NoticeKind.ACCOUNT_NEEDS_RECONNECT: "error",
    NoticeKind.POST_DEFERRED: "warning",
}
_QUEUED = {"SCHEDULED", "PUBLISHING"}


@dataclass(frozen=True)
class Notice:
    """Something to tell an owner about; `id` is the bus event's id (the dedupe key)."""

    id: str
    kind: NoticeKind
    owner_id: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The JSON document a webhook receives."""
        return {
            "id": self.id,
            "type": str(self.kind),
            "created_at": self.at.isoformat(),
            "data": self.data,
        }


def notice_from_event(event: Event) -> Notice | None:
    """The notice a bus event means for its owner, if any (pure: no I/O)."""
    if event.owner_id is None:
        return None
    data = event.data
    kind: NoticeKind | None = None
    keep: tuple[str, ...] = ()
    if event.type == "occurrence.state" and data.get("state") == "PUBLISHED":
        if data.get("part") == 0:
            kind = NoticeKind.POST_PUBLISHED
            keep = ("post_id", "occurrence_id", "media_id", "scheduled_for", "published_at")
    elif event.type == "post.status" and data.get("error"):
        kind = NoticeKind.POST_FAILED
        keep = ("post_id", "account_id", "status", "error", "next_run_at")
    elif event.type == "post.status" and str(data.get("held_reason") or "").startswith("Deferred"):
        kind = NoticeKind.POST_DEFERRED
        keep = ("post_id", "account_id", "held_reason", "next_run_at")
    elif event.type == "account.status" and data.get("status") == "NEEDS_RECONNECT":
        kind = NoticeKind.ACCOUNT_NEEDS_RECONNECT
        keep = ("account_id", "username", "reason")
    if kind is None:
        return None
    return Notice(
        id=event.id,
        kind=kind,
        owner_id=event.owner_id,
        at=event.at,
        data={name: data.get(name) for name in keep},
    )


def account_leaving_queue(event: Event) -> str | None:
    """The account whose queue a post just left (published, failed, cancelled, deleted), if any."""
    data = event.data
    if event.owner_id is None or not data.get("account_id"):
        return None
    if event.type == "post.deleted":
        return str(data["account_id"])
    if (
        event.type == "post.status"
        and data.get("previous") in _QUEUED
        and data.get("status") not in _QUEUED
    ):
        return str(data["account_id"])
    return None


@dataclass(frozen=True)
class NotificationPage:
    """One page of an owner's inbox, newest first."""

    notifications: list[Notification]
    total: int
    unread: int
    offset: int
    limit: int
    has_more: bool


class NotificationService:
    """The inbox: failures and what else needs attention, per owner, read or unread."""

    def __init__(self, *, clock: Clock, events: EventBus) -> None:
        self._clock = clock
        self._events = events

    async def record(self, notice: Notice) -> Notification | None:
        """Add the inbox entry for `notice` (once per event); None if it is not inbox-worthy."""
        level = INBOX_LEVELS.get(notice.kind)
        if level is None:
            return None
        data = notice.data
        notification = Notification(
            owner_id=PydanticObjectId(notice.owner_id),
            event_id=notice.id,
            kind=str(notice.kind),
            level=level,
            title=_title(notice),
            message=_message(notice),
            post_id=_maybe_oid(data.get("post_id")),
            account_id=_maybe_oid(data.get("account_id")),
            created_at=self._clock.now(),
        )
        try:
            await notification.insert()
        except DuplicateKeyError:
            return None  # another worker recorded this event first
        await self._events.publish(
            "notification.created",
            notification.owner_id,
            notification_id=str(notification.id),
            kind=notification.kind,
            level=notification.level,
            title=notification.title,
            post_id=data.get("post_id"),
        )
        return notification

    async def inbox(
        self, actor: Actor, *, unread_only: bool = False, offset: int = 0, limit: int = 50
    ) -> NotificationPage:
        """The actor's inbox, newest first; `unread` counts every unread entry."""
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise ValidationFailed.single(
                "limit", f"Ask for 1 to {MAX_PAGE} notifications from a non-negative offset."
            )
        query: dict[str, Any] = {"owner_id": actor.owner_id}
        if unread_only:
            query["read_at"] = None
        collection = Notification.get_pymongo_collection()
        cursor = collection.find(
            query,
            sort=[("created_at", DESCENDING), ("_id", DESCENDING)],
            skip=offset,
            limit=limit + 1,
        )
        found = [Notification.model_validate(raw) async for raw in cursor]
        return NotificationPage(
            notifications=found[:limit],
            total=await collection.count_documents(query),
            unread=await self.unread_count(actor),
            offset=offset,
            limit=limit,
            has_more=len(found) > limit,
        )

    async def get(self, actor: Actor, notification_id: object) -> Notification:
        found = await Notification.find_one(
            {"_id": _oid(notification_id), "owner_id": actor.owner_id}
        )
        if found is None:
            raise NotFoundError("Notification", notification_id)
        return found

    async def unread_count(self, actor: Actor) -> int:
        """How many of the actor's notifications are unread (the inbox badge)."""
        return await Notification.get_pymongo_collection().count_documents(
            {"owner_id": actor.owner_id, "read_at": None}
        )

    async def mark_read(
        self, actor: Actor, notification_ids: Sequence[object] | None = None
    ) -> int:
        """Mark some (or, with None, all) of the actor's notifications read; returns how many."""
        return await self._set_read(actor, notification_ids, self._clock.now())

    async def mark_unread(self, actor: Actor, notification_ids: Sequence[object]) -> int:
        """Mark notifications unread again; returns how many changed."""
        return await self._set_read(actor, notification_ids, None)

    async def _set_read(
        self, actor: Actor, ids: Sequence[object] | None, read_at: datetime | None
    ) -> int:
        actor.require_write()
        query: dict[str, Any] = {"owner_id": actor.owner_id}
        query["read_at"] = None if read_at is not None else {"$ne": None}
        if ids is not None:
            query["_id"] = {"$in": [_oid(i) for i in ids]}
        result = await Notification.get_pymongo_collection().update_many(
            query, {"$set": {"read_at": read_at}}
        )
        if result.modified_count:
            await self._events.publish(
                "notification.read", actor.owner_id, unread=await self.unread_count(actor)
            )
        return int(result.modified_count)


def _title(notice: Notice) -> str:
    data = notice.data
    if notice.kind is NoticeKind.ACCOUNT_NEEDS_RECONNECT:
        return f"@{data.get('username') or 'an account'} must be reconnected"
    if notice.kind is NoticeKind.POST_DEFERRED:
        return "A post was deferred: publishing quota reached"
    if data.get("status") == "SCHEDULED":
        return "An occurrence of a recurring post failed"
    return "A post failed"


def _message(notice: Notice) -> str:
    data = notice.data
    if notice.kind is NoticeKind.ACCOUNT_NEEDS_RECONNECT:
        reason = str(data.get("reason") or "its token stopped working")
        return (
            f"Threads refused the account's token ({reason}). Its posts are held, not lost: "
            "reconnect it under Accounts and they go out."
        )[:1000]
    if notice.kind is NoticeKind.POST_DEFERRED:
        return str(data.get("held_reason") or "Deferred until quota frees.")[:1000]
    text = str(data.get("error") or "The post was not published.")
    if data.get("status") == "SCHEDULED":
        text += " The next occurrence is scheduled as usual."
    return text[:1000]


def _maybe_oid(value: object) -> PydanticObjectId | None:
    text = str(value) if value is not None else ""
    return PydanticObjectId(text) if PydanticObjectId.is_valid(text) else None


def _oid(value: object) -> PydanticObjectId:
    oid = _maybe_oid(value)
    if oid is None:
        raise NotFoundError("Notification", value)
    return oid
