"""App: the `/graphql` endpoint — HTTP (GET and POST), WebSockets (`graphql-transport-ws` and the
legacy `graphql-ws`) and GraphiQL for browsers — mounted by `web.app` via `graphql_routes()`."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, cast

# Strawberry's HTTP views raise this one (from its own dependency) to answer with a status.
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from graphql_api.auth import authenticate
from graphql_api.context import NOT_AUTHENTICATED, Context, services_of
from graphql_api.errors import authentication_outcome, rejecting_failed_authentication
from graphql_api.ide import CONTENT_SECURITY_POLICY, graphiql_page
from graphql_api.limits import BodyLimit
from graphql_api.schema import schema
from graphql_api.websockets import LegacyWSHandler, TransportWSHandler

JSON_OBJECT_EXPECTED = (
    'Send a JSON object: {"query": "...", "variables": {...}} (variables, too, are an object).'
)
CLOSE_REASON_BYTES = 123  # the most a WebSocket close frame carries (RFC 6455, 5.5)


def close_reason(reason: str) -> str:
    """`reason`, cut to fit a close frame (at a character boundary, marked with an ellipsis)."""
    if len(reason.encode()) <= CLOSE_REASON_BYTES:
        return reason
    cut = reason.encode()[: CLOSE_REASON_BYTES - len("…".encode())].decode(errors="ignore")
    return cut + "…"


class WebSocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's adapter, with close reasons that fit a close frame.

    Strawberry puts client text in some reasons (an unknown message type, a duplicate operation
    id, a syntax error); a reason over 123 bytes made the close itself fail, so the connection
    dropped without a code and the server logged an error (found by tests/fuzz).
    """

    async def close(self, code: int, reason: str) -> None:
        await super().close(code, close_reason(reason))


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI app with our context, WebSocket authentication and offline GraphiQL."""

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    websocket_adapter_class = WebSocketAdapter

    def decode_json(self, data: str | bytes) -> object:
        """A client's JSON (body, `variables` parameter, WebSocket message).

        Input `json` refuses with something other than `JSONDecodeError` (nesting deeper than the
        recursion limit, invalid UTF-8 in a string, an integer of more than 4,300 digits) is
        refused as malformed JSON too (400, or 4400 on a socket) instead of a server error.
        """
        try:
            return json.loads(data)
        except json.JSONDecodeError:
            raise
        except (ValueError, RecursionError) as exc:
            reason = f"Unreadable JSON ({exc.__class__.__name__})"
            raise json.JSONDecodeError(reason, "", 0) from exc

    def parse_json(self, data: str | bytes) -> Any:
        """A request's JSON (body, `variables` or `extensions` parameter): an object, or a list
        for a batch. Strawberry took any JSON value and failed on `null` or a number with a
        server error (found by tests/fuzz)."""
        value = super().parse_json(data)
        if not isinstance(value, dict | list):
            raise HTTPException(400, JSON_OBJECT_EXPECTED)
        return value

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        context = Context(services=services_of(request), request=request)
        if isinstance(request, Request):
            # A WebSocket authenticates in on_ws_connect, from its connection_init payload.
            context.actor, context.auth_error = await authentication_outcome(
                authenticate(context.services, request)
            )
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        async with rejecting_failed_authentication():
            actor = await authenticate(context.services, context.request, context.connection_params)
        if actor is None:
            raise ConnectionRejectionError({"message": NOT_AUTHENTICATED})
        context.actor = actor
        return cast(UnsetType, UNSET)  # acknowledge without a payload

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        page = graphiql_page(root_path=request.scope.get("root_path", ""))
        return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


def graphql_app() -> GraphQLApp:
    return GraphQLApp(
        schema,
        keep_alive=True,  # legacy graphql-ws clients expect "ka" messages
        keep_alive_interval=15,
        connection_init_wait_timeout=timedelta(seconds=30),
    )


def graphql_routes() -> list[BaseRoute]:
    """`/graphql` for HTTP (body size limited) and for WebSockets."""
    app = graphql_app()
    return [
        Route("/graphql", BodyLimit(app), methods=["GET", "POST"], name="graphql"),
        WebSocketRoute("/graphql", app, name="graphql-ws"),
    ]
