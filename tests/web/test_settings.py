"""Settings: API tokens (shown once, revocable) and viewers (read-only users)."""

from __future__ import annotations

import pytest

from scheduler.platform.documents import Role
from scheduler.platform.errors import AuthenticationFailed
from scheduler.services import Services
from tests.web.conftest import PASSWORD, Tenant, WebClient, csrf, log_in, soup


async def test_a_token_is_shown_once_and_works_until_revoked(
    owner: Tenant, services: Services
) -> None:
    token = await csrf(owner.client)
    response = await owner.client.post(
        "/settings/tokens", data={"csrf_token": token, "name": "Zapier"}
    )
    assert response.template.name == "settings/tokens.html"
    issued = response.context["issued"]
    secret = issued.secret
    assert soup(response).find(id="new-token").text == secret
    actor = await services.auth.authenticate_token(secret)
    assert actor.owner_id == owner.actor.owner_id and actor.role is Role.OWNER

    listing = await owner.client.get("/settings/tokens")
    assert secret not in listing.text  # never again
    assert [t.name for t in listing.context["tokens"]] == ["Zapier"]
    assert issued.token.prefix in listing.text

    revoke = await owner.client.post(
        f"/settings/tokens/{issued.token.id}/revoke", data={"csrf_token": token}
    )
    assert revoke.status_code in (200, 303)
    with pytest.raises(AuthenticationFailed):
        await services.auth.authenticate_token(secret)
    assert "revoked" in soup(await owner.client.get("/settings/tokens")).find("tbody").text


async def test_a_token_needs_a_name(owner: Tenant, htmx: bool) -> None:
    response = await owner.client.post(
        "/settings/tokens", data={"csrf_token": await csrf(owner.client), "name": "  "}
    )
    assert response.status_code == (200 if htmx else 422)
    assert response.context["errors"] == {"name": ["Give the token a name of 1 to 100 characters."]}


async def test_a_viewer_sees_everything_and_changes_nothing(
    owner: Tenant, services: Services, web: WebClient, htmx: bool
) -> None:
    post = await owner.post(services, "Visible to the viewer")
    response = await owner.client.post(
        "/settings/viewers",
        data={
            "csrf_token": await csrf(owner.client),
            "email": "viewer@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert response.status_code in (200, 303)
    viewer = web(**({"HX-Request": "true"} if htmx else {}))
    assert (await log_in(viewer, "viewer@example.com")).status_code == 303

    for path in ("/", "/posts", f"/posts/{post.id}", "/calendar", "/accounts", "/queues"):
        page = await viewer.get(path)
        assert page.status_code == 200, path
        assert page.context["actor"].role is Role.VIEWER
        changes = [
            form
            for form in soup(page).select("form[method=post]")
            if form.get("action") != "/logout"
        ]
        assert changes == [], f"{path} offers a viewer forms that change things"
        if path.startswith("/posts"):
            assert "Visible to the viewer" in page.text


async def test_adding_a_viewer_keeps_the_email_on_errors(owner: Tenant, htmx: bool) -> None:
    response = await owner.client.post(
        "/settings/viewers",
        data={
            "csrf_token": await csrf(owner.client),
            "email": "viewer@example.com",
            "password": "short",
            "password_confirm": "short",
        },
    )
    assert response.status_code == (200 if htmx else 422)
    assert response.context["values"] == {"email": "viewer@example.com"}
    assert response.context["errors"]["password"] == ["Use at least 10 characters."]
