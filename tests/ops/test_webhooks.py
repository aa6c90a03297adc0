"""Webhooks and the inbox, end to end: a real worker publishes on the simulator, and a receiver
on a loopback socket gets signed payloads, a 500 is retried, the delivery log shows it all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from beanie import PydanticObjectId

from scheduler.accounts.actors import Actor
from scheduler.ops.webhooks import SIGNATURE_HEADER, WebhookInput, verify_signature
from scheduler.platform.documents import AccountStatus, DeliveryStatus, PostStatus
from scheduler.platform.errors import NotFoundError, PermissionDenied, ValidationFailed
from scheduler.posts.content import PostContent
from scheduler.services import Services
from tests.ops.conftest import Received, Receiver
from tests.publishing.conftest import Live, soon

SECRET = "receiver-shared-secret-0123456789"


def _of(received: list[Received], kind: str) -> list[Received]:
    return [r for r in received if r.json["type"] == kind]


async def _deliveries(services: Services, actor: Actor, kind: str) -> list[Any]:
    page = await services.webhooks.deliveries(actor, limit=100)
    return [d for d in page.deliveries if d.event_type == kind]


@pytest.mark.usefixtures("worker")
async def test_a_published_post_is_posted_signed_retried_after_a_500_logged_and_resendable(
    live: Live, receiver: Receiver
) -> None:
    services, actor = live.services, live.actor
    issued = await services.webhooks.create(
        actor, WebhookInput(url=receiver.url, events=["post.published"], secret=SECRET)
    )
    assert issued.secret == SECRET and issued.webhook.secret != SECRET  # encrypted at rest
    receiver.answers = [500]

    post = await live.schedule("hello hooks", soon(2))
    await live.wait_status(post.id, PostStatus.PUBLISHED, timeout=20)
    first, retry = await receiver.wait_for(2, timeout=20)

    for request in (first, retry):
        assert verify_signature(SECRET, request.body, request.headers[SIGNATURE_HEADER.lower()])
        assert request.headers["content-type"] == "application/json"
    assert first.body == retry.body  # the same bytes, signed the same way
    assert [first.headers["x-webhook-attempt"], retry.headers["x-webhook-attempt"]] == ["1", "2"]
    payload = first.json
    published = (await live.published())[0]
    assert payload["type"] == "post.published"
    assert payload["data"]["post_id"] == str(post.id)
    assert payload["data"]["media_id"] == published.media_id
    assert payload["data"]["account_id"] == str(live.account.id)
    assert payload["data"]["text"] == "hello hooks"

    [delivery] = await _deliveries(services, actor, "post.published")
    assert str(delivery.id) == first.headers["x-webhook-delivery"]
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.attempts == 2 and delivery.response_code == 200
    assert [a.response_code for a in delivery.history] == [500, 200]
    assert delivery.history[0].error == "The receiver answered HTTP 500."
    gap = delivery.history[1].at - delivery.history[0].at
    assert gap >= timedelta(seconds=0.5)  # the backoff, on our clock

    again = await services.webhooks.resend(actor, delivery.id)
    received = await receiver.wait_for(3, timeout=20)
    resent = received[2]
    assert resent.body == first.body and resent.headers["x-webhook-delivery"] == str(again.id)
    assert verify_signature(SECRET, resent.body, resent.headers[SIGNATURE_HEADER.lower()])

    async def delivered() -> bool:
        current = await services.webhooks.delivery(actor, again.id)
        return current.status is DeliveryStatus.DELIVERED

    await live.wait_for(delivered, 10, "the resend to be delivered")
    assert (await services.webhooks.delivery(actor, again.id)).resend_of == delivery.id
    # The publication also started its insights schedule.
    [insights] = await services.insights.for_post(actor, post.id)
    assert insights.media_id == published.media_id
    assert insights.next_fetch_at == insights.published_at + timedelta(hours=1)


@pytest.mark.usefixtures("worker")
async def test_a_failure_reaches_the_inbox_and_the_webhook_and_the_queue_empties(
    live: Live, receiver: Receiver
) -> None:
    services, actor = live.services, live.actor
    await services.webhooks.create(actor, WebhookInput(url=receiver.url, secret=SECRET))
    post = await live.schedule(
        "bad video",
        soon(2),
        content=PostContent(
            type="VIDEO",
            text="clip",
            media=[{"url": "https://cdn.example/fail-download.mp4", "kind": "VIDEO"}],
        ),
    )
    failed = await live.wait_status(post.id, PostStatus.FAILED, timeout=40)
    received = await receiver.wait_for(2, timeout=20)

    [failure] = _of(received, "post.failed")
    assert failure.json["data"]["post_id"] == str(post.id)
    assert failure.json["data"]["error"] == failed.last_error
    [empty] = _of(received, "queue.empty")
    assert empty.json["data"]["account_id"] == str(live.account.id)

    page = await services.notifications.inbox(actor)
    [entry] = page.notifications
    assert entry.kind == "post.failed" and entry.level == "error"
    assert entry.post_id == post.id and entry.message == failed.last_error
    assert page.unread == 1 and entry.read_at is None
    assert await services.notifications.mark_read(actor) == 1
    assert await services.notifications.unread_count(actor) == 0
    assert await services.notifications.mark_unread(actor, [entry.id]) == 1
    assert (await services.notifications.inbox(actor, unread_only=True)).total == 1


@pytest.mark.usefixtures("worker")
async def test_reconnect_and_quota_deferral_are_notified(live: Live, receiver: Receiver) -> None:
    services, actor = live.services, live.actor
    await services.webhooks.create(
        actor,
        WebhookInput(url=receiver.url, events=["account.needs_reconnect", "post.deferred"]),
    )
    await live.admin.set_faults(
        {"kind": "quota_exhausted", "endpoint": "publish", "retry_after": 60, "count": 1}
    )
    deferred = await live.schedule("after the quota frees", soon(2))
    [first] = await receiver.wait_for(1, timeout=20)
    assert first.json["type"] == "post.deferred"
    assert first.json["data"]["post_id"] == str(deferred.id)
    assert first.json["data"]["held_reason"].startswith("Deferred")

    await live.admin.revoke_token(live.sim_account.access_token)
    await live.schedule("held", soon(2))
    received = await receiver.wait_for(2, timeout=20)
    [reconnect] = _of(received, "account.needs_reconnect")
    assert reconnect.json["data"]["account_id"] == str(live.account.id)
    account = await services.accounts.get(actor, live.account.id)
    assert account.status is AccountStatus.NEEDS_RECONNECT
    kinds = {n.kind for n in (await services.notifications.inbox(actor)).notifications}
    assert kinds == {"post.deferred", "account.needs_reconnect"}


# --- without a worker: the service on a manual clock -----------------------------------------


async def test_only_http_urls_and_known_events_are_accepted(services: Services) -> None:
    actor = Actor(owner_id=PydanticObjectId())
    for url in ("ftp://example.com/hook", "javascript:alert(1)", "example.com/hook", "http://"):
        with pytest.raises(ValidationFailed) as caught:
            await services.webhooks.create(actor, WebhookInput(url=url))
        assert "url" in caught.value.field_errors
    with pytest.raises(ValidationFailed) as caught:
        await services.webhooks.create(
            actor, WebhookInput(url="https://example.com/hook", events=["post.exploded"])
        )
    assert "events" in caught.value.field_errors
    with pytest.raises(ValidationFailed):
        await services.webhooks.create(
            actor, WebhookInput(url="https://example.com/hook", secret="short")
        )
    viewer = Actor(owner_id=actor.owner_id, role="VIEWER")  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        await services.webhooks.create(viewer, WebhookInput(url="https://example.com/hook"))


async def test_redirects_are_not_followed_but_retried_like_failures(
    services: Services, receiver: Receiver
) -> None:
    actor = Actor(owner_id=PydanticObjectId())
    hook = (await services.webhooks.create(actor, WebhookInput(url=receiver.url))).webhook
    receiver.answers = [302, 500]
    receiver.headers[302] = {"location": "http://127.0.0.1:1/elsewhere"}
    delivery = await services.webhooks.send_test(actor, hook.id)

    statuses = [await services.webhooks.deliver(str(delivery.id)) for _ in range(3)]

    assert statuses == ["RETRYING", "RETRYING", "DELIVERED"]
    assert len(receiver.received) == 3  # the redirect was not followed anywhere
    logged = await services.webhooks.delivery(actor, delivery.id)
    assert logged.history[0].response_code == 302
    assert logged.history[0].error is not None and "redirect" in logged.history[0].error
    assert logged.history[1].response_code == 500
    assert logged.status is DeliveryStatus.DELIVERED and logged.attempts == 3
    assert receiver.received[0].json["type"] == "webhook.test"


async def test_backoff_doubles_and_gives_up_after_the_last_attempt(
    make_settings: Any, clock: Any, receiver: Receiver
) -> None:
    from scheduler.services import build_services

    settings = make_settings(webhook_attempts=3, webhook_retry_seconds=10)
    async with build_services(settings, clock=clock) as services:
        actor = Actor(owner_id=PydanticObjectId())
        hook = (await services.webhooks.create(actor, WebhookInput(url=receiver.url))).webhook
        receiver.answers = [503, 503, 503]
        delivery = await services.webhooks.send_test(actor, hook.id)
        waits = []
        for _ in range(3):
            await services.webhooks.deliver(str(delivery.id))
            current = await services.webhooks.delivery(actor, delivery.id)
            if current.next_attempt_at is not None:
                waits.append(current.next_attempt_at - clock.now())
        assert waits == [timedelta(seconds=10), timedelta(seconds=20)]
        assert current.status is DeliveryStatus.FAILED and current.attempts == 3
        assert current.error is not None and "Gave up after 3 attempts" in current.error
        # A duplicate job for a finished delivery sends nothing.
        assert await services.webhooks.deliver(str(delivery.id)) == "FAILED"
        assert len(receiver.received) == 3
        await services.mongo.drop_database(settings.database_name)


async def test_disabled_or_deleted_webhooks_send_nothing(
    services: Services, receiver: Receiver
) -> None:
    actor = Actor(owner_id=PydanticObjectId())
    hook = (await services.webhooks.create(actor, WebhookInput(url=receiver.url))).webhook
    delivery = await services.webhooks.send_test(actor, hook.id)
    await services.webhooks.update(actor, hook.id, enabled=False)
    assert await services.webhooks.deliver(str(delivery.id)) == "CANCELLED"
    assert receiver.received == []
    stranger = Actor(owner_id=PydanticObjectId())
    with pytest.raises(NotFoundError):
        await services.webhooks.get(stranger, hook.id)
    with pytest.raises(NotFoundError):
        await services.webhooks.resend(stranger, delivery.id)
    await services.webhooks.delete(actor, hook.id)
    assert (await services.webhooks.deliveries(actor)).total == 0
    assert await services.webhooks.all(actor) == []
