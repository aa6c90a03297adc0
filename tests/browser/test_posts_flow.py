"""Browser: retry a failed post, move a post in the calendar by drag-and-drop, and visit every
page (a screenshot each, also at phone width) without a console error."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import expect

from scheduler.platform.clock import SystemClock
from scheduler.platform.documents import PostStatus
from scheduler.posts.content import MediaItem, PostContent, PostType
from scheduler.posts.service import PostInput
from tests.browser.conftest import Browser, System


def once_in(seconds: float) -> dict[str, object]:
    at = (SystemClock().now() + timedelta(seconds=seconds)).replace(microsecond=0)
    return {
        "pattern": "ONCE",
        "timezone": "UTC",
        "start_date": at.date().isoformat(),
        "times": [at.strftime("%H:%M:%S")],
    }


async def test_retry_a_failed_post(system: System, browser: Browser) -> None:
    page = browser.page
    actor = await system.owner()
    account = await system.account(actor)
    # The simulator fails containers whose media URL contains "fail-download".
    content = PostContent(
        type=PostType.IMAGE,
        text="A photo",
        media=[MediaItem(url="https://example.com/fail-download.jpg", alt_text="A photo")],
    )
    post = await system.services.posts.create(
        actor, PostInput(account_id=str(account.id), content=content, schedule=once_in(2))
    )
    await browser.log_in()
    await browser.goto(f"/posts/{post.id}")
    status = page.locator("#post-status")
    await expect(status).to_contain_text("failed", timeout=30_000)
    await expect(page.locator("#post-detail")).to_contain_text("could not download")
    await browser.shot("failed")

    await system.admin.configure(media_failures=[])  # the media is fixed at its source
    await page.get_by_role("button", name="Retry").click()
    await expect(page.get_by_text("sent back to the scheduler")).to_be_visible()
    await expect(status).to_contain_text("published", timeout=30_000)
    await browser.shot("retried")
    stored = await system.services.posts.get(actor, post.id)
    assert stored.status is PostStatus.PUBLISHED


async def test_move_a_post_in_the_calendar(system: System, browser: Browser) -> None:
    page = browser.page
    actor = await system.owner()
    account = await system.account(actor)
    later = SystemClock().now() + timedelta(days=3)
    schedule = {
        "pattern": "ONCE",
        "timezone": "UTC",
        "start_date": later.date().isoformat(),
        "times": ["10:30"],
    }
    post = await system.services.posts.create(
        actor,
        PostInput(
            account_id=str(account.id), content=PostContent(text="Move me"), schedule=schedule
        ),
    )
    await browser.log_in()
    await browser.goto(f"/calendar?view=week&tz=UTC&date={later.date().isoformat()}")
    entry = page.locator(f'.entry[data-post="{post.id}"]')
    await expect(entry).to_contain_text("10:30")
    target_day = (later + timedelta(days=1)).date().isoformat()
    if (later + timedelta(days=1)).weekday() == 0:  # keep within the week shown
        target_day = (later - timedelta(days=1)).date().isoformat()
    await entry.drag_to(page.locator(f'[data-drop-date="{target_day}"]'))
    await expect(page.get_by_text(f"Moved to {target_day} at 10:30")).to_be_visible()
    moved = page.locator(f'[data-drop-date="{target_day}"] .entry[data-post="{post.id}"]')
    await expect(moved).to_be_visible()
    await browser.shot("moved")
    stored = await system.services.posts.get(actor, post.id)
    assert stored.schedule is not None
    assert stored.schedule.start_date.isoformat() == target_day


PAGES = [
    ("/", "Overview"),
    ("/posts", "Posts"),
    ("/posts/new", "Compose a post"),
    ("/calendar", "Calendar"),
    ("/calendar?view=week", "Calendar"),
    ("/queues", "Queues & scheduler"),
    ("/accounts", "Threads accounts"),
    ("/settings/tokens", "Settings"),
    ("/settings/viewers", "Settings"),
]


async def test_every_page_renders_without_errors(system: System, browser: Browser) -> None:
    page = browser.page
    actor = await system.owner()
    account = await system.account(actor)
    post = await system.services.posts.create(
        actor,
        PostInput(
            account_id=str(account.id),
            content=PostContent(text="Every day at nine"),
            schedule={
                "pattern": "WEEKLY",
                "timezone": "Europe/Berlin",
                "start_date": SystemClock().now().date().isoformat(),
                "times": ["09:00"],
                "days_of_week": list(range(7)),
            },
        ),
    )
    await browser.goto("/login")
    await browser.shot("login")
    await browser.log_in()
    pages = [*PAGES, (f"/posts/{post.id}", "Post"), (f"/posts/{post.id}/edit", "Edit post")]
    for path, heading in pages:
        await browser.goto(path)
        await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        label = re.sub(r"\W+", "-", path.replace(str(post.id), "post").strip("/"))
        await browser.shot(label or "overview")
    # Navigating with the menu swaps only the main area (htmx) and updates the title.
    await browser.goto("/")
    await page.evaluate("window.notReloaded = true")
    await page.get_by_role("link", name="Queues", exact=True).click()
    await expect(page.get_by_role("heading", name="Queues & scheduler")).to_be_visible()
    await expect(page).to_have_title(re.compile("^Queues"))
    assert await page.evaluate("window.notReloaded === true")
    # Phone width: still readable (no horizontal scrolling of the page itself).
    await page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/", "/posts/new", "/calendar", "/posts"):
        await browser.goto(path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways at phone width ({width}px)"
        await browser.shot("phone-" + (re.sub(r"\W+", "-", path.strip("/")) or "overview"))
