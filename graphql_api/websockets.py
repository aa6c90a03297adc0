"""WebSockets: the two subscription protocols, closing a connection whose API token is revoked,
and refusing messages that break the protocol.

A revoked token must stop working at once, also on a socket opened before the revocation. After
`connection_init` the handler watches the core's events for `token.revoked` of the connection's
token; when it comes, every operation is ended and the socket is closed with 4403. The watcher
subscribes before it checks the token once more, so a revocation between the authentication and
the subscription is not missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, cast

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import OperationMessage

from graphql_api.context import Context
from scheduler.platform.events import Event

REVOKED_CODE = 4403
REVOKED_REASON = "The API token was revoked; connect again with a valid one."
# Messages that start an operation (graphql-transport-ws, legacy) and that end one.
OPERATION_STARTS = frozenset({"subscribe", "start"})
OPERATION_ENDS = frozenset({"complete", "stop"})
LEGACY_TYPES = frozenset({"connection_init", "connection_terminate", "start", "stop"})


def message_problem(message: object) -> str | None:
    """Why a client's message breaks the protocol (None when its shape is right).

    Both protocols share the shapes checked here; the reason is short enough for a WebSocket
    close frame (at most 123 bytes).
    """
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "Each message must be a JSON object with a string `type`."
    kind = message["type"]
    if kind in OPERATION_STARTS | OPERATION_ENDS and not _is_id(message.get("id")):
        return f"A `{kind}` message needs an `id` that is a non-empty string."
    if kind in OPERATION_STARTS:
        return payload_problem(message.get("payload"))
    return None


def payload_problem(payload: object) -> str | None:
    """Why an operation's payload is malformed (None when it is not)."""
    if not isinstance(payload, dict):
        return "The payload must be an object with the GraphQL `query`."
    query = payload.get("query")
    if not isinstance(query, str) or not query.strip():
        return "The payload's `query` must be a non-empty string (the GraphQL document)."
    for key, kind in (("variables", dict), ("operationName", str), ("extensions", dict)):
        value = payload.get(key)
        if value is not None and not isinstance(value, kind):
            expected = "an object" if kind is dict else "a string"
            return f"The payload's `{key}` must be {expected} or null."
    return None


def _is_id(value: object) -> bool:
    return isinstance(value, str) and bool(value)


class RevocationWatch:
    """Ends a connection's operations and closes it when its API token is revoked."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(
        self,
        context: Context,
        stop_operations: Callable[[], Awaitable[None]],
        close: Callable[[int, str], Awaitable[None]],
    ) -> None:
        actor = context.actor
        if actor is None or actor.token_id is None or self._task is not None:
            return  # a dashboard session (no token), or not connected

        async def watch() -> None:
            token_id = actor.token_id
            assert token_id is not None

            def revoked(event: Event) -> bool:
                return event.type == "token.revoked" and event.data.get("token_id") == str(token_id)

            async with context.services.events.subscribe(accept=revoked) as events:
                if await context.services.auth.token_active(token_id):
                    await anext(events)
            await stop_operations()
            await close(REVOKED_CODE, REVOKED_REASON)

        self._task = asyncio.create_task(watch())

    async def cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """`graphql-transport-ws`, closed with 4403 when the connection's token is revoked."""

    revocation: RevocationWatch

    async def handle(self) -> None:
        self.revocation = RevocationWatch()
        try:
            await super().handle()
        finally:
            await self.revocation.cancel()

    async def handle_message(self, message: Any) -> None:
        if (problem := message_problem(message)) is not None:
            await self.handle_invalid_message(problem)  # closes with 4400
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            self.revocation.start(self.context, self.shutdown, self.websocket.close)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy `graphql-ws` protocol, closed the same way."""

    revocation: RevocationWatch

    async def handle(self) -> None:
        self.revocation = RevocationWatch()
        try:
            await super().handle()
        finally:
            await self.revocation.cancel()

    async def handle_message(self, message: Any) -> None:
        problem = message_problem(message)
        if problem is None and message["type"] not in LEGACY_TYPES:
            problem = f"Unknown message type {message['type']!r}; see the graphql-ws protocol."
        if problem is None:
            await super().handle_message(message)
            return
        op_id = message.get("id") if isinstance(message, dict) else None
        error = {"type": "error", "id": op_id if _is_id(op_id) else None}
        await self.send_message(cast(OperationMessage, {**error, "payload": {"message": problem}}))

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            self.revocation.start(self.context, self.cleanup, self.websocket.close)
