"""Distribute: from the list's selection to the form, a preview that changes nothing, the core's
refusals next to their fields (input kept), and apply scheduling exactly what was previewed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from scheduler.platform.documents import Post, PostStatus
from scheduler.services import Services
from tests.web.conftest import Tenant, csrf, soup


def landed_on(response: httpx.Response, htmx: bool) -> str:
    if htmx:
        return str(json.loads(response.headers["HX-Location"])["path"])
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def drafts(owner: Tenant, services: Services, count: int) -> list[Post]:
    return [await owner.post(services, f"Spread me {i}") for i in range(count)]


def window(posts: list[Post], **extra: Any) -> dict[str, Any]:
    # The clock is at 2030-01-07 09:00 UTC (10:00 in Berlin, the account's zone).
    return {
        "ids": [str(post.id) for post in posts],
        "start": "2030-01-08T09:00",
        "end": "2030-01-08T12:00",
        "timezone": "Europe/Berlin",
        "min_gap": "30",
        "seed": "7",
    } | extra


async def submit(owner: Tenant, path: str, fields: dict[str, Any]) -> httpx.Response:
    return await owner.client.post(path, data={"csrf_token": await csrf(owner.client), **fields})


async def test_the_lists_selection_leads_to_the_form(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    posts = await drafts(owner, services, 2)
    response = await submit(
        owner, "/posts/bulk", {"action": "distribute", "ids": [str(p.id) for p in posts]}
    )
    target = landed_on(response, htmx)
    assert urlsplit(target).path == "/posts/distribute"
    assert parse_qs(urlsplit(target).query)["ids"] == [str(p.id) for p in posts]

    page = await owner.client.get(target)
    assert [p.id for p in page.context["posts"]] == [p.id for p in posts]
    values = page.context["values"]
    assert values["timezone"] == "Europe/Berlin"  # the account's zone
    assert values["start"] == "2030-01-07T11:00" and values["end"] == "2030-01-14T11:00"
    assert len(soup(page).select("#distribute-posts li")) == 2
    assert soup(page).find(id="distribute-apply") is None  # preview first


async def test_a_preview_shows_the_times_and_changes_nothing(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    posts = await drafts(owner, services, 3)
    response = await submit(owner, "/posts/distribute/preview", window(posts))

    assert response.status_code == 200, response.text
    assert response.template.name == ("posts/_distribute.html" if htmx else "posts/distribute.html")
    plan = response.context["plan"]
    assert len(plan) == 3
    times = sorted(placement.at for placement in plan)
    assert all(b - a >= timedelta(minutes=30) for a, b in zip(times, times[1:], strict=False))
    assert [p.local.strftime("%H:%M") for p in sorted(plan, key=lambda p: p.at)] == [
        "09:00",
        "10:30",
        "12:00",
    ]
    assert len(soup(response).select("#distribute-plan tbody tr")) == 3
    assert soup(response).find(id="distribute-apply") is not None
    for post in posts:
        assert (await services.posts.get(owner.actor, post.id)).status is PostStatus.DRAFT


async def test_apply_schedules_what_was_previewed(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    posts = await drafts(owner, services, 4)
    fields = window(posts, randomize="on", end="2030-01-09T09:00", daily_start="09:00")
    fields["daily_end"] = "11:00"
    preview = await submit(owner, "/posts/distribute/preview", fields)
    planned = {str(p.post_id): p.at for p in preview.context["plan"]}

    response = await submit(owner, "/posts/distribute", fields)
    assert landed_on(response, htmx) == "/posts?status=SCHEDULED"
    for post in posts:
        stored = await services.posts.get(owner.actor, post.id)
        assert stored.status is PostStatus.SCHEDULED
        assert stored.next_run_at == planned[str(post.id)]
        assert stored.schedule is not None and stored.schedule.timezone == "Europe/Berlin"
    page = await owner.client.get("/posts", headers={"HX-Request": "false"})
    assert "Scheduled 4 posts from" in soup(page).find(id="flash").text


async def test_the_cores_refusals_appear_next_to_their_fields(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    posts = await drafts(owner, services, 2)
    response = await submit(
        owner, "/posts/distribute/preview", window(posts, min_gap="3", daily_start="09:00")
    )
    assert response.status_code == (200 if htmx else 422)
    if htmx:
        assert response.headers["HX-Retarget"] == "#distribute"
    errors = response.context["errors"]
    assert errors["min_gap"] == ["The gap between posts must be at least 5 minutes."]
    assert "daily_start" in errors
    field = soup(response).find("input", attrs={"name": "min_gap"})
    assert field["value"] == "3" and field["aria-invalid"] == "true"
    assert response.context["plan"] is None


async def test_unreadable_values_are_explained(owner: Tenant, services: Services) -> None:
    posts = await drafts(owner, services, 1)
    response = await submit(
        owner, "/posts/distribute/preview", window(posts, start="tomorrow", min_gap="often")
    )
    errors = response.context["errors"]
    assert errors["start"] == ["Give a date and time, e.g. 2030-01-31T09:00."]
    assert errors["min_gap"] == ["Give whole minutes, e.g. 30."]
    assert soup(response).find("input", attrs={"name": "start"})["value"] == "tomorrow"


async def test_too_many_posts_for_the_window_says_how_many_fit(
    owner: Tenant, services: Services
) -> None:
    posts = await drafts(owner, services, 3)
    response = await submit(owner, "/posts/distribute/preview", window(posts, min_gap="120"))
    assert "Only 2 of the 3 posts for @ana fit" in " ".join(response.context["errors"]["post_ids"])
    assert "Only 2 of the 3 posts" in soup(response).find(id="distribute").text
