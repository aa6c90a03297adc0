"""Queueing: an account's weekly posting slots and the queue of posts that fills them.

The slots are wall-clock times in the account's zone (a 09:00 slot stays at 09:00 across DST).
The mutations that change the grid and the queue are in `graphql_api.queue_mutations`.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING, Annotated

import strawberry

from graphql_api.context import Info
from graphql_api.fields import field
from graphql_api.inputs import bounded
from scheduler.platform import documents as core
from scheduler.posts import slots

if TYPE_CHECKING:
    from graphql_api.posts import Post

# graphql_api.posts imports this module (a Post shows its insights, an Account its queue): the
# Post type is resolved lazily, and imported by the resolver when it runs.
LazyPost = Annotated["Post", strawberry.lazy("graphql_api.posts")]

MAX_UPCOMING = 200


@strawberry.type(description="One weekly posting slot: a weekday and a local time.")
class PostingSlot:
    weekday: int = strawberry.field(description="0 = Monday ... 6 = Sunday.")
    at: time = strawberry.field(description="Wall-clock time in the account's zone.")

    @classmethod
    def from_model(cls, slot: core.PostingSlot) -> PostingSlot:
        return cls(weekday=slot.weekday, at=slot.at)


@strawberry.type(description="One upcoming slot and the post that fills it (none: free).")
class QueueSlot:
    at: datetime = strawberry.field(description="The instant, in UTC.")
    local: datetime = strawberry.field(
        description="The same instant as wall-clock time in the account's zone (no offset)."
    )
    post_id: strawberry.ID | None

    @field(description="The post in this slot.")
    async def post(self, info: Info) -> LazyPost | None:
        from graphql_api.posts import Post

        if self.post_id is None:
            return None
        found = await info.context.loaders.post.load(self.post_id)
        return Post.from_document(found) if found else None

    @classmethod
    def from_slot(cls, slot: slots.QueueSlot) -> QueueSlot:
        post_id = strawberry.ID(str(slot.post_id)) if slot.post_id else None
        return cls(at=slot.at, local=slot.local, post_id=post_id)


@strawberry.type(description="How an account's queue stands.")
class QueueStatus:
    slots_per_week: int
    queued: int = strawberry.field(description="Posts waiting in slots.")
    next_free: datetime | None = strawberry.field(description="The next free slot.")
    runs_out_at: datetime | None = strawberry.field(description="The last queued post's slot.")
    warning: str | None = strawberry.field(
        description="Set when the queue is empty or runs out within a day, or has no slots."
    )

    @classmethod
    def from_status(cls, status: slots.QueueStatus) -> QueueStatus:
        return cls(
            slots_per_week=status.slots_per_week,
            queued=status.queued,
            next_free=status.next_free,
            runs_out_at=status.runs_out_at,
            warning=status.warning,
        )


@strawberry.type(description="An account's queue: its upcoming slots, and how it stands.")
class AccountQueue:
    account_id: strawberry.ID

    @field(description=f"The next `limit` slots (1-{MAX_UPCOMING}), filled or free.")
    async def upcoming(self, info: Info, limit: int = 28) -> list[QueueSlot]:
        bounded("limit", limit, 1, MAX_UPCOMING)
        found = await info.context.services.slots.upcoming(
            info.context.caller, self.account_id, limit
        )
        return [QueueSlot.from_slot(slot) for slot in found]

    @field(description="How many posts wait, the next free slot, and the empty-queue warning.")
    async def status(self, info: Info) -> QueueStatus:
        return QueueStatus.from_status(
            await info.context.services.slots.status(info.context.caller, self.account_id)
        )
