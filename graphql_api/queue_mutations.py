"""Queue mutations: set an account's posting slots, add a post to its queue, shuffle, reorder."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graphql_api.accounts import Account
from graphql_api.context import Info
from graphql_api.errors import Conflict, NotFound, PermissionDenied, ValidationErrors
from graphql_api.fields import authenticated_mutation
from graphql_api.inputs import plain
from graphql_api.posts import Post


@strawberry.input(description="A weekly posting slot: weekday 0 (Monday) to 6, local HH:MM.")
class PostingSlotInput:
    weekday: int
    at: str = strawberry.field(description="Local time in the account's zone, e.g. 09:30.")


@strawberry.input(description="Replace an account's weekly slots (an empty list clears them).")
class SetPostingSlotsInput:
    account_id: strawberry.ID
    slots: list[PostingSlotInput]


@strawberry.input
class AddToQueueInput:
    post_id: strawberry.ID


@strawberry.input
class ShuffleQueueInput:
    account_id: strawberry.ID
    seed: int | None = strawberry.field(default=None, description="Makes the shuffle repeatable.")


@strawberry.input(description="Every queued post of the account, once each, in the wanted order.")
class ReorderQueueInput:
    account_id: strawberry.ID
    post_ids: list[strawberry.ID]


@strawberry.type(description="The account's queued posts, in slot order.")
class QueuedPosts:
    posts: list[Post]


SetPostingSlotsResult = Annotated[
    Account | ValidationErrors | NotFound | PermissionDenied,
    strawberry.union("SetPostingSlotsResult"),
]
AddToQueueResult = Annotated[
    Post | ValidationErrors | NotFound | Conflict | PermissionDenied,
    strawberry.union("AddToQueueResult"),
]
QueueChangeResult = Annotated[
    QueuedPosts | ValidationErrors | NotFound | Conflict | PermissionDenied,
    strawberry.union("QueueChangeResult"),
]


@strawberry.type
class QueueMutation:
    @authenticated_mutation(
        description="Replace the weekly slots; posts already queued keep their times.",
    )
    async def set_posting_slots(
        self, info: Info, input: SetPostingSlotsInput
    ) -> SetPostingSlotsResult:
        account = await info.context.services.slots.set_slots(
            info.context.caller, input.account_id, plain(input.slots)
        )
        return Account.from_document(account)

    @authenticated_mutation(
        description="Schedule a post (one-off) at its account's next free slot.",
    )
    async def add_to_queue(self, info: Info, input: AddToQueueInput) -> AddToQueueResult:
        return Post.from_document(
            await info.context.services.slots.add_to_queue(info.context.caller, input.post_id)
        )

    @authenticated_mutation(description="Shuffle the queued posts among the slots they hold.")
    async def shuffle_queue(self, info: Info, input: ShuffleQueueInput) -> QueueChangeResult:
        posts = await info.context.services.slots.shuffle(
            info.context.caller, input.account_id, seed=input.seed
        )
        return QueuedPosts(posts=[Post.from_document(post) for post in posts])

    @authenticated_mutation(description="Put the queued posts in this order over their slots.")
    async def reorder_queue(self, info: Info, input: ReorderQueueInput) -> QueueChangeResult:
        posts = await info.context.services.slots.reorder(
            info.context.caller, input.account_id, input.post_ids
        )
        return QueuedPosts(posts=[Post.from_document(post) for post in posts])
