"""Posts: the filterable, paginated list with bulk actions, and one post's page.

Routes: `GET /posts` (page), `GET /posts/table` (the list fragment, for filters and live updates),
`POST /posts/bulk` (cancel, retry or delete the selected posts, or take them to the distribute
form), `GET /posts/{id}` (the post: its occurrences, parts, attempts and insights),
`GET /posts/{id}/live` (that page's live fragment), and
`POST /posts/{id}/{retry|cancel|publish|duplicate|delete}`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from scheduler.accounts.actors import Actor
from scheduler.platform.documents import PostStatus
from scheduler.platform.errors import ValidationFailed
from scheduler.posts.recurrence import describe, is_recurring, upcoming
from scheduler.posts.service import PostFilter
from scheduler.services import Services
from web.distribute import distribute_url
from web.errors import attempt_each, parse_date
from web.htmx import redirect, render_fragment, render_page
from web.insights import post_insights
from web.sessions import current_actor, flash
from web.state import get_services

PAGE_SIZE = 25
STATUSES = [status.value for status in PostStatus]
BULK_ACTIONS = ("cancel", "retry", "delete")
UPCOMING_SHOWN = 5


def _day(raw: str | None, field: str, *, end: bool = False) -> datetime | None:
    if not raw:
        return None
    day = datetime.combine(parse_date(raw, field), time(), ZoneInfo("UTC"))
    return day + timedelta(days=1) if end else day


def post_filter(params: QueryParams) -> tuple[PostFilter, dict[str, Any]]:
    """The list's filter from the query string, and the values to show in the filter form."""
    statuses = [s for s in params.getlist("status") if s in STATUSES]
    account, query = params.get("account", ""), params.get("q", "").strip()
    due_from, due_to = params.get("from", ""), params.get("to", "")
    filters = PostFilter(
        status=[PostStatus(s) for s in statuses],
        account_id=account or None,
        text=query or None,
        due_from=_day(due_from, "from"),
        due_until=_day(due_to, "to", end=True),
    )
    values = {"status": statuses, "account": account, "q": query, "from": due_from, "to": due_to}
    return filters, values


def _page_number(params: QueryParams) -> int:
    raw = params.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() else 1


async def list_context(services: Services, actor: Actor, params: QueryParams) -> dict[str, Any]:
    filters, values = post_filter(params)
    page = _page_number(params)
    offset = (page - 1) * PAGE_SIZE
    found = await services.posts.find(actor, filters, offset=offset, limit=PAGE_SIZE)
    accounts = await services.accounts.all(actor)
    query = [(k, v) for k, v in params.multi_items() if k != "page"]
    return {
        "page": found,
        "page_number": page,
        "pages": max(1, -(-found.total // PAGE_SIZE)),
        "filters": values,
        "query": QueryParams(query),
        "statuses": STATUSES,
        "accounts": accounts,
        "usernames": {str(a.id): a.username for a in accounts},
        "posts": found.posts,
    }


async def detail_context(services: Services, actor: Actor, post_id: str) -> dict[str, Any]:
    post = await services.posts.get(actor, post_id)
    occurrences = await services.posts.occurrences(actor, post_id)
    accounts = await services.accounts.all(actor)
    account = next((a for a in accounts if a.id == post.account_id), None)
    now = services.clock.now()
    schedule = post.schedule
    return {
        "post": post,
        "occurrences": occurrences,
        "account": account,
        "zone": schedule.timezone if schedule else (account.timezone if account else "UTC"),
        "description": describe(schedule) if schedule else None,
        "upcoming": (
            upcoming(schedule, now, UPCOMING_SHOWN)
            if schedule and is_recurring(schedule) and post.status is PostStatus.SCHEDULED
            else []
        ),
    }


async def bulk_action(
    request: Request, services: Services, actor: Actor, action: str, ids: list[str]
) -> None:
    """Apply one action to each selected post; every outcome becomes a flash message."""
    actor.require_write()
    if action not in BULK_ACTIONS:
        raise ValidationFailed.single("action", "Choose cancel, retry or delete.")
    if not ids:
        raise ValidationFailed.single("ids", "Select at least one post first.")
    call: Callable[[str], Awaitable[Any]] = {
        "cancel": lambda i: services.posts.cancel(actor, i),
        "retry": lambda i: services.posts.retry(actor, i),
        "delete": lambda i: services.posts.delete(actor, i),
    }[action]
    done, failed = await attempt_each(ids, call)
    verb = {"cancel": "Cancelled", "retry": "Sent back to the scheduler", "delete": "Deleted"}
    if done:
        flash(request, f"{verb[action]}: {len(done)} post(s).")
    for _, why in failed:
        flash(request, why, "error")


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def posts_page(request: Request) -> Response:
        actor = await current_actor(request)
        context = await list_context(get_services(request), actor, request.query_params)
        return render_page(templates, request, "posts/list.html", context)

    async def posts_table(request: Request) -> Response:
        actor = await current_actor(request)
        context = await list_context(get_services(request), actor, request.query_params)
        return render_fragment(templates, request, "posts/_table.html", context)

    async def bulk(request: Request) -> Response:
        actor = await current_actor(request)
        services = get_services(request)
        form = await request.form()
        name, ids = str(form.get("action", "")), [str(i) for i in form.getlist("ids")]
        if name == "distribute":
            actor.require_write()
            return redirect(request, distribute_url(ids))
        await bulk_action(request, services, actor, name, ids)
        context = await list_context(services, actor, request.query_params)
        return render_fragment(templates, request, "posts/_table.html", context | {"oob": True})

    async def detail(request: Request) -> Response:
        actor = await current_actor(request)
        services = get_services(request)
        post_id = request.path_params["post_id"]
        context = await detail_context(services, actor, post_id)
        context |= await post_insights(services, actor, post_id, context["zone"])
        return render_page(templates, request, "posts/detail.html", context)

    async def detail_live(request: Request) -> Response:
        actor = await current_actor(request)
        services = get_services(request)
        context = await detail_context(services, actor, request.path_params["post_id"])
        return render_fragment(templates, request, "posts/_detail.html", context)

    def action(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            actor = await current_actor(request)
            services = get_services(request)
            post_id = request.path_params["post_id"]
            if name == "delete":
                await services.posts.delete(actor, post_id)
                flash(request, "The post was deleted.")
                return redirect(request, "/posts")
            if name == "duplicate":
                copy = await services.posts.duplicate(actor, post_id)
                flash(request, "This is a copy of the post, saved as a draft.")
                return redirect(request, f"/posts/{copy.id}/edit")
            method = {
                "retry": services.posts.retry,
                "cancel": services.posts.cancel,
                "publish": services.posts.publish_now,
            }[name]
            await method(actor, post_id)
            flash(request, ACTION_DONE[name])
            return redirect(request, f"/posts/{post_id}")

        return run

    return [
        Route("/posts", posts_page, name="posts"),
        Route("/posts/table", posts_table, name="posts_table"),
        Route("/posts/bulk", bulk, methods=["POST"], name="posts_bulk"),
        Route("/posts/{post_id}", detail, name="post"),
        Route("/posts/{post_id}/live", detail_live, name="post_live"),
        *(
            Route(f"/posts/{{post_id}}/{name}", action(name), methods=["POST"], name=f"post_{name}")
            for name in ("retry", "cancel", "publish", "duplicate", "delete")
        ),
    ]


ACTION_DONE = {
    "retry": "The post was sent back to the scheduler; it is published as soon as possible.",
    "cancel": "The post was cancelled; it will not be published.",
    "publish": "The post is being published now.",
}
