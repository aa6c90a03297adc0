"""Webhooks: where an owner's notices are POSTed (signed JSON), and the delivery log.

A webhook's signing secret is shown once, when it is created or rotated (`WebhookWithSecret`);
no type has a field for the stored secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from graphql_api.context import Info
from graphql_api.enums import DeliveryStatus, NoticeKind
from graphql_api.errors import Conflict, NotFound, PermissionDenied, ValidationErrors
from graphql_api.fields import authenticated_field, authenticated_mutation, field
from graphql_api.posts import PageInfo, decode_cursor, encode_cursor
from scheduler.ops import webhooks
from scheduler.ops.notifications import SUBSCRIBABLE
from scheduler.ops.webhooks import MAX_PAGE, WebhookInput
from scheduler.platform import documents as core


@strawberry.type(description="An outbound webhook: which events are POSTed where.")
class Webhook:
    id: strawberry.ID
    url: str
    events: list[NoticeKind]
    enabled: bool
    description: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_document(cls, doc: core.Webhook) -> Webhook:
        return cls(
            id=strawberry.ID(str(doc.id)),
            url=doc.url,
            events=[NoticeKind(event) for event in doc.events],
            enabled=doc.enabled,
            description=doc.description,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
        )


@strawberry.type(
    description=(
        "A webhook and its signing secret. Store `secret` now: it cannot be shown again. "
        "Receivers check `X-Signature-256: sha256=<hex HMAC-SHA256 of the body>`."
    )
)
class WebhookWithSecret:
    webhook: Webhook
    secret: str

    @classmethod
    def from_issued(cls, issued: webhooks.IssuedWebhook) -> WebhookWithSecret:
        return cls(webhook=Webhook.from_document(issued.webhook), secret=issued.secret)


@strawberry.type(description="One POST of a delivery: the receiver's status code, or the error.")
class DeliveryAttempt:
    at: datetime
    response_code: int | None
    error: str | None


@strawberry.type(description="One event sent (or to send) to one webhook, with its attempts.")
class WebhookDelivery:
    id: strawberry.ID
    webhook_id: strawberry.ID
    event_id: str
    event_type: NoticeKind
    payload: str = strawberry.field(description="The exact JSON body every attempt sends.")
    status: DeliveryStatus
    attempts: int
    response_code: int | None
    error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    resend_of: strawberry.ID | None = strawberry.field(
        description="The delivery this one sends again."
    )
    history: list[DeliveryAttempt]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_document(cls, doc: core.WebhookDelivery) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(str(doc.id)),
            webhook_id=strawberry.ID(str(doc.webhook_id)),
            event_id=doc.event_id,
            event_type=NoticeKind(doc.event_type),
            payload=doc.payload,
            status=doc.status,
            attempts=doc.attempts,
            response_code=doc.response_code,
            error=doc.error,
            next_attempt_at=doc.next_attempt_at,
            delivered_at=doc.delivered_at,
            resend_of=strawberry.ID(str(doc.resend_of)) if doc.resend_of else None,
            history=[DeliveryAttempt(**attempt.model_dump()) for attempt in doc.history],
            created_at=doc.created_at,
            updated_at=doc.updated_at,
        )


@strawberry.type
class WebhookDeliveryEdge:
    cursor: str
    node: WebhookDelivery


@strawberry.type(description="A page of the delivery log, newest first.")
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge]
    page_info: PageInfo
    total_count: int

    @field(description="The deliveries of `edges`, without cursors.")
    def nodes(self) -> list[WebhookDelivery]:
        return [edge.node for edge in self.edges]

    @classmethod
    def from_page(cls, page: webhooks.DeliveryPage) -> WebhookDeliveryConnection:
        edges = [
            WebhookDeliveryEdge(
                cursor=encode_cursor(page.offset + n), node=WebhookDelivery.from_document(doc)
            )
            for n, doc in enumerate(page.deliveries)
        ]
        info = PageInfo(
            has_next_page=page.has_more,
            has_previous_page=page.offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return cls(edges=edges, page_info=info, total_count=page.total)


# --- inputs and results ------------------------------------------------------------------------


@strawberry.input(description="A new webhook; a strong secret is generated unless you give one.")
class CreateWebhookInput:
    url: str = strawberry.field(description="An http(s) URL; redirects are not followed.")
    events: list[NoticeKind] | None = strawberry.field(
        default=None, description="What to send; default every event but WEBHOOK_TEST."
    )
    enabled: bool = True
    description: str = ""
    secret: str | None = strawberry.field(
        default=None, description="16-256 characters; leave it out to have one generated."
    )

    def command(self) -> WebhookInput:
        events = [str(kind) for kind in self.events] if self.events is not None else SUBSCRIBABLE
        return WebhookInput(
            url=self.url,
            events=events,
            enabled=self.enabled,
            description=self.description,
            secret=self.secret,
        )


@strawberry.input(description="Change a webhook; left-out fields keep their value.")
class UpdateWebhookInput:
    id: strawberry.ID
    url: str | None = None
    events: list[NoticeKind] | None = None
    enabled: bool | None = None
    description: str | None = None


@strawberry.input(description="A new secret for a webhook: given, or generated when left out.")
class RotateWebhookSecretInput:
    id: strawberry.ID
    secret: str | None = None


@strawberry.input
class WebhookIdInput:
    id: strawberry.ID


@strawberry.input
class WebhookDeliveryIdInput:
    id: strawberry.ID


@strawberry.type(description="The webhook and its delivery log are gone.")
class DeletedWebhook:
    id: strawberry.ID


WebhookResult = Annotated[Webhook | NotFound, strawberry.union("WebhookResult")]
WebhookDeliveriesResult = Annotated[
    WebhookDeliveryConnection | ValidationErrors | NotFound,
    strawberry.union("WebhookDeliveriesResult"),
]
CreateWebhookResult = Annotated[
    WebhookWithSecret | ValidationErrors | PermissionDenied,
    strawberry.union("CreateWebhookResult"),
]
UpdateWebhookResult = Annotated[
    Webhook | ValidationErrors | NotFound | PermissionDenied,
    strawberry.union("UpdateWebhookResult"),
]
RotateWebhookSecretResult = Annotated[
    WebhookWithSecret | ValidationErrors | NotFound | PermissionDenied,
    strawberry.union("RotateWebhookSecretResult"),
]
DeleteWebhookResult = Annotated[
    DeletedWebhook | NotFound | PermissionDenied, strawberry.union("DeleteWebhookResult")
]
SendTestWebhookResult = Annotated[
    WebhookDelivery | NotFound | PermissionDenied, strawberry.union("SendTestWebhookResult")
]
ResendWebhookDeliveryResult = Annotated[
    WebhookDelivery | NotFound | Conflict | PermissionDenied,
    strawberry.union("ResendWebhookDeliveryResult"),
]


@strawberry.type
class WebhookQuery:
    @authenticated_field(description="Your webhooks, newest first.")
    async def webhooks(self, info: Info) -> list[Webhook]:
        found = await info.context.services.webhooks.all(info.context.caller)
        return [Webhook.from_document(doc) for doc in found]

    @authenticated_field(description="One of your webhooks.")
    async def webhook(self, info: Info, id: strawberry.ID) -> WebhookResult:
        return Webhook.from_document(
            await info.context.services.webhooks.get(info.context.caller, id)
        )

    @authenticated_field(
        description=f"The delivery log, newest first (of one webhook, in one status); `first` "
        f"is 1-{MAX_PAGE}.",
    )
    async def webhook_deliveries(
        self,
        info: Info,
        webhook_id: strawberry.ID | None = None,
        status: DeliveryStatus | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> WebhookDeliveriesResult:
        offset = decode_cursor(after)
        page = await info.context.services.webhooks.deliveries(
            info.context.caller, webhook_id=webhook_id, status=status, offset=offset, limit=first
        )
        return WebhookDeliveryConnection.from_page(page)


@strawberry.type
class WebhookMutation:
    @authenticated_mutation(description="Add a webhook; its secret is in the answer, once.")
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> CreateWebhookResult:
        issued = await info.context.services.webhooks.create(info.context.caller, input.command())
        return WebhookWithSecret.from_issued(issued)

    @authenticated_mutation()
    async def update_webhook(self, info: Info, input: UpdateWebhookInput) -> UpdateWebhookResult:
        hook = await info.context.services.webhooks.update(
            info.context.caller,
            input.id,
            url=input.url,
            events=[str(kind) for kind in input.events] if input.events is not None else None,
            enabled=input.enabled,
            description=input.description,
        )
        return Webhook.from_document(hook)

    @authenticated_mutation(
        description="Replace the signing secret (the new one is in the answer, once); "
        "deliveries from now on, retries too, are signed with it.",
    )
    async def rotate_webhook_secret(
        self, info: Info, input: RotateWebhookSecretInput
    ) -> RotateWebhookSecretResult:
        issued = await info.context.services.webhooks.rotate_secret(
            info.context.caller, input.id, input.secret
        )
        return WebhookWithSecret.from_issued(issued)

    @authenticated_mutation(description="Delete a webhook and its delivery log.")
    async def delete_webhook(self, info: Info, input: WebhookIdInput) -> DeleteWebhookResult:
        await info.context.services.webhooks.delete(info.context.caller, input.id)
        return DeletedWebhook(id=input.id)

    @authenticated_mutation(description="Send a WEBHOOK_TEST event to the webhook now.")
    async def send_test_webhook(self, info: Info, input: WebhookIdInput) -> SendTestWebhookResult:
        delivery = await info.context.services.webhooks.send_test(info.context.caller, input.id)
        return WebhookDelivery.from_document(delivery)

    @authenticated_mutation(
        description="Send a delivery's payload again, as a new delivery (the old one stays).",
    )
    async def resend_webhook_delivery(
        self, info: Info, input: WebhookDeliveryIdInput
    ) -> ResendWebhookDeliveryResult:
        delivery = await info.context.services.webhooks.resend(info.context.caller, input.id)
        return WebhookDelivery.from_document(delivery)
