"""An outside integrator's view: the web app and a worker each in their own process, driven with
a third-party GraphQL client (`gql`, HTTP and WebSocket transports). A post scheduled a few
seconds ahead is published by the worker process, and its status changes reach the
subscription through Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from sandbox.devservers import free_port
from sandbox.simulator.server import SimulatorServer
from scheduler.platform.clock import SystemClock
from scheduler.platform.settings import Settings
from scheduler.services import Services, build_services
from tests.graphql_api.conftest import Caller, make_caller
from tests.publishing.conftest import WorkerProcess

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CREATE = gql("""mutation($input: CreatePostInput!) { createPost(input: $input) {
    __typename ... on Post { id status } ... on Error { message } } }""")
SCHEDULE = gql("""mutation($input: SchedulePostInput!) { schedulePost(input: $input) {
    __typename ... on Post { status nextRunAt } ... on Error { message } } }""")
HEALTH = gql("{ queueHealth { name healthy } }")
STATUS = gql(
    """subscription($post: ID!) { postStatusChanged(postId: $post) { status previous } }"""
)
RESULT = gql("""query($id: ID!) { post(id: $id) { ... on Post {
    status lastPublishedAt lastOccurrence { state parts { state mediaId } } } } }""")


@pytest.fixture
def live_settings(make_settings: Callable[..., Settings], simulator: SimulatorServer) -> Settings:
    return make_settings(threads_api_base_url=simulator.base_url, job_timeout=3000)


@pytest.fixture
async def live_services(live_settings: Settings) -> AsyncIterator[Services]:
    async with build_services(live_settings, clock=SystemClock()) as services:
        yield services


@pytest.fixture
def web_process(live_settings: Settings, tmp_path: Path) -> Iterator[str]:
    """`threads-scheduler serve` in its own process; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB", "REDIS"))}
    secret = live_settings.secret_key
    env.update(
        APP_ENV="test",
        MONGODB_URI=live_settings.mongodb_uri or "",
        REDIS_URL=live_settings.effective_redis_url,
        THREADS_API_BASE_URL=live_settings.threads_api_base_url,
        SECRET_KEY=secret.get_secret_value() if secret else "",
    )
    with open(tmp_path / "web.log", "w") as log:
        command = [sys.executable, "-m", "scheduler.cli", "serve", "--port", str(port)]
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None:
                    raise AssertionError((tmp_path / "web.log").read_text())
                subprocess.run(["sleep", "0.1"], check=True)
            yield url
        finally:
            process.terminate()
            process.wait(15)


async def wait_for_worker(session: Any, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        health = (await session.execute(HEALTH))["queueHealth"]
        if all(queue["healthy"] for queue in health):
            return
        assert asyncio.get_running_loop().time() < deadline, health
        await asyncio.sleep(0.3)


async def test_an_integrator_sees_a_worker_process_publish_the_post(
    web_process: str,
    live_settings: Settings,
    live_services: Services,
    simulator: SimulatorServer,
    tmp_path: Path,
):
    caller: Caller = await make_caller(live_services, "integrator@example.com")
    sim = await simulator.admin.create_account("ana")
    account = await live_services.accounts.connect_with_token(caller.actor, sim.access_token)
    auth = {"Authorization": f"Bearer {caller.token}"}
    http = Client(
        transport=HTTPXAsyncTransport(url=f"{web_process}/graphql", headers=auth, timeout=10),
        fetch_schema_from_transport=True,  # documents are checked against the live schema
    )
    ws = Client(
        transport=WebsocketsTransport(
            url=web_process.replace("http", "ws") + "/graphql",
            init_payload=auth,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
    )
    worker = WorkerProcess(live_settings, str(tmp_path / "worker.log"))
    try:
        async with http as session, ws as live:
            await wait_for_worker(session)
            content = {"text": "Published by another process"}
            new = {"input": {"accountId": str(account.id), "content": content}}
            created = await session.execute(GraphQLRequest(CREATE, variable_values=new))
            post_id = created["createPost"]["id"]

            statuses: list[tuple[str, str | None]] = []
            subscribed = asyncio.Event()

            async def follow() -> None:
                async for event in live.subscribe(
                    GraphQLRequest(STATUS, variable_values={"post": post_id})
                ):
                    change = event["postStatusChanged"]
                    statuses.append((change["status"], change["previous"]))
                    subscribed.set()
                    if change["status"] in ("PUBLISHED", "FAILED"):
                        return

            following = asyncio.create_task(follow())
            # The current status (DRAFT) comes first: once it is here, we are subscribed.
            await asyncio.wait_for(subscribed.wait(), 10)
            at = (live_services.clock.now() + timedelta(seconds=4)).replace(microsecond=0)
            once = {
                "pattern": "ONCE",
                "startDate": at.date().isoformat(),
                "times": [at.strftime("%H:%M:%S")],
            }
            scheduled = await session.execute(
                GraphQLRequest(
                    SCHEDULE, variable_values={"input": {"id": post_id, "schedule": once}}
                )
            )
            assert scheduled["schedulePost"]["status"] == "SCHEDULED"
            await asyncio.wait_for(following, 60)

            assert statuses == [
                ("DRAFT", None),
                ("SCHEDULED", "DRAFT"),
                ("PUBLISHING", "SCHEDULED"),
                ("PUBLISHED", "PUBLISHING"),
            ]
            result = (
                await session.execute(GraphQLRequest(RESULT, variable_values={"id": post_id}))
            )["post"]
            assert result["status"] == "PUBLISHED"
            assert result["lastOccurrence"]["state"] == "PUBLISHED"
            media_id = result["lastOccurrence"]["parts"][0]["mediaId"]
            published = await simulator.admin.published()
            assert [p.text for p in published if p.media_id == media_id] == [content["text"]]
    finally:
        worker.stop()
