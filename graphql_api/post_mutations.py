"""Post mutations: each takes one `input` and returns its payload or a typed error."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graphql_api.content import PostContentInput, ReplyInput
from graphql_api.context import Info
from graphql_api.errors import Conflict, NotFound, PermissionDenied, ValidationErrors
from graphql_api.fields import authenticated_mutation
from graphql_api.inputs import plain, post_input
from graphql_api.posts import Post
from graphql_api.schedules import ScheduleInput


@strawberry.input(description="A new post: a draft, or scheduled at once when `schedule` is given.")
class CreatePostInput:
    account_id: strawberry.ID
    content: PostContentInput
    replies: list[ReplyInput] | None = None
    schedule: ScheduleInput | None = None


@strawberry.input(
    description=(
        "Change a post; left-out fields keep their value (`content` and `replies` are replaced "
        "whole). Pass the `version` you read to refuse the change if someone changed it since."
    )
)
class UpdatePostInput:
    id: strawberry.ID
    version: int | None = None
    account_id: strawberry.ID | None = None
    content: PostContentInput | None = None
    replies: list[ReplyInput] | None = None
    schedule: ScheduleInput | None = None


@strawberry.input
class SchedulePostInput:
    id: strawberry.ID
    schedule: ScheduleInput


@strawberry.input
class PostIdInput:
    id: strawberry.ID


@strawberry.type(description="The post and its history are gone.")
class DeletedPost:
    id: strawberry.ID


CreatePostResult = Annotated[
    Post | ValidationErrors | PermissionDenied, strawberry.union("CreatePostResult")
]
UpdatePostResult = Annotated[
    Post | ValidationErrors | NotFound | Conflict | PermissionDenied,
    strawberry.union("UpdatePostResult"),
]
SchedulePostResult = Annotated[
    Post | ValidationErrors | NotFound | Conflict | PermissionDenied,
    strawberry.union("SchedulePostResult"),
]
PublishNowResult = Annotated[
    Post | ValidationErrors | NotFound | Conflict | PermissionDenied,
    strawberry.union("PublishNowResult"),
]
PostChangeResult = Annotated[
    Post | NotFound | Conflict | PermissionDenied, strawberry.union("PostChangeResult")
]
DuplicatePostResult = Annotated[
    Post | ValidationErrors | NotFound | PermissionDenied, strawberry.union("DuplicatePostResult")
]
DeletePostResult = Annotated[
    DeletedPost | NotFound | Conflict | PermissionDenied, strawberry.union("DeletePostResult")
]


@strawberry.type
class PostMutation:
    @authenticated_mutation()
    async def create_post(self, info: Info, input: CreatePostInput) -> CreatePostResult:
        data = post_input(
            account_id=input.account_id,
            content=input.content,
            replies=input.replies,
            schedule=input.schedule,
        )
        return Post.from_document(
            await info.context.services.posts.create(info.context.caller, data)
        )

    @authenticated_mutation()
    async def update_post(self, info: Info, input: UpdatePostInput) -> UpdatePostResult:
        data = post_input(
            account_id=input.account_id,
            content=input.content,
            replies=input.replies,
            schedule=input.schedule,
        )
        post = await info.context.services.posts.update(
            info.context.caller, input.id, data, version=input.version
        )
        return Post.from_document(post)

    @authenticated_mutation(
        description="Schedule a draft, or reschedule a scheduled, failed or cancelled post.",
    )
    async def schedule_post(self, info: Info, input: SchedulePostInput) -> SchedulePostResult:
        post = await info.context.services.posts.schedule(
            info.context.caller, input.id, plain(input.schedule)
        )
        return Post.from_document(post)

    @authenticated_mutation(description="Stop a draft or scheduled post.")
    async def cancel_post(self, info: Info, input: PostIdInput) -> PostChangeResult:
        return Post.from_document(
            await info.context.services.posts.cancel(info.context.caller, input.id)
        )

    @authenticated_mutation(description="Send a failed post back to the scheduler.")
    async def retry_post(self, info: Info, input: PostIdInput) -> PostChangeResult:
        return Post.from_document(
            await info.context.services.posts.retry(info.context.caller, input.id)
        )

    @authenticated_mutation(description="Publish as soon as possible.")
    async def publish_now(self, info: Info, input: PostIdInput) -> PublishNowResult:
        return Post.from_document(
            await info.context.services.posts.publish_now(info.context.caller, input.id)
        )

    @authenticated_mutation(description="A new draft with the same content.")
    async def duplicate_post(self, info: Info, input: PostIdInput) -> DuplicatePostResult:
        return Post.from_document(
            await info.context.services.posts.duplicate(info.context.caller, input.id)
        )

    @authenticated_mutation(description="Delete a post and its history.")
    async def delete_post(self, info: Info, input: PostIdInput) -> DeletePostResult:
        await info.context.services.posts.delete(info.context.caller, input.id)
        return DeletedPost(id=input.id)
