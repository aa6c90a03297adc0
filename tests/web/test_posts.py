"""The posts list (filters, pages, bulk actions) and one post's page and actions."""

from __future__ import annotations

import json

import httpx

from scheduler.platform.documents import Post, PostStatus
from scheduler.services import Services
from tests.web.conftest import Tenant, csrf, once, soon, soup


async def make_failed(owner: Tenant, services: Services) -> Post:
    post = await owner.post(services, "This one failed", schedule=once(soon(services, hours=1)))
    await Post.find_one({"_id": post.id}).update(
        {"$set": {"status": "FAILED", "last_error": "Threads refused it; change it and retry."}}
    )
    return post


async def test_filter_by_status_text_and_account(owner: Tenant, services: Services) -> None:
    scheduled = await owner.post(services, "Coffee time", schedule=once(soon(services, hours=2)))
    await owner.post(services, "Tea time")
    failed = await make_failed(owner, services)

    response = await owner.client.get("/posts", params={"status": ["SCHEDULED", "FAILED"]})
    assert {p.id for p in response.context["posts"]} == {scheduled.id, failed.id}
    assert response.context["filters"]["status"] == ["SCHEDULED", "FAILED"]
    assert len(soup(response).select("#posts-table tbody tr")) == 2

    response = await owner.client.get("/posts", params={"q": "coffee"})
    assert [p.id for p in response.context["posts"]] == [scheduled.id]
    response = await owner.client.get("/posts", params={"account": str(owner.account.id)})
    assert response.context["page"].total == 3
    response = await owner.client.get("/posts", params={"from": "2030-01-07", "to": "2030-01-07"})
    assert {p.id for p in response.context["posts"]} == {scheduled.id, failed.id}


async def test_pages_of_the_list(owner: Tenant, services: Services) -> None:
    for i in range(30):
        await owner.post(services, f"Post number {i}")
    first = await owner.client.get("/posts")
    second = await owner.client.get("/posts", params={"page": "2"})
    assert len(first.context["posts"]) == 25 and first.context["page"].has_more
    assert len(second.context["posts"]) == 5 and not second.context["page"].has_more
    assert second.context["pages"] == 2
    assert first.context["posts"][0].content.text == "Post number 29"  # newest first
    assert soup(first).find("a", rel="next")["href"].endswith("page=2")


async def bulk(owner: Tenant, action: str, *posts: Post, query: str = "") -> httpx.Response:
    return await owner.client.post(
        f"/posts/bulk{query}",
        data={
            "csrf_token": await csrf(owner.client),
            "action": action,
            "ids": [str(p.id) for p in posts],
        },
    )


async def test_bulk_cancel_retry_and_delete(owner: Tenant, services: Services) -> None:
    a = await owner.post(services, "a", schedule=once(soon(services, hours=1)))
    b = await owner.post(services, "b", schedule=once(soon(services, hours=2)))
    failed = await make_failed(owner, services)

    response = await bulk(owner, "cancel", a, b, query="?status=SCHEDULED")
    assert response.status_code == 200
    assert response.template.name == "posts/_table.html"
    assert response.context["posts"] == []  # the filtered list, after the change
    assert "Cancelled: 2 post(s)." in soup(response).find(id="flash").text
    assert (await services.posts.get(owner.actor, a.id)).status is PostStatus.CANCELLED

    # One item that cannot be retried does not stop the others; each outcome is reported.
    response = await bulk(owner, "retry", a, failed)
    flash = soup(response).find(id="flash").text
    assert "Sent back to the scheduler: 1 post(s)." in flash
    assert "only failed posts can be retried" in flash
    assert (await services.posts.get(owner.actor, failed.id)).status is PostStatus.SCHEDULED

    response = await bulk(owner, "delete", a, b)
    assert (await services.posts.find(owner.actor)).total == 1


async def test_a_bulk_action_needs_a_selection(owner: Tenant) -> None:
    response = await bulk(owner, "cancel")
    assert response.status_code == 422
    assert "Select at least one post" in response.text
    response = await bulk(owner, "explode")
    assert response.status_code == 422


async def test_the_post_page_shows_the_schedule_and_what_happened(
    owner: Tenant, services: Services
) -> None:
    weekly = {
        "pattern": "WEEKLY",
        "timezone": "Europe/Berlin",
        "start_date": "2030-01-07",
        "times": ["18:00"],
        "days_of_week": [0, 2],
    }
    post = await owner.post(services, "Weekly tip", schedule=weekly)
    response = await owner.client.get(f"/posts/{post.id}")
    context = response.context
    assert context["description"] == "Every Monday and Wednesday at 18:00 (Europe/Berlin)"
    assert len(context["upcoming"]) == 5
    assert context["zone"] == "Europe/Berlin"
    actions = {f["action"].rsplit("/", 1)[1] for f in soup(response).select("#post-detail form")}
    assert actions == {"publish", "cancel", "duplicate", "delete"}


async def test_retry_cancel_duplicate_and_delete(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    failed = await make_failed(owner, services)
    token = await csrf(owner.client)

    async def act(post: Post, name: str) -> str:
        response = await owner.client.post(f"/posts/{post.id}/{name}", data={"csrf_token": token})
        if htmx:
            return str(json.loads(response.headers["HX-Location"])["path"])
        assert response.status_code == 303
        return response.headers["location"]

    detail = await owner.client.get(f"/posts/{failed.id}")
    assert "Threads refused it" in detail.text
    assert await act(failed, "retry") == f"/posts/{failed.id}"
    assert (await services.posts.get(owner.actor, failed.id)).status is PostStatus.SCHEDULED
    assert await act(failed, "cancel") == f"/posts/{failed.id}"
    copy_page = await act(failed, "duplicate")
    copy_id = copy_page.split("/")[2]
    assert copy_page == f"/posts/{copy_id}/edit"
    copy = await services.posts.get(owner.actor, copy_id)
    assert (copy.status, copy.content) == (PostStatus.DRAFT, failed.content)
    assert await act(failed, "delete") == "/posts"
    assert (await owner.client.get(f"/posts/{failed.id}")).status_code == 404


async def test_an_action_that_is_not_possible_explains_why(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    draft = await owner.post(services, "A draft")
    response = await owner.client.post(
        f"/posts/{draft.id}/retry", data={"csrf_token": await csrf(owner.client)}
    )
    assert response.status_code == 409
    assert "only failed posts can be retried" in response.text
    if htmx:
        assert response.template.name == "_error.html"
        assert response.headers["HX-Retarget"] == "#flash"
    else:
        assert response.template.name == "error.html"


async def test_an_unreadable_filter_is_explained(owner: Tenant) -> None:
    response = await owner.client.get("/posts", params={"from": "next tuesday"})
    assert response.status_code == 422
    assert "Give a date as YYYY-MM-DD" in response.text
