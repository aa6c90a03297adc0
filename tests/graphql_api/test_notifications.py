"""Notifications over HTTP and over a real WebSocket: the inbox with its unread count, marking
read, and `notificationCreated` scoped to the subscriber's owner."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from scheduler.ops.notifications import Notice, NoticeKind
from scheduler.platform.clock import ManualClock
from scheduler.platform.documents import Account, Notification
from scheduler.services import Services
from tests.graphql_api.conftest import Api, Caller, make_post, ws_connect

INBOX = """query($unread: Boolean!, $first: Int!, $after: String) {
    notifications(unreadOnly: $unread, first: $first, after: $after) {
        totalCount unread pageInfo { hasNextPage endCursor }
        nodes { id kind level title message read readAt createdAt
            post { content { text } } account { username } } } }"""
MARK = """mutation($input: MarkNotificationsReadInput!) { markNotificationsRead(input: $input) {
    __typename ... on Error { message } ... on NotFound { kind }
    ... on NotificationsMarked { marked } } }"""
CREATED = """subscription { notificationCreated {
    id kind level title message read post { content { text } } } }"""


async def notify(
    services: Services, owner: Caller, error: str, post_id: object = None
) -> Notification:
    """What the worker's reactor records when a post fails."""
    notice = Notice(
        id=uuid.uuid4().hex,
        kind=NoticeKind.POST_FAILED,
        owner_id=str(owner.actor.owner_id),
        at=services.clock.now(),
        data={"post_id": str(post_id) if post_id else None, "status": "FAILED", "error": error},
    )
    recorded = await services.notifications.record(notice)
    assert recorded is not None
    return recorded


async def test_the_inbox_pages_counts_and_marks_read(
    api: Api,
    account: Account,
    owner: Caller,
    stranger: Caller,
    services: Services,
    clock: ManualClock,
):
    post = await make_post(services, owner, account, "it failed")
    first = await notify(services, owner, "Threads refused the media.", post.id)
    clock.advance(timedelta(minutes=1))
    await notify(services, owner, "Threads was down.")
    await notify(services, stranger, "Not yours.")

    inbox = (await api(INBOX, {"unread": False, "first": 1}))["notifications"]
    assert (inbox["totalCount"], inbox["unread"]) == (2, 2)
    assert inbox["pageInfo"]["hasNextPage"]
    rest = await api(INBOX, {"unread": False, "first": 5, "after": inbox["pageInfo"]["endCursor"]})
    assert [n["message"] for n in inbox["nodes"]] == ["Threads was down."]  # newest first
    [oldest] = rest["notifications"]["nodes"]
    assert oldest == {
        "id": str(first.id),
        "kind": "POST_FAILED",
        "level": "error",
        "title": "A post failed",
        "message": "Threads refused the media.",
        "read": False,
        "readAt": None,
        "createdAt": first.created_at.isoformat(),
        "post": {"content": {"text": "it failed"}},
        "account": None,
    }

    marked = (await api(MARK, {"input": {"ids": [str(first.id)]}}))["markNotificationsRead"]
    assert marked == {"__typename": "NotificationsMarked", "marked": 1}
    unread = (await api(INBOX, {"unread": True, "first": 10}))["notifications"]
    assert (unread["totalCount"], unread["unread"]) == (1, 1)
    assert unread["nodes"][0]["message"] == "Threads was down."

    everything = (await api(MARK, {"input": {}}))["markNotificationsRead"]
    assert everything["marked"] == 1  # the rest of the owner's; the stranger's stay unread
    assert (await api(INBOX, {"unread": False, "first": 10}))["notifications"]["unread"] == 0
    theirs = await api(INBOX, {"unread": True, "first": 10}, token=stranger.token)
    assert theirs["notifications"]["unread"] == 1


async def test_marking_errors_and_viewers(
    api: Api, owner: Caller, stranger: Caller, viewer: Caller, services: Services
):
    theirs = await notify(services, stranger, "Not yours.")
    mine = await notify(services, owner, "Mine.")
    bad = (await api(MARK, {"input": {"ids": ["not-an-id"]}}))["markNotificationsRead"]
    assert bad["__typename"] == "NotFound" and bad["kind"] == "Notification"
    other = (await api(MARK, {"input": {"ids": [str(theirs.id)]}}))["markNotificationsRead"]
    assert other["marked"] == 0
    denied = (await api(MARK, {"input": {"ids": [str(mine.id)]}}, token=viewer.token))[
        "markNotificationsRead"
    ]
    assert denied["__typename"] == "PermissionDenied"
    assert (await api(INBOX, {"unread": False, "first": 10}, token=viewer.token))["notifications"][
        "unread"
    ] == 1
    stored = await Notification.get(theirs.id)
    assert stored is not None and stored.read_at is None
    errors = await api.errors(INBOX, {"unread": False, "first": 0})
    assert "1 to 200" in errors[0]["message"]


def subscribers(services: Services) -> int:
    # Subscribing happens on the server's side of the socket: wait for it before publishing.
    return len(services.events._subscribers)


async def wait_for_subscribers(services: Services, count: int) -> None:
    for _ in range(500):
        if subscribers(services) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {subscribers(services)} subscribers, wanted {count}")


async def test_notification_created_over_a_websocket_is_scoped_to_the_owner(
    served: str, account: Account, owner: Caller, stranger: Caller, services: Services
):
    post = await make_post(services, owner, account, "went wrong")
    headers: dict[str, Any] = {"Authorization": f"Bearer {owner.token}"}
    async with ws_connect(served, "graphql-transport-ws", headers) as ws:
        before = subscribers(services)
        await ws.send({"id": "n", "type": "subscribe", "payload": {"query": CREATED}})
        await wait_for_subscribers(services, before + 1)
        await notify(services, stranger, "Someone else's failure.")
        mine = await notify(services, owner, "Threads refused the post.", post.id)
        message = await ws.receive()
        assert message == {
            "id": "n",
            "type": "next",
            "payload": {
                "data": {
                    "notificationCreated": {
                        "id": str(mine.id),
                        "kind": "POST_FAILED",
                        "level": "error",
                        "title": "A post failed",
                        "message": "Threads refused the post.",
                        "read": False,
                        "post": {"content": {"text": "went wrong"}},
                    }
                }
            },
        }
        await ws.send({"id": "n", "type": "complete"})
        await ws.send({"type": "ping"})
        assert await ws.receive() == {"type": "pong"}  # nothing else arrived
