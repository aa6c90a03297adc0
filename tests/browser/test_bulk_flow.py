"""Browser: import a CSV and watch the progress bar fill and complete; after a post fails, see
the inbox badge appear live and open the notification; and walk every page added for bulk work
and operations (distribute, slots, webhooks), a screenshot each."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import expect

from scheduler.platform.clock import SystemClock
from scheduler.platform.documents import PostStatus
from scheduler.posts.content import MediaItem, PostContent, PostType
from scheduler.posts.service import PostInput
from tests.browser.conftest import Browser, System

ROWS = 600  # enough for several batches (250 rows each), so the bar moves in steps


def csv_file(rows: int, bad_row: int) -> bytes:
    lines = ["account,text,date,time,timezone"]
    for i in range(rows):
        day = "2030-13-45" if i == bad_row else ""  # no date: a draft
        lines.append(f"@ana,Imported post number {i} of the browser test,{day},,")
    return ("\n".join(lines) + "\n").encode()


# Records every state the progress bar shows (it is replaced by each SSE event).
WATCH_PROGRESS = """
window.progressSeen = [];
new MutationObserver(function () {
  var label = document.querySelector("#import-progress label");
  if (label) { window.progressSeen.push(label.textContent.trim()); }
}).observe(document.getElementById("import-progress"), {childList: true, subtree: true});
"""


async def test_import_a_csv_and_watch_the_progress_bar(system: System, browser: Browser) -> None:
    page = browser.page
    actor = await system.owner()
    await system.account(actor)
    await browser.log_in()
    await page.get_by_role("link", name="Import", exact=True).click()
    await expect(page.get_by_role("heading", name="Import posts")).to_be_visible()
    await browser.shot("import")

    upload = {"name": "posts.csv", "mimeType": "text/csv", "buffer": csv_file(ROWS, bad_row=41)}
    await page.get_by_label("CSV or Excel (.xlsx) file").set_input_files(upload)
    await page.get_by_role("button", name="Check the file").click()
    errors = page.locator("#report-errors")
    await expect(errors.locator('tr[data-row="43"][data-column="date"]')).to_be_visible()
    await expect(page.locator("#report-summary")).to_contain_text(
        f"{ROWS - 1} posts would be created"
    )
    await expect(page.locator("#import-progress")).to_contain_text("Checking the rows")
    await browser.shot("checked")
    assert (await system.services.posts.find(actor)).total == 0

    await page.evaluate(WATCH_PROGRESS)
    await page.get_by_role("button", name="Import", exact=True).click()
    bar = page.locator("#import-progress progress")
    await expect(page.locator("#import-progress")).to_contain_text("Done", timeout=30_000)
    await expect(bar).to_have_attribute("value", str(ROWS))  # every row handled
    await expect(bar).to_have_attribute("max", str(ROWS))
    await expect(page.locator("#report-summary")).to_contain_text(f"{ROWS - 1} posts created")
    await browser.shot("imported")
    seen: list[str] = await page.evaluate("window.progressSeen")
    steps = [s for s in seen if s.startswith("Importing:")]
    assert any(not s.startswith(f"Importing: {ROWS - 1} of") for s in steps), seen
    assert seen[-1].startswith("Done"), seen
    assert (await system.services.posts.find(actor)).total == ROWS - 1


async def test_the_inbox_after_a_post_fails(system: System, browser: Browser) -> None:
    page = browser.page
    actor = await system.owner()
    account = await system.account(actor)
    await browser.log_in()
    badge = page.locator("#inbox-badge")
    await expect(badge).to_have_text("")
    # The simulator fails containers whose media URL contains "fail-download".
    at = (SystemClock().now() + timedelta(seconds=2)).replace(microsecond=0)
    content = PostContent(
        type=PostType.IMAGE,
        text="This photo cannot be downloaded",
        media=[MediaItem(url="https://example.com/fail-download.jpg", alt_text="A photo")],
    )
    schedule = {
        "pattern": "ONCE",
        "timezone": "UTC",
        "start_date": at.date().isoformat(),
        "times": [at.strftime("%H:%M:%S")],
    }
    post = await system.services.posts.create(
        actor, PostInput(account_id=str(account.id), content=content, schedule=schedule)
    )
    # The badge in the menu turns up by itself (SSE), on the page that is open.
    await expect(badge).to_contain_text("1", timeout=40_000)
    await browser.shot("badge")
    await page.get_by_role("link", name=re.compile("^Inbox")).click()
    await expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    entry = page.locator(".inbox .notice").first
    await expect(entry).to_contain_text("A post failed")
    await expect(entry).to_contain_text("could not download")
    await expect(badge).to_contain_text("1")  # kept across the in-app navigation
    await browser.shot("inbox")

    await entry.get_by_role("button", name="Mark read").click()
    await expect(page.get_by_text("Marked 1 notification read.")).to_be_visible()
    await expect(badge).to_have_text("")
    await page.get_by_role("link", name="Open the post").click()
    await expect(page).to_have_url(re.compile(f"/posts/{post.id}$"))
    await expect(page.locator("#post-status")).to_contain_text("failed")
    stored = await system.services.posts.get(actor, post.id)
    assert stored.status is PostStatus.FAILED


async def test_distribute_slots_and_webhooks_pages(system: System, browser: Browser) -> None:
    page = browser.page
    actor = await system.owner()
    account = await system.account(actor)
    for i in range(3):
        await system.services.posts.create(
            actor,
            PostInput(account_id=str(account.id), content=PostContent(text=f"To spread {i}")),
        )
    await browser.log_in()

    # Distribute: select in the list, preview, apply.
    await browser.goto("/posts")
    await page.get_by_label("Select all posts on this page").check()
    await page.get_by_label("With the selected posts:").select_option("distribute")
    await page.get_by_role("button", name="Apply").click()
    await expect(page.get_by_role("heading", name="Distribute posts")).to_be_visible()
    await expect(page.locator("#distribute-posts li")).to_have_count(3)
    await page.get_by_role("button", name="Preview").click()
    await expect(page.locator("#distribute-plan tbody tr")).to_have_count(3)
    await browser.shot("distribute-preview")
    await page.get_by_role("button", name=re.compile("^Apply: schedule 3 posts")).click()
    await expect(page.get_by_text("Scheduled 3 posts from")).to_be_visible()
    assert (await system.services.posts.find(actor)).posts[0].status is PostStatus.SCHEDULED

    # Posting slots on the account's page.
    await browser.goto(f"/accounts/{account.id}")
    await expect(page.locator("#queue-warning")).to_contain_text("has no posting slots")
    await page.get_by_label("Time of row 1", exact=True).fill("09:30")
    await page.get_by_role("button", name="Save slots").click()
    await expect(page.get_by_text("Saved: 5 weekly slots")).to_be_visible()
    await expect(page.locator("#upcoming-slots li").first).to_contain_text("09:30")
    await browser.shot("account-slots")

    # Webhooks: add one, its secret shown once.
    await browser.goto("/settings/webhooks")
    await page.get_by_label("URL", exact=True).fill("https://example.com/hook")
    await page.get_by_role("button", name="Add webhook").click()
    await expect(page.locator("#new-secret")).to_contain_text("whsec_")
    await browser.shot("webhook-secret")
    await page.get_by_role("button", name="Send a test").click()
    await expect(page.locator("#delivery-log")).to_contain_text("webhook.test")
    await browser.shot("webhooks")

    for path, heading in [("/inbox", "Inbox"), ("/import", "Import posts")]:
        await browser.goto(path)
        await expect(page.get_by_role("heading", name=heading)).to_be_visible()
        await browser.shot(path.strip("/"))
    await page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/import", f"/accounts/{account.id}", "/settings/webhooks", "/inbox"):
        await browser.goto(path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways at phone width ({width}px)"
        await browser.shot("phone-" + path.strip("/").split("/")[0])
