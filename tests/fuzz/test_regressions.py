"""Regression tests for what the fuzzers found in graphql_api/ (each fixed there), over the same
real server: a 500 or a dropped connection before the fix, a client error after."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from graphql_api.app import CLOSE_REASON_BYTES, JSON_OBJECT_EXPECTED, close_reason
from tests.fuzz.abuse import Violation, commit
from tests.fuzz.server import AppProcess, Tenant
from tests.fuzz.ws_fuzz import LEGACY, TRANSPORT, converse

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_server_errors")]

SUBSCRIPTION = "subscription { schedulerState { __typename } }"


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"query": "{ health }", "variables": ' + b"[" * 50_000 + b"}",
        b'{"query": "{ health }", "variables": {"a": "\xff"}}',
        b'{"query": "{ health }", "variables": {"a": ' + b"1" * 5_000 + b"}}",
    ],
    ids=["nested too deep", "variables nested too deep", "invalid UTF-8", "5,000-digit number"],
)
def test_json_python_cannot_read_is_refused_with_400_not_500(
    fuzz_app: AppProcess, owner: Tenant, body: bytes
) -> None:
    headers = {**owner.bearer, "Content-Type": "application/json"}
    response = httpx.post(f"{fuzz_app.base_url}/graphql", content=body, headers=headers)
    assert (response.status_code, response.text) == (400, "Unable to parse request body as JSON")


def test_variables_in_a_query_string_nested_too_deep_get_400_not_500(
    fuzz_app: AppProcess, owner: Tenant
) -> None:
    params = {"query": "{ health }", "variables": "[" * 5_000}
    response = httpx.get(f"{fuzz_app.base_url}/graphql", params=params, headers=owner.bearer)
    assert response.status_code == 400


def test_a_close_reason_is_cut_to_fit_a_close_frame() -> None:
    assert close_reason("Unknown message type: hello") == "Unknown message type: hello"
    cut = close_reason("Subscriber for " + "é" * 200 + " already exists")
    assert len(cut.encode()) <= CLOSE_REASON_BYTES and cut.endswith("…")
    assert cut.startswith("Subscriber for éé")


@pytest.mark.parametrize(
    "frames",
    [
        ('{"type": "' + "x" * 300 + '"}',),
        (json.dumps({"id": "i" * 300, "type": "subscribe", "payload": {"query": SUBSCRIPTION}}),)
        * 2,
    ],
    ids=["unknown type of 300 characters", "duplicate id of 300 characters"],
)
async def test_a_long_close_reason_still_closes_with_the_protocols_code(
    fuzz_app: AppProcess, owner: Tenant, frames: tuple[str, ...]
) -> None:
    violation = Violation("long reason", TRANSPORT, frames, 0, "")
    closed = await commit(fuzz_app, owner.token, violation)
    assert closed.code in (4400, 4409), closed  # not dropped without a close frame
    assert len(closed.reason.encode()) <= CLOSE_REASON_BYTES


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("{ health ", "Syntax Error: Expected Name, found <EOF>."),
        ("{ " + "health " * 5000 + "}", "Syntax Error: Document contains more than 4000 tokens"),
    ],
    ids=["syntax error", "over the token limit"],
)
async def test_a_document_that_does_not_parse_closes_a_transport_socket_with_4400(
    fuzz_app: AppProcess, owner: Tenant, query: str, reason: str
) -> None:
    message = {"id": "1", "type": "subscribe", "payload": {"query": query}}
    violation = Violation("unparsable", TRANSPORT, (json.dumps(message),), 4400, reason)
    closed = await commit(fuzz_app, owner.token, violation)
    assert (closed.code, closed.reason[: len(reason)]) == (4400, reason)


async def test_a_document_that_does_not_parse_gets_an_error_on_the_legacy_protocol(
    fuzz_app: AppProcess, owner: Tenant
) -> None:
    answers = await _legacy(
        fuzz_app, owner, {"id": "1", "type": "start", "payload": {"query": "{"}}
    )
    assert answers == [
        {
            "type": "error",
            "id": "1",
            "payload": {
                "message": "Syntax Error: Expected Name, found <EOF>.",
                "locations": [{"line": 1, "column": 2}],
            },
        }
    ]


async def test_a_query_on_the_legacy_protocol_is_refused_in_words_not_masked(
    fuzz_app: AppProcess, owner: Tenant
) -> None:
    start = {"id": "1", "type": "start", "payload": {"query": "{ health }"}}
    answers = await _legacy(fuzz_app, owner, start)
    assert answers[0]["type"] == "error"
    assert answers[0]["payload"]["message"] == "queries are not allowed"


async def test_an_unknown_operation_name_closes_a_transport_socket_with_its_reason(
    fuzz_app: AppProcess, owner: Tenant
) -> None:
    payload = {"query": SUBSCRIPTION, "operationName": "Nope"}
    message = json.dumps({"id": "1", "type": "subscribe", "payload": payload})
    reason = 'Unknown operation named "Nope".'
    closed = await commit(fuzz_app, owner.token, Violation("name", TRANSPORT, (message,), 0, ""))
    assert (closed.code, closed.reason) == (4400, reason)


@pytest.mark.parametrize(
    "message",
    [
        [1, 2],
        "start",
        {"type": "start", "id": {"a": 1}, "payload": {"query": SUBSCRIPTION}},
        {"type": "start", "id": "1"},
        {"type": "start", "id": "1", "payload": {"query": SUBSCRIPTION, "variables": "x"}},
        {"type": "stop", "id": [1]},
        {"type": "hello"},
    ],
)
async def test_a_malformed_legacy_message_gets_an_error_and_the_connection_stays_open(
    fuzz_app: AppProcess, owner: Tenant, message: object
) -> None:
    valid = {"id": "ok", "type": "start", "payload": {"query": SUBSCRIPTION}}
    answers = await _legacy(fuzz_app, owner, message, valid)
    assert answers[0]["type"] == "error", answers
    assert answers[0]["payload"]["message"].endswith(".")
    assert answers[1] == {
        "type": "data",
        "id": "ok",
        "payload": {"data": {"schedulerState": {"__typename": "SchedulerState"}}},
    }


async def _legacy(app: AppProcess, owner: Tenant, *messages: object) -> list[dict[str, Any]]:
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {owner.token}"}}
    frames = [json.dumps(init), *(json.dumps(message) for message in messages)]
    conversation = await converse(app.ws_url, LEGACY, frames, quiet=1.0)
    assert not conversation.closed, conversation
    received = [json.loads(raw) for raw in conversation.received]
    return [m for m in received if m["type"] not in ("ka", "connection_ack")]


@pytest.mark.parametrize("body", [b"null", b"5", b'"{ health }"', b"true"])
def test_a_json_body_that_is_not_an_object_gets_400_not_500(
    fuzz_app: AppProcess, owner: Tenant, body: bytes
) -> None:
    headers = {**owner.bearer, "Content-Type": "application/json"}
    response = httpx.post(f"{fuzz_app.base_url}/graphql", content=body, headers=headers)
    assert (response.status_code, response.text) == (400, JSON_OBJECT_EXPECTED)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("accept", ["application/json", "text/event-stream", "multipart/mixed"])
def test_a_subscription_over_http_is_refused_with_400_not_a_masked_error(
    fuzz_app: AppProcess, owner: Tenant, method: str, accept: str
) -> None:
    url, request = f"{fuzz_app.base_url}/graphql", {"query": SUBSCRIPTION}
    headers = {**owner.bearer, "Accept": accept}
    if method == "GET":
        response = httpx.get(url, params=request, headers=headers)
    else:
        response = httpx.post(url, json=request, headers=headers)
    assert response.status_code == 400
    assert response.text == f"subscriptions are not allowed when using {method}"
