"""Webhook settings: create (the secret shown once), edit, rotate, send a test, delete; the
delivery log with its filters, and resend."""

from __future__ import annotations

from typing import Any

import httpx

from scheduler.ops.notifications import SUBSCRIBABLE
from scheduler.ops.webhooks import WebhookInput
from scheduler.platform.documents import DeliveryStatus, Webhook, WebhookDelivery
from scheduler.services import Services
from tests.web.conftest import FULL, Tenant, csrf, soup


async def submit(owner: Tenant, path: str, fields: dict[str, Any]) -> httpx.Response:
    return await owner.client.post(path, data={"csrf_token": await csrf(owner.client), **fields})


async def test_a_new_webhooks_secret_is_shown_once(owner: Tenant, services: Services) -> None:
    response = await submit(
        owner,
        "/settings/webhooks",
        {
            "url": "https://example.com/hook",
            "events": ["post.failed", "queue.empty"],
            "enabled": "on",
        },
    )
    assert response.status_code == 200, response.text
    assert response.template.name == "settings/webhooks.html"
    secret = response.context["issued"].secret
    assert soup(response).find(id="new-secret").text == secret
    [hook] = await services.webhooks.all(owner.actor)
    assert (hook.url, hook.events, hook.enabled) == (
        "https://example.com/hook",
        ["post.failed", "queue.empty"],
        True,
    )

    listing = await owner.client.get("/settings/webhooks")
    assert secret not in listing.text and hook.secret not in listing.text  # nor encrypted
    assert listing.context["issued"] is None
    assert "https://example.com/hook" in soup(listing).find(id=f"webhook-{hook.id}").text


async def test_a_bad_webhook_keeps_what_was_typed(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    response = await submit(
        owner, "/settings/webhooks", {"url": "ftp://example.com", "description": "Mine"}
    )
    assert response.status_code == (200 if htmx else 422)
    assert response.context["errors"] == {
        "url": ["Use an http:// or https:// URL; webhooks are only sent over HTTP."]
    }
    form = soup(response).find(id="new-webhook")
    assert form.find("input", attrs={"name": "url"})["value"] == "ftp://example.com"
    assert form.find("input", attrs={"name": "description"})["value"] == "Mine"
    assert await services.webhooks.all(owner.actor) == []


async def test_edit_rotate_test_and_delete(owner: Tenant, services: Services, htmx: bool) -> None:
    issued = await services.webhooks.create(owner.actor, WebhookInput("https://example.com/a"))
    hook_id = str(issued.webhook.id)

    await submit(
        owner,
        f"/settings/webhooks/{hook_id}",
        {"url": "https://example.com/b", "events": ["post.published"], "description": "B"},
    )
    hook = await services.webhooks.get(owner.actor, hook_id)
    assert (hook.url, hook.events, hook.enabled, hook.description) == (
        "https://example.com/b",
        ["post.published"],
        False,  # the box was not ticked
        "B",
    )

    response = await submit(owner, f"/settings/webhooks/{hook_id}", {"url": "x", "events": []})
    errors = response.context["errors"]
    assert set(errors) == {"url"} and response.context["values"]["webhook_id"] == hook_id
    edit = soup(response).find(id=f"webhook-{hook_id}")
    assert edit.find("details").has_attr("open")
    assert edit.find("input", attrs={"name": "url"})["value"] == "x"

    rotated = await submit(owner, f"/settings/webhooks/{hook_id}/rotate", {})
    fresh = rotated.context["issued"].secret
    assert fresh != issued.secret and soup(rotated).find(id="new-secret").text == fresh

    await submit(owner, f"/settings/webhooks/{hook_id}/test", {})
    log = await owner.client.get("/settings/webhooks/deliveries")
    [delivery] = log.context["deliveries"]
    assert delivery.event_type == "webhook.test"
    assert soup(log).find(id=f"delivery-{delivery.id}") is not None

    await submit(owner, f"/settings/webhooks/{hook_id}/delete", {})
    assert await services.webhooks.all(owner.actor) == []
    assert await WebhookDelivery.find_all().to_list() == []


async def test_the_log_shows_attempts_and_errors_and_resends(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    issued = await services.webhooks.create(owner.actor, WebhookInput("https://example.com/a"))
    first = await services.webhooks.send_test(owner.actor, issued.webhook.id)
    await WebhookDelivery.find_one({"_id": first.id}).update(
        {"$set": {"status": "FAILED", "attempts": 6, "response_code": 500, "error": "HTTP 500"}}
    )
    await services.webhooks.send_test(owner.actor, issued.webhook.id)

    page = await owner.client.get("/settings/webhooks", params={"status": "FAILED"})
    assert [d.id for d in page.context["deliveries"]] == [first.id]
    row = soup(page).find(id=f"delivery-{first.id}")
    assert "failed" in row.text and "HTTP 500" in row.text and "6" in row.text

    response = await submit(owner, f"/settings/webhooks/deliveries/{first.id}/resend", {})
    assert response.status_code in (200, 303)
    deliveries = (await services.webhooks.deliveries(owner.actor)).deliveries
    assert len(deliveries) == 3
    resent = [d for d in deliveries if d.resend_of == first.id]
    assert len(resent) == 1 and resent[0].status is DeliveryStatus.PENDING
    log = await owner.client.get("/settings/webhooks", headers=FULL)
    assert "a resend" in soup(log).find(id="delivery-log").text
    assert "Sent again" in soup(log).find(id="flash").text


async def test_the_create_form_offers_every_event(owner: Tenant) -> None:
    page = await owner.client.get("/settings/webhooks")
    boxes = soup(page).find(id="new-webhook").select("input[name=events]")
    assert [box["value"] for box in boxes] == list(SUBSCRIBABLE)
    assert all(box.has_attr("checked") for box in boxes)
    assert await Webhook.find_all().count() == 0
