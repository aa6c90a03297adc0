"""The composer: drafts, schedules, publishing now, every kind of content, editing, the
validation messages next to their fields (input kept) and the recurrence preview."""

from __future__ import annotations

import json
from typing import Any

import httpx

from scheduler.platform.documents import PostStatus
from scheduler.posts.content import MediaKind, PostType, ReplyControl
from scheduler.services import Services
from tests.web.conftest import Tenant, csrf, once, soon, soup


async def submit(client: httpx.AsyncClient, path: str, fields: dict[str, Any]) -> httpx.Response:
    return await client.post(path, data={"csrf_token": await csrf(client), **fields})


def landed_on(response: httpx.Response, htmx: bool) -> str:
    """Where a successful form sends the browser."""
    if htmx:
        return str(json.loads(response.headers["HX-Location"])["path"])
    assert response.status_code == 303, response.text
    return response.headers["location"]


def fields(owner: Tenant, **extra: Any) -> dict[str, Any]:
    base = {
        "account_id": str(owner.account.id),
        "type": "TEXT",
        "text": "Hello from the composer",
        "media_rows": "1",
        "reply_rows": "0",
        "schedule.pattern": "ONCE",
        "schedule.timezone": "Europe/Berlin",
        "schedule.start_date": "2030-01-08",
        "schedule.times": "14:30",
    }
    return base | extra


async def test_save_a_draft(owner: Tenant, services: Services, htmx: bool) -> None:
    response = await submit(owner.client, "/posts/new", fields(owner, intent="draft"))
    target = landed_on(response, htmx)
    post = await services.posts.get(owner.actor, target.rsplit("/", 1)[1])
    assert post.status is PostStatus.DRAFT
    assert post.schedule is None
    assert post.content.text == "Hello from the composer"


async def test_schedule_in_a_time_zone(owner: Tenant, services: Services, htmx: bool) -> None:
    response = await submit(owner.client, "/posts/new", fields(owner, intent="schedule"))
    post = await services.posts.get(owner.actor, landed_on(response, htmx).rsplit("/", 1)[1])
    assert post.status is PostStatus.SCHEDULED
    assert post.schedule is not None and post.schedule.timezone == "Europe/Berlin"
    assert post.next_run_at is not None
    assert post.next_run_at.isoformat() == "2030-01-08T13:30:00+00:00"  # 14:30 in Berlin


async def test_publish_now(owner: Tenant, services: Services, htmx: bool) -> None:
    response = await submit(owner.client, "/posts/new", fields(owner, intent="publish"))
    post = await services.posts.get(owner.actor, landed_on(response, htmx).rsplit("/", 1)[1])
    assert post.status is PostStatus.SCHEDULED
    assert post.next_run_at == services.clock.now()


async def test_every_kind_of_content(owner: Tenant, services: Services, htmx: bool) -> None:
    carousel = fields(
        owner,
        intent="draft",
        type="CAROUSEL",
        text="Two pictures and a clip",
        media_rows="3",
        **{
            "media.0.url": "https://example.com/a.jpg",
            "media.0.alt_text": "A sunrise",
            "media.0.kind": "IMAGE",
            "media.1.url": "https://example.com/b.mp4",
            "media.1.kind": "VIDEO",
            "media.2.url": "",  # an unused row
            "options.topic_tag": "travel",
            "options.reply_control": "accounts_you_follow",
            "reply_rows": "2",
            "replies.0.text": "First reply",
            "replies.0.delay_seconds": "30",
            "replies.1.text": "",
        },
    )
    response = await submit(owner.client, "/posts/new", carousel)
    post = await services.posts.get(owner.actor, landed_on(response, htmx).rsplit("/", 1)[1])
    content = post.content
    assert content.type is PostType.CAROUSEL
    assert [(m.url, m.kind, m.alt_text) for m in content.media] == [
        ("https://example.com/a.jpg", MediaKind.IMAGE, "A sunrise"),
        ("https://example.com/b.mp4", MediaKind.VIDEO, None),
    ]
    assert content.options.topic_tag == "travel"
    assert content.options.reply_control is ReplyControl.ACCOUNTS_YOU_FOLLOW
    assert [(r.text, r.delay_seconds) for r in post.replies] == [("First reply", 30)]

    poll = fields(
        owner,
        intent="draft",
        **{"options.poll.options.0": "Yes", "options.poll.options.1": "No"},
    )
    response = await submit(owner.client, "/posts/new", poll)
    post = await services.posts.get(owner.actor, landed_on(response, htmx).rsplit("/", 1)[1])
    assert post.content.options.poll is not None
    assert post.content.options.poll.options == ["Yes", "No"]


async def test_errors_appear_next_to_their_fields_and_nothing_is_lost(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    typed = fields(
        owner,
        intent="schedule",
        text="x" * 501,
        reply_rows="1",
        **{
            "options.topic_tag": "news & views",
            "replies.0.text": "A reply",
            "replies.0.delay_seconds": "soon",
            "schedule.times": "25:99",
        },
    )
    response = await submit(owner.client, "/posts/new", typed)

    assert response.status_code == (200 if htmx else 422)
    assert response.template.name == ("posts/_form.html" if htmx else "posts/compose.html")
    if htmx:
        assert response.headers["HX-Retarget"] == "#composer"
    errors = response.context["errors"]
    assert set(errors) == {"replies.0.delay_seconds"}  # read first, before the core is asked
    typed["replies.0.delay_seconds"] = "60"
    response = await submit(owner.client, "/posts/new", typed)
    errors = response.context["errors"]
    assert {"text", "options.topic_tag", "schedule.times.0"} <= set(errors)
    assert response.context["values"]["text"] == "x" * 501
    html = soup(response)
    assert html.find("textarea", attrs={"name": "text"}).text == "x" * 501
    assert html.find("input", attrs={"name": "options.topic_tag"})["value"] == "news & views"
    assert html.find("textarea", attrs={"name": "replies.0.text"}).text == "A reply"
    assert html.find("input", attrs={"name": "schedule.times"})["value"] == "25:99"
    message = html.find(id="f-options-topic_tag-error")
    assert message is not None and "cannot contain" in message.text
    message = html.find(id="f-schedule-times-error")  # `schedule.times.0` shows at its field
    assert message is not None and "HH:MM" in message.text
    text = html.find("textarea", attrs={"name": "text"})
    assert text["aria-invalid"] == "true" and text["aria-describedby"] == "f-text-error"
    assert (await services.posts.find(owner.actor)).total == 0


async def test_an_unknown_choice_is_a_field_error(owner: Tenant, htmx: bool) -> None:
    response = await submit(
        owner.client,
        "/posts/new",
        fields(owner, intent="draft", **{"options.reply_control": "anyone-at-all"}),
    )
    assert list(response.context["errors"]) == ["options.reply_control"]
    assert (
        "Choose one of the offered options"
        in response.context["errors"]["options.reply_control"][0]
    )


async def test_edit_a_post_and_refuse_a_stale_edit(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    post = await owner.post(services, schedule=once(soon(services, hours=5)))
    page = await owner.client.get(f"/posts/{post.id}/edit")
    values = page.context["values"]
    assert values["text"] == "Hello Threads" and values["version"] == str(post.version)
    edited = {k: v for k, v in values.items() if isinstance(v, str)}
    edited |= {"text": "Edited", "intent": "schedule", "schedule.days_of_week": []}
    response = await submit(owner.client, f"/posts/{post.id}/edit", edited)
    assert landed_on(response, htmx) == f"/posts/{post.id}"
    stored = await services.posts.get(owner.actor, post.id)
    assert (stored.content.text, stored.status) == ("Edited", PostStatus.SCHEDULED)
    assert stored.next_run_at == post.next_run_at

    # The same form again carries the old version: someone changed the post meanwhile.
    response = await submit(owner.client, f"/posts/{post.id}/edit", edited | {"text": "Late"})
    assert response.status_code == 409
    assert "changed while you were editing it" in response.text
    assert (await services.posts.get(owner.actor, post.id)).content.text == "Edited"


async def test_schedule_a_draft_from_the_editor(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    draft = await owner.post(services, "A draft")
    values = (await owner.client.get(f"/posts/{draft.id}/edit")).context["values"]
    values = {k: v for k, v in values.items() if isinstance(v, str)} | {
        "intent": "schedule",
        "schedule.timezone": "UTC",
        "schedule.start_date": "2030-01-09",
        "schedule.times": "08:00",
    }
    response = await submit(owner.client, f"/posts/{draft.id}/edit", values)
    landed_on(response, htmx)
    stored = await services.posts.get(owner.actor, draft.id)
    assert stored.status is PostStatus.SCHEDULED
    assert stored.next_run_at is not None and stored.next_run_at.isoformat().startswith(
        "2030-01-09T08:00"
    )


async def test_published_posts_cannot_be_edited(owner: Tenant, services: Services) -> None:
    post = await owner.post(services, schedule=once(soon(services, hours=1)))
    from scheduler.platform.documents import Post

    await Post.find_one({"_id": post.id}).update({"$set": {"status": "PUBLISHED"}})
    values = fields(owner, intent="schedule", version=str(post.version))
    response = await submit(owner.client, f"/posts/{post.id}/edit", values)
    assert response.status_code == 409
    assert "already published" in response.text


async def test_rows_are_added_without_saving_or_losing_input(
    owner: Tenant, services: Services, htmx: bool
) -> None:
    typed = fields(owner, rows="add-media", type="CAROUSEL", **{"media.0.url": "https://x.io/a"})
    response = await submit(owner.client, "/posts/compose/rows", typed)
    assert response.status_code == 200
    assert response.template.name == ("posts/_form.html" if htmx else "posts/compose.html")
    assert response.context["values"]["media_rows"] == 2
    html = soup(response)
    assert html.find("input", attrs={"name": "media.0.url"})["value"] == "https://x.io/a"
    assert html.find("input", attrs={"name": "media.1.url"}) is not None
    typed = fields(owner, rows="add-reply", reply_rows="0")
    response = await submit(owner.client, "/posts/compose/rows", typed)
    assert soup(response).find("textarea", attrs={"name": "replies.0.text"}) is not None
    assert (await services.posts.find(owner.actor)).total == 0


async def test_the_recurrence_preview(owner: Tenant, htmx: bool) -> None:
    rule = {
        "schedule.pattern": "WEEKLY",
        "schedule.start_date": "2030-01-07",
        "schedule.times": "09:00",
        "schedule.timezone": "Europe/Berlin",
        "schedule.days_of_week": ["0", "3"],
        "schedule.interval": "1",
        "schedule.count": "",
    }
    response = await owner.client.get("/posts/compose/preview", params=rule)
    assert response.template.name == "posts/_preview.html"
    assert response.context["description"] == ("Every Monday and Thursday at 09:00 (Europe/Berlin)")
    # T0 is Monday 7 Jan 2030 09:00 UTC: that Monday's 09:00 in Berlin (08:00 UTC) is past.
    assert [o.isoformat() for o in response.context["occurrences"]] == [
        "2030-01-10T08:00:00+00:00",
        "2030-01-14T08:00:00+00:00",
        "2030-01-17T08:00:00+00:00",
        "2030-01-21T08:00:00+00:00",
        "2030-01-24T08:00:00+00:00",
    ]
    items = [li.text for li in soup(response).select("#schedule-occurrences li")]
    assert items[0] == "Thu 10 Jan 2030, 09:00"

    response = await owner.client.get(
        "/posts/compose/preview", params=rule | {"schedule.days_of_week": []}
    )
    assert response.status_code == (200 if htmx else 422)
    assert "schedule.days_of_week" in response.context["errors"]
    assert "at least one day" in soup(response).text


async def test_a_viewer_gets_no_composer(services: Services, make_tenant: Any, web: Any) -> None:
    from tests.web.conftest import PASSWORD, log_in

    owner: Tenant = await make_tenant()
    await services.auth.add_viewer(owner.actor, "viewer@example.com", PASSWORD)
    viewer = web()
    await log_in(viewer, "viewer@example.com")
    response = await viewer.get("/posts/new")
    assert response.status_code == 403
    assert response.template.name == "error.html"
    response = await viewer.post(
        "/posts/new", data={"csrf_token": await csrf(viewer), **fields(owner, intent="draft")}
    )
    assert response.status_code == 403
    assert (await services.posts.find(owner.actor)).total == 0
