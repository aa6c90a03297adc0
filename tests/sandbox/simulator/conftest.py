"""Fixtures: a simulator on a real socket (uvicorn in a thread) with a manual clock, and clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from sandbox.simulator import SimAccount, SimulatorAdmin, SimulatorServer, SimulatorState
from scheduler.platform.clock import ManualClock
from scheduler.threads import ThreadsClient

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
APP_ID, APP_SECRET = "1234567890", "sim-app-secret"


@pytest.fixture
def sim_clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def sim_state(sim_clock: ManualClock) -> SimulatorState:
    return SimulatorState(clock=sim_clock)


@pytest.fixture
def sim(sim_state: SimulatorState) -> Iterator[SimulatorServer]:
    with SimulatorServer(state=sim_state) as server:
        yield server


@pytest.fixture
def admin(sim: SimulatorServer) -> SimulatorAdmin:
    return sim.admin


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


@pytest.fixture
def client(http: httpx.AsyncClient, sim: SimulatorServer, sim_clock: ManualClock) -> ThreadsClient:
    return ThreadsClient(
        http, base_url=sim.base_url, app_id=APP_ID, app_secret=APP_SECRET, clock=sim_clock
    )


@pytest.fixture
async def alice(admin: SimulatorAdmin) -> SimAccount:
    return await admin.create_account("alice", access_token="alice-token")


@pytest.fixture
async def bob(admin: SimulatorAdmin) -> SimAccount:
    return await admin.create_account("bob", access_token="bob-token")
