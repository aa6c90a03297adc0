"""Login, logout and first-run setup: the pages before anyone is logged in."""

from __future__ import annotations

import pytest

from scheduler.accounts.auth import BAD_CREDENTIALS, MAX_FAILURES
from scheduler.services import Services
from tests.web.conftest import FULL, PASSWORD, WebClient, csrf_of, log_in, soup

HTMX = {"HX-Request": "true", "HX-Target": "login-form"}


@pytest.fixture
def headers(htmx: bool) -> dict[str, str]:
    return HTMX if htmx else FULL


async def test_a_fresh_install_sends_everyone_to_setup(web: WebClient, htmx: bool) -> None:
    client = web()
    assert (await client.get("/login")).headers["location"] == "/setup"
    response = await client.get("/setup", headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code == 200
    assert response.template.name == "auth/setup.html"
    assert response.context["layout"] == ("layout_partial.html" if htmx else "layout.html")
    assert response.context["actor"] is None
    assert soup(response).find("form", id="setup-form") is not None


async def test_setup_creates_the_first_owner_and_logs_in(
    web: WebClient, services: Services, headers: dict[str, str], htmx: bool
) -> None:
    client = web()
    token = csrf_of((await client.get("/setup")).text)
    response = await client.post(
        "/setup",
        data={
            "email": "Owner@Example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "csrf_token": token,
        },
        headers=headers,
    )
    if htmx:
        assert response.headers["HX-Redirect"] == "/accounts"
    else:
        assert (response.status_code, response.headers["location"]) == (303, "/accounts")
    assert (await client.get("/accounts")).status_code == 200
    assert await services.auth.has_users()
    # Once set up, setup is closed.
    assert (await web().get("/setup")).headers["location"] == "/login"


async def test_setup_keeps_the_email_and_explains_a_mismatch(
    web: WebClient, headers: dict[str, str], htmx: bool
) -> None:
    client = web()
    token = csrf_of((await client.get("/setup")).text)
    response = await client.post(
        "/setup",
        data={
            "email": "owner@example.com",
            "password": PASSWORD,
            "password_confirm": "something else entirely",
            "csrf_token": token,
        },
        headers=headers,
    )
    assert response.status_code == (200 if htmx else 422)
    assert response.template.name == ("auth/_setup_form.html" if htmx else "auth/setup.html")
    assert response.context["errors"] == {"password_confirm": ["The two passwords differ."]}
    assert response.context["values"] == {"email": "owner@example.com"}
    html = soup(response)
    assert html.find("input", attrs={"name": "email"})["value"] == "owner@example.com"
    assert PASSWORD not in response.text  # passwords are never sent back


async def test_bad_credentials_get_one_generic_message(
    web: WebClient, services: Services, headers: dict[str, str], htmx: bool
) -> None:
    await services.auth.create_first_owner("owner@example.com", PASSWORD)
    answers = []
    for email, password in [
        ("owner@example.com", "wrong password!"),
        ("nobody@example.com", PASSWORD),
        ("nobody@example.com", "wrong password!"),
    ]:
        client = web()
        token = csrf_of((await client.get("/login")).text)
        response = await client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token},
            headers=headers,
        )
        assert response.template.name == ("auth/_login_form.html" if htmx else "auth/login.html")
        assert response.context["values"]["email"] == email
        answers.append((response.status_code, response.context["errors"]))
        assert (await client.get("/", headers=FULL)).headers["location"] == "/login"
    assert answers == [(200 if htmx else 401, {"": [BAD_CREDENTIALS]})] * 3


async def test_repeated_failures_are_slowed_down(web: WebClient, services: Services) -> None:
    await services.auth.create_first_owner("owner@example.com", PASSWORD)
    client = web()
    for _ in range(MAX_FAILURES):
        response = await log_in(client, "owner@example.com", "wrong password!")
        assert response.context["errors"] == {"": [BAD_CREDENTIALS]}
    # Even the right password is refused until the window passes.
    response = await log_in(client, "owner@example.com", PASSWORD)
    assert response.status_code == 401
    assert "Too many failed attempts" in response.context["errors"][""][0]
    assert (await client.get("/", headers=FULL)).headers["location"] == "/login"


async def test_login_goes_back_to_the_page_asked_for_but_never_elsewhere(
    web: WebClient, services: Services
) -> None:
    await services.auth.create_first_owner("owner@example.com", PASSWORD)
    client = web()
    assert (await client.get("/calendar?view=week")).headers["location"] == (
        "/login?next=/calendar%3Fview%3Dweek"
    )
    for target, expected in [
        ("/calendar?view=week", "/calendar?view=week"),
        ("//evil.example/phish", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ]:
        client = web()
        page = await client.get("/login", params={"next": target})
        assert page.context["values"]["next"] == expected
        response = await client.post(
            "/login",
            data={
                "email": "owner@example.com",
                "password": PASSWORD,
                "next": target,
                "csrf_token": csrf_of(page.text),
            },
        )
        assert response.headers["location"] == expected


async def test_logging_in_starts_a_new_session_and_logging_out_ends_it(
    web: WebClient, services: Services, headers: dict[str, str], htmx: bool
) -> None:
    await services.auth.create_first_owner("owner@example.com", PASSWORD)
    client = web()
    before = csrf_of((await client.get("/login")).text)
    await log_in(client, "owner@example.com")
    after = csrf_of((await client.get("/", headers=FULL)).text)
    assert after != before  # no token (or session) survives logging in

    response = await client.post("/logout", data={"csrf_token": after}, headers=headers)
    if htmx:
        assert response.headers["HX-Redirect"] == "/login"
    else:
        assert response.headers["location"] == "/login"
    assert (await client.get("/", headers=FULL)).headers["location"] == "/login"
