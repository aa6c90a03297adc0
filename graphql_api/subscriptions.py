"""Subscriptions: live post status, job events, queue stats, scheduler state and the inbox.

All of them read the core's event channel (`services.events`, Redis pub/sub), so a change made by
a worker on another machine reaches every subscriber. A subscriber sees only events of its own
owner, plus system events that carry no user data (owner None: the scheduler's state, its own
jobs). Each stream subscribes first and then emits the current state, so nothing falls between
the two; and each ends when the caller's API token is revoked (the connection is closed too, see
`graphql_api.websockets`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import strawberry

from graphql_api.context import Context, Info
from graphql_api.enums import PostStatus
from graphql_api.fields import authenticated_subscription, field
from graphql_api.inputs import bounded
from graphql_api.monitoring import QueueStats, SchedulerState
from graphql_api.notifications import Notification
from graphql_api.posts import Post, PostResult
from scheduler.accounts.actors import Actor
from scheduler.platform.documents import Post as PostDocument
from scheduler.platform.events import Event

POST_EVENTS = frozenset({"post.status", "post.deleted"})
TOKEN_REVOKED = "token.revoked"
NOTIFICATION_CREATED = "notification.created"


def revokes(actor: Actor, event: Event) -> bool:
    """Whether `event` revokes the API token the actor is using."""
    return (
        event.type == TOKEN_REVOKED
        and actor.token_id is not None
        and event.data.get("token_id") == str(actor.token_id)
    )


@asynccontextmanager
async def watch(
    context: Context, accept: Callable[[Event], bool]
) -> AsyncIterator[AsyncIterator[Event]]:
    """Subscribe now; iterate the caller's events that `accept` picks, until its token dies."""
    actor = context.caller
    owner = str(actor.owner_id)

    def wanted(event: Event) -> bool:
        return revokes(actor, event) or (event.owner_id in (None, owner) and accept(event))

    async def until_revoked(events: AsyncIterator[Event]) -> AsyncIterator[Event]:
        async for event in events:
            if revokes(actor, event):
                return
            yield event

    async with context.services.events.subscribe(accept=wanted) as events:
        yield until_revoked(events)


@strawberry.type(description="A post changed status (or was deleted).")
class PostStatusEvent:
    post_id: strawberry.ID
    account_id: strawberry.ID | None
    status: PostStatus | None = strawberry.field(description="Null when the post was deleted.")
    previous: PostStatus | None
    deleted: bool
    version: int | None
    next_run_at: datetime | None
    at: datetime

    @field(description="The post as it is now.")
    async def post(self, info: Info) -> PostResult:
        return Post.from_document(
            await info.context.services.posts.get(info.context.caller, self.post_id)
        )

    @classmethod
    def from_event(cls, event: Event) -> PostStatusEvent:
        data: dict[str, Any] = event.data
        next_run = data.get("next_run_at")
        return cls(
            post_id=strawberry.ID(data["post_id"]),
            account_id=strawberry.ID(data["account_id"]) if data.get("account_id") else None,
            status=PostStatus(data["status"]) if data.get("status") else None,
            previous=PostStatus(data["previous"]) if data.get("previous") else None,
            deleted=event.type == "post.deleted",
            version=data.get("version"),
            next_run_at=datetime.fromisoformat(next_run) if next_run else None,
            at=event.at,
        )

    @classmethod
    def current(cls, post: PostDocument, at: datetime) -> PostStatusEvent:
        return cls(
            post_id=strawberry.ID(str(post.id)),
            account_id=strawberry.ID(str(post.account_id)),
            status=post.status,
            previous=None,
            deleted=False,
            version=post.version,
            next_run_at=post.next_run_at,
            at=at,
        )


@strawberry.type(description="A job finished, failed or was retried on a queue.")
class JobEvent:
    queue: str
    key: str
    function: str
    status: str
    post_id: strawberry.ID | None
    duration_ms: float | None
    error: str | None
    at: datetime

    @classmethod
    def from_event(cls, event: Event) -> JobEvent:
        data: dict[str, Any] = event.data
        return cls(
            queue=str(data.get("queue", "")),
            key=str(data.get("key", "")),
            function=str(data.get("function", "")),
            status=str(data.get("status", "")),
            post_id=strawberry.ID(data["post_id"]) if data.get("post_id") else None,
            duration_ms=data.get("duration_ms"),
            error=data.get("error"),
            at=event.at,
        )


def _post_filter(post_id: str | None, account_id: str | None) -> Callable[[Event], bool]:
    def accept(event: Event) -> bool:
        return (
            event.type in POST_EVENTS
            and post_id in (None, event.data.get("post_id"))
            and account_id in (None, event.data.get("account_id"))
        )

    return accept


@strawberry.type
class Subscription:
    @authenticated_subscription(
        description="Status changes of your posts (one post, one account's, or all); with "
        "`postId`, its current status comes first.",
    )
    async def post_status_changed(
        self,
        info: Info,
        post_id: strawberry.ID | None = None,
        account_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[PostStatusEvent, None]:
        context = info.context
        async with watch(context, _post_filter(post_id, account_id)) as events:
            if post_id is not None:
                post = await context.services.posts.get(context.caller, post_id)
                yield PostStatusEvent.current(post, context.services.clock.now())
            async for event in events:
                yield PostStatusEvent.from_event(event)

    @authenticated_subscription(
        description="Jobs of yours and the scheduler's as they finish (optionally one queue's).",
    )
    async def job_events(
        self, info: Info, queue: str | None = None
    ) -> AsyncGenerator[JobEvent, None]:
        def accept(event: Event) -> bool:
            return event.type == "job.status" and queue in (None, event.data.get("queue"))

        async with watch(info.context, accept) as events:
            async for event in events:
                yield JobEvent.from_event(event)

    @authenticated_subscription(
        description="The queues' stats now and then every `intervalSeconds` (1-3600).",
    )
    async def queue_stats(
        self, info: Info, interval_seconds: int = 5
    ) -> AsyncGenerator[list[QueueStats], None]:
        bounded("intervalSeconds", interval_seconds, 1, 3600)
        services = info.context.services
        while True:
            yield [QueueStats.from_stats(s) for s in await services.monitoring.queue_stats()]
            await services.clock.sleep(interval_seconds)

    @authenticated_subscription(
        description="The scheduler's state now and after every change.",
    )
    async def scheduler_state(self, info: Info) -> AsyncGenerator[SchedulerState, None]:
        monitoring = info.context.services.monitoring
        async with watch(info.context, lambda event: event.type == "scheduler.state") as events:
            yield SchedulerState.from_state(await monitoring.scheduler_state())
            async for _ in events:
                yield SchedulerState.from_state(await monitoring.scheduler_state())

    @authenticated_subscription(
        description="Your new inbox entries (failures, deferrals, accounts to reconnect) as they "
        "are recorded.",
    )
    async def notification_created(self, info: Info) -> AsyncGenerator[Notification, None]:
        context = info.context
        async with watch(context, lambda event: event.type == NOTIFICATION_CREATED) as events:
            async for event in events:
                found = await context.services.notifications.get(
                    context.caller, event.data["notification_id"]
                )
                yield Notification.from_document(found)
