"""Regression tests for what the fuzzers found in web/ (each fixed there), over the same real
server: a malformed multipart form was a 500, a form declaring 50 MB was read before it was
refused, and a browser that stopped reading /events was logged as a server error."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.fuzz.abuse import (
    STALLED_STREAM_SECONDS,
    drained_until_closed,
    owner_id_of,
    post_head,
    pour_events,
    raw_request,
    unread_event_stream,
)
from tests.fuzz.http_fuzz import Session
from tests.fuzz.server import AppProcess, Tenant

pytestmark = [pytest.mark.integration]


@pytest.mark.parametrize("path", ["/login", "/import", "/posts/new", "/settings/tokens"])
@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=x"])
def test_a_malformed_multipart_form_is_refused_without_a_server_error(
    fuzz_app: AppProcess, path: str, content_type: str
) -> None:
    response = httpx.post(
        fuzz_app.base_url + path,
        content=b"\xa8 not multipart",
        headers={"Content-Type": content_type},
        timeout=30,
    )
    assert 400 <= response.status_code < 500, response.text


def test_a_form_declaring_a_body_over_the_limit_is_refused_before_it_is_sent(
    fuzz_app: AppProcess,
) -> None:
    head = post_head("/posts/new", 50_000_000, "application/x-www-form-urlencoded")
    answer = raw_request(fuzz_app, head, wait=5)  # and not a byte of the body
    assert answer.startswith(b"HTTP/1.1 413 "), answer


@pytest.mark.slow
async def test_a_stalled_event_stream_is_dropped_without_a_server_error(
    fuzz_app: AppProcess, owner: Tenant, web_session: Session
) -> None:
    since = fuzz_app.log_size()
    async with unread_event_stream(fuzz_app, web_session.cookie) as stream:
        assert stream.recv(12) == b"HTTP/1.1 200"
        await pour_events(fuzz_app, owner_id_of(fuzz_app, owner), count=300, size=50_000)
        await asyncio.sleep(STALLED_STREAM_SECONDS + 3)
        _, closed = await asyncio.to_thread(drained_until_closed, stream, 30)
    assert closed
    assert fuzz_app.server_errors(since) == []
