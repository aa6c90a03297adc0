"""The inbox: notifications linked to their posts, the unread badge in the navigation (refreshed
by the `notifications` SSE event), marking one or all read, and only one's own entries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from scheduler.ops.notifications import Notice, NoticeKind
from scheduler.platform.documents import Notification, Post
from scheduler.platform.events import Event
from scheduler.services import Services
from tests.web.conftest import FULL, Tenant, csrf, soup
from web.live import sse_names


async def failed(services: Services, owner: Tenant, post: Post, n: int = 0) -> Notification:
    notice = Notice(
        id=f"event-{post.id}-{n}",
        kind=NoticeKind.POST_FAILED,
        owner_id=str(owner.actor.owner_id),
        at=services.clock.now(),
        data={"post_id": str(post.id), "account_id": str(owner.account.id), "status": "FAILED",
              "error": "Threads refused the post; change it and retry."},
    )  # fmt: skip
    found = await services.notifications.record(notice)
    assert found is not None
    return found


async def submit(owner: Tenant, path: str, fields: dict[str, Any]) -> httpx.Response:
    return await owner.client.post(path, data={"csrf_token": await csrf(owner.client), **fields})


async def test_the_inbox_links_each_notification_to_its_post(
    owner: Tenant, services: Services
) -> None:
    post = await owner.post(services, "It will fail")
    note = await failed(services, owner, post)

    response = await owner.client.get("/inbox")
    assert response.context["unread"] == 1
    entry = soup(response).find(id=f"notification-{note.id}")
    assert "A post failed" in entry.text and "Threads refused the post" in entry.text
    assert entry.find("a", href=f"/posts/{post.id}").text == "Open the post"
    assert "unread" in entry["class"]


async def test_the_badge_counts_unread_and_follows_live_events(
    owner: Tenant, services: Services
) -> None:
    page = await owner.client.get("/", headers=FULL)
    badge = soup(page).find(id="inbox-badge")
    assert badge["hx-get"] == "/inbox/badge" and badge["hx-target"] == "this"
    assert "sse:notifications" in badge["hx-trigger"] and "load" in badge["hx-trigger"]
    assert soup(page).find(id="inbox-badge-slot")["hx-preserve"] == "true"
    assert (await owner.client.get("/inbox/badge")).text.strip() == ""

    post = await owner.post(services, "Failing")
    for n in range(3):
        await failed(services, owner, post, n)
    response = await owner.client.get("/inbox/badge")
    assert response.template.name == "inbox/_badge.html"
    assert soup(response).find(class_="count").text == "3"

    at = datetime(2030, 1, 7, tzinfo=UTC)
    for kind in ("notification.created", "notification.read"):
        assert sse_names(Event(type=kind, owner_id="o", data={}, at=at)) == ["notifications"]


async def test_mark_one_then_all_read(owner: Tenant, services: Services, htmx: bool) -> None:
    post = await owner.post(services, "Failing")
    first, second, third = [await failed(services, owner, post, n) for n in range(3)]

    response = await submit(owner, "/inbox/read", {"ids": [str(first.id)]})
    assert (await services.notifications.unread_count(owner.actor)) == 2
    if htmx:
        assert response.template.name == "inbox/_list.html"
        html = soup(response)
        assert html.find(id="inbox-badge")["hx-swap-oob"] == "innerHTML"
        assert html.find(id="inbox-badge").find(class_="count").text == "2"
        assert "Marked 1 notification read." in html.find(id="flash").text
        assert "unread" not in html.find(id=f"notification-{first.id}")["class"]
    else:
        assert response.headers["location"] == "/inbox"

    unread = await owner.client.get("/inbox", params={"unread": "1"})
    assert {n.id for n in unread.context["notifications"]} == {second.id, third.id}

    response = await submit(owner, "/inbox/read", {"all": "1"})
    assert (await services.notifications.unread_count(owner.actor)) == 0
    page = await owner.client.get("/inbox", headers=FULL)
    told = response if htmx else page  # htmx shows the message with the list it answers
    assert "Marked 2 notifications read." in soup(told).find(id="flash").text
    assert soup(page).find("form", action="/inbox/read") is None  # nothing left to mark


async def test_another_owners_notifications_stay_theirs(
    owner: Tenant, services: Services, make_tenant: Any
) -> None:
    post = await owner.post(services, "Mine")
    note = await failed(services, owner, post)
    other: Tenant = await make_tenant("other@example.com", "bo")

    page = await other.client.get("/inbox")
    assert page.context["notifications"] == [] and str(note.id) not in page.text
    await other.client.post(
        "/inbox/read", data={"csrf_token": await csrf(other.client), "ids": [str(note.id)]}
    )
    await other.client.post(
        "/inbox/read", data={"csrf_token": await csrf(other.client), "all": "1"}
    )
    assert (await services.notifications.get(owner.actor, note.id)).read_at is None
