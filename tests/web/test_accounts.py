"""Accounts: the OAuth state that ties a callback to this session, time zones, disconnecting."""

from __future__ import annotations

from typing import Any

from itsdangerous import URLSafeTimedSerializer

from scheduler.platform.documents import AccountStatus
from scheduler.services import Services
from tests.web.conftest import Tenant, csrf, soup
from web.accounts import STATE_SALT, state_serializer
from web.security import session_secret


async def test_the_page_lists_accounts_without_their_tokens(
    owner: Tenant, services: Services
) -> None:
    response = await owner.client.get("/accounts")
    assert [a.username for a in response.context["accounts"]] == ["ana"]
    assert response.context["can_connect"] is False  # no THREADS_REDIRECT_URI in tests
    card = soup(response).find(id=f"account-{owner.account.id}")
    assert "0 of 250 posts in 24 hours" in card.text
    assert "expires 01 Mar 2030" in card.text


async def test_connecting_without_a_meta_app_says_what_to_set(owner: Tenant) -> None:
    response = await owner.client.get("/accounts/connect")
    assert response.status_code == 503
    assert "THREADS_REDIRECT_URI is not set" in response.text


async def test_a_callback_needs_the_state_signed_for_this_session(
    owner: Tenant, services: Services, make_tenant: Any
) -> None:
    token = await csrf(owner.client)
    signer = state_serializer(services)
    other = await make_tenant("other@example.com", "bob")
    attempts = {
        "missing": "",
        "forged": URLSafeTimedSerializer("not our secret", salt=STATE_SALT).dumps({"csrf": token}),
        "other session": signer.dumps({"csrf": await csrf(other.client)}),
        "tampered": signer.dumps({"csrf": token})[:-2] + "xx",
    }
    for why, state in attempts.items():
        response = await owner.client.get(
            "/accounts/callback", params={"code": "a-code", "state": state}
        )
        assert response.status_code == 422, why
        assert "start again with Connect" in response.text, why
    assert session_secret(services.settings) != "not our secret"


async def test_a_cancelled_authorization_changes_nothing(owner: Tenant, services: Services) -> None:
    response = await owner.client.get(
        "/accounts/callback", params={"error": "access_denied", "error_reason": "user_denied"}
    )
    assert response.headers["location"] == "/accounts"
    page = await owner.client.get("/accounts", headers={"HX-Request": "false"})
    assert "Connecting was cancelled" in page.text
    assert len(await services.accounts.all(owner.actor)) == 1


async def test_set_the_time_zone(owner: Tenant, services: Services, htmx: bool) -> None:
    path = f"/accounts/{owner.account.id}/timezone"
    token = await csrf(owner.client)
    response = await owner.client.post(path, data={"csrf_token": token, "timezone": "Asia/Tokyo"})
    assert (await services.accounts.get(owner.actor, owner.account.id)).timezone == "Asia/Tokyo"
    if htmx:
        assert response.template.name == "accounts/_table.html"
        assert "Time zone saved." in soup(response).find(id="flash").text
    else:
        assert response.headers["location"] == "/accounts"

    response = await owner.client.post(path, data={"csrf_token": token, "timezone": "Mars/Base"})
    assert response.status_code == (200 if htmx else 422)
    assert response.context["errors"]["timezone"][0].startswith("Unknown time zone")
    field = soup(response).find("input", id=f"tz-{owner.account.id}")
    assert field["value"] == "Mars/Base" and field["aria-invalid"] == "true"


async def test_disconnect_holds_the_account(owner: Tenant, services: Services) -> None:
    response = await owner.client.post(
        f"/accounts/{owner.account.id}/disconnect", data={"csrf_token": await csrf(owner.client)}
    )
    assert response.status_code in (200, 303)
    account = await services.accounts.get(owner.actor, owner.account.id)
    assert account.status is AccountStatus.DISCONNECTED
    overview = await owner.client.get("/")
    assert [a.username for a in overview.context["reconnect"]] == ["ana"]
