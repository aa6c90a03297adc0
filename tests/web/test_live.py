"""The SSE stream, over a real socket: only the owner's events, named for the pages that
listen, through Redis pub/sub as a worker's would arrive; 401 without a login."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn

from sandbox.simulator.server import bind_socket
from scheduler.accounts.users import create_user
from scheduler.platform.events import Event
from scheduler.services import Services
from tests.web.conftest import PASSWORD, csrf_of
from web.app import create_app
from web.live import payload, sse_names


@pytest.fixture
async def served(services: Services) -> AsyncIterator[str]:
    """The app on a real port (ASGITransport cannot stream an endless response)."""
    sock = bind_socket()
    config = uvicorn.Config(
        create_app(services=services), log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no "started" event
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)
    sock.close()


async def logged_in(origin: str, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=origin, timeout=10)
    page = await client.get("/login")
    response = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 303
    return client


async def read_events(lines: AsyncIterator[str], until: str) -> list[tuple[str, str]]:
    """(event, data) pairs up to and including the first event named `until`."""
    seen: list[tuple[str, str]] = []
    name = ""
    async for line in lines:
        if line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            seen.append((name, line.removeprefix("data:").strip()))
            if name == until:
                return seen
    raise AssertionError(f"the stream ended before {until!r}")


async def test_the_stream_delivers_only_the_owners_events(services: Services, served: str) -> None:
    alice = await services.auth.create_first_owner("alice@example.com", PASSWORD)
    bob = await create_user("bob@example.com", PASSWORD, now=services.clock.now())
    client = await logged_in(served, "alice@example.com")
    try:
        async with client.stream("GET", "/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.aiter_lines()
            # The subscription is live once `ready` arrives: nothing published after is missed.
            assert await asyncio.wait_for(read_events(lines, "ready"), 10) == [("ready", "")]
            events = services.events
            await events.publish("post.status", bob.owner_id, post_id="bobs", status="SCHEDULED")
            await events.publish("post.status", alice.owner_id, post_id="p1", status="PUBLISHED")
            await events.publish("job.status", alice.owner_id, post_id="p1", status="complete")
            await events.publish("scheduler.state", None, next_execution_at=None)
            await events.publish("account.status", bob.owner_id, account_id="bobs", status="ACTIVE")
            await events.publish(
                "account.status", alice.owner_id, account_id="a1", access_token="never-shown"
            )
            seen = await asyncio.wait_for(read_events(lines, "accounts"), 10)
    finally:
        await client.aclose()
    names = [name for name, _ in seen]
    assert names == ["posts", "post-p1", "posts", "post-p1", "jobs", "scheduler", "accounts"]
    text = " ".join(data for _, data in seen)
    assert "bobs" not in text
    assert "never-shown" not in text


async def test_the_stream_needs_a_login(services: Services, served: str) -> None:
    async with httpx.AsyncClient(base_url=served) as client:
        response = await client.get("/events", headers={"Accept": "text/event-stream"})
    assert response.status_code == 401


def event(type: str, owner: str | None = "o1", **data: object) -> Event:
    return Event(type=type, owner_id=owner, data=dict(data), at=datetime(2030, 1, 1, tzinfo=UTC))


def test_event_names_and_payloads() -> None:
    assert sse_names(event("occurrence.state", post_id="p")) == ["posts", "post-p"]
    assert sse_names(event("post.deleted", post_id="p")) == ["posts", "post-p"]
    assert sse_names(event("job.status", function="reconcile")) == ["jobs"]
    assert sse_names(event("token.revoked", token_id="t")) == ["tokens"]
    assert sse_names(event("something.new")) == []
    assert sse_names(event("account.slots", account_id="a")) == ["accounts"]
    assert sse_names(event("notification.created", notification_id="n")) == ["notifications"]
    assert sse_names(event("notification.read", unread=0)) == ["notifications"]
    assert sse_names(event("import.progress", import_id="ab12", done=1)) == ["import-ab12"]
    assert sse_names(event("import.progress", import_id="a b\nevent: x")) == []
    assert payload(event("scheduler.state", None, active_job_id="k")) == (
        '{"type": "scheduler.state"}'
    )
    assert payload(event("post.status", post_id="p", status="FAILED", error="x", text="y")) == (
        '{"type": "post.status", "post_id": "p", "status": "FAILED"}'
    )
