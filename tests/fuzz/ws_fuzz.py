"""WebSocket fuzzing of `/graphql`: generated frame sequences in both subscription protocols.

A conversation is a few frames on one connection: well-formed protocol messages (init with the
token, ping, subscribe/start with real documents, complete/stop) mixed with malformed ones (any
JSON value, wrong-typed fields, unknown types, invalid JSON, binary frames, deep nesting, long
strings). The server must answer each conversation as its protocol says: messages of the
protocol's types whose GraphQL errors are not internal ones, and, when it closes, a close code
the protocol defines for the client's mistake; never a dropped connection (no close frame) or
1011 (a server error), except where the legacy protocol uses 1011 to reject a connection.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.fuzz.checks import graphql_error_problems

TRANSPORT, LEGACY = "graphql-transport-ws", "graphql-ws"
PROTOCOLS = (TRANSPORT, LEGACY)
# Close codes each protocol uses for a client's mistake (and a normal close).
CLOSE_CODES = {
    TRANSPORT: frozenset({1000, 1009, 4400, 4401, 4403, 4408, 4409, 4429}),
    LEGACY: frozenset({1000, 1002, 1009, 4401, 4403}),
}
SERVER_MESSAGES = {
    TRANSPORT: frozenset({"connection_ack", "next", "error", "complete", "ping", "pong"}),
    LEGACY: frozenset({"connection_ack", "connection_error", "data", "error", "complete", "ka"}),
}
QUIET_SECONDS = 0.3  # a conversation ends when the server has been silent this long
DOCUMENTS = (
    "subscription { schedulerState { __typename } }",
    "subscription { queueStats { __typename } }",
    "subscription($post: ID) { postStatusChanged(postId: $post) { status } }",
    "subscription { jobEvents { __typename } }",
    "subscription { notificationCreated { __typename } }",
    "{ health }",
    "{ me { role } }",
    "query($id: ID!) { post(id: $id) { __typename } }",
    "mutation { markNotificationsRead { __typename } }",
    "subscription A { schedulerState { __typename } } subscription B { queueStats { name } }",
    "subscription { nope }",
    "{ health ",
    "",
)


def operation_messages(protocol: str) -> tuple[str, str]:
    """The (start, end) message types of an operation in `protocol`."""
    return ("subscribe", "complete") if protocol == TRANSPORT else ("start", "stop")


_text = st.text(max_size=30)
_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
_ids = st.sampled_from(["1", "2", "x" * 300]) | _json


@st.composite
def frames(draw: st.DrawFn, protocol: str, token: str, ids: Sequence[str]) -> list[str | bytes]:
    """A conversation: the frames one client sends on one connection."""
    start, end = operation_messages(protocol)
    init_payload = draw(
        st.sampled_from(
            [
                {"Authorization": f"Bearer {token}"},
                {"token": token},
                {"Authorization": "Bearer not-a-token"},
                {"Authorization": 5},
                {},
            ]
        )
        | _json
    )
    variables = st.none() | st.fixed_dictionaries(
        {}, optional={"post": st.sampled_from(list(ids)) | _json, "id": st.sampled_from(list(ids))}
    )
    payload = st.fixed_dictionaries(
        {"query": st.sampled_from(DOCUMENTS) | _json},
        optional={"variables": variables | _json, "operationName": st.none() | _text | _json},
    )
    message = st.one_of(
        st.fixed_dictionaries({"type": st.just(start), "id": _ids, "payload": payload | _json}),
        st.fixed_dictionaries({"type": st.just(end), "id": _ids}),
        st.fixed_dictionaries({"type": st.sampled_from(["ping", "pong", "connection_terminate"])}),
        st.fixed_dictionaries({"type": st.just("connection_init"), "payload": st.just({})}),
        st.fixed_dictionaries({"type": _text | _json}),
        _json,
    )
    encoded = message.map(json.dumps)
    junk = st.sampled_from(
        [
            "{not json",
            "",
            "[" * 5000 + "]" * 5000,
            '{"type": "ping", "payload": "' + "x" * 100_000 + '"}',
            '{"type": "subscribe", "id": "1", "payload": {"query": "{ health }", "x": 1'
            + "0" * 5000
            + "}}",
        ]
    )
    body = draw(
        st.lists(
            st.one_of(encoded, encoded, encoded, junk, st.binary(max_size=20)),
            min_size=1,
            max_size=6,
        )
    )
    init: list[str | bytes] = []
    if draw(st.integers(0, 4)) > 0:
        init = [json.dumps({"type": "connection_init", "payload": init_payload})]
    return init + body


@dataclass
class Conversation:
    """What the server did with one conversation."""

    received: list[str | bytes] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    closed: bool = False

    def problems(self, protocol: str) -> list[str]:
        """What breaks the protocol or leaks internals (an empty list when nothing does)."""
        problems: list[str] = []
        for raw in self.received:
            problems += _message_problems(protocol, raw)
        if self.closed:
            rejected = any('"connection_error"' in str(raw) for raw in self.received)
            allowed = CLOSE_CODES[protocol] | ({1011} if rejected and protocol == LEGACY else set())
            if self.close_code not in allowed:
                problems.append(
                    f"closed with {self.close_code} ({self.close_reason!r}); a client's "
                    f"mistake closes with one of {sorted(CLOSE_CODES[protocol])}"
                )
        return problems


def _message_problems(protocol: str, raw: str | bytes) -> list[str]:
    if isinstance(raw, bytes):
        return [f"a binary message: {raw[:100]!r}"]
    try:
        message = json.loads(raw)
    except ValueError:
        return [f"a message that is not JSON: {raw[:200]!r}"]
    if not isinstance(message, dict) or message.get("type") not in SERVER_MESSAGES[protocol]:
        return [f"a message the protocol does not have: {raw[:200]!r}"]
    payload = message.get("payload")
    if message["type"] == "error":
        errors = payload if isinstance(payload, list) else [payload]
        return graphql_error_problems({"errors": errors})
    if message["type"] in ("next", "data"):
        return graphql_error_problems(payload)
    return []


async def converse(
    url: str, protocol: str, sent: Sequence[str | bytes], quiet: float = QUIET_SECONDS
) -> Conversation:
    """Send the frames one after the other, then listen until the server is quiet or closes."""
    conversation = Conversation()
    async with websockets.connect(
        url,
        subprotocols=[Subprotocol(protocol)],
        max_size=None,
        open_timeout=30,
    ) as connection:
        try:
            for frame in sent:
                await connection.send(frame)
            while True:
                conversation.received.append(await asyncio.wait_for(connection.recv(), quiet))
        except TimeoutError:
            pass
        except ConnectionClosed as closed:
            conversation.closed = True
            if closed.rcvd is not None:
                conversation.close_code = closed.rcvd.code
                conversation.close_reason = closed.rcvd.reason
    return conversation


def fuzz_conversations(
    url: str,
    protocol: str,
    token: str,
    ids: Sequence[str],
    *,
    examples: int,
    after_each: Callable[[list[str | bytes]], None] | None = None,
) -> Counter[str]:
    """Hold `examples` generated conversations; raises on the first the server mishandles
    (Hypothesis shrinks it first). How each ended: `open` or `closed <code>`.

    Args:
        url: the `ws://.../graphql` endpoint.
        protocol: `graphql-transport-ws` or `graphql-ws`.
        token: an API token (conversations authenticate with it, or with junk).
        ids: real ids to put in variables.
        examples: Hypothesis' `max_examples`.
        after_each: called with the frames of each conversation (e.g. to check the log).
    """
    endings: Counter[str] = Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(sent=frames(protocol, token, ids))
    def run(sent: list[str | bytes]) -> None:
        conversation = asyncio.run(converse(url, protocol, sent))
        endings["open" if not conversation.closed else f"closed {conversation.close_code}"] += 1
        problems = conversation.problems(protocol)
        shown = [frame[:300] for frame in sent]
        assert not problems, f"{protocol} {shown}\n" + "\n".join(problems)
        if after_each is not None:
            after_each(sent)

    run()
    return endings


# --- a well-behaved subscriber -----------------------------------------------------------------


class Subscriber:
    """A well-behaved `graphql-transport-ws` client following one post's status."""

    DOCUMENT = "subscription($post: ID) { postStatusChanged(postId: $post) { postId status } }"

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def next_status(self, timeout: float) -> dict[str, Any]:
        """The next `postStatusChanged` (pings answered on the way)."""
        while True:
            message = json.loads(await asyncio.wait_for(self.connection.recv(), timeout))
            if message["type"] == "ping":
                await self.connection.send(json.dumps({"type": "pong"}))
                continue
            assert message["type"] == "next", message
            change: dict[str, Any] = message["payload"]["data"]["postStatusChanged"]
            return change


@asynccontextmanager
async def subscriber(
    url: str, token: str, post_id: str, timeout: float = 30
) -> AsyncIterator[Subscriber]:
    """A subscription to `post_id`'s status, past its first message (the current status)."""
    async with websockets.connect(
        url, subprotocols=[Subprotocol(TRANSPORT)], open_timeout=timeout
    ) as conn:
        await conn.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        ack = json.loads(await asyncio.wait_for(conn.recv(), timeout))
        assert ack == {"type": "connection_ack"}, ack
        payload: Mapping[str, Any] = {
            "query": Subscriber.DOCUMENT,
            "variables": {"post": post_id},
        }
        await conn.send(json.dumps({"id": "watch", "type": "subscribe", "payload": payload}))
        live = Subscriber(conn)
        await live.next_status(timeout)  # the current status: the subscription is live
        yield live
