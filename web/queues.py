"""Queues & scheduler: live queue stats and health, recent jobs, the next and last check.

Routes: `GET /queues` (page) and `GET /queues/panels` (its live fragment: refreshed on job and
scheduler events, and every few seconds for the queue counters, which change without events).
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from scheduler.accounts.actors import Actor
from scheduler.services import Services
from web.htmx import render_fragment, render_page
from web.sessions import current_actor
from web.state import get_services

RECENT_JOBS = 25
NEXT_POSTS = 10


async def queues_context(services: Services, actor: Actor) -> dict[str, Any]:
    monitoring = services.monitoring
    # Independent reads: issued together, so their round trips overlap.
    stats, health, jobs, state, next_posts = await asyncio.gather(
        monitoring.queue_stats(),
        monitoring.queue_health(),
        monitoring.recent_jobs(actor, RECENT_JOBS),
        monitoring.scheduler_state(),
        monitoring.scheduled_posts(actor, NEXT_POSTS),
    )
    return {
        "stats": stats,
        "health": health,
        "jobs": jobs,
        "state": state,
        "next_posts": next_posts,
    }


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def queues_page(request: Request) -> Response:
        actor = await current_actor(request)
        context = await queues_context(get_services(request), actor)
        return render_page(templates, request, "queues/index.html", context)

    async def queues_panels(request: Request) -> Response:
        actor = await current_actor(request)
        context = await queues_context(get_services(request), actor)
        return render_fragment(templates, request, "queues/_panels.html", context)

    return [
        Route("/queues", queues_page, name="queues"),
        Route("/queues/panels", queues_panels, name="queues_panels"),
    ]
