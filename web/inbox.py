"""Inbox: what needs the owner's attention — failed and deferred posts, accounts to reconnect —
each linked to its post; mark entries read one by one or all at once; the unread badge.

Routes: `GET /inbox` (page; `?unread=1` shows only unread entries, `page` pages), `GET /inbox/list`
(its live fragment), `GET /inbox/badge` (the unread count shown in the navigation) and
`POST /inbox/read` (`ids`, repeated, or `all`). The list and the badge re-fetch themselves on
the `notifications` SSE event, which the core's `notification.created` and `notification.read`
become (`web.live`).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from scheduler.accounts.actors import Actor
from scheduler.services import Services
from web.forms import form_values, page_number, strings
from web.htmx import is_htmx, redirect, render_fragment, render_page
from web.sessions import current_actor, flash
from web.state import get_services

PAGE = "inbox/index.html"
LIST = "inbox/_list.html"
BADGE = "inbox/_badge.html"
PAGE_SIZE = 50


async def inbox_context(services: Services, actor: Actor, params: QueryParams) -> dict[str, Any]:
    unread_only = params.get("unread") == "1"
    page = page_number(params)
    found = await services.notifications.inbox(
        actor, unread_only=unread_only, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return {
        "inbox": found,
        "notifications": found.notifications,
        "unread": found.unread,
        "unread_only": unread_only,
        "page_number": page,
        "query": QueryParams({"unread": "1"} if unread_only else {}),
    }


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def inbox_page(request: Request) -> Response:
        actor = await current_actor(request)
        context = await inbox_context(get_services(request), actor, request.query_params)
        return render_page(templates, request, PAGE, context)

    async def inbox_list(request: Request) -> Response:
        actor = await current_actor(request)
        context = await inbox_context(get_services(request), actor, request.query_params)
        return render_fragment(templates, request, LIST, context)

    async def badge(request: Request) -> Response:
        actor = await current_actor(request)
        unread = await get_services(request).notifications.unread_count(actor)
        return render_fragment(templates, request, BADGE, {"unread": unread})

    async def mark_read(request: Request) -> Response:
        actor = await current_actor(request)
        actor.require_write()
        services = get_services(request)
        values = form_values(await request.form(), frozenset({"ids"}))
        ids = None if values.get("all") else strings(values, "ids")
        marked = await services.notifications.mark_read(actor, ids)
        flash(request, f"Marked {marked} notification{'' if marked == 1 else 's'} read.")
        if not is_htmx(request):
            return redirect(request, "/inbox")
        context = await inbox_context(services, actor, request.query_params)
        return render_fragment(templates, request, LIST, context | {"oob": True})

    return [
        Route("/inbox", inbox_page, name="inbox"),
        Route("/inbox/list", inbox_list, name="inbox_list"),
        Route("/inbox/badge", badge, name="inbox_badge"),
        Route("/inbox/read", mark_read, methods=["POST"], name="inbox_read"),
    ]
