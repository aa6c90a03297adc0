"""Engine fixtures: the Threads simulator on a real socket, the wired core on the real clock, and
workers running in this process or as separate OS processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from beanie import PydanticObjectId

from sandbox.simulator.admin_client import PublishedPost, SimAccount, SimulatorAdmin
from sandbox.simulator.server import SimulatorServer
from scheduler.accounts.actors import Actor
from scheduler.platform.clock import SystemClock
from scheduler.platform.documents import Account, Post, PostStatus
from scheduler.platform.settings import Settings
from scheduler.posts.content import PostContent, ReplySpec
from scheduler.posts.service import PostInput
from scheduler.publishing.worker import run_workers
from scheduler.services import Services, build_services


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


@pytest.fixture
def engine_settings(make_settings: Callable[..., Settings], simulator: SimulatorServer) -> Settings:
    return make_settings(
        threads_api_base_url=simulator.base_url,
        job_timeout=3000,
        publish_attempts=3,
        lease_grace_seconds=2,
    )


def once(at: datetime, timezone: str = "UTC") -> dict[str, Any]:
    """A ONCE schedule for the instant `at` (second precision)."""
    return {
        "pattern": "ONCE",
        "timezone": timezone,
        "start_date": at.date().isoformat(),
        "times": [at.strftime("%H:%M:%S")],
    }


def soon(seconds: float, clock: SystemClock | None = None) -> datetime:
    """A whole second at least `seconds` from now."""
    now = (clock or SystemClock()).now()
    return (now + timedelta(seconds=seconds + 1)).replace(microsecond=0)


@dataclass
class Live:
    """A running system: services on the real clock, one owner, one connected account."""

    services: Services
    admin: SimulatorAdmin
    actor: Actor
    account: Account
    sim_account: SimAccount
    accounts: dict[str, tuple[Account, SimAccount]] = field(default_factory=dict)

    async def add_account(self, username: str) -> Account:
        sim = await self.admin.create_account(username)
        account = await self.services.accounts.connect_with_token(self.actor, sim.access_token)
        self.accounts[username] = (account, sim)
        return account

    async def schedule(
        self,
        text: str,
        at: datetime | dict[str, Any],
        *,
        account: Account | None = None,
        replies: list[ReplySpec] | None = None,
        content: PostContent | None = None,
    ) -> Post:
        schedule = once(at) if isinstance(at, datetime) else at
        return await self.services.posts.create(
            self.actor,
            PostInput(
                account_id=str((account or self.account).id),
                content=content or PostContent(text=text),
                replies=replies,
                schedule=schedule,
            ),
        )

    async def post(self, post_id: Any) -> Post:
        return await self.services.posts.get(self.actor, post_id)

    async def published(self) -> list[PublishedPost]:
        return await self.admin.published()

    async def wait_for(
        self, predicate: Callable[[], Awaitable[bool]], timeout: float, what: str
    ) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
            await asyncio.sleep(0.2)

    async def wait_status(self, post_id: Any, *statuses: PostStatus, timeout: float = 30) -> Post:
        async def reached() -> bool:
            return (await self.post(post_id)).status in statuses

        await self.wait_for(reached, timeout, f"post {post_id} to be {statuses}")
        return await self.post(post_id)


@pytest.fixture
async def live(engine_settings: Settings, simulator: SimulatorServer) -> AsyncIterator[Live]:
    """The core wired on the real clock (no worker yet: add `worker` to run one in-process)."""
    async with build_services(engine_settings, clock=SystemClock()) as services:
        admin = simulator.admin
        actor = Actor(owner_id=PydanticObjectId())
        sim_account = await admin.create_account("ana")
        account = await services.accounts.connect_with_token(actor, sim_account.access_token)
        yield Live(services, admin, actor, account, sim_account)


@pytest.fixture
async def worker(live: Live) -> AsyncIterator[asyncio.Event]:
    """An in-process worker on the live services; set the event to stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_workers(live.services, stop))
    yield stop
    stop.set()
    await asyncio.wait_for(task, 30)


class WorkerProcess:
    """`threads-scheduler worker` as a separate OS process (for crash and multi-worker tests)."""

    def __init__(self, settings: Settings, log_path: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB", "REDIS"))}
        env.update(
            {
                "APP_ENV": "test",
                "MONGODB_URI": settings.mongodb_uri or "",
                "REDIS_URL": settings.effective_redis_url,
                "THREADS_API_BASE_URL": settings.threads_api_base_url,
                "JOB_TIMEOUT": str(settings.job_timeout),
                "PUBLISH_ATTEMPTS": str(settings.publish_attempts),
                "LEASE_GRACE_SECONDS": str(settings.lease_grace_seconds),
                "SECRET_KEY": settings.secret_key.get_secret_value() if settings.secret_key else "",
                "LOG_LEVEL": "INFO",
            }
        )
        self._log = open(log_path, "a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", "worker"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


@pytest.fixture
def worker_processes(
    engine_settings: Settings, tmp_path: Any
) -> Iterator[Callable[[], WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        process = WorkerProcess(engine_settings, str(tmp_path / f"worker-{len(started)}.log"))
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
