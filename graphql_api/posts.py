"""Posts: the Post type with its timeline, and the queries that read posts."""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Annotated

import strawberry

from graphql_api.accounts import Account
from graphql_api.content import PostContent, Reply
from graphql_api.context import Info
from graphql_api.enums import OccurrenceState, PostStatus
from graphql_api.errors import NotFound
from graphql_api.fields import authenticated_field, field
from graphql_api.inputs import bounded
from graphql_api.insights import PostInsights
from graphql_api.schedules import Schedule
from scheduler.platform import documents as core
from scheduler.platform.errors import ValidationFailed
from scheduler.posts.duplicates import Duplicate
from scheduler.posts.service import MAX_PAGE, PostFilter

_CURSOR_PREFIX = "post-offset:"
_BASE64 = re.compile(r"[A-Za-z0-9_-]+={0,2}")


@strawberry.type(description="One try at a step of publishing (container, publish, resolve...).")
class Attempt:
    at: datetime
    step: str
    part: int = strawberry.field(description="0: the post itself; 1...: its replies in order.")
    error: str | None
    kind: str | None = strawberry.field(description="transient, rejected, auth, quota, media...")


@strawberry.type(description="The post itself (index 0) or one reply, within one occurrence.")
class OccurrencePart:
    index: int
    state: OccurrenceState
    due_at: datetime
    container_id: str | None
    media_id: str | None = strawberry.field(description="The Threads id once published.")
    publish_sent_at: datetime | None
    published_at: datetime | None
    error: str | None


@strawberry.type(description="One publication of a post at one instant, with its timeline.")
class Occurrence:
    id: strawberry.ID
    post_id: strawberry.ID
    scheduled_for: datetime
    state: OccurrenceState
    post_version: int
    parts: list[OccurrencePart]
    attempts: list[Attempt]
    error: str | None
    claimed_at: datetime
    container_ready_at: datetime | None
    publish_sent_at: datetime | None
    confirmed_at: datetime | None

    @classmethod
    def from_document(cls, doc: core.Occurrence) -> Occurrence:
        return cls(
            id=strawberry.ID(str(doc.id)),
            post_id=strawberry.ID(str(doc.post_id)),
            scheduled_for=doc.scheduled_for,
            state=doc.state,
            post_version=doc.post_version,
            parts=[
                OccurrencePart(**part.model_dump(exclude={"item_container_ids"}))
                for part in doc.parts
            ],
            attempts=[Attempt(**attempt.model_dump()) for attempt in doc.attempts],
            error=doc.error,
            claimed_at=doc.claimed_at,
            container_ready_at=doc.container_ready_at,
            publish_sent_at=doc.publish_sent_at,
            confirmed_at=doc.confirmed_at,
        )


@strawberry.type(description="A post (with its reply chain), published once or on a schedule.")
class Post:
    id: strawberry.ID
    account_id: strawberry.ID
    status: PostStatus
    content: PostContent
    replies: list[Reply]
    schedule: Schedule | None
    next_run_at: datetime | None = strawberry.field(description="The next publication (UTC).")
    occurrence_count: int
    version: int = strawberry.field(description="Send it back with updatePost to detect races.")
    last_error: str | None
    held_reason: str | None = strawberry.field(
        description="Why a due post waits (quota, an account to reconnect); it resumes by itself."
    )
    last_published_at: datetime | None
    threads_media_ids: list[str]
    created_at: datetime
    updated_at: datetime
    duplicate_of_id: strawberry.Private[str | None]

    @field(description="The Threads account it publishes with.")
    async def account(self, info: Info) -> Account | None:
        found = await info.context.loaders.account.load(self.account_id)
        return Account.from_document(found) if found else None

    @field(description="The most recent occurrence (publication attempt), if any.")
    async def last_occurrence(self, info: Info) -> Occurrence | None:
        found = await info.context.loaders.last_occurrence.load(self.id)
        return Occurrence.from_document(found) if found else None

    @field(description="The timeline: occurrences, newest first (one query per post).")
    async def occurrences(self, info: Info, limit: int = 20) -> list[Occurrence]:
        bounded("limit", limit, 1, 200)
        found = await info.context.services.posts.occurrences(info.context.caller, self.id, limit)
        return [Occurrence.from_document(doc) for doc in found]

    @field(
        description="The post whose text and media this one repeats, when it was saved anyway "
        "(DUPLICATE_POLICY=warn); null otherwise, or once that post is gone."
    )
    async def duplicate_of(self, info: Info) -> Post | None:
        found = await self._original(info)
        return Post.from_document(found) if found else None

    @field(description="Why `duplicateOf` is set, in a sentence to show next to the post.")
    async def duplicate_warning(self, info: Info) -> str | None:
        found = await self._original(info)
        if found is None:
            return None
        return info.context.services.duplicates.warning_message(Duplicate.of(found))

    async def _original(self, info: Info) -> core.Post | None:
        if self.duplicate_of_id is None:
            return None
        return await info.context.loaders.post.load(self.duplicate_of_id)

    @field(description="Insights of each publication, newest first (one query per post).")
    async def insights(self, info: Info) -> list[PostInsights]:
        found = await info.context.services.insights.for_post(info.context.caller, self.id)
        return [PostInsights.from_document(doc) for doc in found]

    @classmethod
    def from_document(cls, doc: core.Post) -> Post:
        return cls(
            id=strawberry.ID(str(doc.id)),
            account_id=strawberry.ID(str(doc.account_id)),
            status=doc.status,
            content=PostContent.from_model(doc.content),
            replies=[Reply.from_reply(reply) for reply in doc.replies],
            schedule=Schedule.from_model(doc.schedule) if doc.schedule else None,
            next_run_at=doc.next_run_at,
            occurrence_count=doc.occurrence_count,
            version=doc.version,
            last_error=doc.last_error,
            held_reason=doc.held_reason,
            last_published_at=doc.last_published_at,
            threads_media_ids=list(doc.threads_media_ids),
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            duplicate_of_id=str(doc.duplicate_of) if doc.duplicate_of else None,
        )


# --- paging ------------------------------------------------------------------------------------


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The offset after `cursor` (0 without one)."""
    if cursor is None:
        return 0
    text = ""
    if _BASE64.fullmatch(cursor) and len(cursor) % 4 == 0:  # so decoding cannot fail
        text = base64.urlsafe_b64decode(cursor).decode("utf-8", "replace")
    offset = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not offset.isdigit():
        raise ValidationFailed.single(
            "after", "This is not a cursor from this API; pass an `endCursor` you received."
        )
    return int(offset) + 1


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class PostEdge:
    cursor: str
    node: Post


@strawberry.type(description="A page of posts, newest first, with the total number that match.")
class PostConnection:
    edges: list[PostEdge]
    page_info: PageInfo
    total_count: int

    @field(description="The posts of `edges`, without cursors.")
    def nodes(self) -> list[Post]:
        return [edge.node for edge in self.edges]

    @classmethod
    def from_page(
        cls, posts: list[core.Post], *, offset: int, total: int, more: bool
    ) -> PostConnection:
        edges = [
            PostEdge(cursor=encode_cursor(offset + n), node=Post.from_document(post))
            for n, post in enumerate(posts)
        ]
        info = PageInfo(
            has_next_page=more,
            has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return cls(edges=edges, page_info=info, total_count=total)


@strawberry.input(description="Which posts to list; all given conditions must hold.")
class PostFilterInput:
    status: list[PostStatus] | None = None
    account_id: strawberry.ID | None = None
    due_from: datetime | None = strawberry.field(default=None, description="nextRunAt >= this.")
    due_until: datetime | None = strawberry.field(default=None, description="nextRunAt <= this.")
    text: str | None = strawberry.field(default=None, description="Text contains this (any case).")

    def to_filter(self) -> PostFilter:
        return PostFilter(
            status=list(self.status or ()),
            account_id=str(self.account_id) if self.account_id else None,
            due_from=self.due_from,
            due_until=self.due_until,
            text=self.text or None,
        )


PostResult = Annotated[Post | NotFound, strawberry.union("PostResult")]


@strawberry.type
class PostQuery:
    @authenticated_field(
        description=f"Your posts, newest first; `first` is 1-{MAX_PAGE} (default 50).",
    )
    async def posts(
        self,
        info: Info,
        filter: PostFilterInput | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> PostConnection:
        offset = decode_cursor(after)
        query = filter.to_filter() if filter else None
        page = await info.context.services.posts.find(
            info.context.caller, query, offset=offset, limit=first
        )
        return PostConnection.from_page(
            page.posts, offset=offset, total=page.total, more=page.has_more
        )

    @authenticated_field(description="One of your posts.")
    async def post(self, info: Info, id: strawberry.ID) -> PostResult:
        return Post.from_document(await info.context.services.posts.get(info.context.caller, id))

    @authenticated_field(description="Your next posts to go out, soonest first.")
    async def scheduled_posts(self, info: Info, limit: int = 50) -> list[Post]:
        bounded("limit", limit, 1, MAX_PAGE)
        found = await info.context.services.monitoring.scheduled_posts(info.context.caller, limit)
        return [Post.from_document(post) for post in found]
