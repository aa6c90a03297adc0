"""Browser: compose, schedule, watch it publish live, find it in the calendar, and the
composer's validation messages and recurrence preview."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from playwright.async_api import Page, expect

from scheduler.platform.clock import SystemClock
from scheduler.platform.documents import PostStatus
from scheduler.posts.content import PostContent
from scheduler.posts.service import PostInput
from scheduler.threads.text import count_characters
from tests.browser.conftest import Browser, System


async def signed_in(system: System, browser: Browser) -> None:
    actor = await system.owner()
    await system.account(actor)
    await browser.log_in()


async def test_schedule_a_post_and_watch_it_publish(system: System, browser: Browser) -> None:
    page = browser.page
    await signed_in(system, browser)
    await page.get_by_role("link", name="Compose", exact=True).click()
    await expect(page.get_by_role("heading", name="Compose a post")).to_be_visible()
    await browser.shot("composer")

    text = "Hello from the browser test 👋 ❤️"
    await page.get_by_label("What to say").fill(text)
    await expect(page.locator("#text-counter")).to_have_text(f"{count_characters(text)} / 500")
    at = (SystemClock().now() + timedelta(seconds=12)).replace(microsecond=0)
    await page.get_by_label("Time zone").fill("UTC")
    await page.get_by_label("Date", exact=True).fill(at.date().isoformat())
    await page.get_by_label("Time", exact=True).fill(at.strftime("%H:%M:%S"))
    await expect(page.locator("#schedule-description")).to_contain_text("Once on")
    await page.get_by_role("button", name="Schedule").click()

    await expect(page).to_have_url(re.compile(r"/posts/[0-9a-f]{24}$"))
    post_id = page.url.rsplit("/", 1)[1]
    await expect(page.get_by_text("Saved. The post is scheduled.")).to_be_visible()
    # The worker claims it a little ahead of time (to prepare the container): then PUBLISHING.
    await expect(page.locator("#post-status")).to_contain_text(re.compile("scheduled|publishing"))
    await browser.shot("scheduled")
    await page.evaluate("window.notReloaded = true")
    # Published by the worker and shown through the SSE stream: no reload, no click.
    await expect(page.locator("#post-status")).to_contain_text("published", timeout=30_000)
    assert await page.evaluate("window.notReloaded === true")
    await expect(page.locator(".timeline")).to_contain_text("published")
    await browser.shot("published")

    await page.get_by_role("link", name="Calendar", exact=True).click()
    entry = page.locator(f'#calendar .entry[data-post="{post_id}"]')
    await expect(entry).to_contain_text("Hello from the browser test")
    await expect(entry).to_contain_text("published")
    await browser.shot("calendar")
    await page.get_by_label("View").select_option("week")
    await expect(page.locator("#calendar.cal, #calendar .cal.week")).to_be_visible()
    await expect(entry).to_be_visible()
    await browser.shot("calendar-week")


async def test_a_validation_error_keeps_what_was_typed(system: System, browser: Browser) -> None:
    page = browser.page
    await signed_in(system, browser)
    await browser.goto("/posts/new")
    long_text = "Too long. " * 60
    await page.get_by_label("What to say").fill(long_text)
    await page.get_by_label("Topic tag").fill("news & views")
    await page.get_by_label("Post type").select_option("TEXT")
    await page.get_by_role("button", name="Schedule").click()

    await expect(page.locator("#f-text-error")).to_contain_text("Threads allows 500")
    await expect(page.locator("#f-options-topic_tag-error")).to_contain_text("cannot contain")
    await expect(page.get_by_label("What to say")).to_have_value(long_text)
    await expect(page.get_by_label("Topic tag")).to_have_value("news & views")
    await expect(page.locator("#text-counter")).to_have_text("600 / 500")
    await browser.shot("validation")
    assert page.url.endswith("/posts/new")

    await page.get_by_label("What to say").fill("Short and fine")
    await page.get_by_label("Topic tag").fill("news")
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.get_by_text("Saved. The post is draft.")).to_be_visible()


async def test_build_a_weekly_rule_and_see_its_preview(system: System, browser: Browser) -> None:
    page = browser.page
    await signed_in(system, browser)
    await browser.goto("/posts/new")
    await page.get_by_label("Time zone").fill("Europe/Berlin")
    await page.get_by_label("Repeat").select_option("WEEKLY")
    await expect(page.get_by_label("Mon", exact=True)).to_be_visible()
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
        await page.get_by_label(day, exact=True).set_checked(day in ("Mon", "Thu"))
    await page.get_by_label("Time", exact=True).fill("09:00")
    await page.get_by_label("Time", exact=True).press("Tab")
    description = page.locator("#schedule-description")
    await expect(description).to_have_text("Every Monday and Thursday at 09:00 (Europe/Berlin)")
    occurrences = page.locator("#schedule-occurrences li")
    await expect(occurrences).to_have_count(5)
    await expect(occurrences.first).to_contain_text(re.compile(r"(Mon|Thu) .* 09:00"))
    await browser.shot("weekly-preview")

    await page.get_by_label("Or this many times").fill("3")
    await page.get_by_label("Or this many times").press("Tab")
    await expect(description).to_contain_text("3 times")
    await expect(occurrences).to_have_count(3)


async def test_the_counter_counts_as_threads_does(system: System, browser: Browser) -> None:
    page = browser.page
    await signed_in(system, browser)
    await browser.goto("/posts/new")
    area, counter = page.get_by_label("What to say"), page.locator("#text-counter")
    samples = ["hello", "😀", "❤️", "👍🏽", "déjà vu", "日本語", "🇺🇸", "a\u200db", "© 2030", "𝒜"]
    for sample in samples:
        await area.fill(sample)
        await expect(counter).to_have_text(f"{count_characters(sample)} / 500")
    await area.fill("😀" * 126)
    await expect(counter).to_have_text("504 / 500")
    await expect(counter).to_have_class(re.compile(r"\bover\b"))


async def test_a_dropped_stream_resumes_and_catches_up(system: System, browser: Browser) -> None:
    page = browser.page
    # Count the stream's openings from the first one on (init scripts run before the page's).
    await page.add_init_script(
        "document.addEventListener('htmx:sseOpen', () => {"
        " window.sseOpens = (window.sseOpens || 0) + 1 })"
    )
    actor = await system.owner()
    account = await system.account(actor)
    await browser.log_in()
    at = (SystemClock().now() + timedelta(seconds=4)).replace(microsecond=0)
    post = await system.services.posts.create(
        actor,
        PostInput(
            account_id=str(account.id),
            content=PostContent(text="Published while the stream was down"),
            schedule={
                "pattern": "ONCE",
                "timezone": "UTC",
                "start_date": at.date().isoformat(),
                "times": [at.strftime("%H:%M:%S")],
            },
        ),
    )
    await browser.goto(f"/posts/{post.id}")
    await until(page, "window.sseOpens === 1")
    await page.evaluate("window.notReloaded = true")

    await system.web.stop()  # the stream drops; the post is published meanwhile
    stored = await system.services.posts.get(actor, post.id)
    while stored.status is not PostStatus.PUBLISHED:
        await asyncio.sleep(0.2)
        stored = await system.services.posts.get(actor, post.id)
    await system.web.start()

    await until(page, "window.sseOpens >= 2", seconds=20)
    await expect(page.locator("#post-status")).to_contain_text("published", timeout=10_000)
    assert await page.evaluate("window.notReloaded === true")
    # While the server was away the browser said so (the refused reconnects, and the SSE
    # extension's error event); nothing else may go wrong.
    outage = ("/events)", "[object Event] (")
    browser.errors[:] = [e for e in browser.errors if not any(o in e for o in outage)]


async def until(page: Page, condition: str, seconds: float = 10) -> None:
    """Wait for a JavaScript condition (polled: the page's CSP forbids eval)."""
    for _ in range(int(seconds * 10)):
        if await page.evaluate(condition):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {condition}")
