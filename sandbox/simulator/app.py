"""The simulator's Starlette app: Graph endpoints, admin API, feed and authorize page.

Graph calls go through one lean ASGI endpoint (`GraphApp`) rather than one route per endpoint: it
stamps the arrival time first, journals the call, applies injected faults, dispatches on the path
segments (with or without a `/vX.Y` prefix, `me` or numeric ids) and answers JSON. Any unexpected
input is answered with a Graph error, never a 500 (unless a fault asks for one).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from sandbox.simulator import insights, oauth, publishing, reading
from sandbox.simulator.admin import admin_routes
from sandbox.simulator.faults import FaultKind, FaultSpec
from sandbox.simulator.feed import feed_routes
from sandbox.simulator.journal import RequestRecord
from sandbox.simulator.params import GraphRequest, parse_request
from sandbox.simulator.responses import (
    GraphError,
    OAuthError,
    Reply,
    no_such_object,
)
from sandbox.simulator.state import SimulatorState
from scheduler.platform.clock import Clock

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[SimulatorState, GraphRequest], Reply]

RECEIVED_AT = "threads_simulator.received_at"


_ROOT: dict[tuple[str, str], tuple[str, Handler]] = {
    ("GET", "access_token"): ("oauth_exchange", oauth.exchange_long_lived),
    ("GET", "refresh_access_token"): ("oauth_refresh", oauth.refresh),
    ("GET", "debug_token"): ("debug_token", oauth.debug_token),
}
_EDGES: dict[tuple[str, str], tuple[str, Handler]] = {
    ("POST", "threads"): ("create_container", publishing.create_container),
    ("GET", "threads"): ("list_threads", reading.list_own),
    ("POST", "threads_publish"): ("publish", publishing.publish),
    ("GET", "threads_publishing_limit"): ("publishing_limit", reading.publishing_limit),
    ("GET", "threads_insights"): ("account_insights", insights.account_insights),
    ("GET", "insights"): ("post_insights", insights.post_insights),
}
_RATE_LIMIT_MESSAGES = {
    4: "Application request limit reached",
    17: "User request limit reached",
    32: "Page request limit reached",
    341: "Application limit reached",
    613: "Calls to this api have exceeded the rate limit.",
}


def _unknown_path(state: SimulatorState, req: GraphRequest) -> Reply:
    raise GraphError(
        f"Unknown path components: /{'/'.join(req.segments)}", code=2500, type="OAuthException"
    )


def route(state: SimulatorState, req: GraphRequest) -> tuple[str, Handler]:
    """The endpoint name and handler of a Graph call."""
    segments, method = req.segments, req.method
    if len(segments) == 2 and segments[0] == "oauth" and segments[1] == "access_token":
        if method == "POST":
            return "oauth_code", oauth.exchange_code
        return "app_token", oauth.app_token
    if len(segments) == 1:
        found = _ROOT.get((method, segments[0]))
        if found is not None:
            return found
        if method == "GET":
            return reading.object_kind(state, segments[0]), reading.get_object
        if method == "DELETE":
            return "delete_post", reading.delete_post
        return "get_object", _unsupported
    if len(segments) == 2:
        if method == "GET" and segments[1] == "replies":
            is_user = segments[0] == "me" or segments[0] in state.accounts
            return (
                ("list_replies", reading.list_own)
                if is_user
                else ("media_replies", reading.list_media_replies)
            )
        found = _EDGES.get((method, segments[1]))
        if found is not None:
            return found
    return "unknown", _unknown_path


def _unsupported(state: SimulatorState, req: GraphRequest) -> Reply:
    raise no_such_object(req.segments[0], req.method.lower())


class _Marker:
    """What to do instead of answering: `DROP` the connection, or nothing (`GONE`: client left)."""

    def __init__(self, name: str) -> None:
        self.name = name


DROP, GONE = _Marker("drop"), _Marker("gone")
logger = logging.getLogger(__name__)


class GraphApp:
    """The ASGI endpoint serving every Graph API path."""

    def __init__(self, state: SimulatorState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        received_at = scope.get(RECEIVED_AT) or state.clock.now()
        body = await _read_body(receive)
        if body is None:
            return
        record = state.journal.start(received_at, scope["method"], scope["path"])
        outcome: Reply | _Marker | None = None
        try:
            req = await parse_request(
                scope, body, received_at, record, accept_json=state.config.accept_json_bodies
            )
            name, handler = route(state, req)
            record.endpoint = name
            record.user_id = state.token_owner(req.token)
            if state.faults.specs:
                outcome = await self._before(req, receive)
            if outcome is None:
                outcome = handler(state, req)
        except GraphError as exc:
            outcome = exc.reply(state.trace_id())
        except OAuthError as exc:
            outcome = exc.reply()
        except Exception:  # a simulator bug: answer like Graph does, and say so in the log
            logger.exception("Threads simulator failed on %s %s", scope["method"], scope["path"])
            outcome = GraphError("An unknown error has occurred.", code=1, status=500).reply("")
        if isinstance(outcome, Reply) and outcome.status < 400 and state.faults.specs:
            outcome = await self._after(record, outcome, receive)
        if isinstance(outcome, _Marker):
            record.status = -1  # no answer was given
            if outcome is DROP:
                await _drop(send)
            return
        record.status = outcome.status
        await _send(send, outcome)

    async def _before(self, req: GraphRequest, receive: Receive) -> Reply | _Marker | None:
        record = req.record
        fired = self.state.faults.pick(
            after=False, endpoint=record.endpoint, user_id=record.user_id
        )
        if not fired:
            return None
        record.fault = ",".join(spec.kind.value for spec in fired)
        for spec in fired:
            if spec.kind is FaultKind.LATENCY:
                await self.state.fault_clock.sleep(self.state.faults.delay_seconds(spec))
        for spec in fired:
            if spec.kind is FaultKind.HANG:
                if await self._hold(receive, spec.seconds):
                    return GONE
            elif spec.kind is FaultKind.DROP:
                return DROP
            elif spec.kind is not FaultKind.LATENCY:
                return self._fault_reply(spec)
        return None

    async def _after(
        self, record: RequestRecord, reply: Reply, receive: Receive
    ) -> Reply | _Marker:
        fired = self.state.faults.pick(after=True, endpoint=record.endpoint, user_id=record.user_id)
        for spec in fired:
            record.fault = ",".join(filter(None, [record.fault, spec.kind.value]))
            if spec.kind is FaultKind.ACCEPT_THEN_DROP:
                return DROP
            if spec.kind is FaultKind.ACCEPT_THEN_ERROR:
                return _server_error(spec).reply(self.state.trace_id())
            if spec.kind is FaultKind.ACCEPT_THEN_HANG and await self._hold(receive, spec.seconds):
                return GONE
        return reply

    async def _hold(self, receive: Receive, seconds: float | None) -> bool:
        """Hold the request `seconds` (None: forever); True if the client disconnected meanwhile."""
        gone = asyncio.ensure_future(_until_disconnect(receive))
        if seconds is None:
            await gone
            return True
        timer = asyncio.ensure_future(self.state.fault_clock.sleep(seconds))
        done, _ = await asyncio.wait({gone, timer}, return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        timer.cancel()
        return gone in done

    def _fault_reply(self, spec: FaultSpec) -> Reply:
        trace = self.state.trace_id()
        if spec.kind is FaultKind.ERROR_5XX:
            status = spec.status or 500
            if status == 500:
                return _server_error(spec).reply(trace)
            page = f"<html><body><h1>{status} Service Unavailable</h1></body></html>".encode()
            return Reply(status, page, b"text/html; charset=utf-8")
        if spec.kind is FaultKind.TRANSIENT:
            return GraphError(
                "An unexpected error has occurred. Please retry your request later.",
                code=2,
                type="OAuthException",
                status=spec.status or 500,
                is_transient=True,
            ).reply(trace)
        retry = ((b"retry-after", str(spec.retry_after).encode()),) if spec.retry_after else ()
        if spec.kind is FaultKind.RATE_LIMITED:
            code = spec.code or 4
            return GraphError(
                _RATE_LIMIT_MESSAGES.get(code, "Rate limit reached"),
                code=code,
                subcode=spec.subcode,
                type="OAuthException",
                status=spec.status or 400,
                headers=retry,
            ).reply(trace)
        if spec.kind is FaultKind.AUTH_ERROR:
            return GraphError(
                "Error validating access token: the session is no longer valid.",
                code=190,
                subcode=spec.subcode or 463,
                type="OAuthException",
                status=spec.status or 400,
            ).reply(trace)
        quota = self.state.config.quota_error
        return GraphError(
            quota.message,
            code=quota.code,
            subcode=quota.subcode,
            type=quota.type,
            status=quota.status,
            headers=((b"retry-after", str(spec.retry_after or 3600).encode()),),
        ).reply(trace)


def _server_error(spec: FaultSpec) -> GraphError:
    return GraphError(
        "An unknown error has occurred.", code=1, type="OAuthException", status=spec.status or 500
    )


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _send(send: Send, reply: Reply) -> None:
    headers = [
        (b"content-type", reply.content_type),
        (b"content-length", str(len(reply.body)).encode()),
        *reply.headers,
    ]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


async def _drop(send: Send) -> None:
    # Start a response and never finish it: the server closes the connection, so the client sees a
    # dropped connection (httpx.RemoteProtocolError) after its request was fully received.
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]}
    )


class _QuietDrops(logging.Filter):
    """Hide uvicorn's complaint about the responses `drop` faults leave unfinished on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


class ReceiveStamp:
    """Outermost middleware: stamp each request's arrival before routing or reading the body."""

    def __init__(
        self, app: Callable[[Scope, Receive, Send], Awaitable[None]], clock: Clock
    ) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[RECEIVED_AT] = self.clock.now()
        await self.app(scope, receive, send)


def create_simulator_app(
    state: SimulatorState | None = None, clock: Clock | None = None
) -> Starlette:
    """Build the simulator app.

    Args:
        state: the simulated world (a fresh one if None).
        clock: the simulated clock, when no `state` is given (SystemClock plus an admin offset
            by default; tests pass a `ManualClock`).
    """
    if state is None:
        state = SimulatorState(clock=clock)
    elif clock is not None and clock is not state.clock:
        raise ValueError(
            "Pass the clock to SimulatorState(clock=...) or here, not two different ones."
        )
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in uvicorn_errors.filters):
        uvicorn_errors.addFilter(_QuietDrops())

    async def authorize(request: Request) -> Response:
        return oauth.authorize_page(state, request)

    async def grant(request: Request) -> Response:
        return oauth.authorize_grant(state, request)

    routes: list[BaseRoute] = [
        Mount("/__admin", routes=admin_routes(state)),
        *feed_routes(state),
        Route("/oauth/authorize", authorize),
        Route("/oauth/authorize/grant", grant),
        Route("/{path:path}", GraphApp(state)),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(ReceiveStamp, clock=state.clock)])
    app.state.simulator = state
    return app
