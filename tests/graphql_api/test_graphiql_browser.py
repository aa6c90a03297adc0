"""GraphiQL in a real headless Chromium with every non-local request blocked: the vendored page
renders, runs a query over HTTP and a subscription over its WebSocket, as the logged-in user."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

import pytest

from scheduler.services import Services
from tests.graphql_api.conftest import Caller
from tests.graphql_api.test_auth import session_cookie

playwright = pytest.importorskip("playwright.async_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Chromium is not installed"),
]


async def run(page: Any, query: str) -> str:
    """Type `query` into the editor, run it, and return the response pane's text."""
    await page.click(".graphiql-query-editor .CodeMirror")
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(query)
    await asyncio.sleep(0.4)  # GraphiQL re-reads the editor shortly after typing
    await page.click(".graphiql-execute-button")
    response = page.locator(".graphiql-response")
    await response.get_by_text('"data"').wait_for(timeout=10_000)
    return str(await response.inner_text())


async def test_graphiql_works_offline(served: str, owner: Caller, services: Services):
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = await browser.new_context()
        cookie = session_cookie(services, str(owner.user.id))
        host = served.split("//")[1].split(":")[0]
        await context.add_cookies(
            [{"name": "ts_session", "value": cookie, "domain": host, "path": "/"}]
        )
        page = await context.new_page()
        outside: list[str] = []
        problems: list[str] = []

        async def only_local(route: Any) -> None:
            if route.request.url.startswith(served):
                await route.continue_()
            else:
                outside.append(route.request.url)
                await route.abort()

        await page.route("**/*", only_local)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        await page.goto(f"{served}/graphql")
        await page.wait_for_selector(".graphiql-container", timeout=15_000)

        assert '"role": "OWNER"' in await run(page, "{ health me { role } }")
        async with page.expect_websocket() as socket:
            result = await run(page, "subscription { schedulerState { mode } }")
        assert '"mode": "event-driven"' in result
        assert (await socket.value).url.endswith("/graphql")
        assert outside == [] and problems == []
        await browser.close()
