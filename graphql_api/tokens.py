"""Tokens: who you are (`me`) and the API tokens programs use."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from graphql_api.context import Info
from graphql_api.enums import Role
from graphql_api.errors import NotFound, PermissionDenied, ValidationErrors
from graphql_api.fields import authenticated_field, authenticated_mutation
from scheduler.platform import documents as core


@strawberry.type(description="Who is calling: the user, the data they act on, and their role.")
class Me:
    user_id: strawberry.ID | None
    email: str
    owner_id: strawberry.ID
    role: Role
    can_write: bool
    token_id: strawberry.ID | None = strawberry.field(
        description="The API token in use; null for a dashboard session."
    )


@strawberry.type(description="An API token; its secret is shown only once, when created.")
class ApiToken:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The secret's first characters, to recognise it.")
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_document(cls, doc: core.ApiToken) -> ApiToken:
        return cls(
            id=strawberry.ID(str(doc.id)),
            name=doc.name,
            prefix=doc.prefix,
            role=doc.role,
            created_at=doc.created_at,
            last_used_at=doc.last_used_at,
            revoked_at=doc.revoked_at,
        )


@strawberry.type(description="A new token. Store `secret` now: it cannot be shown again.")
class CreatedApiToken:
    token: ApiToken
    secret: str


@strawberry.input
class CreateApiTokenInput:
    name: str
    read_only: bool = strawberry.field(default=False, description="A VIEWER token: reads only.")


@strawberry.input
class RevokeApiTokenInput:
    id: strawberry.ID


CreateApiTokenResult = Annotated[
    CreatedApiToken | ValidationErrors | PermissionDenied, strawberry.union("CreateApiTokenResult")
]
RevokeApiTokenResult = Annotated[
    ApiToken | NotFound | PermissionDenied, strawberry.union("RevokeApiTokenResult")
]


def _id(value: object) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value is not None else None


@strawberry.type
class TokenQuery:
    @authenticated_field(description="Who is calling.")
    async def me(self, info: Info) -> Me:
        actor = info.context.caller
        user = await info.context.services.auth.me(actor)
        return Me(
            user_id=_id(actor.user_id),
            email=user.email,
            owner_id=strawberry.ID(str(actor.owner_id)),
            role=actor.role,
            can_write=actor.can_write,
            token_id=_id(actor.token_id),
        )

    @authenticated_field(description="Your API tokens, newest first.")
    async def api_tokens(self, info: Info) -> list[ApiToken]:
        found = await info.context.services.auth.list_tokens(info.context.caller)
        return [ApiToken.from_document(doc) for doc in found]


@strawberry.type
class TokenMutation:
    @authenticated_mutation()
    async def create_api_token(
        self, info: Info, input: CreateApiTokenInput
    ) -> CreateApiTokenResult:
        issued = await info.context.services.auth.create_token(
            info.context.caller, input.name, read_only=input.read_only
        )
        return CreatedApiToken(token=ApiToken.from_document(issued.token), secret=issued.secret)

    @authenticated_mutation(
        description="Revoke a token: it stops working at once, open WebSockets included.",
    )
    async def revoke_api_token(
        self, info: Info, input: RevokeApiTokenInput
    ) -> RevokeApiTokenResult:
        return ApiToken.from_document(
            await info.context.services.auth.revoke_token(info.context.caller, input.id)
        )
