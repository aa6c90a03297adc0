"""Schema: the root types, composed from each area's mixins, and the one `Schema` object.

`graphql_api/schema.graphql` is its committed SDL; a test fails when the two drift apart
(regenerate with `python -m graphql_api.schema > graphql_api/schema.graphql`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from graphql_api.accounts import AccountMutation, AccountQuery
from graphql_api.bulk import BulkMutation, BulkQuery
from graphql_api.context import OperationLoaders
from graphql_api.distribution import DistributionMutation, DistributionQuery
from graphql_api.errors import EXCEPTION_HANDLERS, is_unexpected, mask_unexpected_errors
from graphql_api.fields import public_field
from graphql_api.insights import InsightsQuery
from graphql_api.limits import limit_extensions
from graphql_api.monitoring import MonitoringQuery
from graphql_api.notifications import NotificationMutation, NotificationQuery
from graphql_api.post_mutations import PostMutation
from graphql_api.posts import PostQuery
from graphql_api.queue_mutations import QueueMutation
from graphql_api.schedules import ScheduleQuery
from graphql_api.subscriptions import Subscription
from graphql_api.tokens import TokenMutation, TokenQuery
from graphql_api.webhooks import WebhookMutation, WebhookQuery


@strawberry.type
class HealthQuery:
    @public_field(description="Always `ok`; the only field that needs no credentials.")
    def health(self) -> str:
        return "ok"


@strawberry.type
class Query(
    HealthQuery,
    PostQuery,
    AccountQuery,
    ScheduleQuery,
    MonitoringQuery,
    TokenQuery,
    BulkQuery,
    DistributionQuery,
    InsightsQuery,
    WebhookQuery,
    NotificationQuery,
):
    pass


@strawberry.type
class Mutation(
    PostMutation,
    AccountMutation,
    TokenMutation,
    BulkMutation,
    DistributionMutation,
    QueueMutation,
    WebhookMutation,
    NotificationMutation,
):
    pass


class ApiSchema(strawberry.Schema):
    """Logs only unexpected errors (bugs); a client's mistakes are answered, not logged; and
    serves subscriptions over WebSockets only."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Strawberry's `execute`, never for a subscription.

        Over HTTP (no streaming transport here) Strawberry ran a subscription's resolver as a
        plain field: "Cannot return null" in the log and a masked error for the client (found
        by tests/fuzz). Refused now as an operation type this transport does not allow (400).
        """
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        return await super().execute(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            allowed_operation_types=allowed - {OperationType.SUBSCRIPTION},
            operation_extensions=operation_extensions,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        super().process_errors([e for e in errors if is_unexpected(e)], execution_context)


schema = ApiSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[OperationLoaders, *limit_extensions(), mask_unexpected_errors],
    exception_handlers=EXCEPTION_HANDLERS,
)

PUBLIC_FIELDS = frozenset({"health"})

if __name__ == "__main__":
    print(schema.as_str())
