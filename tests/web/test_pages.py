"""Every page, rendered as a full page and as an htmx fragment: template and context
first, then the HTML structure that matters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scheduler.services import Services
from tests.web.conftest import Tenant, once, soon, soup
from web.templating import TEMPLATES_DIR

# name -> (path, template, context keys the page needs)
PAGES: dict[str, tuple[str, str, set[str]]] = {
    "overview": ("/", "overview/index.html", {"counts", "next_posts", "failures", "state"}),
    "posts": ("/posts", "posts/list.html", {"page", "posts", "filters", "accounts"}),
    "compose": ("/posts/new", "posts/compose.html", {"values", "errors", "accounts", "post"}),
    "post": ("/posts/{post}", "posts/detail.html", {"post", "occurrences", "account"}),
    "edit": ("/posts/{post}/edit", "posts/compose.html", {"values", "errors", "post"}),
    "calendar": ("/calendar", "calendar/index.html", {"days", "entries", "view", "tz"}),
    "week": ("/calendar?view=week&tz=UTC", "calendar/index.html", {"days", "entries"}),
    "queues": ("/queues", "queues/index.html", {"stats", "health", "jobs", "state"}),
    "accounts": ("/accounts", "accounts/list.html", {"accounts", "can_connect"}),
    "tokens": ("/settings/tokens", "settings/tokens.html", {"tokens", "issued"}),
    "viewers": ("/settings/viewers", "settings/viewers.html", {"values", "errors"}),
    "import": ("/import", "imports/index.html", {"accounts", "columns", "values", "report"}),
    "distribute": ("/posts/distribute?ids={post}", "posts/distribute.html", {"posts", "values"}),
    "account": ("/accounts/{account}", "accounts/detail.html", {"account", "queue", "upcoming"}),
    "webhooks": ("/settings/webhooks", "settings/webhooks.html", {"webhooks", "deliveries"}),
    "inbox": ("/inbox", "inbox/index.html", {"inbox", "notifications", "unread"}),
    "unread": ("/inbox?unread=1", "inbox/index.html", {"notifications", "unread_only"}),
    "missing": ("/posts/0123456789abcdef01234567", "error.html", {"title", "message"}),
}
# Pages shown before logging in (tests/web/test_login.py renders them).
PUBLIC_PAGES = {"auth/login.html", "auth/setup.html"}
LAYOUTS = {"layout.html", "layout_partial.html"}


def test_every_page_template_is_rendered_by_a_page_test() -> None:
    templates = {
        str(path.relative_to(TEMPLATES_DIR))
        for path in Path(TEMPLATES_DIR).rglob("*.html")
        if not path.name.startswith("_")
    }
    templates -= LAYOUTS | {"graphiql.html"}  # GraphiQL belongs to the GraphQL API
    assert templates == {template for _, template, _ in PAGES.values()} | PUBLIC_PAGES


@pytest.mark.parametrize("name", list(PAGES))
async def test_page_renders_in_full_and_as_a_fragment(
    owner: Tenant, services: Services, htmx: bool, name: str
) -> None:
    post = await owner.post(services, schedule=once(soon(services, hours=3)))
    path, template, keys = PAGES[name]
    response = await owner.client.get(path.format(post=post.id, account=owner.account.id))

    missing = name == "missing"
    assert response.status_code == (404 if missing else 200), response.text
    if missing and htmx:  # an error during htmx navigation is a message in the flash area
        assert response.template.name == "_error.html"
        assert response.headers["HX-Retarget"] == "#flash"
        return
    assert response.template.name == template
    assert keys <= set(response.context), keys - set(response.context)
    assert response.context["layout"] == ("layout_partial.html" if htmx else "layout.html")
    assert "HX-Request" in response.headers["Vary"]
    html = soup(response)
    if htmx:
        assert html.find("html") is None and html.find("body") is None
        assert html.find("title").text.endswith("· Threads Scheduler")
        assert html.find(id="nav")["hx-swap-oob"] == "true"
        assert html.find(id="flash")["hx-swap-oob"] == "true"
    else:
        body = html.find("body")
        assert body["sse-connect"] == "/events" and body["hx-ext"] == "sse"
        assert "X-CSRF-Token" in body["hx-headers"]
        assert html.find("main", id="main") is not None
        assert html.find("script", src="/static/vendor/htmx-2.0.11.min.js") is not None


FRAGMENTS = {
    "/overview/panels": "overview/_panels.html",
    "/posts/table": "posts/_table.html",
    "/posts/{post}/live": "posts/_detail.html",
    "/calendar/grid": "calendar/_grid.html",
    "/queues/panels": "queues/_panels.html",
    "/accounts/table": "accounts/_table.html",
    "/accounts/{account}/queue": "accounts/_queue.html",
    "/inbox/list": "inbox/_list.html",
    "/settings/webhooks/deliveries": "settings/_deliveries.html",
}


@pytest.mark.parametrize("path", list(FRAGMENTS))
async def test_live_fragments_render_alone_and_refresh_themselves(
    owner: Tenant, services: Services, path: str
) -> None:
    post = await owner.post(services, schedule=once(soon(services, hours=3)))
    url = path.format(post=post.id, account=owner.account.id)
    response = await owner.client.get(url)
    assert response.status_code == 200
    assert response.template.name == FRAGMENTS[path]
    root = soup(response).find(attrs={"hx-trigger": True})
    assert root is not None and root.get("hx-target") == "this"
    assert "sse:ready" in root["hx-trigger"]  # re-fetched whenever the stream (re)connects
    assert root["hx-get"].split("?")[0] == url


async def test_overview_counts_posts_by_status(owner: Tenant, services: Services) -> None:
    for _ in range(2):
        await owner.post(services, schedule=once(soon(services, hours=1)))
    draft = await owner.post(services, "draft")
    await services.posts.cancel(owner.actor, draft.id)
    await owner.post(services, "another draft")

    response = await owner.client.get("/")

    counts: dict[str, Any] = response.context["counts"]
    assert counts == {
        "DRAFT": 1,
        "SCHEDULED": 2,
        "PUBLISHING": 0,
        "PUBLISHED": 0,
        "FAILED": 0,
        "CANCELLED": 1,
    }
    assert [p.status.value for p in response.context["next_posts"]] == ["SCHEDULED"] * 2
    assert soup(response).find(id="count-scheduled").text == "2"


async def test_the_compose_page_mirrors_the_threads_counting_rule(
    owner: Tenant, services: Services
) -> None:
    import json

    from scheduler.threads.text import counting_rule

    response = await owner.client.get("/posts/new")
    area = soup(response).find("textarea", attrs={"name": "text"})
    assert json.loads(area["data-counting-rule"]) == counting_rule()
    assert area["data-counter"] == "text-counter"
