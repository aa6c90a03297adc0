"""Browser: first-run setup, logging in and out, and connecting an account through OAuth."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import EMAIL, PASSWORD, Browser, System


async def test_set_up_log_in_and_connect_an_account(system: System, browser: Browser) -> None:
    page = browser.page
    await system.admin.create_account("ana")
    await browser.goto("/")
    await expect(page).to_have_url(re.compile(r"/setup$"))
    await browser.shot("setup")

    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("Password again").fill(PASSWORD)
    await page.get_by_role("button", name="Create the owner account").click()
    await expect(page).to_have_url(re.compile(r"/accounts$"))
    await expect(page.get_by_text("No Threads account is connected yet.")).to_be_visible()
    await browser.shot("accounts-empty")

    await page.get_by_role("link", name="Connect a Threads account").click()
    await expect(page.get_by_text("Grant access to the app as")).to_be_visible()
    await page.get_by_role("link", name="@ana").click()
    await expect(page).to_have_url(re.compile(r"/accounts#account-\w+$"))
    await expect(page.get_by_text("Connected @ana.")).to_be_visible()
    await expect(page.get_by_role("heading", name=re.compile("@ana"))).to_be_visible()
    await browser.shot("accounts-connected")

    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await page.get_by_label("Email").fill(EMAIL)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_text("The email or password is wrong.")).to_be_visible()
    await expect(page.get_by_label("Email")).to_have_value(EMAIL)
    await browser.shot("login-failed")

    await browser.log_in()
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    await browser.shot("overview")
