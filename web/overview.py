"""Overview: counts by status, what goes out next, what needs attention (failures, accounts to
reconnect, posting queues running dry), accounts, the best posts by views, the scheduler.

Routes: `GET /` (page) and `GET /overview/panels` (its live fragment).
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from scheduler.accounts.actors import Actor
from scheduler.platform.documents import AccountStatus, PostStatus
from scheduler.posts.service import PostFilter
from scheduler.services import Services
from web.htmx import render_fragment, render_page
from web.insights import top_posts
from web.sessions import current_actor
from web.state import get_services

NEXT_POSTS = 8
FAILURES = 8


async def overview_context(services: Services, actor: Actor) -> dict[str, Any]:
    posts, monitoring = services.posts, services.monitoring
    # Independent reads: issued together, so their round trips overlap.
    counts, failures, next_posts, accounts, state, top = await asyncio.gather(
        posts.counts(actor),
        posts.find(actor, PostFilter(status=[PostStatus.FAILED]), limit=FAILURES),
        monitoring.scheduled_posts(actor, NEXT_POSTS),
        services.accounts.all(actor),
        monitoring.scheduler_state(),
        top_posts(services, actor),
    )
    # Only accounts that use the queue (have slots) can run dry.
    queues = await asyncio.gather(
        *(services.slots.status(actor, a.id) for a in accounts if a.slots)
    )
    return {
        "queue_warnings": [queue for queue in queues if queue.warning],
        "top_posts": top,
        "counts": {status.value: n for status, n in counts.items()},
        "next_posts": next_posts,
        "failures": failures.posts,
        "accounts": accounts,
        "usernames": {str(a.id): a.username for a in accounts},
        "reconnect": [a for a in accounts if a.status is not AccountStatus.ACTIVE],
        "state": state,
    }


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def overview(request: Request) -> Response:
        actor = await current_actor(request)
        context = await overview_context(get_services(request), actor)
        return render_page(templates, request, "overview/index.html", context)

    async def overview_panels(request: Request) -> Response:
        actor = await current_actor(request)
        context = await overview_context(get_services(request), actor)
        return render_fragment(templates, request, "overview/_panels.html", context)

    return [
        Route("/", overview, name="overview"),
        Route("/overview/panels", overview_panels, name="overview_panels"),
    ]
