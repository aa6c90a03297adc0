"""WebSockets on a real socket (uvicorn): both protocols, authentication, every subscription,
operations over the socket, owner scoping, and closing when the API token is revoked."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from sandbox.simulator.server import SimulatorServer
from scheduler.platform.clock import ManualClock
from scheduler.platform.documents import Account
from scheduler.services import Services
from tests.conftest import T0
from tests.graphql_api.conftest import Caller, connect, make_post, ws_connect
from tests.graphql_api.test_auth import session_cookie

TRANSPORT, LEGACY = "graphql-transport-ws", "graphql-ws"
STATUS = """subscription($post: ID, $account: ID) {
    postStatusChanged(postId: $post, accountId: $account) {
        postId status previous deleted post { __typename ... on Post { version } } } }"""
SCHEDULE = """mutation($input: SchedulePostInput!) { schedulePost(input: $input) { __typename } }"""


def once(minutes: int) -> dict[str, Any]:
    at = T0 + timedelta(minutes=minutes)
    return {"pattern": "ONCE", "startDate": at.date().isoformat(), "times": [at.strftime("%H:%M")]}


def bearer(caller: Caller) -> dict[str, str]:
    return {"Authorization": f"Bearer {caller.token}"}


async def http(served: str, caller: Caller, query: str, variables: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(base_url=served, headers=bearer(caller)) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        return response.json()["data"]


async def test_post_status_over_graphql_transport_ws(
    served: str, owner: Caller, account: Account, services: Services
):
    post = await make_post(services, owner, account, "live")
    async with ws_connect(served, TRANSPORT, bearer(owner)) as ws:
        await ws.send(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": STATUS, "variables": {"post": str(post.id)}},
            }
        )
        current = await ws.receive()
        assert current == {
            "id": "1",
            "type": "next",
            "payload": {
                "data": {
                    "postStatusChanged": {
                        "postId": str(post.id),
                        "status": "DRAFT",
                        "previous": None,
                        "deleted": False,
                        "post": {"__typename": "Post", "version": 1},
                    }
                }
            },
        }
        await http(served, owner, SCHEDULE, {"input": {"id": str(post.id), "schedule": once(30)}})
        changed = (await ws.receive())["payload"]["data"]["postStatusChanged"]
        assert (changed["status"], changed["previous"]) == ("SCHEDULED", "DRAFT")
        assert changed["post"] == {"__typename": "Post", "version": 2}

        await services.posts.delete(owner.actor, post.id)
        deleted = (await ws.receive())["payload"]["data"]["postStatusChanged"]
        assert deleted["deleted"] is True and deleted["status"] is None
        assert deleted["post"] == {"__typename": "NotFound"}

        await ws.send({"id": "1", "type": "complete"})
        await ws.send({"type": "ping"})
        assert await ws.receive() == {"type": "pong"}


async def test_queries_and_mutations_over_the_socket(
    served: str, owner: Caller, account: Account, services: Services
):
    async with ws_connect(served, TRANSPORT, {"token": owner.token}) as ws:
        await ws.send({"id": "q", "type": "subscribe", "payload": {"query": "{ me { role } }"}})
        assert await ws.receive() == {
            "id": "q",
            "type": "next",
            "payload": {"data": {"me": {"role": "OWNER"}}},
        }
        assert await ws.receive() == {"id": "q", "type": "complete"}
        create = """mutation($input: CreatePostInput!) { createPost(input: $input) {
            __typename ... on ValidationErrors { errors { field } } } }"""
        bad = {"input": {"accountId": str(account.id), "content": {"text": "x" * 501}}}
        await ws.send(
            {"id": "m", "type": "subscribe", "payload": {"query": create, "variables": bad}}
        )
        result = (await ws.receive())["payload"]["data"]["createPost"]
        assert result == {"__typename": "ValidationErrors", "errors": [{"field": "content.text"}]}


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_connections_without_valid_credentials_are_rejected(
    served: str, protocol: str, owner: Caller
):
    expected = 4403 if protocol == TRANSPORT else 1011
    for payload in [{}, {"Authorization": "Bearer tsk_nope"}, {"Authorization": owner.token}]:
        async with ws_connect(served, protocol, init=False) as ws:
            await ws.send({"type": "connection_init", "payload": payload})
            code, before = await ws.closed()
            assert code == expected, payload
            if protocol == LEGACY:
                assert before[0]["type"] == "connection_error"
                assert before[0]["payload"]["message"]


async def test_the_dashboard_session_cookie_authenticates_a_socket(
    served: str, owner: Caller, services: Services
):
    cookie = f"ts_session={session_cookie(services, str(owner.user.id))}"
    async with ws_connect(served, TRANSPORT, headers={"Cookie": cookie}) as ws:
        await ws.send({"id": "q", "type": "subscribe", "payload": {"query": "{ me { tokenId } }"}})
        assert (await ws.receive())["payload"] == {"data": {"me": {"tokenId": None}}}


async def test_cross_origin_pages_cannot_open_a_socket(served: str):
    url = served.replace("http://", "ws://") + "/graphql"
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(
            url,
            subprotocols=[TRANSPORT],
            origin="https://evil.example",  # type: ignore[list-item,arg-type]
        ):
            pass
    assert refused.value.response.status_code == 403


async def test_job_events_over_legacy_graphql_ws_are_scoped_to_the_owner(
    served: str, owner: Caller, stranger: Caller, services: Services
):
    query = 'subscription { jobEvents(queue: "post-publishing") { key status postId durationMs } }'
    async with ws_connect(served, LEGACY, {"token": owner.token}) as ws:
        await ws.send({"id": "j", "type": "start", "payload": {"query": query}})
        # As the worker's hook publishes them: a stranger's job, a system job, one of ours.
        await services.events.publish(
            "job.status",
            stranger.actor.owner_id,
            queue="post-publishing",
            key="theirs",
            status="complete",
        )
        await services.events.publish(
            "job.status", None, queue="scheduler-meta", key="check", status="complete"
        )
        await services.events.publish(
            "job.status", None, queue="post-publishing", key="sweep", status="complete"
        )
        await services.events.publish(
            "job.status",
            owner.actor.owner_id,
            queue="post-publishing",
            key="mine",
            status="failed",
            post_id="p1",
            duration_ms=3.5,
        )
        first = await ws.receive_data()
        second = await ws.receive_data()
        assert first == {
            "type": "data",
            "id": "j",
            "payload": {
                "data": {
                    "jobEvents": {
                        "key": "sweep",
                        "status": "complete",
                        "postId": None,
                        "durationMs": None,
                    }
                }
            },
        }
        assert second["payload"]["data"]["jobEvents"] == {
            "key": "mine",
            "status": "failed",
            "postId": "p1",
            "durationMs": 3.5,
        }
        await ws.send({"id": "j", "type": "stop"})
        assert await ws.receive_data() == {"type": "complete", "id": "j"}


async def test_other_owners_post_events_never_arrive(
    served: str,
    owner: Caller,
    stranger: Caller,
    account: Account,
    services: Services,
    simulator: SimulatorServer,
):
    theirs = await connect(services, simulator, stranger, "zed")
    async with ws_connect(served, TRANSPORT, bearer(stranger)) as ws:
        await ws.send({"id": "s", "type": "subscribe", "payload": {"query": STATUS}})
        await make_post(services, owner, account, "not for strangers")
        own = await make_post(services, stranger, theirs, "theirs")
        event = (await ws.receive())["payload"]["data"]["postStatusChanged"]
        assert event["postId"] == str(own.id)  # the owner's post came first and was filtered out


async def test_unknown_post_subscription_is_an_error(served: str, owner: Caller):
    async with ws_connect(served, TRANSPORT, bearer(owner)) as ws:
        variables = {"post": "000000000000000000000000"}
        await ws.send(
            {"id": "1", "type": "subscribe", "payload": {"query": STATUS, "variables": variables}}
        )
        message = await ws.receive()
        assert message["type"] == "next"
        assert message["payload"]["errors"][0]["message"].startswith(
            "Post 000000000000000000000000 was not found"
        )


async def test_queue_stats_every_interval_and_scheduler_state(
    served: str, owner: Caller, account: Account, services: Services, clock: ManualClock
):
    async with ws_connect(served, TRANSPORT, bearer(owner)) as ws:
        query = "subscription { queueStats(intervalSeconds: 60) { name workers } }"
        await ws.send({"id": "q", "type": "subscribe", "payload": {"query": query}})
        first = (await ws.receive())["payload"]["data"]["queueStats"]
        assert {q["name"] for q in first} == {"scheduler-meta", "post-publishing"}
        for _ in range(500):  # until the subscription waits on the (manual) clock
            if clock.sleepers:
                break
            await asyncio.sleep(0.01)
        clock.advance(timedelta(seconds=60))
        assert (await ws.receive())["payload"]["data"]["queueStats"] == first

        state = "subscription { schedulerState { nextExecutionAt activeJobId } }"
        await ws.send({"id": "s", "type": "subscribe", "payload": {"query": state}})
        assert (await ws.receive())["payload"]["data"]["schedulerState"] == {
            "nextExecutionAt": None,
            "activeJobId": None,
        }
        await make_post(
            services,
            owner,
            account,
            schedule={"pattern": "ONCE", "start_date": "2030-01-07", "times": ["12:00"]},
        )
        armed = (await ws.receive())["payload"]["data"]["schedulerState"]
        assert armed["nextExecutionAt"] is not None and armed["activeJobId"] is not None

        bad = "subscription { queueStats(intervalSeconds: 0) { name } }"
        await ws.send({"id": "b", "type": "subscribe", "payload": {"query": bad}})
        error = await ws.receive()
        assert "from 1 to 3600" in error["payload"]["errors"][0]["message"]


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_revoking_the_token_closes_its_open_sockets(
    served: str, protocol: str, owner: Caller, account: Account, services: Services
):
    other = await services.auth.create_token(owner.actor, "another")
    async with (
        ws_connect(served, protocol, {"token": other.secret}) as ws,
        ws_connect(served, protocol, bearer(owner)) as kept,
    ):
        start = "subscribe" if protocol == TRANSPORT else "start"
        for client in (ws, kept):
            await client.send({"id": "1", "type": start, "payload": {"query": STATUS}})
        assert other.token.id is not None
        await services.auth.revoke_token(owner.actor, other.token.id)
        code, before = await ws.closed()
        assert code == 4403
        if protocol == LEGACY:
            assert {"type": "complete", "id": "1"} in before
        await make_post(services, owner, account, "still live")  # the other socket lives on
        assert (await kept.receive_data())["payload"]["data"]["postStatusChanged"][
            "status"
        ] == "DRAFT"


async def test_a_token_revoked_before_the_watch_started_is_caught(
    served: str, owner: Caller, services: Services
):
    other = await services.auth.create_token(owner.actor, "another")
    assert other.token.id is not None
    async with ws_connect(served, TRANSPORT, init=False) as ws:
        await ws.send({"type": "connection_init", "payload": {"token": other.secret}})
        assert await ws.receive() == {"type": "connection_ack"}
        await services.auth.revoke_token(owner.actor, other.token.id)
        code, _ = await ws.closed()
        assert code == 4403


async def test_loaders_are_fresh_for_every_operation_and_event(
    served: str, owner: Caller, account: Account, services: Services
):
    """A socket lives for hours: nothing it loaded may be served stale later on."""
    query = """subscription { postStatusChanged {
        status post { ... on Post { account { username } } } } }"""
    post = await make_post(services, owner, account, "first")
    async with ws_connect(served, TRANSPORT, bearer(owner)) as ws:
        await ws.send({"id": "s", "type": "subscribe", "payload": {"query": query}})
        await services.posts.cancel(owner.actor, post.id)
        first = (await ws.receive())["payload"]["data"]["postStatusChanged"]
        assert first["post"]["account"]["username"] == "ana"

        await Account.find_one({"_id": account.id}).update({"$set": {"username": "ana.renamed"}})
        await make_post(services, owner, account, "second")
        second = (await ws.receive())["payload"]["data"]["postStatusChanged"]
        assert second["post"]["account"]["username"] == "ana.renamed"

        listing = "{ posts(first: 1) { nodes { account { username } } } }"
        await ws.send({"id": "q", "type": "subscribe", "payload": {"query": listing}})
        result = await ws.receive()
        assert result["payload"]["data"]["posts"]["nodes"] == [
            {"account": {"username": "ana.renamed"}}
        ]
