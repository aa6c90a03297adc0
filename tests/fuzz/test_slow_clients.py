"""Slow clients: connections that trickle their headers (slowloris) and an event stream that is
never read do not keep another tenant from being served."""

from __future__ import annotations

import asyncio

import pytest

from tests.fuzz.abuse import (
    STALLED_STREAM_SECONDS,
    bystander,
    drained_until_closed,
    keep_busy,
    owner_id_of,
    pour_events,
    slowloris,
    unread_event_stream,
)
from tests.fuzz.http_fuzz import Session
from tests.fuzz.server import AppProcess, Tenant

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.usefixtures("no_server_errors")
async def test_slowloris_connections_do_not_keep_another_tenant_from_being_served(
    fuzz_app: AppProcess, bystander_tenant: Tenant
) -> None:
    async with bystander(fuzz_app, bystander_tenant) as user, slowloris(fuzz_app, 200) as socks:
        done = asyncio.Event()
        busy = asyncio.create_task(keep_busy(user, done))
        await asyncio.sleep(4)  # a few trickled lines on each of the 200 connections
        done.set()
        assert await busy > 0
        assert len(socks) == 200


async def test_an_event_stream_never_read_does_not_delay_others_and_is_dropped(
    fuzz_app: AppProcess, owner: Tenant, bystander_tenant: Tenant, web_session: Session
) -> None:
    owner_id = owner_id_of(fuzz_app, owner)
    async with (
        bystander(fuzz_app, bystander_tenant) as user,
        unread_event_stream(fuzz_app, web_session.cookie) as stream,
    ):
        assert stream.recv(12) == b"HTTP/1.1 200"
        done = asyncio.Event()
        busy = asyncio.create_task(keep_busy(user, done))
        # ~30 MB of events for a reader that takes none: the server's buffers for it fill up.
        await pour_events(fuzz_app, owner_id, count=300, size=50_000)
        await asyncio.sleep(STALLED_STREAM_SECONDS + 3)  # the server gives up on sending
        done.set()
        assert await busy > 0
        received, closed = await asyncio.to_thread(drained_until_closed, stream, 30)
    assert closed, "the server kept a stalled event stream open"
    assert received < 300 * 50_000, "the stalled stream was not dropped"
