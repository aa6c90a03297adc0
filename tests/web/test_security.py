"""Security of the dashboard: every page needs a login, owners are walled off from each other
(another owner's id answers exactly like a missing one), viewers change nothing, forged
requests are refused, and Threads tokens never reach a page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from scheduler.platform.documents import Post, PostStatus
from scheduler.services import Services
from tests.web.conftest import (
    FULL,
    PASSWORD,
    RAW_THREADS_TOKEN,
    Tenant,
    WebClient,
    csrf,
    log_in,
    once,
    soon,
)
from web import pages
from web.templating import create_templates

PUBLIC = {"/login", "/setup", "/logout", "/favicon.ico"}
MISSING_ID = "0123456789abcdef01234567"
# POST routes that change nothing (they only render): a viewer may use them.
RENDER_ONLY = {"/posts/compose/rows"}


def dashboard_routes() -> Iterator[tuple[str, str]]:
    """(method, path template) of every dashboard route."""
    for route in pages.routes(create_templates()):
        assert isinstance(route, Route)
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            yield method, route.path


ROUTES = list(dashboard_routes())
PRIVATE = [(m, p) for m, p in ROUTES if p not in PUBLIC]


def fill(path: str, **ids: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: ids.get(m.group(1), MISSING_ID), path)


@pytest.fixture
async def stranger(web: WebClient, services: Services) -> httpx.AsyncClient:
    """A visitor who is not logged in (but has a session and its CSRF token)."""
    await services.auth.create_first_owner("owner@example.com", PASSWORD)
    client = web()
    await client.get("/login")
    return client


@pytest.mark.parametrize(("method", "path"), PRIVATE)
async def test_every_page_needs_a_login(
    stranger: httpx.AsyncClient, method: str, path: str, htmx: bool
) -> None:
    headers = {"HX-Request": "true"} if htmx else {}
    data = {"csrf_token": await csrf(stranger, "/login")} if method == "POST" else None
    response = await stranger.request(method, fill(path), data=data, headers=headers)
    if path == "/events":
        assert response.status_code == 401
    elif htmx:
        assert response.status_code == 401
        assert response.headers["HX-Redirect"].startswith("/login")
    else:
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def test_the_list_of_routes_is_complete() -> None:
    assert ("GET", "/events") in PRIVATE and ("POST", "/posts/bulk") in PRIVATE
    assert len(PRIVATE) >= 30


@pytest.fixture
async def two_owners(make_tenant: Any, services: Services) -> tuple[Tenant, Tenant, Post]:
    alice: Tenant = await make_tenant("alice@example.com", "alice")
    bob: Tenant = await make_tenant("bob@example.com", "bob")
    post = await alice.post(services, "Alice's secret plan", schedule=once(soon(services, hours=2)))
    return alice, bob, post


OWNED = [(m, p) for m, p in PRIVATE if "{post_id}" in p or "{account_id}" in p]


@pytest.mark.parametrize(("method", "path"), OWNED)
async def test_another_owners_ids_behave_like_missing_ones(
    two_owners: tuple[Tenant, Tenant, Post], services: Services, method: str, path: str
) -> None:
    alice, bob, post = two_owners
    ids = {"post_id": str(post.id), "account_id": str(alice.account.id)}
    data = {"csrf_token": await csrf(bob.client), "timezone": "UTC"} if method == "POST" else None
    theirs = await bob.client.request(method, fill(path, **ids), data=data)
    missing = await bob.client.request(method, fill(path), data=data)
    assert theirs.status_code == missing.status_code == 404
    assert (
        theirs.text.replace(str(post.id), MISSING_ID).replace(str(alice.account.id), MISSING_ID)
        == missing.text
    )
    stored = await services.posts.get(alice.actor, post.id)
    assert (stored.status, stored.version) == (PostStatus.SCHEDULED, post.version)


async def test_another_owners_posts_are_nowhere_in_my_pages(
    two_owners: tuple[Tenant, Tenant, Post], services: Services
) -> None:
    alice, bob, post = two_owners
    for path in ("/", "/posts", "/posts/table", "/calendar", "/calendar?view=week", "/queues"):
        page = await bob.client.get(path)
        assert page.status_code == 200
        assert "Alice's secret plan" not in page.text and str(post.id) not in page.text, path
        assert "@alice" not in page.text, path
    assert (await bob.client.get("/")).context["counts"]["SCHEDULED"] == 0

    token = await csrf(bob.client)
    moved = await bob.client.post(
        "/calendar/move",
        data={"csrf_token": token, "post_id": str(post.id), "date": "2030-01-09", "tz": "UTC"},
    )
    assert moved.status_code == 404
    bulk = await bob.client.post(
        "/posts/bulk", data={"csrf_token": token, "action": "cancel", "ids": [str(post.id)]}
    )
    assert "was not found" in bulk.text
    composed = await bob.client.post(
        "/posts/new",
        data={
            "csrf_token": token,
            "account_id": str(alice.account.id),
            "text": "Posting as Alice",
            "intent": "draft",
        },
    )
    assert "No connected account" in composed.text
    assert (await services.posts.get(alice.actor, post.id)).status is PostStatus.SCHEDULED
    assert (await services.posts.find(bob.actor)).total == 0


@pytest.fixture
async def viewer(make_tenant: Any, services: Services, web: WebClient) -> tuple[Tenant, Any]:
    owner: Tenant = await make_tenant()
    await services.auth.add_viewer(owner.actor, "viewer@example.com", PASSWORD)
    client = web()
    await log_in(client, "viewer@example.com")
    return owner, client


CHANGES = [(m, p) for m, p in PRIVATE if m == "POST" and p not in RENDER_ONLY and p != "/logout"]


@pytest.mark.parametrize(("method", "path"), CHANGES)
async def test_a_viewer_cannot_change_anything(
    viewer: tuple[Tenant, httpx.AsyncClient], services: Services, method: str, path: str
) -> None:
    owner, client = viewer
    post = await owner.post(services, "Owner's post", schedule=once(soon(services, hours=2)))
    issued = await services.auth.create_token(owner.actor, "owner's token")
    ids = {
        "post_id": str(post.id),
        "account_id": str(owner.account.id),
        "token_id": str(issued.token.id),
    }
    data = {
        "csrf_token": await csrf(client),
        "action": "cancel",
        "ids": [str(post.id)],
        "post_id": str(post.id),
        "date": "2030-01-09",
        "tz": "UTC",
        "timezone": "UTC",
        "account_id": str(owner.account.id),
        "text": "A viewer's post",
        "intent": "schedule",
        "name": "viewer token",
        "email": "another@example.com",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    response = await client.request(method, fill(path, **ids), data=data)
    assert response.status_code == 403, (path, response.status_code)
    assert "Your role is viewer" in response.text
    stored = await services.posts.get(owner.actor, post.id)
    assert (stored.status, stored.version) == (PostStatus.SCHEDULED, post.version)
    assert (await services.posts.find(owner.actor)).total == 1
    assert [t.revoked_at for t in await services.auth.list_tokens(owner.actor)] == [None]


@pytest.mark.parametrize(
    ("why", "token", "extra_headers"),
    [
        ("missing", None, {}),
        ("forged", "not-the-token", {}),
        ("cross-site origin", "VALID", {"Origin": "https://evil.example"}),
        ("cross-site fetch", "VALID", {"Sec-Fetch-Site": "cross-site"}),
    ],
)
async def test_forged_requests_are_refused(
    owner: Tenant,
    services: Services,
    why: str,
    token: str | None,
    extra_headers: dict[str, str],
) -> None:
    valid = await csrf(owner.client)
    data = {"text": "Forged", "account_id": str(owner.account.id), "intent": "draft"}
    if token is not None:
        data["csrf_token"] = valid if token == "VALID" else token
    response = await owner.client.post("/posts/new", data=data, headers=extra_headers)
    assert response.status_code == 403, why
    assert "was not accepted" in response.text
    assert (await services.posts.find(owner.actor)).total == 0


async def test_a_token_from_another_session_is_refused(
    make_tenant: Any, services: Services
) -> None:
    alice: Tenant = await make_tenant("alice@example.com", "alice")
    bob: Tenant = await make_tenant("bob@example.com", "bob")
    response = await alice.client.post(
        "/posts/new",
        data={"csrf_token": await csrf(bob.client), "text": "x", "intent": "draft"},
    )
    assert response.status_code == 403


async def test_the_csrf_header_is_accepted_and_same_origin_too(
    owner: Tenant, services: Services
) -> None:
    response = await owner.client.post(
        "/posts/new",
        data={"text": "Via htmx", "account_id": str(owner.account.id), "intent": "draft"},
        headers={"X-CSRF-Token": await csrf(owner.client), "Origin": "http://testserver"},
    )
    assert response.status_code in (200, 303)
    assert (await services.posts.find(owner.actor)).total == 1


async def test_threads_tokens_never_reach_a_page(owner: Tenant, services: Services) -> None:
    post = await owner.post(services, schedule=once(soon(services, hours=2)))
    stored = await services.accounts.get(owner.actor, owner.account.id)
    encrypted = stored.access_token
    assert encrypted and RAW_THREADS_TOKEN not in encrypted
    ids = {"post_id": str(post.id), "account_id": str(owner.account.id)}
    for method, path in PRIVATE:
        if method != "GET" or path in ("/events", "/accounts/connect", "/accounts/callback"):
            continue
        response = await owner.client.get(fill(path, **ids))
        assert RAW_THREADS_TOKEN not in response.text, path
        assert encrypted not in response.text, path


async def test_security_headers_and_cookie_flags(web: WebClient, services: Services) -> None:
    await services.auth.create_first_owner("owner@example.com", PASSWORD)
    client = web()
    for path in ("/login", "/static/app.css", "/favicon.ico"):
        response = await client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    response = await log_in(web(), "owner@example.com")
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("ts_session=")
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # http in tests; production sets it (test_middleware)


async def test_a_tampered_session_is_a_logged_out_one(owner: Tenant) -> None:
    cookie = owner.client.cookies["ts_session"]
    owner.client.cookies.set("ts_session", cookie[:-3] + ("AAA" if cookie[-3:] != "AAA" else "BBB"))
    response = await owner.client.get("/posts", headers=FULL)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_no_inline_script_or_style_in_any_page(owner: Tenant, services: Services) -> None:
    post = await owner.post(services, schedule=once(soon(services, hours=2)))
    ids = {"post_id": str(post.id), "account_id": str(owner.account.id)}
    for method, path in PRIVATE:
        if method != "GET" or path in ("/events", "/accounts/connect", "/accounts/callback"):
            continue
        text = (await owner.client.get(fill(path, **ids))).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.search(r"\sstyle=|<style", text), path
        assert not re.search(r"\son[a-z]+=|hx-on|javascript:", text), path
