"""Security of the bulk and operations pages (import, distribute, slots, webhooks, inbox), beyond
what tests/web/test_security.py checks for every route (a login is needed everywhere, another
owner's post and account ids answer like missing ones, viewers are refused every POST):
another owner's webhooks, deliveries, posts and accounts stay out of reach, every new form
needs the CSRF token, viewers get read-only pages, and no webhook secret reaches a page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from scheduler.ops.webhooks import WebhookInput
from scheduler.platform.documents import Account, Post, PostStatus, Webhook, WebhookDelivery
from scheduler.services import Services
from tests.web.conftest import PASSWORD, Tenant, WebClient, csrf, log_in, soup
from tests.web.test_security import MISSING_ID, PRIVATE, fill

NEW_POSTS = [
    "/import",
    "/import/check",
    "/posts/distribute",
    "/posts/distribute/preview",
    "/posts/{post_id}/queue",
    "/accounts/{account_id}/slots",
    "/accounts/{account_id}/shuffle",
    "/settings/webhooks",
    "/settings/webhooks/{webhook_id}",
    "/settings/webhooks/{webhook_id}/rotate",
    "/settings/webhooks/{webhook_id}/test",
    "/settings/webhooks/{webhook_id}/delete",
    "/settings/webhooks/deliveries/{delivery_id}/resend",
    "/inbox/read",
]
NEW_PAGES = ["/import", "/accounts/{account_id}", "/settings/webhooks", "/inbox"]


def test_the_new_routes_are_all_private() -> None:
    assert {p for m, p in PRIVATE if m == "POST"} >= set(NEW_POSTS)
    assert {p for m, p in PRIVATE if m == "GET"} >= {*NEW_PAGES, "/posts/distribute"}


@pytest.fixture
async def alice_and_bob(make_tenant: Any, services: Services) -> dict[str, Any]:
    alice: Tenant = await make_tenant("alice@example.com", "alice")
    bob: Tenant = await make_tenant("bob@example.com", "bob")
    post = await alice.post(services, "Alice's draft")
    issued = await services.webhooks.create(alice.actor, WebhookInput("https://alice.example/h"))
    delivery = await services.webhooks.send_test(alice.actor, issued.webhook.id)
    ids = {
        "post_id": str(post.id),
        "account_id": str(alice.account.id),
        "webhook_id": str(issued.webhook.id),
        "delivery_id": str(delivery.id),
    }
    return {"alice": alice, "bob": bob, "ids": ids, "secret": issued.secret}


async def alice_unchanged(services: Services, alice: Tenant, ids: dict[str, str]) -> None:
    hook = await Webhook.get(ids["webhook_id"])
    assert hook is not None and hook.url == "https://alice.example/h" and hook.enabled
    assert await WebhookDelivery.find({"webhook_id": hook.id}).count() == 1
    post = await Post.get(ids["post_id"])
    assert post is not None and post.status is PostStatus.DRAFT
    account = await Account.get(ids["account_id"])
    assert account is not None and account.slots == []


OTHERS = [
    (m, p)
    for m, p in PRIVATE
    if m == "POST"
    and ("{webhook_id}" in p or "{delivery_id}" in p or p.startswith("/posts/distribute"))
]


@pytest.mark.parametrize(("method", "path"), OTHERS)
async def test_another_owners_webhooks_and_deliveries_behave_like_missing_ones(
    alice_and_bob: dict[str, Any], services: Services, method: str, path: str
) -> None:
    bob: Tenant = alice_and_bob["bob"]
    ids: dict[str, str] = alice_and_bob["ids"]
    data = {
        "csrf_token": await csrf(bob.client),
        "url": "https://bob.example/h",
        "events": ["post.failed"],
        "start": "2030-01-08T09:00",
        "end": "2030-01-09T09:00",
        "min_gap": "30",
    }
    theirs = await bob.client.request(
        method, fill(path, **ids), data=data | {"ids": [ids["post_id"]]}
    )
    missing = await bob.client.request(method, fill(path), data=data | {"ids": [MISSING_ID]})
    assert theirs.status_code == missing.status_code == 404, theirs.text
    text = theirs.text
    for value in ids.values():
        text = text.replace(value, MISSING_ID)
    assert text == missing.text
    await alice_unchanged(services, alice_and_bob["alice"], ids)


async def test_another_owners_things_are_nowhere_in_my_pages(
    alice_and_bob: dict[str, Any], services: Services
) -> None:
    bob: Tenant = alice_and_bob["bob"]
    ids: dict[str, str] = alice_and_bob["ids"]
    for path in ("/settings/webhooks", "/settings/webhooks/deliveries", "/inbox", "/import"):
        page = await bob.client.get(path)
        assert page.status_code == 200
        for value in ids.values():
            assert value not in page.text, path
        assert "alice" not in page.text, path
    page = await bob.client.get("/posts/distribute", params={"ids": ids["post_id"]})
    assert page.context["posts"] == [] and "Alice's draft" not in page.text
    logged = await bob.client.get("/settings/webhooks", params={"webhook": ids["webhook_id"]})
    assert logged.status_code == 404


async def test_an_import_cannot_reach_another_owners_account(
    alice_and_bob: dict[str, Any], services: Services
) -> None:
    bob: Tenant = alice_and_bob["bob"]
    alice: Tenant = alice_and_bob["alice"]
    account_id = alice_and_bob["ids"]["account_id"]
    rows = f"account,text\n{account_id},Into Alice's account\n@alice,Again\n".encode()
    response = await bob.client.post(
        "/import",
        data={"csrf_token": await csrf(bob.client)},
        files={"file": ("posts.csv", rows, "text/csv")},
    )
    assert response.context["report"].error_rows == [2, 3]
    response = await bob.client.post(
        "/import",
        data={"csrf_token": await csrf(bob.client), "account": account_id},
        files={"file": ("posts.csv", b"text\nInto Alice's account\n", "text/csv")},
    )
    assert "account" in str(response.context["errors"]).lower()
    assert (await services.posts.find(alice.actor)).total == 1
    assert (await services.posts.find(bob.actor)).total == 0


@pytest.mark.parametrize("path", NEW_POSTS)
async def test_every_new_form_needs_the_csrf_token(
    alice_and_bob: dict[str, Any], services: Services, path: str
) -> None:
    alice: Tenant = alice_and_bob["alice"]
    ids: dict[str, str] = alice_and_bob["ids"]
    response = await alice.client.post(
        fill(path, **ids),
        data={"ids": [ids["post_id"]], "all": "1", "url": "https://evil.example/h"},
        files={"file": ("posts.csv", b"text\nForged\n", "text/csv")} if "import" in path else None,
    )
    assert response.status_code == 403
    assert "was not accepted" in response.text
    await alice_unchanged(services, alice, ids)
    assert (await services.posts.find(alice.actor)).total == 1
    assert [hook.url for hook in await services.webhooks.all(alice.actor)] == [
        "https://alice.example/h"
    ]


@pytest.fixture
async def viewer(make_tenant: Any, services: Services, web: WebClient) -> Any:
    owner: Tenant = await make_tenant()
    await services.auth.add_viewer(owner.actor, "viewer@example.com", PASSWORD)
    client = web()
    await log_in(client, "viewer@example.com")
    return owner, client


async def test_a_viewer_gets_read_only_pages(
    viewer: tuple[Tenant, httpx.AsyncClient], services: Services
) -> None:
    owner, client = viewer
    post = await owner.post(services, "Owner's draft")
    await services.slots.set_slots(owner.actor, owner.account.id, [{"weekday": 0, "at": "09:00"}])
    hook = await services.webhooks.create(owner.actor, WebhookInput("https://owner.example/h"))
    await services.webhooks.send_test(owner.actor, hook.webhook.id)
    pages = [fill(p, account_id=str(owner.account.id)) for p in NEW_PAGES]
    for path in [*pages, f"/posts/{post.id}", "/settings/webhooks/deliveries", "/inbox/list"]:
        page = await client.get(path)
        assert page.status_code == 200, path
        changes = [
            form["action"]
            for form in soup(page).select("form[method=post]")
            if form.get("action") != "/logout"
        ]
        assert changes == [], f"{path} offers a viewer forms that change things: {changes}"
    account = await client.get(f"/accounts/{owner.account.id}")
    assert "09:00" in soup(account).find(class_="slot-grid").text  # the grid, read-only
    assert "https://owner.example/h" in (await client.get("/settings/webhooks")).text
    assert (await client.get("/posts/distribute")).status_code == 403


async def test_no_webhook_secret_reaches_a_page(
    alice_and_bob: dict[str, Any], services: Services
) -> None:
    alice: Tenant = alice_and_bob["alice"]
    ids: dict[str, str] = alice_and_bob["ids"]
    stored = await Webhook.get(ids["webhook_id"])
    assert stored is not None
    for method, path in PRIVATE:
        if method != "GET" or path in ("/events", "/accounts/connect", "/accounts/callback"):
            continue
        text = (await alice.client.get(fill(path, **ids))).text
        assert alice_and_bob["secret"] not in text, path
        assert stored.secret not in text, path
