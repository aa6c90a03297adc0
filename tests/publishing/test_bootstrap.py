"""The seed's THREADS_ACCESS_TOKEN connects one account for the first owner, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sandbox.simulator.server import SimulatorServer
from scheduler.accounts.bootstrap import bootstrap_account
from scheduler.accounts.users import create_user
from scheduler.platform.clock import SystemClock
from scheduler.platform.documents import Account
from scheduler.platform.settings import Settings
from scheduler.services import build_services


async def test_the_seed_token_connects_an_account_for_the_first_owner(
    make_settings: Callable[..., Settings], simulator: SimulatorServer
) -> None:
    sim = await simulator.admin.create_account("seeded")
    settings = make_settings(
        threads_api_base_url=simulator.base_url,
        threads_access_token=sim.access_token,
        threads_user_id=sim.user_id,
    )
    async with build_services(settings, clock=SystemClock()) as services:
        assert await bootstrap_account(services) is None  # no user yet: nothing to attach it to
        owner = await create_user("owner@example.com", "a long password", now=datetime.now(UTC))
        account = await bootstrap_account(services)
        assert account is not None and account.username == "seeded"
        assert account.owner_id == owner.owner_id
        again = await bootstrap_account(services)
        assert again is not None and again.id == account.id
        assert await Account.find_all().count() == 1
        stored = await Account.get(account.id)
        assert stored is not None and stored.access_token != sim.access_token  # encrypted
