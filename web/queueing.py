"""Queueing: an account's page — its weekly posting slots, its queue, its insights — and the
"Add to queue" action of a post.

Routes: `GET /accounts/{id}` (page), `GET /accounts/{id}/queue` (its live queue fragment),
`POST /accounts/{id}/slots` (replace the weekly grid), `POST /accounts/{id}/shuffle` (shuffle
the queued posts among their slots) and `POST /posts/{id}/queue` (schedule a post at its
account's next free slot).

The slot grid is a table in the account's time zone: one row per time of day with a checkbox per
weekday, plus empty rows to add times. Its fields are `times.{r}` (HH:MM) and `days.{r}`
(repeated, 0 = Monday); `rows` says how many rows were shown.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import time
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from scheduler.accounts.actors import Actor
from scheduler.platform.documents import Account, Post
from scheduler.platform.errors import ValidationFailed
from scheduler.services import Services
from web.errors import parsed
from web.forms import FormValues, clock_time, expect_form, form_values, strings, text
from web.htmx import redirect, render_fragment, render_page
from web.insights import account_insights
from web.sessions import current_actor, flash
from web.state import get_services
from web.templating import local

PAGE = "accounts/detail.html"
SLOTS_FORM = "accounts/_slots.html"
QUEUE = "accounts/_queue.html"
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
WEEKDAYS = ["0", "1", "2", "3", "4"]  # what a new row of the grid starts with
EXTRA_ROWS = 2
MAX_ROWS = 100
UPCOMING = 14


def slot_values(account: Account) -> FormValues:
    """The grid filled in from the account's slots: a row per time, then empty rows."""
    by_time: dict[time, list[str]] = defaultdict(list)
    for slot in account.slots:
        by_time[slot.at].append(str(slot.weekday))
    values: FormValues = {}
    for r, at in enumerate(sorted(by_time)):
        values[f"times.{r}"] = at.strftime("%H:%M")
        values[f"days.{r}"] = sorted(by_time[at])
    for r in range(len(by_time), len(by_time) + EXTRA_ROWS):
        values[f"times.{r}"] = ""
        values[f"days.{r}"] = list(WEEKDAYS)
    values["rows"] = len(by_time) + EXTRA_ROWS
    return values


def read_slot_form(form: FormData) -> FormValues:
    """The submitted grid (the row count bounded)."""
    values = form_values(form, frozenset(k for k in form.keys() if k.startswith("days.")))
    raw = text(values, "rows")
    values["rows"] = min(int(raw), MAX_ROWS) if raw.isdigit() else 0
    return values


def slots_from(values: FormValues) -> list[dict[str, Any]]:
    """The weekly slots the grid describes, for `SlotService.set_slots` (which checks them).

    Raises:
        ValidationFailed: on `times.{r}`, a time that cannot be read.
    """
    errors: dict[str, list[str]] = {}
    slots: list[dict[str, Any]] = []
    for r in range(int(values["rows"])):
        raw = text(values, f"times.{r}")
        if not raw:
            continue  # an empty row: a time removed, or a new row left unused
        message = "Give a time of day as HH:MM (24 hours), e.g. 09:30."
        at = parsed(clock_time, raw, f"times.{r}", message, errors)
        if at is not None:
            slots += [{"weekday": day, "at": at} for day in strings(values, f"days.{r}")]
    if errors:
        raise ValidationFailed(errors)
    return slots


async def queue_context(services: Services, actor: Actor, account: Account) -> dict[str, Any]:
    """The queue's state (with its warning) and the next slots with their posts."""
    status, upcoming = await asyncio.gather(
        services.slots.status(actor, account.id),
        services.slots.upcoming(actor, account.id, UPCOMING),
    )
    held = [slot.post_id for slot in upcoming if slot.post_id is not None]
    posts = await services.posts.get_many(actor, held) if held else []
    return {
        "account": account,
        "queue": status,
        "upcoming": upcoming,
        "slot_posts": {str(post.id): post for post in posts},
    }


async def account_context(services: Services, actor: Actor, account_id: str) -> dict[str, Any]:
    account = await services.accounts.get(actor, account_id)
    queue, insights = await asyncio.gather(
        queue_context(services, actor, account),
        account_insights(services, actor, account_id, account.timezone),
    )
    return {
        **queue,
        **insights,
        "days": DAYS,
        "values": slot_values(account),
        "errors": {},
    }


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def account_page(request: Request) -> Response:
        actor = await current_actor(request)
        services = get_services(request)
        context = await account_context(services, actor, request.path_params["account_id"])
        return render_page(templates, request, PAGE, context)

    async def queue_fragment(request: Request) -> Response:
        actor = await current_actor(request)
        services = get_services(request)
        account = await services.accounts.get(actor, request.path_params["account_id"])
        context = await queue_context(services, actor, account)
        return render_fragment(templates, request, QUEUE, context)

    async def set_slots(request: Request) -> Response:
        actor = await current_actor(request)
        actor.require_write()
        services = get_services(request)
        account_id = request.path_params["account_id"]
        values = read_slot_form(await request.form())
        context = await account_context(services, actor, account_id)
        expect_form(request, PAGE, values, context, fragment=SLOTS_FORM, target="#slots-form")
        account = await services.slots.set_slots(actor, account_id, slots_from(values))
        flash(request, f"Saved: {len(account.slots)} weekly slots ({account.timezone}).")
        return redirect(request, f"/accounts/{account_id}")

    async def shuffle(request: Request) -> Response:
        actor = await current_actor(request)
        account_id = request.path_params["account_id"]
        shuffled = await get_services(request).slots.shuffle(actor, account_id)
        flash(request, f"Shuffled {len(shuffled)} queued posts among their slots.")
        return redirect(request, f"/accounts/{account_id}")

    async def add_to_queue(request: Request) -> Response:
        actor = await current_actor(request)
        post = await get_services(request).slots.add_to_queue(actor, request.path_params["post_id"])
        flash(request, queued_message(post))
        return redirect(request, f"/posts/{post.id}")

    return [
        Route("/accounts/{account_id}", account_page, name="account"),
        Route("/accounts/{account_id}/queue", queue_fragment, name="account_queue"),
        Route("/accounts/{account_id}/slots", set_slots, methods=["POST"], name="set_slots"),
        Route("/accounts/{account_id}/shuffle", shuffle, methods=["POST"], name="shuffle_queue"),
        Route("/posts/{post_id}/queue", add_to_queue, methods=["POST"], name="add_to_queue"),
    ]


def queued_message(post: Post) -> str:
    """What to tell once a post is in the queue: when it goes out, on the account's clock."""
    zone = post.schedule.timezone if post.schedule else "UTC"
    return f"Added to the queue: it goes out {local(post.next_run_at, zone)} ({zone})."
