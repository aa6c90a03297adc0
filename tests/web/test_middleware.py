"""The security middleware on its own, around a tiny app: CSRF rules, the GraphQL exemption
(JSON only), cross-site WebSockets, oversized forms, and the cookie in production."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from scheduler.platform.settings import Settings, load_settings
from web.security import MAX_FORM_BYTES, middleware


async def login(request: Request) -> Response:
    request.session["user_id"] = "someone"
    request.session["csrf"] = "the-token"
    return PlainTextResponse("ok")


async def echo(request: Request) -> Response:
    body = await request.body()
    return PlainTextResponse(f"reached with {len(body)} bytes")


async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


def make_app(settings: Settings) -> Starlette:
    return Starlette(
        routes=[
            Route("/login", login),
            Route("/form", echo, methods=["POST"]),
            Route("/graphql", echo, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", socket),
        ],
        middleware=middleware(settings),
    )


@pytest.fixture
def client() -> httpx.AsyncClient:
    settings = load_settings({}, app_env="test", secret_key="k" * 32)
    transport = httpx.ASGITransport(app=make_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_forms_need_the_token_as_a_field_or_header(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    assert (await client.post("/form", data={"x": "1"})).status_code == 403
    ok = await client.post("/form", data={"csrf_token": "the-token", "x": "1"})
    assert ok.text == "reached with 24 bytes"  # the body still reaches the app
    assert (await client.post("/form", headers={"X-CSRF-Token": "the-token"})).status_code == 200
    multipart = await client.post(
        "/form", data={"csrf_token": "the-token"}, files={"f": ("a.txt", b"abc")}
    )
    assert multipart.status_code == 200


async def test_a_form_too_large_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    big = {"csrf_token": "the-token", "x": "y" * MAX_FORM_BYTES}
    assert (await client.post("/form", data=big)).status_code == 413


async def test_graphql_takes_json_only(client: httpx.AsyncClient) -> None:
    await client.get("/login")  # a logged-in browser: cookies would ride along cross-site
    form = await client.post("/graphql", data={"query": "mutation { deleteAll }"})
    assert form.status_code == 415
    assert "application/json" in form.text
    assert (await client.post("/graphql", json={"query": "{ me }"})).status_code == 200
    crossed = await client.post(
        "/graphql", json={"query": "{ me }"}, headers={"Origin": "https://evil.example"}
    )
    assert crossed.status_code == 403


def test_cross_site_websockets_are_refused() -> None:
    settings = load_settings({}, app_env="test", secret_key="k" * 32)
    with TestClient(make_app(settings)) as client:
        with client.websocket_connect("/graphql") as ws:
            assert ws.receive_text() == "hello"
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect("/graphql", headers={"Origin": "https://evil.example"}):
                pass
        assert refused.value.code == 1008


async def test_the_cookie_is_secure_in_production(make_production: Callable[..., Any]) -> None:
    app = make_app(make_production())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://testserver"
    ) as client:
        response = await client.get("/login")
    cookie = response.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.fixture
def make_production() -> Callable[..., Settings]:
    def make() -> Settings:
        return load_settings(
            {},
            app_env="production",
            secret_key="p" * 32,
            encryption_keys=Fernet.generate_key().decode(),
            mongodb_uri="mongodb://127.0.0.1:1/unused",
        )

    return make
