"""Settings: API tokens (created, shown once, revoked) and viewers (read-only users).

Routes: `GET|POST /settings/tokens`, `POST /settings/tokens/{id}/revoke`,
`GET|POST /settings/viewers`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from scheduler.accounts.actors import Actor
from scheduler.platform.errors import ValidationFailed
from scheduler.services import Services
from web.forms import expect_form, form_values, text
from web.htmx import redirect, render_page
from web.sessions import current_actor, flash
from web.state import get_services

TOKENS = "settings/tokens.html"
VIEWERS = "settings/viewers.html"


async def tokens_context(services: Services, actor: Actor) -> dict[str, Any]:
    return {
        "tokens": await services.auth.list_tokens(actor),
        "issued": None,
        "values": {},
        "errors": {},
    }


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def tokens_page(request: Request) -> Response:
        actor = await current_actor(request)
        context = await tokens_context(get_services(request), actor)
        return render_page(templates, request, TOKENS, context)

    async def create_token(request: Request) -> Response:
        actor = await current_actor(request)
        services = get_services(request)
        values = form_values(await request.form())
        context = await tokens_context(services, actor)
        expect_form(request, TOKENS, values, context)
        issued = await services.auth.create_token(
            actor, text(values, "name"), read_only=values.get("read_only") == "on"
        )
        # The secret is rendered in this response only; it is never stored or shown again.
        context = await tokens_context(services, actor)
        return render_page(templates, request, TOKENS, context | {"issued": issued})

    async def revoke_token(request: Request) -> Response:
        actor = await current_actor(request)
        token = await get_services(request).auth.revoke_token(
            actor, request.path_params["token_id"]
        )
        flash(request, f"Token “{token.name}” was revoked; programs using it are refused now.")
        return redirect(request, "/settings/tokens")

    async def viewers_page(request: Request) -> Response:
        actor = await current_actor(request)
        actor.require_write()
        viewers = await get_services(request).auth.viewers(actor)
        return render_page(
            templates, request, VIEWERS, {"values": {}, "errors": {}, "viewers": viewers}
        )

    async def add_viewer(request: Request) -> Response:
        actor = await current_actor(request)
        values = form_values(await request.form())
        kept = {"email": text(values, "email")}  # passwords are never sent back
        viewers = await get_services(request).auth.viewers(actor)
        expect_form(request, VIEWERS, kept, {"viewers": viewers})
        if values.get("password") != values.get("password_confirm"):
            raise ValidationFailed.single("password_confirm", "The two passwords differ.")
        user = await get_services(request).auth.add_viewer(
            actor, text(values, "email"), str(values.get("password", ""))
        )
        flash(request, f"{user.email} can now log in and see everything, read-only.")
        return redirect(request, "/settings/viewers")

    return [
        Route("/settings/tokens", tokens_page, methods=["GET"], name="tokens"),
        Route("/settings/tokens", create_token, methods=["POST"], name="create_token"),
        Route(
            "/settings/tokens/{token_id}/revoke",
            revoke_token,
            methods=["POST"],
            name="revoke_token",
        ),
        Route("/settings/viewers", viewers_page, methods=["GET"], name="viewers"),
        Route("/settings/viewers", add_viewer, methods=["POST"], name="add_viewer"),
    ]
