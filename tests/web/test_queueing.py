"""Posting slots and the queue: the weekly grid edited on the account's page (in its time zone),
the next slots and the queue's state with its warning (also on the overview), shuffle, and
"Add to queue" from the post's page and from the composer."""

from __future__ import annotations

import json
from datetime import time
from typing import Any

import httpx

from scheduler.platform.documents import Account, PostingSlot, PostStatus
from scheduler.services import Services
from tests.web.conftest import FULL, Tenant, csrf, soup


def landed_on(response: httpx.Response, htmx: bool) -> str:
    if htmx:
        return str(json.loads(response.headers["HX-Location"])["path"])
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def with_slots(services: Services, owner: Tenant, *slots: tuple[int, str]) -> None:
    await services.slots.set_slots(
        owner.actor, owner.account.id, [{"weekday": d, "at": at} for d, at in slots]
    )


async def submit(owner: Tenant, path: str, fields: dict[str, Any]) -> httpx.Response:
    return await owner.client.post(path, data={"csrf_token": await csrf(owner.client), **fields})


async def test_the_account_page_shows_the_grid_and_the_empty_queue(
    owner: Tenant, services: Services
) -> None:
    await with_slots(services, owner, (0, "09:00"), (2, "09:00"), (4, "17:30"))
    response = await owner.client.get(f"/accounts/{owner.account.id}")

    values = response.context["values"]
    assert values["rows"] == 4  # two times, two empty rows
    assert (values["times.0"], values["days.0"]) == ("09:00", ["0", "2"])
    assert (values["times.1"], values["days.1"]) == ("17:30", ["4"])
    grid = soup(response).find(id="slots-form")
    checked = [box["value"] for box in grid.select("input[name='days.0'][checked]")]
    assert checked == ["0", "2"]
    warning = soup(response).find(id="queue-warning").text
    assert "The queue of @ana is empty" in warning
    # The next slots, on Berlin's clock: Monday 7 Jan at 10:00 local has passed its lead time.
    first = response.context["upcoming"][0]
    assert first.local.strftime("%a %H:%M") == "Wed 09:00" and first.post_id is None


async def test_save_the_grid(owner: Tenant, services: Services, htmx: bool) -> None:
    fields = {
        "rows": "3",
        "times.0": "9:30",
        "days.0": ["0", "1", "2"],
        "times.1": "",  # a removed time
        "days.1": ["3"],
        "times.2": "18:00",
        "days.2": ["5"],
    }
    response = await submit(owner, f"/accounts/{owner.account.id}/slots", fields)
    assert landed_on(response, htmx) == f"/accounts/{owner.account.id}"
    account = await services.accounts.get(owner.actor, owner.account.id)
    assert account.slots == [
        PostingSlot(weekday=0, at=time(9, 30)),
        PostingSlot(weekday=1, at=time(9, 30)),
        PostingSlot(weekday=2, at=time(9, 30)),
        PostingSlot(weekday=5, at=time(18, 0)),
    ]


async def test_a_time_that_cannot_be_read_stays_with_its_message(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    fields = {"rows": "2", "times.0": "09:00", "days.0": ["0"], "times.1": "25:99", "days.1": "1"}
    response = await submit(owner, f"/accounts/{owner.account.id}/slots", fields)

    assert response.status_code == (200 if htmx else 422)
    assert response.template.name == ("accounts/_slots.html" if htmx else "accounts/detail.html")
    assert response.context["errors"] == {
        "times.1": ["Give a time of day as HH:MM (24 hours), e.g. 09:30."]
    }
    field = soup(response).find("input", attrs={"name": "times.1"})
    assert field["value"] == "25:99" and field["aria-invalid"] == "true"
    assert (await services.accounts.get(owner.actor, owner.account.id)).slots == []


async def test_add_a_draft_to_the_queue_from_its_page(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    await with_slots(services, owner, (2, "09:00"))
    draft = await owner.post(services, "Queue me")
    detail = await owner.client.get(f"/posts/{draft.id}")
    forms = {f["action"].rsplit("/", 1)[1] for f in soup(detail).select("#post-detail form")}
    assert "queue" in forms

    response = await submit(owner, f"/posts/{draft.id}/queue", {})
    assert landed_on(response, htmx) == f"/posts/{draft.id}"
    post = await services.posts.get(owner.actor, draft.id)
    assert post.status is PostStatus.SCHEDULED
    assert post.next_run_at is not None
    assert post.next_run_at.isoformat() == "2030-01-09T08:00:00+00:00"  # Wed 09:00 in Berlin
    page = await owner.client.get(f"/posts/{draft.id}", headers=FULL)
    assert "Added to the queue: it goes out Wed 09 Jan 2030, 09:00" in page.text
    queue = await owner.client.get(f"/accounts/{owner.account.id}/queue")
    assert queue.context["queue"].queued == 1
    assert queue.context["upcoming"][0].post_id == draft.id
    assert "Queue me" in soup(queue).find(id="upcoming-slots").text


async def test_without_slots_the_queue_says_what_to_do(owner: Tenant, services: Services) -> None:
    draft = await owner.post(services, "Nowhere to go")
    response = await submit(owner, f"/posts/{draft.id}/queue", {})
    assert response.status_code == 422
    assert "@ana has no posting slots; set its weekly slots first" in response.text
    assert (await services.posts.get(owner.actor, draft.id)).status is PostStatus.DRAFT


async def test_add_to_queue_from_the_composer(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    fields = {"account_id": str(owner.account.id), "type": "TEXT", "text": "Composed for the queue"}
    response = await submit(owner, "/posts/new", fields | {"intent": "queue"})
    post_id = landed_on(response, htmx).rsplit("/", 1)[1]
    post = await services.posts.get(owner.actor, post_id)
    assert post.status is PostStatus.DRAFT  # no slots yet: saved, and told why not queued
    page = await owner.client.get(f"/posts/{post_id}", headers=FULL)
    assert "Saved as a draft, but not added to the queue" in soup(page).find(id="flash").text

    await with_slots(services, owner, (0, "12:00"))
    fields |= {"text": "Queued at once"}
    response = await submit(owner, "/posts/new", fields | {"intent": "queue"})
    post = await services.posts.get(owner.actor, landed_on(response, htmx).rsplit("/", 1)[1])
    assert post.status is PostStatus.SCHEDULED
    assert post.next_run_at is not None  # today 12:00 in Berlin is still ahead
    assert post.next_run_at.isoformat() == "2030-01-07T11:00:00+00:00"


async def test_shuffle_keeps_the_slots_and_moves_the_posts(
    owner: Tenant, services: Services
) -> None:
    await with_slots(services, owner, *((d, "09:00") for d in range(7)))
    posts = [await owner.post(services, f"Queued {i}") for i in range(6)]
    for post in posts:
        await services.slots.add_to_queue(owner.actor, post.id)
    before = {p.id: (await services.posts.get(owner.actor, p.id)).next_run_at for p in posts}

    page = await owner.client.get(f"/accounts/{owner.account.id}")
    assert soup(page).find("form", action=f"/accounts/{owner.account.id}/shuffle") is not None
    original, orders = [before[p.id] for p in posts], []
    for _ in range(3):  # one shuffle of six keeps the order 1 time in 720
        await submit(owner, f"/accounts/{owner.account.id}/shuffle", {})
        after = {p.id: (await services.posts.get(owner.actor, p.id)).next_run_at for p in posts}
        assert sorted(after.values()) == sorted(original)  # the same slots
        orders.append([after[p.id] for p in posts])
    assert any(order != original for order in orders)


async def test_the_overview_warns_about_an_empty_queue(
    owner: Tenant, services: Services, make_tenant: Any
) -> None:
    overview = await owner.client.get("/")
    assert overview.context["queue_warnings"] == []  # no slots: the queue is not used
    await with_slots(services, owner, (0, "09:00"))
    overview = await owner.client.get("/")
    [queue] = overview.context["queue_warnings"]
    assert queue.account_id == owner.account.id
    assert "The queue of @ana is empty" in soup(overview).find(class_="queue-warning").text
    draft = await owner.post(services, "Fills the queue")
    await services.slots.add_to_queue(owner.actor, draft.id)
    stored = await Account.find_one({"_id": owner.account.id})
    assert stored is not None and stored.slots
    assert (await owner.client.get("/")).context["queue_warnings"] == []
