"""Notifications: the inbox of what needs the owner's attention (failures, deferrals, accounts to
reconnect), read or unread; `notificationCreated` (in `graphql_api.subscriptions`) streams it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from graphql_api.accounts import Account
from graphql_api.context import Info
from graphql_api.enums import NoticeKind
from graphql_api.errors import NotFound, PermissionDenied
from graphql_api.fields import authenticated_field, authenticated_mutation, field
from graphql_api.posts import PageInfo, Post, decode_cursor, encode_cursor
from scheduler.ops import notifications
from scheduler.ops.notifications import MAX_PAGE
from scheduler.platform import documents as core


@strawberry.type(description="An inbox entry, linked to its post or account.")
class Notification:
    id: strawberry.ID
    kind: NoticeKind
    level: str = strawberry.field(description="error or warning.")
    title: str
    message: str
    post_id: strawberry.ID | None
    account_id: strawberry.ID | None
    read: bool
    read_at: datetime | None
    created_at: datetime

    @field(description="The post it is about (null if none, or deleted).")
    async def post(self, info: Info) -> Post | None:
        if self.post_id is None:
            return None
        found = await info.context.loaders.post.load(self.post_id)
        return Post.from_document(found) if found else None

    @field(description="The account it is about (null if none, or removed).")
    async def account(self, info: Info) -> Account | None:
        if self.account_id is None:
            return None
        found = await info.context.loaders.account.load(self.account_id)
        return Account.from_document(found) if found else None

    @classmethod
    def from_document(cls, doc: core.Notification) -> Notification:
        return cls(
            id=strawberry.ID(str(doc.id)),
            kind=NoticeKind(doc.kind),
            level=doc.level,
            title=doc.title,
            message=doc.message,
            post_id=strawberry.ID(str(doc.post_id)) if doc.post_id else None,
            account_id=strawberry.ID(str(doc.account_id)) if doc.account_id else None,
            read=doc.read_at is not None,
            read_at=doc.read_at,
            created_at=doc.created_at,
        )


@strawberry.type
class NotificationEdge:
    cursor: str
    node: Notification


@strawberry.type(description="A page of the inbox, newest first, with the unread count.")
class NotificationConnection:
    edges: list[NotificationEdge]
    page_info: PageInfo
    total_count: int
    unread: int = strawberry.field(description="Every unread entry (the inbox badge).")

    @field(description="The notifications of `edges`, without cursors.")
    def nodes(self) -> list[Notification]:
        return [edge.node for edge in self.edges]

    @classmethod
    def from_page(cls, page: notifications.NotificationPage) -> NotificationConnection:
        edges = [
            NotificationEdge(
                cursor=encode_cursor(page.offset + n), node=Notification.from_document(doc)
            )
            for n, doc in enumerate(page.notifications)
        ]
        info = PageInfo(
            has_next_page=page.has_more,
            has_previous_page=page.offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return cls(edges=edges, page_info=info, total_count=page.total, unread=page.unread)


@strawberry.input(description="Which notifications to mark read; leave `ids` out for all.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = None


@strawberry.type(description="How many notifications changed from unread to read.")
class NotificationsMarked:
    marked: int


MarkNotificationsReadResult = Annotated[
    NotificationsMarked | NotFound | PermissionDenied,
    strawberry.union("MarkNotificationsReadResult"),
]


@strawberry.type
class NotificationQuery:
    @authenticated_field(
        description=f"Your inbox, newest first; `first` is 1-{MAX_PAGE} (default 50).",
    )
    async def notifications(
        self, info: Info, unread_only: bool = False, first: int = 50, after: str | None = None
    ) -> NotificationConnection:
        offset = decode_cursor(after)
        page = await info.context.services.notifications.inbox(
            info.context.caller, unread_only=unread_only, offset=offset, limit=first
        )
        return NotificationConnection.from_page(page)


@strawberry.type
class NotificationMutation:
    @authenticated_mutation()
    async def mark_notifications_read(
        self, info: Info, input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadResult:
        marked = await info.context.services.notifications.mark_read(info.context.caller, input.ids)
        return NotificationsMarked(marked=marked)
