"""Login: `/login`, `POST /logout` and `/setup` (create the first owner on a fresh install).

A failed login shows one generic message whatever was wrong; the core slows repeated failures
down (per email and per client). Logging in starts a fresh session with a new CSRF token, so the
browser loads the next page in full (htmx: `HX-Redirect`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from scheduler.platform.errors import ValidationFailed
from web.forms import expect_form, form_values, text
from web.htmx import hx_redirect, is_htmx, render_page
from web.sessions import log_in, log_out, safe_next
from web.state import get_services

LOGIN = "auth/login.html"
SETUP = "auth/setup.html"


def _go(request: Request, url: str) -> Response:
    """A full page load of `url` (the session changed: the page must pick up the new token)."""
    return hx_redirect(url) if is_htmx(request) else RedirectResponse(url, status_code=303)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def login_page(request: Request) -> Response:
        services = get_services(request)
        if not await services.auth.has_users():
            return RedirectResponse("/setup", status_code=303)
        values = {"email": "", "next": safe_next(request.query_params.get("next"))}
        return render_page(templates, request, LOGIN, {"values": values, "errors": {}})

    async def login(request: Request) -> Response:
        values = form_values(await request.form())
        kept = {"email": text(values, "email"), "next": safe_next(text(values, "next"))}
        expect_form(request, LOGIN, kept, fragment="auth/_login_form.html", target="#login-form")
        user = await get_services(request).auth.login(
            text(values, "email"), str(values.get("password", "")), client=_client(request)
        )
        log_in(request, user)
        return _go(request, kept["next"])

    async def logout(request: Request) -> Response:
        log_out(request)
        return _go(request, "/login")

    async def setup_page(request: Request) -> Response:
        if await get_services(request).auth.has_users():
            return RedirectResponse("/login", status_code=303)
        return render_page(templates, request, SETUP, {"values": {"email": ""}, "errors": {}})

    async def setup(request: Request) -> Response:
        values = form_values(await request.form())
        kept = {"email": text(values, "email")}
        expect_form(request, SETUP, kept, fragment="auth/_setup_form.html", target="#setup-form")
        password = str(values.get("password", ""))
        if password != values.get("password_confirm"):
            raise ValidationFailed.single("password_confirm", "The two passwords differ.")
        user = await get_services(request).auth.create_first_owner(kept["email"], password)
        log_in(request, user)
        return _go(request, "/accounts")

    return [
        Route("/login", login_page, methods=["GET"], name="login"),
        Route("/login", login, methods=["POST"], name="login_submit"),
        Route("/logout", logout, methods=["POST"], name="logout"),
        Route("/setup", setup_page, methods=["GET"], name="setup"),
        Route("/setup", setup, methods=["POST"], name="setup_submit"),
    ]
