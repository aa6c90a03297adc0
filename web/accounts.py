"""Accounts: connect Threads profiles through OAuth, reconnect, quota, token expiry, time zone.

Connecting: `GET /accounts/connect` sends the browser to the provider's authorize page (in `dev`
the simulator's) with a signed `state` bound to this session; the provider sends it back to
`GET /accounts/callback?code&state`, which checks the state and hands the code to the core.
Tokens never reach a page: the core keeps them encrypted.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from scheduler.accounts.actors import Actor
from scheduler.platform.errors import ValidationFailed
from scheduler.services import Services
from web.forms import expect_form, form_values, text
from web.htmx import hx_redirect, is_htmx, redirect, render_fragment, render_page
from web.security import session_secret
from web.sessions import csrf_token, current_actor, flash
from web.state import get_services

STATE_MAX_AGE = 15 * 60  # seconds to come back from the provider
STATE_SALT = "threads-oauth-state"
PAGE = "accounts/list.html"
TABLE = "accounts/_table.html"


def state_serializer(services: Services) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(session_secret(services.settings), salt=STATE_SALT)


def read_state(request: Request, raw: str) -> dict[str, Any]:
    """The payload of a state we signed for this session.

    Raises:
        ValidationFailed: forged, expired, or made for another session.
    """
    problem = ValidationFailed.single(
        "state",
        "This connection attempt expired or was not started here; start again with Connect "
        "on the Accounts page.",
    )
    try:
        payload = state_serializer(get_services(request)).loads(raw, max_age=STATE_MAX_AGE)
    except BadData:
        raise problem from None
    if not isinstance(payload, dict) or payload.get("csrf") != csrf_token(request):
        raise problem
    return payload


async def accounts_context(services: Services, actor: Actor) -> dict[str, Any]:
    return {
        "accounts": await services.accounts.all(actor),
        "can_connect": bool(services.settings.threads_redirect_uri),
        "values": {},
        "errors": {},
    }


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def accounts_page(request: Request) -> Response:
        actor = await current_actor(request)
        context = await accounts_context(get_services(request), actor)
        return render_page(templates, request, PAGE, context)

    async def accounts_table(request: Request) -> Response:
        actor = await current_actor(request)
        context = await accounts_context(get_services(request), actor)
        return render_fragment(templates, request, TABLE, context)

    async def connect(request: Request) -> Response:
        actor = await current_actor(request)
        actor.require_write()
        services = get_services(request)
        zone = request.query_params.get("timezone") or "UTC"
        state = state_serializer(services).dumps({"csrf": csrf_token(request), "tz": zone})
        url = services.accounts.authorize_url(state)
        return hx_redirect(url) if is_htmx(request) else RedirectResponse(url, status_code=303)

    async def callback(request: Request) -> Response:
        actor = await current_actor(request)
        params = request.query_params
        if params.get("error"):
            flash(request, "Connecting was cancelled; nothing changed.")
            return RedirectResponse("/accounts", status_code=303)
        payload = read_state(request, params.get("state", ""))
        services = get_services(request)
        code = params.get("code", "")
        account = await services.accounts.connect_with_code(
            actor, code, timezone=str(payload.get("tz") or "UTC")
        )
        flash(request, f"Connected @{account.username}.")
        # A fragment of our own replaces the provider's `#_`, which browsers keep on redirects.
        return RedirectResponse(f"/accounts#account-{account.id}", status_code=303)

    def account_action(name: str) -> Any:
        async def run(request: Request) -> Response:
            actor = await current_actor(request)
            actor.require_write()  # a viewer neither changes accounts nor spends API calls
            services = get_services(request)
            account_id = request.path_params["account_id"]
            values = form_values(await request.form())
            context = await accounts_context(services, actor)
            expect_form(
                request,
                PAGE,
                values | {"account_id": account_id},
                context,
                fragment=TABLE,
                target="#accounts-table",
            )
            if name == "timezone":
                await services.accounts.update_settings(
                    actor, account_id, timezone=text(values, "timezone")
                )
                flash(request, "Time zone saved.")
            elif name == "quota":
                limit = await services.accounts.publishing_quota(actor, account_id)
                flash(request, f"Quota checked: {limit.quota_usage} posts in the last 24 hours.")
            elif name == "refresh":
                await services.accounts.refresh(actor, account_id)
                flash(request, "The access token was refreshed.")
            else:
                await services.accounts.disconnect(actor, account_id)
                flash(request, "Disconnected. Its scheduled posts wait until you reconnect it.")
            if not is_htmx(request):
                return redirect(request, "/accounts")
            context = await accounts_context(services, actor)
            return render_fragment(templates, request, TABLE, context | {"oob": True})

        return run

    return [
        Route("/accounts", accounts_page, name="accounts"),
        Route("/accounts/table", accounts_table, name="accounts_table"),
        Route("/accounts/connect", connect, name="accounts_connect"),
        Route("/accounts/callback", callback, name="accounts_callback"),
        *(
            Route(
                f"/accounts/{{account_id}}/{name}",
                account_action(name),
                methods=["POST"],
                name=f"account_{name}",
            )
            for name in ("timezone", "quota", "refresh", "disconnect")
        ),
    ]
