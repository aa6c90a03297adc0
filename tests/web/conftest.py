"""Web fixtures: the app over httpx (with the rendered template and context captured, as
Starlette's TestClient does), users, a connected account, posts, and the `htmx` switch that runs
every page test twice, as a full page and as an HTMX fragment.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup

from scheduler.accounts.actors import Actor
from scheduler.platform.documents import Account, Post
from scheduler.posts.content import PostContent
from scheduler.posts.service import PostInput
from scheduler.services import Services
from tests.factories import make_account
from web.app import create_app

PASSWORD = "correct horse battery staple"
RAW_THREADS_TOKEN = "THAAraw-threads-access-token-that-must-never-be-shown"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class RecordingTransport(httpx.AsyncBaseTransport):
    """ASGI transport that also records the template and context a response rendered."""

    def __init__(self, app: Any, state: Any) -> None:
        self.app = app
        self.state = state

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        captured: dict[str, Any] = {}

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            extensions = {**scope.get("extensions", {}), "http.response.debug": {}}
            scope = {**scope, "state": dict(self.state or {}), "extensions": extensions}

            async def capture(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.debug":
                    captured.update(message["info"])
                    return
                await send(message)

            await self.app(scope, receive, capture)

        response = await httpx.ASGITransport(app=app).handle_async_request(request)
        response.template = captured.get("template")  # type: ignore[attr-defined]
        response.context = captured.get("context")  # type: ignore[attr-defined]
        return response


WebClient = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def web(services: Services) -> AsyncIterator[WebClient]:
    """A factory of clients of one app (cookies kept per client; redirects not followed)."""
    app = create_app(services=services)
    clients: list[httpx.AsyncClient] = []
    async with app.router.lifespan_context(app) as state:

        def make(**headers: str) -> httpx.AsyncClient:
            client = httpx.AsyncClient(
                transport=RecordingTransport(app, state),
                base_url="http://testserver",
                headers=headers,
            )
            clients.append(client)
            return client

        yield make
        for client in clients:
            await client.aclose()


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


FULL = {"HX-Request": "false"}  # overrides a client's htmx headers for one request


async def log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """Log in through the form, as a browser without htmx would."""
    page = await client.get("/login", headers=FULL)
    assert page.status_code == 200, page.text
    return await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
        headers=FULL,
    )


async def csrf(client: httpx.AsyncClient, path: str = "/") -> str:
    """The session's CSRF token, read from a page the client may see."""
    page = await client.get(path, headers=FULL)
    return csrf_of(page.text)


@dataclass
class Tenant:
    """One owner with a logged-in client and a connected account."""

    actor: Actor
    email: str
    client: httpx.AsyncClient
    account: Account

    async def post(self, services: Services, text: str = "Hello Threads", **kw: Any) -> Post:
        return await services.posts.create(
            self.actor,
            PostInput(
                account_id=str(self.account.id),
                content=kw.pop("content", None) or PostContent(text=text),
                **kw,
            ),
        )


def once(at: datetime, timezone: str = "UTC") -> dict[str, Any]:
    return {
        "pattern": "ONCE",
        "timezone": timezone,
        "start_date": at.date().isoformat(),
        "times": [at.strftime("%H:%M:%S")],
    }


async def connected_account(services: Services, actor: Actor, username: str) -> Account:
    account = make_account(
        owner_id=actor.owner_id,
        username=username,
        threads_user_id=f"{abs(hash(username)) % 10**9}",
        access_token=services.cipher.encrypt(RAW_THREADS_TOKEN),
        token_expires_at=datetime(2030, 3, 1, tzinfo=UTC),
        timezone="Europe/Berlin",
    )
    await account.insert()
    return account


@pytest.fixture
def make_tenant(services: Services, web: WebClient) -> Callable[..., Any]:
    """Create an owner (the first one through setup rules, later ones directly), logged in."""
    from scheduler.accounts.users import create_user

    async def make(
        email: str = "owner@example.com", username: str = "ana", **headers: str
    ) -> Tenant:
        if await services.auth.has_users():
            user = await create_user(email, PASSWORD, now=services.clock.now())
        else:
            user = await services.auth.create_first_owner(email, PASSWORD)
        actor = await services.auth.user_actor(user.id)
        client = web(**headers)
        response = await log_in(client, email)
        assert response.status_code == 303, response.text
        account = await connected_account(services, actor, username)
        return Tenant(actor, email, client, account)

    return make


@pytest.fixture(params=["full", "htmx"])
def htmx(request: pytest.FixtureRequest) -> bool:
    """Run the test as a full page load and as an htmx navigation."""
    return bool(request.param == "htmx")


@pytest.fixture
async def owner(make_tenant: Callable[..., Any], htmx: bool) -> Tenant:
    """The first owner, logged in; its client sends `HX-Request` in htmx mode."""
    headers = {"HX-Request": "true", "HX-Target": "main"} if htmx else {}
    tenant: Tenant = await make_tenant(**headers)
    return tenant


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def soon(services: Services, **delta: float) -> datetime:
    return services.clock.now() + timedelta(**delta)
