"""Posting slots and the queue over HTTP: setting the weekly grid, the empty-queue warning,
add-to-queue, the upcoming slots, shuffle and reorder, with each typed error. T0 is Monday
2030-01-07 09:00 UTC; the account's zone is UTC."""

from __future__ import annotations

from typing import Any

from sandbox.simulator.server import SimulatorServer
from scheduler.platform.documents import Account
from scheduler.services import Services
from tests.graphql_api.conftest import Api, Caller, connect, make_post

FAIL = "__typename ... on Error { message }"
INVALID = "... on ValidationErrors { errors { field messages } }"
SET_SLOTS = f"""mutation($input: SetPostingSlotsInput!) {{ setPostingSlots(input: $input) {{
    {FAIL} {INVALID} ... on NotFound {{ kind }} ... on Account {{ postingSlots {{ weekday at }} }}
}} }}"""
ADD = f"""mutation($input: AddToQueueInput!) {{ addToQueue(input: $input) {{
    {FAIL} {INVALID} ... on NotFound {{ kind }} ... on Post {{ id status nextRunAt }} }} }}"""
QUEUE = """query($id: ID!, $limit: Int!) { account(id: $id) { ... on Account {
    queue {
        status { slotsPerWeek queued nextFree runsOutAt warning }
        upcoming(limit: $limit) { at local postId post { content { text } } } } } } }"""
REORDER = f"""mutation($input: ReorderQueueInput!) {{ reorderQueue(input: $input) {{
    {FAIL} {INVALID} ... on QueuedPosts {{ posts {{ id nextRunAt }} }} }} }}"""
SHUFFLE = f"""mutation($input: ShuffleQueueInput!) {{ shuffleQueue(input: $input) {{
    {FAIL} ... on NotFound {{ kind }} ... on QueuedPosts {{ posts {{ id nextRunAt }} }} }} }}"""
WEEKDAYS_AT_9 = [{"weekday": day, "at": "09:00"} for day in range(5)]


async def queue(api: Api, account: Account, limit: int = 3) -> dict[str, Any]:
    data = await api(QUEUE, {"id": str(account.id), "limit": limit})
    result: dict[str, Any] = data["account"]["queue"]
    return result


async def set_slots(api: Api, account: Account, slots: list[dict[str, Any]], **kw: Any) -> Any:
    variables = {"input": {"accountId": str(account.id), "slots": slots}}
    return (await api(SET_SLOTS, variables, **kw))["setPostingSlots"]


async def test_slots_the_empty_queue_warning_and_add_to_queue(
    api: Api, account: Account, owner: Caller, services: Services
):
    first = await make_post(services, owner, account, "first in the queue")
    refused = (await api(ADD, {"input": {"postId": str(first.id)}}))["addToQueue"]
    assert refused["__typename"] == "ValidationErrors"
    assert refused["errors"][0]["field"] == "slots"
    assert "no posting slots" in (await queue(api, account))["status"]["warning"]

    updated = await set_slots(api, account, WEEKDAYS_AT_9)
    assert updated["postingSlots"] == [{"weekday": d, "at": "09:00:00"} for d in range(5)]
    empty = await queue(api, account)
    assert empty["status"]["slotsPerWeek"] == 5 and empty["status"]["queued"] == 0
    assert "queue of @ana is empty" in empty["status"]["warning"]
    assert empty["upcoming"][0] == {
        "at": "2030-01-08T09:00:00+00:00",  # today's 09:00 is too close: Tuesday's
        "local": "2030-01-08T09:00:00",
        "postId": None,
        "post": None,
    }

    added = (await api(ADD, {"input": {"postId": str(first.id)}}))["addToQueue"]
    assert (added["status"], added["nextRunAt"]) == ("SCHEDULED", "2030-01-08T09:00:00+00:00")
    running_low = (await queue(api, account))["status"]
    assert "runs out at 2030-01-08 09:00 UTC" in running_low["warning"]  # within a day
    second = await make_post(services, owner, account, "second in the queue")
    added = (await api(ADD, {"input": {"postId": str(second.id)}}))["addToQueue"]
    assert added["nextRunAt"] == "2030-01-09T09:00:00+00:00"

    filled = await queue(api, account)
    assert filled["status"]["queued"] == 2
    assert filled["status"]["nextFree"] == "2030-01-10T09:00:00+00:00"
    assert filled["status"]["warning"] is None
    assert [slot["post"] for slot in filled["upcoming"]] == [
        {"content": {"text": "first in the queue"}},
        {"content": {"text": "second in the queue"}},
        None,
    ]


async def test_reorder_and_shuffle_move_posts_between_their_slots(
    api: Api, account: Account, owner: Caller, services: Services
):
    await set_slots(api, account, WEEKDAYS_AT_9)
    posts = [await make_post(services, owner, account, f"queued {n}") for n in range(3)]
    for post in posts:
        await services.slots.add_to_queue(owner.actor, post.id)
    ids = [str(post.id) for post in posts]
    wanted = [ids[2], ids[0], ids[1]]
    reordered = (await api(REORDER, {"input": {"accountId": str(account.id), "postIds": wanted}}))[
        "reorderQueue"
    ]
    assert [p["id"] for p in reordered["posts"]] == wanted
    assert [p["nextRunAt"][:10] for p in reordered["posts"]] == [
        "2030-01-08",
        "2030-01-09",
        "2030-01-10",
    ]

    partial = {"input": {"accountId": str(account.id), "postIds": ids[:2]}}
    refused = (await api(REORDER, partial))["reorderQueue"]
    assert refused["__typename"] == "ValidationErrors"
    assert refused["errors"][0]["field"] == "postIds"

    shuffled = (await api(SHUFFLE, {"input": {"accountId": str(account.id), "seed": 7}}))[
        "shuffleQueue"
    ]
    assert sorted(p["id"] for p in shuffled["posts"]) == sorted(ids)
    slots = [p["nextRunAt"] for p in shuffled["posts"]]
    assert slots == sorted(slots) and len(set(slots)) == 3  # still one post per slot


async def test_bad_slots_are_reported_per_field(api: Api, account: Account):
    result = await set_slots(
        api, account, [{"weekday": 9, "at": "09:00"}, {"weekday": 1, "at": "25:61"}]
    )
    assert result["__typename"] == "ValidationErrors"
    fields = {error["field"] for error in result["errors"]}
    assert fields == {"slots.0.weekday", "slots.1.at"}


async def test_other_owners_accounts_and_posts_are_not_found(
    api: Api,
    account: Account,
    stranger: Caller,
    services: Services,
    simulator: SimulatorServer,
):
    theirs = await connect(services, simulator, stranger, "zed")
    their_post = await make_post(services, stranger, theirs, "not yours")
    assert (await set_slots(api, theirs, WEEKDAYS_AT_9))["__typename"] == "NotFound"
    added = (await api(ADD, {"input": {"postId": str(their_post.id)}}))["addToQueue"]
    assert added == {
        "__typename": "NotFound",
        "message": f"Post {their_post.id} was not found; check the id (it may have been deleted).",
        "kind": "Post",
    }
    shuffled = (await api(SHUFFLE, {"input": {"accountId": str(theirs.id)}}))["shuffleQueue"]
    assert shuffled["__typename"] == "NotFound"
    stored = await Account.get(theirs.id)
    assert stored is not None and stored.slots == []


async def test_a_viewer_sees_the_queue_but_cannot_change_it(
    api: Api, account: Account, owner: Caller, viewer: Caller, services: Services
):
    denied = await set_slots(api, account, WEEKDAYS_AT_9, token=viewer.token)
    assert denied["__typename"] == "PermissionDenied"
    post = await make_post(services, owner, account)
    added = (await api(ADD, {"input": {"postId": str(post.id)}}, token=viewer.token))["addToQueue"]
    assert added["__typename"] == "PermissionDenied"
    data = await api(QUEUE, {"id": str(account.id), "limit": 1}, token=viewer.token)
    assert data["account"]["queue"]["status"]["slotsPerWeek"] == 0
