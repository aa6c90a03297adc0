"""Abuse of `/graphql` over WebSocket: protocol violations get their protocol's close codes,
and a flood of messages is absorbed; meanwhile another tenant's subscription keeps working."""

from __future__ import annotations

import asyncio

import pytest

from tests.fuzz.abuse import bystander, commit, flood, keep_busy, violations
from tests.fuzz.server import AppProcess, Tenant

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_server_errors")]

VIOLATIONS = violations("TOKEN")


@pytest.mark.parametrize(
    "index", range(len(VIOLATIONS)), ids=[f"{v.protocol}: {v.name}" for v in VIOLATIONS]
)
async def test_a_protocol_violation_gets_its_close_code(
    index: int, fuzz_app: AppProcess, owner: Tenant
) -> None:
    violation = violations(owner.token)[index]
    closed = await commit(fuzz_app, owner.token, violation)
    assert (closed.code, closed.reason[: len(violation.reason)]) == (
        violation.code,
        violation.reason,
    ), closed
    assert len(closed.reason.encode()) <= 123


@pytest.mark.slow
async def test_violations_and_a_flood_do_not_disturb_another_tenants_subscription(
    fuzz_app: AppProcess, owner: Tenant, bystander_tenant: Tenant
) -> None:
    async with bystander(fuzz_app, bystander_tenant) as user:
        done = asyncio.Event()
        busy = asyncio.create_task(keep_busy(user, done))
        for violation in violations(owner.token):
            await commit(fuzz_app, owner.token, violation)
        counts = await flood(fuzz_app, owner.token, pings=20_000, operations=150)
        done.set()
        assert await busy > 0
        await user.roundtrip()  # still live afterwards
    assert counts["pong"] == 20_000
    # Strawberry's limit of operations per connection: the first 100 run, the rest are refused.
    assert counts["error: Subscription limit reached"] == 50
    assert counts["next"] == 100
