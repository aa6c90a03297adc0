"""Accounts: connected Threads profiles, their quota, and connecting one (OAuth).

Access tokens never leave the core: no type here has a field for one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from graphql_api.context import Info
from graphql_api.enums import AccountStatus
from graphql_api.errors import (
    AccountNeedsReconnect,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    ThreadsApiFailure,
    ValidationErrors,
)
from graphql_api.fields import authenticated_field, authenticated_mutation, field
from graphql_api.insights import AccountInsights
from graphql_api.queueing import AccountQueue, PostingSlot
from scheduler.accounts.service import OAuthStart
from scheduler.platform import documents as core
from scheduler.threads.models import PublishingLimit


@strawberry.type(description="The account's quota as last read from Threads.")
class QuotaSnapshot:
    used: int
    total: int
    reply_used: int
    reply_total: int
    checked_at: datetime | None


@strawberry.type(description="A connected Threads profile.")
class Account:
    id: strawberry.ID
    username: str
    threads_user_id: str
    timezone: str
    status: AccountStatus
    status_reason: str | None
    token_expires_at: datetime | None
    token_refreshed_at: datetime | None
    quota: QuotaSnapshot
    posting_slots: list[PostingSlot] = strawberry.field(
        description="The weekly slot grid of its queue, in its time zone (setPostingSlots)."
    )
    created_at: datetime

    @field(description="Its queue: upcoming slots and the posts in them, and how it stands.")
    def queue(self) -> AccountQueue:
        return AccountQueue(account_id=self.id)

    @field(description="Its latest daily insights and their history (null until first read).")
    async def insights(self, info: Info) -> AccountInsights | None:
        found = await info.context.services.insights.for_account(info.context.caller, self.id)
        return AccountInsights.from_document(found) if found else None

    @classmethod
    def from_document(cls, doc: core.Account) -> Account:
        return cls(
            id=strawberry.ID(str(doc.id)),
            username=doc.username,
            threads_user_id=doc.threads_user_id,
            timezone=doc.timezone,
            status=doc.status,
            status_reason=doc.status_reason,
            token_expires_at=doc.token_expires_at,
            token_refreshed_at=doc.token_refreshed_at,
            quota=QuotaSnapshot(**doc.quota.model_dump()),
            posting_slots=[PostingSlot.from_model(slot) for slot in doc.slots],
            created_at=doc.created_at,
        )


@strawberry.type(description="Live publishing quota over the rolling 24 hours, from Threads.")
class PublishingQuota:
    quota_usage: int
    quota_total: int
    quota_duration: int = strawberry.field(description="The window, in seconds.")
    posts_remaining: int
    reply_quota_usage: int | None
    reply_quota_total: int | None
    replies_remaining: int | None

    @classmethod
    def from_limit(cls, limit: PublishingLimit) -> PublishingQuota:
        return cls(
            quota_usage=limit.quota_usage,
            quota_total=limit.quota_total,
            quota_duration=limit.quota_duration,
            posts_remaining=limit.posts_remaining,
            reply_quota_usage=limit.reply_quota_usage,
            reply_quota_total=limit.reply_quota_total,
            replies_remaining=limit.replies_remaining,
        )


@strawberry.type(
    description=(
        "Send the user to `authorizeUrl`; Threads redirects back with `code` and `state`: pass "
        "both to connectAccount within 15 minutes."
    )
)
class AccountAuthorization:
    authorize_url: str
    state: str
    expires_at: datetime

    @classmethod
    def from_start(cls, start: OAuthStart) -> AccountAuthorization:
        return cls(authorize_url=start.url, state=start.state, expires_at=start.expires_at)


AccountResult = Annotated[Account | NotFound, strawberry.union("AccountResult")]
PublishingQuotaResult = Annotated[
    PublishingQuota | NotFound | AccountNeedsReconnect | QuotaExceeded | ThreadsApiFailure,
    strawberry.union("PublishingQuotaResult"),
]
ConnectAccountResult = Annotated[
    AccountAuthorization | Account | ValidationErrors | PermissionDenied | ThreadsApiFailure,
    strawberry.union("ConnectAccountResult"),
]
DisconnectAccountResult = Annotated[
    Account | NotFound | PermissionDenied, strawberry.union("DisconnectAccountResult")
]
RefreshAccountTokenResult = Annotated[
    Account
    | NotFound
    | ValidationErrors
    | AccountNeedsReconnect
    | QuotaExceeded
    | ThreadsApiFailure
    | PermissionDenied,
    strawberry.union("RefreshAccountTokenResult"),
]


@strawberry.input(
    description=(
        "Without `code`: start connecting (returns where to send the user). With `code` and "
        "`state` from Threads' redirect: finish, and get the Account."
    )
)
class ConnectAccountInput:
    code: str | None = None
    state: str | None = None
    timezone: str = strawberry.field(default="UTC", description="The account's IANA time zone.")


@strawberry.input
class AccountIdInput:
    id: strawberry.ID


@strawberry.type
class AccountQuery:
    @authenticated_field(description="Your connected accounts.")
    async def accounts(self, info: Info) -> list[Account]:
        found = await info.context.services.accounts.all(info.context.caller)
        return [Account.from_document(doc) for doc in found]

    @authenticated_field(description="One of your accounts.")
    async def account(self, info: Info, id: strawberry.ID) -> AccountResult:
        return Account.from_document(
            await info.context.services.accounts.get(info.context.caller, id)
        )

    @authenticated_field(description="Asks Threads, live.")
    async def publishing_quota(
        self, info: Info, account_id: strawberry.ID
    ) -> PublishingQuotaResult:
        limit = await info.context.services.accounts.publishing_quota(
            info.context.caller, account_id
        )
        return PublishingQuota.from_limit(limit)


@strawberry.type
class AccountMutation:
    @authenticated_mutation()
    async def connect_account(self, info: Info, input: ConnectAccountInput) -> ConnectAccountResult:
        accounts, actor = info.context.services.accounts, info.context.caller
        if input.code is None:
            return AccountAuthorization.from_start(accounts.start_connect(actor))
        account = await accounts.complete_connect(
            actor, input.code, input.state or "", timezone=input.timezone
        )
        return Account.from_document(account)

    @authenticated_mutation(
        description="Forget the token; its scheduled posts wait (held) until you reconnect it.",
    )
    async def disconnect_account(
        self, info: Info, input: AccountIdInput
    ) -> DisconnectAccountResult:
        return Account.from_document(
            await info.context.services.accounts.disconnect(info.context.caller, input.id)
        )

    @authenticated_mutation(
        description="Refresh the long-lived token now (Threads needs it to be 24 hours old).",
    )
    async def refresh_account_token(
        self, info: Info, input: AccountIdInput
    ) -> RefreshAccountTokenResult:
        return Account.from_document(
            await info.context.services.accounts.refresh(info.context.caller, input.id)
        )
