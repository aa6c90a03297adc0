"""Duplicate content: under `warn` the repeat is saved and the composer and the post's page say
which post it repeats; under `block` the refusal appears next to the text field, input kept."""

from __future__ import annotations

import json
from typing import Any

import httpx

from scheduler.posts.duplicates import DuplicatePolicy
from scheduler.services import Services
from tests.web.conftest import FULL, Tenant, csrf, once, soon, soup

TEXT = "Our spring menu is here!"


def fields(owner: Tenant, text: str = TEXT) -> dict[str, Any]:
    return {
        "account_id": str(owner.account.id),
        "type": "TEXT",
        "text": text,
        "intent": "schedule",
        "schedule.pattern": "ONCE",
        "schedule.timezone": "Europe/Berlin",
        "schedule.start_date": "2030-01-09",
        "schedule.times": "12:00",
    }


async def compose(owner: Tenant, values: dict[str, Any]) -> httpx.Response:
    return await owner.client.post(
        "/posts/new", data={"csrf_token": await csrf(owner.client), **values}
    )


async def test_a_repeat_is_saved_with_a_warning(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    first = await owner.post(services, TEXT, schedule=once(soon(services, hours=5)))
    response = await compose(owner, fields(owner, "  our SPRING menu is here! "))
    target = (
        json.loads(response.headers["HX-Location"])["path"]
        if htmx
        else response.headers["location"]
    )
    repeat = await services.posts.get(owner.actor, target.rsplit("/", 1)[1])
    assert repeat.duplicate_of == first.id

    page = await owner.client.get(target, headers=FULL)
    assert f"It repeats post {first.id}" in soup(page).find(id="flash").text
    warning = soup(page).find(id="duplicate-warning")
    assert warning.find("a")["href"] == f"/posts/{first.id}"
    assert f"This repeats post {first.id}" in " ".join(warning.text.split())

    edit = await owner.client.get(f"/posts/{repeat.id}/edit")
    assert soup(edit).find(id="duplicate-warning").find("a")["href"] == f"/posts/{first.id}"
    original = await owner.client.get(f"/posts/{first.id}")
    assert soup(original).find(id="duplicate-warning") is None


async def test_under_block_the_refusal_is_next_to_the_text(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    services.duplicates.policy = DuplicatePolicy.BLOCK  # DUPLICATE_POLICY=block
    first = await owner.post(services, TEXT, schedule=once(soon(services, hours=5)))
    response = await compose(owner, fields(owner))

    assert response.status_code == (200 if htmx else 422)
    [message] = response.context["errors"]["text"]
    assert f"post {first.id}" in message and "DUPLICATE_POLICY=block" in message
    area = soup(response).find("textarea", attrs={"name": "text"})
    assert area.text == TEXT and area["aria-invalid"] == "true"
    assert str(first.id) in soup(response).find(id=area["aria-describedby"]).text
    assert (await services.posts.find(owner.actor)).total == 1
