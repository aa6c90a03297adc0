"""Abuse: clients that misbehave on purpose, and a well-behaved one that must not notice.

The abusers: WebSocket protocol violations and floods, bodies far over the limits (sent whole, or
only declared), slowloris connections that trickle their headers, and an event stream (`/events`)
that is never read while events pour in. The `Bystander` is another tenant using the same server
meanwhile: plain requests, GraphQL over HTTP, and a live subscription whose events must keep
arriving. Tests assert what the server answers the abusers and that the bystander is served;
`bench/fuzz.py` prints how long the bystander waited.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from scheduler.platform.clock import SystemClock
from scheduler.platform.events import EventBus
from scheduler.services import build_services
from tests.fuzz.server import AppProcess, Tenant
from tests.fuzz.ws_fuzz import TRANSPORT

CREATE = """mutation($input: CreatePostInput!) {
    createPost(input: $input) { __typename ... on Post { id } ... on Error { message } } }"""
WATCH = """subscription($account: ID) {
    postStatusChanged(accountId: $account) { postId status } }"""
SERVED_WITHIN = 20.0  # seconds: "served" on a loaded 2-core machine, not a performance goal
STALLED_STREAM_SECONDS = 10  # sse-starlette's send timeout of /events (web/live.py)


# --- the well-behaved user ---------------------------------------------------------------------


@dataclass
class Bystander:
    """Another tenant's client: HTTP requests and one live subscription on their account."""

    tenant: Tenant
    http: httpx.AsyncClient
    socket: ClientConnection
    latencies: list[float] = field(default_factory=list)

    async def roundtrip(self, timeout: float = SERVED_WITHIN) -> float:
        """Create a post over HTTP and wait for its event on the subscription; the seconds."""
        started = time.monotonic()
        variables = {"input": {"accountId": self.tenant.account_id, "content": {"text": "hi"}}}
        response = await self.http.post(
            "/graphql", json={"query": CREATE, "variables": variables}, timeout=timeout
        )
        created = response.json()["data"]["createPost"]
        assert created["__typename"] == "Post", created
        await asyncio.wait_for(self._event_of(created["id"]), timeout)
        elapsed = time.monotonic() - started
        self.latencies.append(elapsed)
        return elapsed

    async def request(self, timeout: float = SERVED_WITHIN) -> float:
        """`/healthz` and a GraphQL query; the seconds both took."""
        started = time.monotonic()
        health = await self.http.get("/healthz", timeout=timeout)
        assert health.status_code == 200, health.text
        me = await self.http.post("/graphql", json={"query": "{ me { email } }"}, timeout=timeout)
        assert me.json() == {"data": {"me": {"email": self.tenant.email}}}, me.text
        elapsed = time.monotonic() - started
        self.latencies.append(elapsed)
        return elapsed

    async def _event_of(self, post_id: str) -> None:
        while True:
            message = json.loads(await self.socket.recv())
            if message["type"] == "ping":
                await self.socket.send(json.dumps({"type": "pong"}))
            elif message["type"] == "next":
                if message["payload"]["data"]["postStatusChanged"]["postId"] == post_id:
                    return
            else:
                raise AssertionError(f"The subscription got {message}")


@asynccontextmanager
async def bystander(app: AppProcess, tenant: Tenant) -> AsyncIterator[Bystander]:
    """A bystander whose subscription is live (one round trip made) when it is yielded."""
    headers = {**tenant.bearer}
    async with (
        httpx.AsyncClient(base_url=app.base_url, headers=headers, timeout=SERVED_WITHIN) as http,
        websockets.connect(
            app.ws_url, subprotocols=[Subprotocol(TRANSPORT)], open_timeout=30
        ) as conn,
    ):
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {tenant.token}"}}
        await conn.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(conn.recv(), 30)) == {"type": "connection_ack"}
        payload = {"query": WATCH, "variables": {"account": tenant.account_id}}
        await conn.send(json.dumps({"id": "watch", "type": "subscribe", "payload": payload}))
        user = Bystander(tenant, http, conn)
        await _until_live(user)
        user.latencies.clear()
        yield user


async def _until_live(user: Bystander) -> None:
    # The server acknowledges no subscription: create posts until one's event arrives.
    deadline = time.monotonic() + 30
    while True:
        try:
            await user.roundtrip(timeout=2)
        except TimeoutError:
            if time.monotonic() > deadline:
                raise
        else:
            return


async def keep_busy(user: Bystander, until: asyncio.Event, pause: float = 0.2) -> int:
    """Round trips and requests until `until` is set; how many were made (each must succeed)."""
    count = 0
    while not until.is_set():
        await user.roundtrip()
        await user.request()
        count += 1
        await asyncio.sleep(pause)
    return count


# --- WebSocket abusers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """A way to break a subscription protocol, and the close code it must get."""

    name: str
    protocol: str
    frames: tuple[str | bytes, ...]
    code: int
    reason: str  # the start of the close reason
    init: bool = True  # send a valid connection_init first


def violations(token: str) -> list[Violation]:
    """Protocol violations and the close each protocol prescribes."""
    auth = json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    subscribe = json.dumps(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": "subscription { schedulerState { __typename } }"},
        }
    )
    start = subscribe.replace('"subscribe"', '"start"')
    return [
        Violation("binary frame", TRANSPORT, (b"\x00\x01binary",), 4400, "WebSocket message type"),
        Violation("invalid JSON", TRANSPORT, ("{not json",), 4400, "WebSocket message must be"),
        Violation("JSON nested too deep", TRANSPORT, ("[" * 100_000,), 4400, "WebSocket message"),
        Violation("not an object", TRANSPORT, ("[1, 2]",), 4400, "Each message must be"),
        Violation("unknown type", TRANSPORT, ('{"type": "hello"}',), 4400, "Unknown message type"),
        Violation("no operation id", TRANSPORT, ('{"type": "subscribe"}',), 4400, "A `subscribe`"),
        Violation(
            "payload without a query",
            TRANSPORT,
            ('{"type": "subscribe", "id": "1", "payload": {"query": 7}}',),
            4400,
            "The payload's `query`",
        ),
        Violation("subscribe before init", TRANSPORT, (subscribe,), 4401, "Unauthorized", False),
        Violation("init twice", TRANSPORT, (auth,), 4429, "Too many initialisation"),
        Violation("duplicate id", TRANSPORT, (subscribe, subscribe), 4409, "Subscriber for 1"),
        Violation(
            "bad token",
            TRANSPORT,
            ('{"type": "connection_init", "payload": {"Authorization": "Bearer nope"}}',),
            4403,
            "Forbidden",
            False,
        ),
        Violation(
            "17 MiB frame", TRANSPORT, ("x" * (17 * 1024 * 1024),), 1009, "frame exceeds limit"
        ),
        Violation("binary frame", "graphql-ws", (b"\x00binary",), 1002, "WebSocket message type"),
        Violation("start before init", "graphql-ws", (start,), 4401, "Unauthorized", False),
    ]


@dataclass(frozen=True)
class Closed:
    """How the server closed a connection (code None: dropped without a close frame)."""

    code: int | None
    reason: str
    messages: tuple[str, ...]


async def commit(app: AppProcess, token: str, violation: Violation) -> Closed:
    """Open a connection, send the violation and wait for the server to close it."""
    async with websockets.connect(
        app.ws_url,
        subprotocols=[Subprotocol(violation.protocol)],
        max_size=None,
        open_timeout=30,
    ) as conn:
        if violation.init:
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            await conn.send(json.dumps(init))
            assert json.loads(await asyncio.wait_for(conn.recv(), 30)) == {"type": "connection_ack"}
        messages: list[str] = []
        try:
            for frame in violation.frames:
                await conn.send(frame)
            while True:
                received = await asyncio.wait_for(conn.recv(), 30)
                messages.append(received if isinstance(received, str) else repr(received))
        except websockets.ConnectionClosed as closed:
            if closed.rcvd is None:
                return Closed(None, "", tuple(messages))
            return Closed(closed.rcvd.code, closed.rcvd.reason, tuple(messages))
    raise AssertionError("unreachable: the loop ends only when the connection closes")


async def flood(app: AppProcess, token: str, pings: int, operations: int) -> dict[str, int]:
    """One connection sends `pings` pings and `operations` subscriptions without reading, then
    reads what came back; counts of each message type."""
    async with websockets.connect(
        app.ws_url,
        subprotocols=[Subprotocol(TRANSPORT)],
        max_size=None,
        open_timeout=30,
    ) as conn:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await conn.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(conn.recv(), 30)) == {"type": "connection_ack"}
        for _ in range(pings):
            await conn.send('{"type": "ping"}')
        query = "subscription { schedulerState { __typename } }"
        for n in range(operations):
            message = {"id": f"op{n}", "type": "subscribe", "payload": {"query": query}}
            await conn.send(json.dumps(message))
        counts: dict[str, int] = {}
        try:
            while True:
                message = json.loads(await asyncio.wait_for(conn.recv(), 3))
                kind = message["type"]
                if kind == "error":
                    kind = f"error: {message['payload'][0]['message']}"
                counts[kind] = counts.get(kind, 0) + 1
        except TimeoutError:
            pass
        return counts


# --- HTTP abusers ------------------------------------------------------------------------------


def raw_request(app: AppProcess, head: str, body: bytes = b"", wait: float = 30) -> bytes:
    """Send a request's head (and maybe part of its body) on a raw socket; the first bytes of
    the answer (b"" when the server closed without one, or did not answer within `wait`)."""
    with socket.create_connection(("127.0.0.1", app.port), timeout=wait) as sock:
        sock.sendall(head.encode("latin-1") + body)
        try:
            return sock.recv(4096)
        except TimeoutError:
            return b""


def post_head(path: str, length: int, content_type: str, **headers: str) -> str:
    """The head of a POST that declares a body of `length` bytes."""
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Content-Type: {content_type}",
        f"Content-Length: {length}",
        *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items()),
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


@asynccontextmanager
async def slowloris(app: AppProcess, connections: int) -> AsyncIterator[list[socket.socket]]:
    """`connections` sockets that each sent part of a request's headers and keep trickling one
    more header line per second, never finishing; closed on exit."""
    socks: list[socket.socket] = []
    stop = asyncio.Event()

    async def trickle() -> None:
        while not stop.is_set():
            for sock in socks:
                try:
                    sock.send(b"X-Slow: 1\r\n")
                except OSError:
                    pass
            await asyncio.sleep(1)

    try:
        for _ in range(connections):
            sock = socket.create_connection(("127.0.0.1", app.port), timeout=10)
            sock.setblocking(False)
            sock.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            socks.append(sock)
        task = asyncio.create_task(trickle())
        try:
            yield socks
        finally:
            stop.set()
            await task
    finally:
        for sock in socks:
            sock.close()


@asynccontextmanager
async def unread_event_stream(app: AppProcess, session_cookie: str) -> AsyncIterator[socket.socket]:
    """`/events` opened as a logged-in browser would, on a socket with a tiny receive buffer that
    is never read (until the caller drains it)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", app.port))
    try:
        head = (
            "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
            f"Cookie: ts_session={session_cookie}\r\n\r\n"
        )
        sock.sendall(head.encode())
        yield sock
    finally:
        sock.close()


async def pour_events(app: AppProcess, owner_id: str, count: int, size: int) -> None:
    """Publish `count` post events of about `size` bytes each to `owner_id`'s live views."""
    async with build_services(app.settings(), clock=SystemClock()) as services:
        bus: EventBus = services.events
        for n in range(count):
            await bus.publish("post.status", owner_id, post_id=f"p{n}", status="x" * size)


def drained_until_closed(sock: socket.socket, timeout: float) -> tuple[int, bool]:
    """Read everything the server sends until it closes; (bytes read, whether it closed)."""
    sock.settimeout(1)
    total = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(1 << 20)
        except TimeoutError:
            continue
        except OSError:
            return total, True
        if not chunk:
            return total, True
        total += len(chunk)
    return total, False


def owner_id_of(app: AppProcess, tenant: Tenant) -> str:
    """The tenant's owner id, as the API reports it."""
    response = httpx.post(
        f"{app.base_url}/graphql", json={"query": "{ me { ownerId } }"}, headers=tenant.bearer
    )
    owner: Any = response.json()["data"]["me"]["ownerId"]
    return str(owner)
