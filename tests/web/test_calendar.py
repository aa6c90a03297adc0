"""The calendar: month and week in a chosen zone, recurring posts expanded, published posts
shown, and moving a one-off post to another day (never a published one)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from scheduler.platform.documents import Occurrence, OccurrenceState, Post
from scheduler.services import Services
from tests.web.conftest import Tenant, csrf, once, soup
from web.calendar_view import view_range


def test_the_grid_is_whole_weeks_from_monday() -> None:
    days, first, last = view_range("month", date(2030, 1, 15))
    assert (days[0], days[-1], first, last) == (
        date(2029, 12, 31),
        date(2030, 2, 3),
        date(2030, 1, 1),
        date(2030, 1, 31),
    )
    assert len(days) % 7 == 0
    days, first, last = view_range("week", date(2030, 1, 10))
    assert days[0] == date(2030, 1, 7) and days[-1] == date(2030, 1, 13) == last


async def test_month_view_in_a_chosen_zone(owner: Tenant, services: Services) -> None:
    # 23:30 UTC on 7 Jan is already 8 Jan in Tokyo.
    late = await owner.post(
        services, "Late", schedule=once(datetime(2030, 1, 7, 23, 30, tzinfo=UTC))
    )
    weekly = await owner.post(
        services,
        "Every Friday",
        schedule={
            "pattern": "WEEKLY",
            "timezone": "UTC",
            "start_date": "2030-01-07",
            "times": ["12:00"],
            "days_of_week": [4],
        },
    )
    response = await owner.client.get(
        "/calendar", params={"tz": "Asia/Tokyo", "date": "2030-01-15"}
    )
    assert response.template.name == "calendar/index.html"
    context = response.context
    assert context["tz"] == "Asia/Tokyo" and context["view"] == "month"
    by_day = {d.day: [e.post_id for e in d.entries] for d in context["days"]}
    assert by_day[date(2030, 1, 8)] == [str(late.id)]
    fridays = [d for d, ids in by_day.items() if str(weekly.id) in ids]
    assert fridays == [date(2030, 1, d) for d in (11, 18, 25)] + [date(2030, 2, 1)]
    entry = next(e for e in context["entries"] if e.post_id == str(late.id))
    assert entry.at.strftime("%H:%M") == "08:30" and entry.movable
    assert not next(e for e in context["entries"] if e.post_id == str(weekly.id)).movable
    html = soup(response)
    assert html.select(f'[data-drop-date="2030-01-08"] .entry[data-move-post="{late.id}"]')


async def test_past_occurrences_stay_on_the_calendar(owner: Tenant, services: Services) -> None:
    noon = datetime(2030, 1, 7, 12, tzinfo=UTC)
    post = await owner.post(services, "Done", schedule=once(noon))
    await Post.find_one({"_id": post.id}).update(
        {"$set": {"status": "PUBLISHED", "next_run_at": None, "last_published_at": noon}}
    )
    failed = await owner.post(services, "Failed", schedule=once(noon))
    await Post.find_one({"_id": failed.id}).update({"$set": {"status": "FAILED"}})
    for shown, state in ((post, OccurrenceState.PUBLISHED), (failed, OccurrenceState.FAILED)):
        await Occurrence(
            post_id=shown.id,  # type: ignore[arg-type]
            owner_id=shown.owner_id,
            account_id=shown.account_id,
            scheduled_for=noon,
            post_version=1,
            state=state,
            claimed_at=noon,
            updated_at=noon,
        ).insert()
    response = await owner.client.get("/calendar", params={"view": "week", "tz": "UTC"})
    entries = {e.post_id: e for e in response.context["entries"]}
    assert (entries[str(post.id)].status, entries[str(post.id)].movable) == ("PUBLISHED", False)
    assert entries[str(failed.id)].status == "FAILED"
    assert len(entries) == 2  # the failed post's rule does not add it a second time


async def move(owner: Tenant, post: Post, day: str) -> object:
    return await owner.client.post(
        "/calendar/move",
        data={
            "csrf_token": await csrf(owner.client),
            "post_id": str(post.id),
            "date": day,
            "tz": "Asia/Tokyo",
            "view": "month",
            "anchor": "2030-01-15",
        },
    )


async def test_drag_a_post_to_another_day(owner: Tenant, services: Services) -> None:
    post = await owner.post(
        services, "Move me", schedule=once(datetime(2030, 1, 10, 9, 15), "Europe/Berlin")
    )
    response = await move(owner, post, "2030-01-12")
    assert response.status_code == 200
    assert response.template.name == "calendar/_grid.html"
    stored = await services.posts.get(owner.actor, post.id)
    assert stored.schedule is not None
    # Same wall time as seen in Tokyo (17:15), on the 12th; kept in the post's own zone.
    assert stored.schedule.timezone == "Europe/Berlin"
    assert stored.next_run_at == datetime(2030, 1, 12, 8, 15, tzinfo=UTC)
    assert "Moved to 2030-01-12 at 09:15:00." in soup(response).find(id="flash").text


async def test_nothing_published_or_recurring_moves(owner: Tenant, services: Services) -> None:
    post = await owner.post(services, "Done", schedule=once(datetime(2030, 1, 10, 9, tzinfo=UTC)))
    await Post.find_one({"_id": post.id}).update({"$set": {"status": "PUBLISHED"}})
    response = await move(owner, post, "2030-01-12")
    assert response.status_code == 409
    assert "already published" in response.text
    assert (await services.posts.get(owner.actor, post.id)).schedule == post.schedule

    weekly = await owner.post(
        services,
        "Weekly",
        schedule={
            "pattern": "WEEKLY",
            "timezone": "UTC",
            "start_date": "2030-01-07",
            "times": ["12:00"],
            "days_of_week": [4],
        },
    )
    response = await move(owner, weekly, "2030-01-12")
    assert response.status_code == 422
    assert "Only a post scheduled once can be moved" in response.text


async def test_an_unknown_zone_is_explained(owner: Tenant) -> None:
    response = await owner.client.get("/calendar", params={"tz": "Mars/Olympus"})
    assert response.status_code == 422
    assert "Unknown time zone" in response.text


async def test_a_busy_day_links_to_its_week(owner: Tenant, services: Services) -> None:
    for minute in range(6):
        at = datetime(2030, 1, 9, 10, minute * 5, tzinfo=UTC)
        await owner.post(services, f"Busy {minute}", schedule=once(at))
    response = await owner.client.get("/calendar", params={"tz": "UTC"})
    cell = soup(response).find(attrs={"data-drop-date": "2030-01-09"})
    assert len(cell.select(".entry")) == 4
    assert cell.find("a", class_="more")["href"] == "/calendar?view=week&tz=UTC&date=2030-01-09"
    assert cell.find("a", class_="more").text == "2 more…"
    week = await owner.client.get("/calendar", params={"tz": "UTC", "view": "week"})
    cell = soup(week).find(attrs={"data-drop-date": "2030-01-09"})
    assert len(cell.select(".entry")) == 6
