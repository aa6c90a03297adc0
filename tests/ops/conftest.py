"""Operations fixtures: a manual-clock world on the simulator, a webhook receiver on a real
socket, private Redis and stand-in servers that tests may stop and restart, and the engine's
live fixtures (real clock, in-process or separate worker processes)."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from beanie import PydanticObjectId
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.simulator.admin_client import SimAccount, SimulatorAdmin
from sandbox.simulator.server import SimulatorServer, bind_socket, uvicorn_config
from scheduler.accounts.actors import Actor
from scheduler.platform.clock import ManualClock
from scheduler.platform.documents import Account
from scheduler.platform.settings import Settings
from scheduler.services import Services, build_services
from scheduler.threads.models import ContainerRequest, MediaType

# The engine's fixtures (simulator, live services on the real clock, workers), reused here;
# `engine_settings` is redefined below with fast webhook retries.
from tests.publishing.conftest import live, simulator, worker, worker_processes  # noqa: F401


@pytest.fixture
def engine_settings(
    make_settings: Callable[..., Settings],
    simulator: SimulatorServer,  # noqa: F811 - the fixture imported above
) -> Settings:
    return make_settings(
        threads_api_base_url=simulator.base_url,
        job_timeout=3000,
        publish_attempts=3,
        webhook_retry_seconds=0.5,
        webhook_attempts=3,
    )


@dataclass
class ManualWorld:
    """Services on a ManualClock, sharing that clock with a simulator on a real socket."""

    services: Services
    clock: ManualClock
    admin: SimulatorAdmin
    actor: Actor
    account: Account
    sim_account: SimAccount

    async def publish_on_threads(self, text: str) -> str:
        """Publish a text post on the simulator directly (no scheduler); returns its media id."""
        threads = self.services.threads
        token = self.sim_account.access_token
        container = await threads.create_container(
            ContainerRequest(media_type=MediaType.TEXT, text=text), access_token=token
        )
        return await threads.publish(container, access_token=token)


ManualWorldFactory = Callable[..., Awaitable[ManualWorld]]


@pytest.fixture
async def manual_world(
    make_settings: Callable[..., Settings], clock: ManualClock, database_name: str
) -> AsyncIterator[ManualWorldFactory]:
    """A factory: `await manual_world(insights_calls_per_hour=5)` builds one world."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: Any) -> ManualWorld:
            simulator = stack.enter_context(SimulatorServer(clock=clock))
            settings = make_settings(threads_api_base_url=simulator.base_url, **overrides)
            services = await stack.enter_async_context(build_services(settings, clock=clock))
            stack.push_async_callback(services.mongo.drop_database, database_name)
            actor = Actor(owner_id=PydanticObjectId())
            sim_account = await simulator.admin.create_account("ana")
            account = await services.accounts.connect_with_token(actor, sim_account.access_token)
            return ManualWorld(services, clock, simulator.admin, actor, account, sim_account)

        yield make


# --- a webhook receiver on loopback ---------------------------------------------------------


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A tiny Starlette app on a real socket that records every POST and answers as told."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    # Status codes to answer, in order; when empty, 200.
    answers: list[int] = field(default_factory=list)
    headers: dict[int, dict[str, str]] = field(default_factory=dict)

    async def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the receiver got {len(self.received)} requests, expected {count}"
                )
            await asyncio.sleep(0.05)
        return self.received


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    async def hook(request: Request) -> Response:
        body = await request.body()
        state.received.append(Received(body, dict(request.headers)))
        status = state.answers.pop(0) if state.answers else 200
        return Response(b"ok", status_code=status, headers=state.headers.get(status))

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    sock = bind_socket()
    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the webhook receiver did not start"
        time.sleep(0.01)
    state.url = f"http://{host}:{port}/hook"
    yield state
    server.should_exit = True
    thread.join(10)


# --- a private Redis server the test may stop and restart -------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """`redis-server` on a port of its own, without persistence (never the shared 6379)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix="ops-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)
