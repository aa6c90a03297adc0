"""GraphQL fixtures: the app over HTTP on the test's loop, a Threads simulator for accounts, an
owner with an API token and a connected account, and a second owner whose data must stay hidden.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from sandbox.simulator.server import SimulatorServer, bind_socket
from scheduler.accounts.actors import Actor
from scheduler.accounts.auth import actor_for
from scheduler.accounts.users import create_user
from scheduler.platform.clock import ManualClock
from scheduler.platform.documents import DOCUMENT_MODELS, Account, Post, User
from scheduler.platform.settings import Settings
from scheduler.posts.content import PostContent
from scheduler.posts.service import PostInput
from scheduler.services import Services, build_services
from tests.conftest import AppClientFactory

REDIRECT_URI = "https://scheduler.example.com/accounts/callback"
APP_ID, APP_SECRET = "1234567890", "sim-app-secret"


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


@pytest.fixture
def api_settings(make_settings: Callable[..., Settings], simulator: SimulatorServer) -> Settings:
    """Settings with the simulator as the Threads API (a test module may override this)."""
    return make_settings(
        threads_api_base_url=simulator.base_url,
        threads_app_id=APP_ID,
        threads_app_secret=APP_SECRET,
        threads_redirect_uri=REDIRECT_URI,
    )


@pytest.fixture
async def services(
    api_settings: Settings, clock: ManualClock, database_name: str
) -> AsyncIterator[Services]:
    """The wired core on the manual clock, talking to the simulator as its Threads API."""
    async with build_services(api_settings, clock=clock) as built:
        try:
            yield built
        finally:
            await built.mongo.drop_database(database_name)


@dataclass
class Caller:
    """A user of the API: their actor and the secret of an API token of theirs."""

    user: User
    actor: Actor
    token: str


async def make_caller(services: Services, email: str) -> Caller:
    """A new owner (their own tenant) with an API token."""
    user = await create_user(email, "a long enough password", now=services.clock.now())
    actor = actor_for(user)
    issued = await services.auth.create_token(actor, "tests")
    return Caller(user, actor, issued.secret)


@pytest.fixture
async def owner(services: Services) -> Caller:
    return await make_caller(services, "owner@example.com")


@pytest.fixture
async def stranger(services: Services) -> Caller:
    """Another tenant: none of their data may be visible to `owner`, nor the other way round."""
    return await make_caller(services, "stranger@example.com")


@pytest.fixture
async def viewer(services: Services, owner: Caller) -> Caller:
    """A read-only token of the owner's: it may look but not change anything."""
    issued = await services.auth.create_token(owner.actor, "read only", read_only=True)
    token_actor = await services.auth.authenticate_token(issued.secret)
    return Caller(owner.user, token_actor, issued.secret)


async def connect(
    services: Services, simulator: SimulatorServer, caller: Caller, username: str
) -> Account:
    sim = await simulator.admin.create_account(username)
    return await services.accounts.connect_with_token(caller.actor, sim.access_token)


@pytest.fixture
async def account(services: Services, simulator: SimulatorServer, owner: Caller) -> Account:
    return await connect(services, simulator, owner, "ana")


async def make_post(
    services: Services, caller: Caller, account: Account, text: str = "Hello Threads", **kw: Any
) -> Post:
    return await services.posts.create(
        caller.actor, PostInput(account_id=str(account.id), content=PostContent(text=text), **kw)
    )


class Api:
    """POSTs GraphQL documents to /graphql the way a client would."""

    def __init__(self, client: httpx.AsyncClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def headers(self, token: str | None = None) -> dict[str, str]:
        token = token or self.token
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, **kw: Any
    ) -> httpx.Response:
        token = kw.pop("token", None)
        body = {"query": query, "variables": variables or {}}
        return await self.client.post("/graphql", json=body, headers=self.headers(token), **kw)

    async def errors(
        self, query: str, variables: dict[str, Any] | None = None, **kw: Any
    ) -> list[dict[str, Any]]:
        """The top-level errors of a request expected to fail."""
        response = await self.post(query, variables, **kw)
        assert response.status_code == 200, response.text
        errors: list[dict[str, Any]] = response.json().get("errors") or []
        assert errors, f"expected errors, got {response.json()}"
        return errors

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        """The data of a request expected to succeed (no top-level errors)."""
        response = await self.post(query, variables, **kw)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
async def api(app_client: AppClientFactory, owner: Caller) -> Api:
    """The API as the owner (with the owner's token); pass `token=` to call as someone else."""
    return Api(await app_client(), owner.token)


@pytest.fixture
async def anonymous(app_client: AppClientFactory) -> Api:
    return Api(await app_client(), None)


async def snapshot(services: Services) -> dict[str, list[dict[str, Any]]]:
    """Every document of every collection, to assert that a refused request changed nothing."""
    db = services.mongo[services.settings.database_name]
    state: dict[str, list[dict[str, Any]]] = {}
    for model in DOCUMENT_MODELS:
        name = model.get_collection_name()
        # Using a token records when (to the minute): that is not a change the request made.
        docs = db[name].find({}, {"last_used_at": 0}, sort=[("_id", 1)])
        state[name] = [doc async for doc in docs]
    return state


@asynccontextmanager
async def serve_app(services: Services) -> AsyncIterator[str]:
    """The whole web app served by uvicorn on a real socket, on this test's event loop (so it
    shares `services` with the test); yields its base URL."""
    from web.app import create_app

    sock = bind_socket()
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(create_app(services=services), lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()


@pytest.fixture
async def served(services: Services) -> AsyncIterator[str]:
    async with serve_app(services) as url:
        yield url


class WsClient:
    """A raw GraphQL WebSocket client (either protocol), for checking the wire messages."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(
            await asyncio.wait_for(self.connection.recv(), timeout)
        )
        return message

    async def receive_data(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next result (skipping the legacy protocol's keep-alives)."""
        while True:
            message = await self.receive(timeout)
            if message["type"] != "ka":
                return message

    async def closed(self, timeout: float = 5.0) -> tuple[int | None, list[dict[str, Any]]]:
        """Wait for the server to close; returns the close code and what arrived before."""
        received = []
        try:
            while True:
                received.append(await self.receive(timeout))
        except ConnectionClosed as closed:
            return (closed.rcvd.code if closed.rcvd else None), received


@asynccontextmanager
async def ws_connect(
    base_url: str,
    protocol: str = "graphql-transport-ws",
    payload: dict[str, Any] | None = None,
    *,
    init: bool = True,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[WsClient]:
    """Open /graphql over WebSocket; with `init`, send connection_init and expect the ack."""
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[protocol], additional_headers=headers) as conn:  # type: ignore[list-item]
        client = WsClient(conn)
        if init:
            await client.send({"type": "connection_init", "payload": payload or {}})
            assert await client.receive_data() == {"type": "connection_ack"}
        yield client
