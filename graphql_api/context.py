"""Context: what every resolver gets — the services, the request, who is asking, and loaders.

Strawberry builds the context once per HTTP request but only once per WebSocket *connection*, so
everything per-operation (the DataLoaders) is renewed for each operation by the schema extension
`OperationLoaders`, which hands the operation a copy made by `for_operation`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, cast

import strawberry
from starlette.requests import HTTPConnection, Request
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from graphql_api.loaders import Loaders
from scheduler.accounts.actors import Actor
from scheduler.platform.errors import AuthenticationFailed
from scheduler.services import Services

if TYPE_CHECKING:
    from typing import TypeAlias

NOT_AUTHENTICATED = (
    "Authentication required: send the header `Authorization: Bearer <API token>` (a WebSocket "
    'sends it in its connection_init payload as {"Authorization": "Bearer <API token>"}), or log '
    "in to the dashboard in this browser."
)


@dataclass
class Context:
    """Per request (HTTP) or per connection (WebSocket); `for_operation` renews the loaders."""

    services: Services
    request: Request | WebSocket
    actor: Actor | None = None
    auth_error: str | None = None  # why credentials that were sent were refused
    connection_params: dict[str, object] | None = None  # a WebSocket's connection_init payload
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.services, self.actor)

    @property
    def caller(self) -> Actor:
        """The authenticated actor; every field but `health` is guarded by `IsAuthenticated`."""
        if self.actor is None:
            raise AuthenticationFailed(self.auth_error or NOT_AUTHENTICATED)
        return self.actor

    def for_operation(self) -> Context:
        """A copy for one operation, with fresh DataLoaders (`__post_init__` runs again)."""
        return replace(self)


class OperationLoaders(SchemaExtension):
    """Give each operation its own copy of the context, with fresh loaders."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            self.execution_context.context = context.for_operation()
        yield


def services_of(conn: HTTPConnection) -> Services:
    """The services the web app's lifespan put into the request state."""
    return cast(Services, conn.state.services)


Info: TypeAlias = strawberry.Info[Context, None]
