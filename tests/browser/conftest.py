"""Browser fixtures: the whole system on real sockets, driven by Debian's headless Chromium.

`system` runs, in this test's event loop: the app served by uvicorn on a real port, a worker,
and the Threads simulator (its own thread) as the provider, with the OAuth redirect pointing at
the app. `browser` opens Chromium through Playwright (never `playwright install`: the system's
`/usr/bin/chromium`), records every console error and uncaught exception (a test fails on any),
and saves screenshots under `artifacts/screenshots/`.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import ConsoleMessage, Page, async_playwright, expect

from sandbox.devservers import free_port
from sandbox.simulator.admin_client import SimulatorAdmin
from sandbox.simulator.config import SimulatorConfig
from sandbox.simulator.server import SimulatorServer, bind_socket
from scheduler.accounts.actors import Actor
from scheduler.platform.clock import SystemClock
from scheduler.platform.documents import Account
from scheduler.platform.settings import Settings
from scheduler.publishing.worker import run_workers
from scheduler.services import Services, build_services
from web.app import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
EMAIL = "owner@example.com"
PASSWORD = "correct horse battery staple"
CHROMIUM_ARGS = [
    "--no-sandbox",  # required as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
            if not Path(CHROMIUM).exists():
                item.add_marker(
                    pytest.mark.skip(reason="Chromium is missing; run scripts/system-packages")
                )


class WebServer:
    """The app served by uvicorn on a fixed port, in this event loop; it can be restarted."""

    def __init__(self, services: Services, port: int) -> None:
        self.services = services
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sock = bind_socket(port=self.port)
        config = uvicorn.Config(
            create_app(services=self.services),
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._serving = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._serving.done():
                self._serving.result()
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await asyncio.wait_for(self._serving, 30)
        self._server = self._serving = None


@dataclass
class System:
    """The running system: its services, the web server and the simulator's admin API."""

    services: Services
    web: WebServer
    admin: SimulatorAdmin

    @property
    def origin(self) -> str:
        return self.web.origin

    async def owner(self) -> Actor:
        """Create the first owner (as /setup would) and return their actor."""
        user = await self.services.auth.create_first_owner(EMAIL, PASSWORD)
        return await self.services.auth.user_actor(user.id)

    async def account(self, actor: Actor, username: str = "ana") -> Account:
        """Connect a simulated account directly (the OAuth flow has its own test)."""
        sim = await self.admin.create_account(username)
        return await self.services.accounts.connect_with_token(actor, sim.access_token)


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


@pytest.fixture
async def system(
    make_settings: Callable[..., Settings], simulator: SimulatorServer
) -> AsyncIterator[System]:
    port = free_port()
    sim = SimulatorConfig()
    settings = make_settings(
        threads_api_base_url=simulator.base_url,
        threads_app_id=sim.app_id,
        threads_app_secret=sim.app_secret,
        threads_redirect_uri=f"http://127.0.0.1:{port}/accounts/callback",
        job_timeout=3000,
    )
    async with build_services(settings, clock=SystemClock()) as services:
        web = WebServer(services, port)
        await web.start()
        stop = asyncio.Event()
        worker = asyncio.create_task(run_workers(services, stop))
        try:
            yield System(services, web, simulator.admin)
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)
            await web.stop()


@dataclass
class Browser:
    """One browser tab on the app, with its console errors and a screenshot helper."""

    page: Page
    origin: str
    name: str
    errors: list[str] = field(default_factory=list)
    shots: int = 0

    async def goto(self, path: str) -> None:
        await self.page.goto(self.origin + path)
        if await self.page.locator("body[sse-connect]").count():
            await self.live()

    async def live(self) -> None:
        """Wait until the page's stream is live and the fragments it re-fetched then are in."""
        await expect(self.page.locator("body[data-live]")).to_have_count(1, timeout=15_000)
        await expect(self.page.locator(".htmx-request")).to_have_count(0, timeout=15_000)

    async def shot(self, label: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        path = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{label}.png"
        # caret="initial": hiding the caret leaves `style=""` on inputs, which htmx then copies
        # while settling a swap, which the CSP reports as an inline style.
        await self.page.screenshot(path=str(path), full_page=True, caret="initial")
        return path

    async def log_in(self, email: str = EMAIL, password: str = PASSWORD) -> None:
        await self.goto("/login")
        await self.page.get_by_label("Email").fill(email)
        await self.page.get_by_label("Password").fill(password)
        await self.page.get_by_role("button", name="Log in").click()
        await self.page.wait_for_url(re.compile(re.escape(self.origin) + r"/(\?.*)?$"))


@pytest.fixture
async def browser(system: System, request: pytest.FixtureRequest) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = await chromium.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        page = await context.new_page()
        name = re.sub(r"[^\w-]+", "-", request.node.name).strip("-")
        tab = Browser(page, system.origin, name)

        def console(message: ConsoleMessage) -> None:
            # Only our pages count (the provider's authorize page is not ours).
            where = message.location.get("url", "") or page.url
            if message.type == "error" and where.startswith(system.origin):
                tab.errors.append(f"console: {message.text} ({where})")

        page.on("console", console)
        page.on("pageerror", lambda exc: tab.errors.append(f"page error: {exc}"))
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        try:
            yield tab
            assert tab.errors == [], "the browser logged errors"
        finally:
            await context.close()
            await chromium.close()
