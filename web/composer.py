"""Composer: write a post (text, media, options, poll, reply chain), pick when, and save it.

Routes: `GET /posts/new`, `GET /posts/{id}/edit`, `POST /posts/new`, `POST /posts/{id}/edit`,
`POST /posts/compose/rows` (one more media item or reply, nothing saved) and
`GET /posts/compose/preview` (the recurrence preview: the rule in words and its next
occurrences). A failing save shows the form again with the messages next to their fields and
everything typed kept (`web.forms.expect_form`). The intents are draft, schedule, publish (now)
and queue (saved, then put in the account's next free posting slot). A post that repeats another
one is saved with a warning (DUPLICATE_POLICY=warn) or refused next to its text (block).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from scheduler.accounts.actors import Actor
from scheduler.platform.documents import Account, Post, PostStatus
from scheduler.posts.recurrence import describe, upcoming, validate_schedule
from scheduler.services import Services
from web.composer_form import (
    DAYS,
    MAX_MEDIA_ROWS,
    MAX_REPLY_ROWS,
    POLL_SLOTS,
    new_post_values,
    post_input,
    post_values,
    read_form,
    schedule_input,
)
from web.errors import attempt
from web.forms import FormValues, expect_form, text
from web.htmx import is_htmx, redirect, render_fragment, render_page
from web.queueing import queued_message
from web.sessions import current_actor, flash
from web.state import get_services

PREVIEW_COUNT = 5
PAGE = "posts/compose.html"
FORM = "posts/_form.html"
PREVIEW = "posts/_preview.html"


def composer_context(
    accounts: list[Account], post: Post | None, values: FormValues
) -> dict[str, Any]:
    return {
        "accounts": accounts,
        "post": post,
        "values": values,
        "errors": {},
        "days": DAYS,
        "poll_slots": POLL_SLOTS,
        "max_media_rows": MAX_MEDIA_ROWS,
        "max_reply_rows": MAX_REPLY_ROWS,
        "action": f"/posts/{post.id}/edit" if post is not None else "/posts/new",
    }


async def save_new(services: Services, actor: Actor, values: FormValues) -> Post:
    """Create the post as a draft, scheduled, or to be published right away."""
    intent = text(values, "intent")
    if intent == "schedule":
        return await services.posts.create(actor, post_input(values, with_schedule=True))
    post = await services.posts.create(actor, post_input(values, with_schedule=False))
    if intent == "publish":
        return await services.posts.publish_now(actor, post.id)
    return post


async def save_existing(services: Services, actor: Actor, post: Post, values: FormValues) -> Post:
    """Edit the post; `schedule` also (re)schedules it, `publish` publishes it now."""
    intent = text(values, "intent")
    version = int(text(values, "version") or post.version)
    data = post_input(values, with_schedule=intent == "schedule")
    updated = await services.posts.update(actor, post.id, data, version=version)
    if intent == "schedule" and updated.status is not PostStatus.SCHEDULED:
        assert updated.schedule is not None  # the update stored the validated schedule
        return await services.posts.schedule(actor, updated.id, updated.schedule)
    if intent == "publish":
        return await services.posts.publish_now(actor, updated.id)
    return updated


def _saved_message(post: Post) -> str:
    if post.status is PostStatus.SCHEDULED:
        return "Saved. The post is scheduled." + _repeat_note(post)
    return f"Saved. The post is {post.status.value.lower()}." + _repeat_note(post)


def _repeat_note(post: Post) -> str:
    if post.duplicate_of is None:
        return ""
    return f" It repeats post {post.duplicate_of}: Threads may treat repeated posts as spam."


async def _saved(
    request: Request, services: Services, actor: Actor, post: Post, intent: str
) -> Response:
    """Where a saved post goes: its page, after putting it in the queue when that was asked."""
    if intent == "queue":
        queued, why = await attempt(lambda: services.slots.add_to_queue(actor, post.id))
        if queued is None:
            flash(request, f"Saved as a draft, but not added to the queue: {why}", "error")
        else:
            flash(request, queued_message(queued) + _repeat_note(queued))
    else:
        flash(request, _saved_message(post))
    return redirect(request, f"/posts/{post.id}")


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def compose(request: Request) -> Response:
        actor = await current_actor(request)
        actor.require_write()
        services = get_services(request)
        accounts = await services.accounts.all(actor)
        day = request.query_params.get("date")
        values = new_post_values(accounts, services.clock.now(), day)
        context = composer_context(accounts, None, values)
        return render_page(templates, request, PAGE, context)

    async def edit(request: Request) -> Response:
        actor = await current_actor(request)
        actor.require_write()
        services = get_services(request)
        post = await services.posts.get(actor, request.path_params["post_id"])
        accounts = await services.accounts.all(actor)
        context = composer_context(accounts, post, post_values(post))
        return render_page(templates, request, PAGE, context)

    async def create(request: Request) -> Response:
        actor = await current_actor(request)
        services = get_services(request)
        values = read_form(await request.form())
        accounts = await services.accounts.all(actor)
        context = composer_context(accounts, None, values)
        expect_form(request, PAGE, values, context, fragment=FORM, target="#composer")
        post = await save_new(services, actor, values)
        return await _saved(request, services, actor, post, text(values, "intent"))

    async def update(request: Request) -> Response:
        actor = await current_actor(request)
        services = get_services(request)
        post = await services.posts.get(actor, request.path_params["post_id"])
        values = read_form(await request.form())
        accounts = await services.accounts.all(actor)
        context = composer_context(accounts, post, values)
        expect_form(request, PAGE, values, context, fragment=FORM, target="#composer")
        saved = await save_existing(services, actor, post, values)
        return await _saved(request, services, actor, saved, text(values, "intent"))

    async def rows(request: Request) -> Response:
        actor = await current_actor(request)
        services = get_services(request)
        form = await request.form()
        values = read_form(form)
        change = text(values, "rows")
        if change == "add-media":
            values["media_rows"] = min(values["media_rows"] + 1, MAX_MEDIA_ROWS)
        elif change == "add-reply":
            values["reply_rows"] = min(values["reply_rows"] + 1, MAX_REPLY_ROWS)
        elif change == "remove-reply":
            values["reply_rows"] = max(values["reply_rows"] - 1, 0)
        post_id = text(values, "post_id")
        post = await services.posts.get(actor, post_id) if post_id else None
        context = composer_context(await services.accounts.all(actor), post, values)
        if is_htmx(request):
            return render_fragment(templates, request, FORM, context)
        return render_page(templates, request, PAGE, context)

    async def preview(request: Request) -> Response:
        await current_actor(request)
        now = get_services(request).clock.now()
        params = request.query_params
        values: FormValues = {key: params.get(key) for key in params}
        values["schedule.days_of_week"] = params.getlist("schedule.days_of_week")
        context: dict[str, Any] = {"values": values, "errors": {}, "occurrences": []}
        expect_form(request, PREVIEW, values, context, fragment=PREVIEW)
        schedule = validate_schedule(schedule_input(values), now)
        context |= {
            "schedule": schedule,
            "description": describe(schedule),
            "occurrences": upcoming(schedule, now, PREVIEW_COUNT),
        }
        return render_fragment(templates, request, PREVIEW, context)

    return [
        Route("/posts/new", compose, methods=["GET"], name="compose"),
        Route("/posts/new", create, methods=["POST"], name="create_post"),
        Route("/posts/compose/rows", rows, methods=["POST"], name="composer_rows"),
        Route("/posts/compose/preview", preview, methods=["GET"], name="composer_preview"),
        Route("/posts/{post_id}/edit", edit, methods=["GET"], name="edit_post"),
        Route("/posts/{post_id}/edit", update, methods=["POST"], name="update_post"),
    ]
