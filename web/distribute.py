"""Distribute: spread the posts selected in the list over a window, a minimum gap apart
(optionally within daily hours), with a preview before anything changes.

Routes: `GET /posts/distribute?ids=…` (the form, for the posts selected in the list; the list's
bulk action "Distribute" leads here), `POST /posts/distribute/preview` (where each post would
go; nothing changes) and `POST /posts/distribute` (schedule them there).

Fields: `ids` (repeated), `start` and `end` (local date and time, `YYYY-MM-DDTHH:MM`, read in
`timezone`), `min_gap` (minutes), `daily_start` and `daily_end` (HH:MM, optional), `timezone`,
`randomize`, and `seed` (drawn when the form is shown, so a random preview and the apply that
follows pick the same times). Only reading happens here; every rule (the 5-minute gap, the
window, quota, which posts may move) is the core's `Distributor`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from scheduler.accounts.actors import Actor
from scheduler.platform.documents import Account, Post
from scheduler.platform.errors import ValidationFailed
from scheduler.posts.distribute import DistributeRequest
from scheduler.posts.recurrence.zones import find_zone, to_instant
from scheduler.services import Services
from web.errors import parsed
from web.forms import FormValues, clock_time, expect_form, form_values, optional, strings, text
from web.htmx import is_htmx, redirect, render_fragment, render_page
from web.sessions import current_actor, flash
from web.state import get_services
from web.templating import local

PAGE = "posts/distribute.html"
PANEL = "posts/_distribute.html"
DEFAULT_GAP_MINUTES = 60
DEFAULT_DAYS = 7
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


def distribute_url(ids: Sequence[str]) -> str:
    """The form for these posts (where the list's bulk action leads)."""
    return "/posts/distribute?" + urlencode([("ids", post_id) for post_id in ids])


def default_values(posts: Sequence[Post], accounts: Sequence[Account], now: datetime) -> FormValues:
    """A week from the next whole hour, an hour apart, in the first post's account's zone."""
    zones = {str(a.id): a.timezone for a in accounts}
    zone = zones.get(str(posts[0].account_id), "UTC") if posts else "UTC"
    start = (now.astimezone(ZoneInfo(zone)) + timedelta(hours=1)).replace(
        minute=0, second=0, microsecond=0
    )
    return {
        "ids": [str(post.id) for post in posts],
        "start": start.strftime(LOCAL_FORMAT),
        "end": (start + timedelta(days=DEFAULT_DAYS)).strftime(LOCAL_FORMAT),
        "min_gap": str(DEFAULT_GAP_MINUTES),
        "daily_start": "",
        "daily_end": "",
        "timezone": zone,
        "seed": str(secrets.randbelow(2**31)),
    }


def _instant(raw: str, zone: ZoneInfo) -> datetime:
    at = datetime.fromisoformat(raw)
    return at if at.tzinfo is not None else to_instant(at, zone)


def distribute_request(values: FormValues) -> DistributeRequest:
    """The core's request for these values.

    Raises:
        ValidationFailed: a value that cannot be read (a date, a time, a number).
    """
    errors: dict[str, list[str]] = {}
    zone_name = optional(values, "timezone")
    # An unknown zone is the core's to report; the window is read in UTC meanwhile.
    zone = (find_zone(zone_name) if zone_name else None) or ZoneInfo("UTC")
    when = "Give a date and time, e.g. 2030-01-31T09:00."
    start = parsed(lambda raw: _instant(raw, zone), text(values, "start"), "start", when, errors)
    end = parsed(lambda raw: _instant(raw, zone), text(values, "end"), "end", when, errors)
    gap = parsed(int, text(values, "min_gap"), "min_gap", "Give whole minutes, e.g. 30.", errors)
    hours = "Give a time of day as HH:MM, e.g. 09:00, or leave it empty."
    daily = {
        name: parsed(clock_time, text(values, name), name, hours, errors)
        for name in ("daily_start", "daily_end")
        if text(values, name)
    }
    seed = text(values, "seed")
    if errors or start is None or end is None or gap is None:
        raise ValidationFailed(errors)
    return DistributeRequest(
        post_ids=strings(values, "ids"),
        start=start,
        end=end,
        min_gap=timedelta(minutes=gap),
        daily_start=daily.get("daily_start"),
        daily_end=daily.get("daily_end"),
        timezone=zone_name,
        randomize=values.get("randomize") == "on",
        seed=int(seed) if seed.isdigit() else None,
    )


async def panel_context(
    services: Services, actor: Actor, ids: Sequence[str], values: FormValues | None = None
) -> dict[str, Any]:
    posts = await services.posts.get_many(actor, ids)
    order = {post_id: i for i, post_id in enumerate(ids)}
    posts.sort(key=lambda post: order.get(str(post.id), len(order)))
    accounts = await services.accounts.all(actor)
    return {
        "posts": posts,
        "by_id": {str(post.id): post for post in posts},
        "usernames": {str(a.id): a.username for a in accounts},
        "values": values or default_values(posts, accounts, services.clock.now()),
        "errors": {},
        "plan": None,
    }


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def page(request: Request) -> Response:
        actor = await current_actor(request)
        actor.require_write()
        ids = request.query_params.getlist("ids")
        context = await panel_context(get_services(request), actor, ids)
        return render_page(templates, request, PAGE, context)

    async def submitted(request: Request, actor: Actor) -> tuple[DistributeRequest, dict[str, Any]]:
        """The request, with the form registered to show again if the core refuses it."""
        actor.require_write()
        values = form_values(await request.form(), frozenset({"ids"}))
        context = await panel_context(get_services(request), actor, strings(values, "ids"), values)
        expect_form(request, PAGE, values, context, fragment=PANEL, target="#distribute")
        return distribute_request(values), context

    async def preview(request: Request) -> Response:
        actor = await current_actor(request)
        wanted, context = await submitted(request, actor)
        context["plan"] = await get_services(request).distributor.plan(actor, wanted)
        if is_htmx(request):
            return render_fragment(templates, request, PANEL, context)
        return render_page(templates, request, PAGE, context)

    async def apply(request: Request) -> Response:
        actor = await current_actor(request)
        wanted, _ = await submitted(request, actor)
        scheduled = await get_services(request).distributor.apply(actor, wanted)
        zone = wanted.timezone or "UTC"
        times = sorted(post.next_run_at for post in scheduled if post.next_run_at is not None)
        flash(
            request,
            f"Scheduled {len(scheduled)} posts from {local(times[0], zone)} to "
            f"{local(times[-1], zone)} ({zone}).",
        )
        return redirect(request, "/posts?status=SCHEDULED")

    return [
        Route("/posts/distribute", page, methods=["GET"], name="distribute"),
        Route("/posts/distribute/preview", preview, methods=["POST"], name="distribute_preview"),
        Route("/posts/distribute", apply, methods=["POST"], name="distribute_apply"),
    ]
