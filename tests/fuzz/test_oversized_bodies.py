"""Bodies far over the limits: refused with 413, without reading what can be left unread, while
another tenant is served."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.fuzz.abuse import bystander, post_head, raw_request
from tests.fuzz.http_fuzz import Session
from tests.fuzz.server import AppProcess, Tenant

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_server_errors")]

FIVE_MB = 5 * 1024 * 1024


async def test_a_5_mb_graphql_body_gets_413_while_another_tenant_is_served(
    fuzz_app: AppProcess, owner: Tenant, bystander_tenant: Tenant
) -> None:
    body = b'{"query": "{ health }", "padding": "' + b"x" * FIVE_MB + b'"}'
    headers = {**owner.bearer, "Content-Type": "application/json"}
    async with (
        bystander(fuzz_app, bystander_tenant) as user,
        httpx.AsyncClient(base_url=fuzz_app.base_url, timeout=60) as client,
    ):
        sent = [client.post("/graphql", content=body, headers=headers) for _ in range(4)]
        responses, _ = await asyncio.gather(asyncio.gather(*sent), user.roundtrip())
    for response in responses:
        assert response.status_code == 413
        assert "larger than 256 KiB" in response.json()["errors"][0]["message"]


def test_a_graphql_body_declared_too_large_is_refused_before_it_is_sent(
    fuzz_app: AppProcess, owner: Tenant
) -> None:
    head = post_head(
        "/graphql", 50_000_000, "application/json", Authorization=owner.bearer["Authorization"]
    )
    answer = raw_request(fuzz_app, head)  # and not a byte of the body
    assert answer.startswith(b"HTTP/1.1 413 "), answer


@pytest.mark.parametrize("logged_in", [True, False], ids=["logged in", "anonymous"])
@pytest.mark.parametrize("path", ["/posts/new", "/login", "/settings/webhooks"])
def test_a_5_mb_dashboard_form_gets_413(
    fuzz_app: AppProcess, web_session: Session, path: str, logged_in: bool
) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if logged_in:
        headers |= {"Cookie": f"ts_session={web_session.cookie}", "X-CSRF-Token": web_session.csrf}
    body = b"text=" + b"x" * FIVE_MB + b"&csrf_token=" + web_session.csrf.encode()
    response = httpx.post(fuzz_app.base_url + path, content=body, headers=headers, timeout=60)
    assert response.status_code == 413
    assert "too large" in response.text


def test_a_client_that_leaves_in_the_middle_of_its_body_leaves_no_server_error(
    fuzz_app: AppProcess, owner: Tenant
) -> None:
    # Regression: Strawberry let Starlette's ClientDisconnect through, logged as a server error.
    since = fuzz_app.log_size()
    head = post_head(
        "/graphql", 200_000, "application/json", Authorization=owner.bearer["Authorization"]
    )
    assert raw_request(fuzz_app, head, b'{"query": "{ health }", "x": "', wait=0.5) == b""
    health = httpx.get(fuzz_app.base_url + "/healthz", timeout=10)  # the disconnect is handled
    assert health.status_code == 200
    assert fuzz_app.server_errors(since) == []
