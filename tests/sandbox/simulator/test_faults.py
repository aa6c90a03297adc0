"""Fault injection: every injected fault is classified correctly by the client, over a real socket.

The crucial case: when the simulator accepted a publish and then failed to answer, the client
reports `ThreadsOutcomeUnknown` (never a plain retryable error), the journal shows the publish did
happen, and `resolve_publish` finds it — so nobody publishes it a second time.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from sandbox.simulator import FaultKind, FaultSpec, SimAccount, SimulatorAdmin, SimulatorServer
from scheduler.platform.clock import ManualClock
from scheduler.platform.errors import (
    ThreadsApiError,
    ThreadsAuthError,
    ThreadsOutcomeUnknown,
    ThreadsRateLimited,
    ThreadsTransientError,
)
from scheduler.threads import ContainerRequest, ContainerState, MediaType, ThreadsClient

TEXT = ContainerRequest(MediaType.TEXT, text="fault-tolerant hello")
Operation = Callable[[ThreadsClient, str, str], Awaitable[Any]]

OPERATIONS: dict[str, tuple[str, Operation]] = {
    "create": ("create_container", lambda c, t, _: c.create_container(TEXT, access_token=t)),
    "publish": ("publish", lambda c, t, cid: c.publish(cid, access_token=t)),
    "status": ("container_status", lambda c, t, cid: c.get_container_status(cid, access_token=t)),
    "limit": ("publishing_limit", lambda c, t, _: c.get_publishing_limit(access_token=t)),
}


@pytest.fixture
async def impatient(sim: SimulatorServer, sim_clock: ManualClock) -> AsyncIterator[ThreadsClient]:
    """A client that gives up on an answer after half a second."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.5)) as http:
        yield ThreadsClient(http, base_url=sim.base_url, clock=sim_clock)


@pytest.mark.parametrize(
    ("fault", "operation", "expected"),
    [
        ({"kind": "error_5xx"}, "create", ThreadsTransientError),
        ({"kind": "error_5xx", "status": 503}, "status", ThreadsTransientError),
        ({"kind": "error_5xx"}, "publish", ThreadsOutcomeUnknown),
        ({"kind": "error_5xx", "status": 502}, "publish", ThreadsOutcomeUnknown),
        ({"kind": "transient"}, "status", ThreadsTransientError),
        ({"kind": "transient"}, "publish", ThreadsOutcomeUnknown),
        ({"kind": "rate_limited", "code": 4, "retry_after": 30}, "publish", ThreadsRateLimited),
        ({"kind": "rate_limited", "code": 17}, "create", ThreadsRateLimited),
        ({"kind": "rate_limited", "code": 613}, "limit", ThreadsRateLimited),
        ({"kind": "auth_error"}, "publish", ThreadsAuthError),
        ({"kind": "auth_error", "subcode": 460}, "status", ThreadsAuthError),
        ({"kind": "quota_exhausted", "retry_after": 600}, "publish", ThreadsRateLimited),
        ({"kind": "drop"}, "status", ThreadsTransientError),
        ({"kind": "drop"}, "create", ThreadsTransientError),
        ({"kind": "drop"}, "publish", ThreadsOutcomeUnknown),
        ({"kind": "hang"}, "status", ThreadsTransientError),
        ({"kind": "hang"}, "publish", ThreadsOutcomeUnknown),
    ],
)
async def test_each_fault_is_classified(
    impatient: ThreadsClient,
    alice: SimAccount,
    admin: SimulatorAdmin,
    fault: dict[str, Any],
    operation: str,
    expected: type[ThreadsApiError],
):
    container_id = await impatient.create_container(TEXT, access_token=alice.access_token)
    endpoint, run = OPERATIONS[operation]
    await admin.set_faults({**fault, "endpoint": endpoint})

    with pytest.raises(ThreadsApiError) as caught:
        await run(impatient, alice.access_token, container_id)

    assert type(caught.value) is expected, caught.value
    assert caught.value.explanation
    if fault.get("retry_after"):
        assert caught.value.retry_after == fault["retry_after"]  # type: ignore[attr-defined]
        assert caught.value.frees_at is not None  # type: ignore[attr-defined]
    # A fault before handling means nothing was done, whatever the client could tell.
    assert await admin.published() == []
    entry = (await admin.journal(endpoint=endpoint))[-1]
    assert entry.fault == fault["kind"]


@pytest.mark.parametrize("kind", ["accept_then_error", "accept_then_drop", "accept_then_hang"])
async def test_failure_after_the_publish_was_accepted_is_outcome_unknown(
    impatient: ThreadsClient,
    alice: SimAccount,
    admin: SimulatorAdmin,
    sim_clock: ManualClock,
    kind: str,
):
    container_id = await impatient.create_container(TEXT, access_token=alice.access_token)
    await admin.set_faults({"kind": kind})  # accept_then_* default to the publish endpoint
    sent_at = sim_clock.now()

    with pytest.raises(ThreadsOutcomeUnknown) as caught:
        await impatient.publish(container_id, access_token=alice.access_token)

    assert "before sending it again" in caught.value.explanation
    [record] = await admin.published()  # the publish did happen
    assert record.container_id == container_id
    await admin.clear_faults()
    resolution = await impatient.resolve_publish(
        container_id, access_token=alice.access_token, sent_at=sent_at, text=TEXT.text
    )
    assert resolution.published is True
    assert (
        resolution.container is not None and resolution.container.status is ContainerState.PUBLISHED
    )
    assert resolution.media_id == record.media_id


async def test_an_unknown_outcome_that_did_not_publish_resolves_to_publish_again(
    impatient: ThreadsClient, alice: SimAccount, admin: SimulatorAdmin, sim_clock: ManualClock
):
    container_id = await impatient.create_container(TEXT, access_token=alice.access_token)
    await admin.set_faults({"kind": "hang", "endpoint": "publish", "count": 1})

    with pytest.raises(ThreadsOutcomeUnknown):
        await impatient.publish(container_id, access_token=alice.access_token)
    resolution = await impatient.resolve_publish(
        container_id, access_token=alice.access_token, sent_at=sim_clock.now(), text=TEXT.text
    )

    assert resolution.published is False
    assert (
        resolution.container is not None and resolution.container.status is ContainerState.FINISHED
    )
    assert await impatient.publish(container_id, access_token=alice.access_token)
    assert len(await admin.published()) == 1


async def test_latency_delays_but_succeeds(
    client: ThreadsClient, alice: SimAccount, admin: SimulatorAdmin
):
    container_id = await client.create_container(TEXT, access_token=alice.access_token)
    await admin.set_faults(
        {"latency_ms": {"p": 1.0, "min": 200, "max": 200, "endpoint": "container_status"}}
    )

    started = time.perf_counter()
    status = await client.get_container_status(container_id, access_token=alice.access_token)

    assert time.perf_counter() - started >= 0.2
    assert status.status is ContainerState.FINISHED
    [entry] = await admin.journal(endpoint="container_status")
    assert (entry.fault, entry.status) == ("latency", 200)


async def test_count_limits_how_often_a_fault_fires(
    client: ThreadsClient, alice: SimAccount, admin: SimulatorAdmin
):
    await admin.set_faults(FaultSpec(FaultKind.ERROR_5XX, count=2, endpoint="profile"))

    outcomes = []
    for _ in range(3):
        try:
            await client.get_profile(access_token=alice.access_token)
            outcomes.append("ok")
        except ThreadsTransientError:
            outcomes.append("5xx")

    assert outcomes == ["5xx", "5xx", "ok"]
    [fault] = await admin.faults()
    assert fault["fired"] == 2


async def test_probability_zero_never_fires_and_a_half_sometimes_does(
    client: ThreadsClient, alice: SimAccount, admin: SimulatorAdmin
):
    await admin.set_faults({"kind": "error_5xx", "p": 0.0})
    for _ in range(5):
        await client.get_profile(access_token=alice.access_token)

    await admin.set_faults({"kind": "error_5xx", "p": 0.5})
    results = []
    for _ in range(40):
        try:
            await client.get_profile(access_token=alice.access_token)
            results.append(True)
        except ThreadsTransientError:
            results.append(False)
    assert 0 < results.count(False) < 40


async def test_faults_scoped_to_one_account(
    client: ThreadsClient, alice: SimAccount, bob: SimAccount, admin: SimulatorAdmin
):
    await admin.set_faults({"kind": "auth_error", "user_id": "bob"})  # usernames are accepted

    assert (await client.get_profile(access_token=alice.access_token)).username == "alice"
    with pytest.raises(ThreadsAuthError):
        await client.get_profile(access_token=bob.access_token)


async def test_connection_refused_is_transient(http: httpx.AsyncClient):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ThreadsClient(http, base_url=f"http://127.0.0.1:{port}/v1.0")

    with pytest.raises(ThreadsApiError) as caught:
        await client.publish("1", access_token="t")

    assert type(caught.value) is ThreadsTransientError
    assert "never sent" in caught.value.explanation
