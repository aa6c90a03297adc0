"""Calendar: posts by day in a month or week, in a chosen time zone, recurring ones expanded.

Routes: `GET /calendar?view=month|week&date=YYYY-MM-DD&tz=Zone` (page), `GET /calendar/grid`
(the grid fragment, refreshed live) and `POST /calendar/move` (drag-and-drop: a one-off
scheduled post moves to another day at the same local time; the core refuses to move anything
already published).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from scheduler.accounts.actors import Actor
from scheduler.platform.documents import OccurrenceState, Post, PostStatus
from scheduler.platform.errors import ValidationFailed
from scheduler.posts.recurrence import Pattern, is_recurring, next_occurrence
from scheduler.posts.recurrence.zones import find_zone
from scheduler.posts.service import PostFilter, PostInput
from scheduler.services import Services
from web.errors import parse_date
from web.forms import form_values, text
from web.htmx import render_fragment, render_page
from web.sessions import current_actor, flash
from web.state import get_services

POSTS_LOOKED_AT = 200  # posts read per query; a busier range shows a note
OCCURRENCES_PER_POST = 200
MONTH_ENTRIES_PER_DAY = 4  # a busy day's cell links to its week instead
LIVE_STATUSES = [PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.FAILED]


@dataclass(frozen=True)
class Entry:
    """One publication shown on the calendar."""

    post_id: str
    at: datetime  # in the calendar's zone
    status: str
    text: str
    username: str
    recurring: bool
    movable: bool


@dataclass
class Day:
    day: date
    in_range: bool  # in the month shown (month view) — always True in week view
    today: bool
    entries: list[Entry]


def view_range(view: str, anchor: date) -> tuple[list[date], date, date]:
    """The days shown (whole weeks, Monday first), and the first and last day of the period."""
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        days = [first + timedelta(days=i) for i in range(7)]
        return days, days[0], days[-1]
    month_start = anchor.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    first = month_start - timedelta(days=month_start.weekday())
    count = ((next_month - first).days + 6) // 7 * 7
    return [first + timedelta(days=i) for i in range(count)], month_start, next_month - timedelta(1)


def occurrence_times(post: Post, start: datetime, end: datetime) -> list[datetime]:
    """When `post` publishes within [start, end): its next run and, if recurring, the rest."""
    first = post.next_run_at
    if first is None:
        return []
    if post.schedule is None or not is_recurring(post.schedule):
        return [first] if start <= first < end else []
    times = [first] if first >= start else []
    at: datetime | None = max(first, start - timedelta(microseconds=1))
    while len(times) < OCCURRENCES_PER_POST:
        at = next_occurrence(post.schedule, at) if at is not None else None
        if at is None or at >= end:
            break
        times.append(at)
    return times


async def calendar_entries(
    services: Services,
    actor: Actor,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    usernames: dict[Any, str],
) -> tuple[list[Entry], bool]:
    """Entries within [start, end) and whether some posts may be missing (a very busy range)."""
    posts = services.posts
    ahead, past = await asyncio.gather(
        posts.find(actor, PostFilter(status=LIVE_STATUSES, due_until=end), limit=POSTS_LOOKED_AT),
        # What already happened (published, failed, held…): the occurrences' own records.
        posts.occurrences_between(actor, start, end),
    )
    known = {str(p.id): p for p in ahead.posts}
    missing = {str(o.post_id) for o in past} - known.keys()
    known.update({str(p.id): p for p in await posts.get_many(actor, missing)})
    entries: dict[tuple[str, datetime], Entry] = {}

    def add(post: Post, at: datetime, status: str) -> None:
        once = post.schedule is not None and post.schedule.pattern is Pattern.ONCE
        entries[(str(post.id), at)] = Entry(
            post_id=str(post.id),
            at=at.astimezone(zone),
            status=status,
            text=post.content.text[:80] or post.content.type.value,
            username=usernames.get(post.account_id, "?"),
            recurring=post.schedule is not None and is_recurring(post.schedule),
            movable=actor.can_write and status == PostStatus.SCHEDULED.value and once,
        )

    for post in ahead.posts:
        for at in occurrence_times(post, start, end):
            add(post, at, post.status.value)
    for occurrence in past:  # a recorded occurrence wins over the rule's expansion
        if (owner := known.get(str(occurrence.post_id))) is not None:
            add(owner, occurrence.scheduled_for, _shown_status(occurrence.state))
    return sorted(entries.values(), key=lambda e: e.at), ahead.has_more


def _shown_status(state: OccurrenceState) -> str:
    if state is OccurrenceState.PUBLISHED:
        return PostStatus.PUBLISHED.value
    if state is OccurrenceState.FAILED:
        return PostStatus.FAILED.value
    if state is OccurrenceState.CANCELLED:
        return PostStatus.CANCELLED.value
    if state in (OccurrenceState.HELD, OccurrenceState.SKIPPED):
        return PostStatus.SCHEDULED.value
    return PostStatus.PUBLISHING.value


def _zone(raw: str | None, default: str) -> tuple[str, ZoneInfo]:
    name = raw or default
    zone = find_zone(name)
    if zone is None:
        raise ValidationFailed.single("tz", f"Unknown time zone {name!r}; pick one from the list.")
    return name, zone


def _anchor(raw: str | None, today: date) -> date:
    return parse_date(raw, "date") if raw else today


async def grid_context(services: Services, actor: Actor, params: QueryParams) -> dict[str, Any]:
    view = "week" if params.get("view") == "week" else "month"
    accounts = await services.accounts.all(actor)
    tz_name, zone = _zone(params.get("tz"), accounts[0].timezone if accounts else "UTC")
    today = services.clock.now().astimezone(zone).date()
    anchor = _anchor(params.get("date"), today)
    days, period_start, period_end = view_range(view, anchor)
    start = datetime.combine(days[0], time(), zone)
    end = datetime.combine(days[-1] + timedelta(days=1), time(), zone)
    usernames = {a.id: a.username for a in accounts}
    entries, truncated = await calendar_entries(services, actor, start, end, zone, usernames)
    by_day: dict[date, list[Entry]] = {}
    for entry in entries:
        by_day.setdefault(entry.at.date(), []).append(entry)
    step = timedelta(days=7) if view == "week" else timedelta(days=31)
    previous = (period_start - timedelta(days=1)) if view == "month" else period_start - step
    return {
        "view": view,
        "per_day": MONTH_ENTRIES_PER_DAY,
        "tz": tz_name,
        "anchor": anchor,
        "title": _title(view, period_start, period_end),
        "days": [
            Day(d, view == "week" or d.month == anchor.month, d == today, by_day.get(d, []))
            for d in days
        ],
        "entries": entries,
        "truncated": truncated,
        "previous": previous.replace(day=1) if view == "month" else previous,
        "next": (period_end + timedelta(days=1)) if view == "month" else period_start + step,
        "today": today,
    }


def _title(view: str, start: date, end: date) -> str:
    if view == "month":
        return start.strftime("%B %Y")
    return f"{start.strftime('%d %b')} – {end.strftime('%d %b %Y')}"


def moved_schedule(post: Post, day: date, zone: ZoneInfo) -> dict[str, Any]:
    """The post's ONCE schedule moved to `day` (in the calendar's zone), same local time."""
    if post.schedule is None or post.next_run_at is None or is_recurring(post.schedule):
        raise ValidationFailed.single(
            "date",
            "Only a post scheduled once can be moved; change a recurring post's rule in the "
            "composer instead.",
        )
    local = post.next_run_at.astimezone(zone)
    moved = datetime.combine(day, local.time(), zone).astimezone(ZoneInfo(post.schedule.timezone))
    return {
        "pattern": Pattern.ONCE.value,
        "timezone": post.schedule.timezone,
        "start_date": moved.date().isoformat(),
        "times": [moved.strftime("%H:%M:%S")],
    }


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def calendar_page(request: Request) -> Response:
        actor = await current_actor(request)
        context = await grid_context(get_services(request), actor, request.query_params)
        return render_page(templates, request, "calendar/index.html", context)

    async def calendar_grid(request: Request) -> Response:
        actor = await current_actor(request)
        context = await grid_context(get_services(request), actor, request.query_params)
        return render_fragment(templates, request, "calendar/_grid.html", context)

    async def move(request: Request) -> Response:
        actor = await current_actor(request)
        services = get_services(request)
        values = form_values(await request.form())
        post = await services.posts.get(actor, text(values, "post_id"))
        _, zone = _zone(text(values, "tz"), "UTC")
        day = _anchor(text(values, "date"), services.clock.now().astimezone(zone).date())
        schedule = moved_schedule(post, day, zone)
        await services.posts.update(
            actor, post.id, PostInput(schedule=schedule), version=post.version
        )
        flash(request, f"Moved to {schedule['start_date']} at {schedule['times'][0]}.")
        params = QueryParams(
            {"view": text(values, "view"), "date": text(values, "anchor"), "tz": text(values, "tz")}
        )
        context = await grid_context(services, actor, params)
        return render_fragment(templates, request, "calendar/_grid.html", context | {"oob": True})

    return [
        Route("/calendar", calendar_page, name="calendar"),
        Route("/calendar/grid", calendar_grid, name="calendar_grid"),
        Route("/calendar/move", move, methods=["POST"], name="calendar_move"),
    ]
