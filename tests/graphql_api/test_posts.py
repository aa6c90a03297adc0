"""Posts over HTTP: every query and mutation, with each of its typed errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sandbox.simulator.server import SimulatorServer
from scheduler.platform.documents import Account, Occurrence, OccurrenceState, Post, PostStatus
from scheduler.services import Services
from tests.conftest import T0
from tests.graphql_api.conftest import Api, Caller, connect, make_post, snapshot

POST_FIELDS = """
    id accountId status version nextRunAt lastError heldReason occurrenceCount
    content { type text media { url kind altText } options { topicTag poll { options } } }
    replies { text delaySeconds }
    schedule { pattern timezone startDate times description }
    account { id username }
    lastOccurrence { id state scheduledFor }
"""
DETAILS = {
    "ValidationErrors": "errors { field messages }",
    "NotFound": "kind id",
    "Conflict": "stale",
}


def errors(*types: str) -> str:
    """Selections of the error members a union has (spreading another type is invalid)."""
    spreads = " ".join(f"... on {t} {{ {DETAILS[t]} }}" for t in types if t in DETAILS)
    return f"__typename ... on Error {{ message }} {spreads}"


ALL = ("ValidationErrors", "NotFound", "Conflict")
CREATE = f"""
mutation Create($input: CreatePostInput!) {{
  createPost(input: $input) {{ {errors("ValidationErrors")} ... on Post {{ {POST_FIELDS} }} }}
}}"""


def once(minutes_from_t0: int = 60) -> dict[str, Any]:
    at = T0 + timedelta(minutes=minutes_from_t0)
    return {"pattern": "ONCE", "startDate": at.date().isoformat(), "times": [at.strftime("%H:%M")]}


UNIONS = {
    "updatePost": ALL,
    "schedulePost": ALL,
    "publishNow": ALL,
    "cancelPost": ("NotFound", "Conflict"),
    "retryPost": ("NotFound", "Conflict"),
    "duplicatePost": ("ValidationErrors", "NotFound"),
    "deletePost": ("NotFound", "Conflict"),
}


def mutation(name: str, input_type: str, fields: str = "id status version") -> str:
    payload = "DeletedPost" if name == "deletePost" else "Post"
    if payload == "DeletedPost":
        fields = "id"
    return f"""
    mutation($input: {input_type}!) {{
      {name}(input: $input) {{ {errors(*UNIONS[name])} ... on {payload} {{ {fields} }} }}
    }}"""


async def test_create_post_as_draft_and_scheduled(api: Api, account: Account, services: Services):
    draft = await api(
        CREATE,
        {
            "input": {
                "accountId": str(account.id),
                "content": {"text": "Hello from GraphQL", "options": {"topicTag": "news"}},
                "replies": [{"text": "And a reply", "delaySeconds": 30}],
            }
        },
    )
    post = draft["createPost"]
    assert post["__typename"] == "Post" and post["status"] == "DRAFT"
    assert post["content"] == {
        "type": "TEXT",
        "text": "Hello from GraphQL",
        "media": [],
        "options": {"topicTag": "news", "poll": None},
    }
    assert post["replies"] == [{"text": "And a reply", "delaySeconds": 30}]
    assert post["account"] == {"id": str(account.id), "username": "ana"}
    assert post["lastOccurrence"] is None
    stored = await Post.get(post["id"])
    assert stored is not None and stored.content.text == "Hello from GraphQL"

    scheduled = (
        await api(
            CREATE,
            {
                "input": {
                    "accountId": str(account.id),
                    "content": {"text": "Later"},
                    "schedule": once(),
                }
            },
        )
    )["createPost"]
    assert scheduled["status"] == "SCHEDULED"
    assert scheduled["nextRunAt"] == (T0 + timedelta(hours=1)).isoformat()
    assert scheduled["schedule"]["description"].startswith("Once on")
    assert scheduled["schedule"]["times"] == ["10:00:00"]


async def test_create_post_reports_each_bad_field_and_writes_nothing(
    api: Api, account: Account, services: Services
):
    before = await snapshot(services)
    result = (
        await api(
            CREATE,
            {
                "input": {
                    "accountId": "000000000000000000000000",
                    "content": {"text": "x" * 501},
                    "replies": [{"text": "ok", "delaySeconds": -5}],
                    "schedule": once(-60),
                }
            },
        )
    )["createPost"]
    assert result["__typename"] == "ValidationErrors"
    fields = {error["field"] for error in result["errors"]}
    assert fields == {"replies.0.delaySeconds"}  # the models refuse first, before the core looks
    result = (
        await api(
            CREATE,
            {
                "input": {
                    "accountId": "000000000000000000000000",
                    "content": {"text": "x" * 501},
                    "schedule": once(-60),
                }
            },
        )
    )["createPost"]
    messages = {error["field"]: error["messages"] for error in result["errors"]}
    assert set(messages) == {"accountId", "content.text", "schedule.startDate"}
    assert "501 characters" in messages["content.text"][0]
    assert "in the past" in messages["schedule.startDate"][0]
    assert await snapshot(services) == before


async def test_posts_lists_filters_and_pages(
    api: Api, account: Account, owner: Caller, services: Services
):
    for n in range(5):
        await make_post(services, owner, account, f"draft {n}")
    await make_post(services, owner, account, "scheduled one", schedule=once_core(90))
    query = """
    query($filter: PostFilterInput, $first: Int!, $after: String) {
      posts(filter: $filter, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { content { text } status } }
        nodes { id }
      }
    }"""
    first = (await api(query, {"first": 4}))["posts"]
    assert first["totalCount"] == 6
    assert [e["node"]["content"]["text"] for e in first["edges"]] == [
        "scheduled one",
        "draft 4",
        "draft 3",
        "draft 2",
    ]
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    rest = (await api(query, {"first": 4, "after": first["pageInfo"]["endCursor"]}))["posts"]
    assert [e["node"]["content"]["text"] for e in rest["edges"]] == ["draft 1", "draft 0"]
    assert rest["pageInfo"]["hasPreviousPage"] and not rest["pageInfo"]["hasNextPage"]

    scheduled = (await api(query, {"first": 10, "filter": {"status": ["SCHEDULED"]}}))["posts"]
    assert [n["node"]["status"] for n in scheduled["edges"]] == ["SCHEDULED"]
    found = (await api(query, {"first": 10, "filter": {"text": "DRAFT 3"}}))["posts"]
    assert found["totalCount"] == 1
    due = {
        "dueFrom": (T0 + timedelta(minutes=80)).isoformat(),
        "dueUntil": (T0 + timedelta(hours=2)).isoformat(),
    }
    assert (await api(query, {"first": 10, "filter": due}))["posts"]["totalCount"] == 1
    by_account = {"accountId": str(account.id)}
    assert (await api(query, {"first": 10, "filter": by_account}))["posts"]["totalCount"] == 6

    errors = await api.errors(query, {"first": 10, "after": "not-a-cursor"})
    assert "not a cursor" in errors[0]["message"]
    errors = await api.errors(query, {"first": 500})
    assert "1 to 200" in errors[0]["message"]


def once_core(minutes_from_t0: int) -> dict[str, Any]:
    at = T0 + timedelta(minutes=minutes_from_t0)
    return {"pattern": "ONCE", "start_date": at.date().isoformat(), "times": [at.strftime("%H:%M")]}


async def test_other_owners_posts_are_invisible(
    api: Api,
    account: Account,
    owner: Caller,
    stranger: Caller,
    services: Services,
    simulator: SimulatorServer,
):
    theirs = await make_post(
        services, stranger, await connect(services, simulator, stranger, "zed")
    )
    mine = await make_post(services, owner, account)
    listed = await api("{ posts { totalCount nodes { id } } }")
    assert listed["posts"] == {"totalCount": 1, "nodes": [{"id": str(mine.id)}]}
    result = (await api(f'{{ post(id: "{theirs.id}") {{ {errors("NotFound")} }} }}'))["post"]
    assert result == {
        "__typename": "NotFound",
        "message": f"Post {theirs.id} was not found; check the id (it may have been deleted).",
        "kind": "Post",
        "id": str(theirs.id),
    }
    before = await snapshot(services)
    for name, input_type in [
        ("cancelPost", "PostIdInput"),
        ("publishNow", "PostIdInput"),
        ("retryPost", "PostIdInput"),
        ("duplicatePost", "PostIdInput"),
        ("deletePost", "PostIdInput"),
        ("updatePost", "UpdatePostInput"),
    ]:
        # Another owner's id, an unknown one and a malformed one all look the same.
        for post_id in (str(theirs.id), "000000000000000000000000", "not-an-id"):
            variables = {"input": {"id": post_id}}
            result = (await api(mutation(name, input_type), variables))[name]
            assert result["__typename"] == "NotFound", (name, post_id, result)
            assert result["id"] == post_id and result["kind"] == "Post"
    schedule = {"input": {"id": str(theirs.id), "schedule": once(60)}}
    result = (await api(mutation("schedulePost", "SchedulePostInput"), schedule))["schedulePost"]
    assert result["__typename"] == "NotFound"
    assert await snapshot(services) == before


async def test_post_query_resolves_timeline_and_last_occurrence(
    api: Api, account: Account, owner: Caller, services: Services
):
    post = await make_post(services, owner, account, schedule=once_core(30))
    older = Occurrence(
        post_id=post.id,
        owner_id=owner.actor.owner_id,
        account_id=account.id,
        scheduled_for=T0 - timedelta(days=1),
        post_version=1,
        state=OccurrenceState.PUBLISHED,
        claimed_at=T0 - timedelta(days=1),
        updated_at=T0,
        parts=[
            {"index": 0, "state": "PUBLISHED", "due_at": T0 - timedelta(days=1), "media_id": "m1"}
        ],
        attempts=[{"at": T0 - timedelta(days=1), "step": "publish", "error": None}],
    )
    newer = older.model_copy(
        update={"id": None, "scheduled_for": T0, "state": OccurrenceState.FAILED, "error": "boom"}
    )
    await older.insert()
    await newer.insert()
    query = """query($id: ID!) { post(id: $id) { ... on Post {
        lastOccurrence { id state error }
        occurrences(limit: 5) { state scheduledFor parts { index state mediaId } attempts { step } }
    } } }"""
    result = (await api(query, {"id": str(post.id)}))["post"]
    assert result["lastOccurrence"] == {"id": str(newer.id), "state": "FAILED", "error": "boom"}
    assert [o["state"] for o in result["occurrences"]] == ["FAILED", "PUBLISHED"]
    assert result["occurrences"][1]["parts"] == [
        {"index": 0, "state": "PUBLISHED", "mediaId": "m1"}
    ]
    assert result["occurrences"][1]["attempts"] == [{"step": "publish"}]


async def test_update_post_with_version_and_conflicts(
    api: Api, account: Account, owner: Caller, services: Services
):
    post = await make_post(services, owner, account, "first words")
    update = mutation("updatePost", "UpdatePostInput", "id version content { text } status")
    changed = (
        await api(
            update, {"input": {"id": str(post.id), "version": 1, "content": {"text": "second"}}}
        )
    )["updatePost"]
    assert changed["__typename"] == "Post" and changed["content"]["text"] == "second"
    assert changed["version"] == 2

    stale = (
        await api(
            update, {"input": {"id": str(post.id), "version": 1, "content": {"text": "third"}}}
        )
    )["updatePost"]
    assert stale["__typename"] == "Conflict" and stale["stale"] is True
    assert "reload it and try again" in stale["message"]
    assert (await services.posts.get(owner.actor, post.id)).content.text == "second"

    bad = (await api(update, {"input": {"id": str(post.id), "content": {"text": "x" * 501}}}))[
        "updatePost"
    ]
    assert bad["__typename"] == "ValidationErrors"
    assert bad["errors"][0]["field"] == "content.text"

    await Post.find_one({"_id": post.id}).update({"$set": {"status": str(PostStatus.PUBLISHED)}})
    published = (await api(update, {"input": {"id": str(post.id), "content": {"text": "again"}}}))[
        "updatePost"
    ]
    assert published["__typename"] == "Conflict" and published["stale"] is False
    assert "already published" in published["message"]

    missing = (await api(update, {"input": {"id": "nope", "content": {"text": "x"}}}))["updatePost"]
    assert missing["__typename"] == "NotFound"


async def test_schedule_cancel_retry_publish_now_duplicate_delete(
    api: Api, account: Account, owner: Caller, services: Services
):
    post = await make_post(services, owner, account, "lifecycle")
    pid = str(post.id)
    schedule = mutation(
        "schedulePost", "SchedulePostInput", "status nextRunAt schedule { pattern }"
    )
    result = (await api(schedule, {"input": {"id": pid, "schedule": once(120)}}))["schedulePost"]
    assert (
        result["status"] == "SCHEDULED"
        and result["nextRunAt"] == (T0 + timedelta(hours=2)).isoformat()
    )
    past = (await api(schedule, {"input": {"id": pid, "schedule": once(-1)}}))["schedulePost"]
    assert (
        past["__typename"] == "ValidationErrors"
        and past["errors"][0]["field"] == "schedule.startDate"
    )
    weekly = {"pattern": "WEEKLY", "startDate": "2030-01-07", "times": ["25:00"], "daysOfWeek": [9]}
    bad = (await api(schedule, {"input": {"id": pid, "schedule": weekly}}))["schedulePost"]
    assert {e["field"] for e in bad["errors"]} >= {"schedule.times.0"}

    cancel = mutation("cancelPost", "PostIdInput")
    assert (await api(cancel, {"input": {"id": pid}}))["cancelPost"]["status"] == "CANCELLED"
    again = (await api(cancel, {"input": {"id": pid}}))["cancelPost"]
    assert again["__typename"] == "Conflict" and "cannot be cancelled" in again["message"]

    retry = mutation("retryPost", "PostIdInput")
    refused = (await api(retry, {"input": {"id": pid}}))["retryPost"]
    assert refused["__typename"] == "Conflict" and "only failed posts" in refused["message"]
    await Post.find_one({"_id": post.id}).update(
        {"$set": {"status": "FAILED", "last_error": "boom"}}
    )
    retried = (await api(retry, {"input": {"id": pid}}))["retryPost"]
    assert retried["__typename"] == "Post" and retried["status"] == "SCHEDULED"

    now = mutation("publishNow", "PostIdInput", "status nextRunAt")
    soon = (await api(now, {"input": {"id": pid}}))["publishNow"]
    assert soon["status"] == "SCHEDULED" and soon["nextRunAt"] == T0.isoformat()
    empty = await make_post(services, owner, account, "x")
    await Post.find_one({"_id": empty.id}).update({"$set": {"content.text": ""}})
    invalid = (await api(now, {"input": {"id": str(empty.id)}}))["publishNow"]
    assert (
        invalid["__typename"] == "ValidationErrors"
        and invalid["errors"][0]["field"] == "content.text"
    )

    duplicate = mutation("duplicatePost", "PostIdInput", "id status content { text }")
    copy = (await api(duplicate, {"input": {"id": pid}}))["duplicatePost"]
    assert (
        copy["status"] == "DRAFT" and copy["content"]["text"] == "lifecycle" and copy["id"] != pid
    )

    delete = mutation("deletePost", "PostIdInput")
    await Post.find_one({"_id": post.id}).update(
        {"$set": {"status": "PUBLISHING", "sending_for": T0}}
    )
    busy = (await api(delete, {"input": {"id": pid}}))["deletePost"]
    assert busy["__typename"] == "Conflict" and "being published right now" in busy["message"]
    gone = (await api(delete, {"input": {"id": copy["id"]}}))["deletePost"]
    assert gone == {"__typename": "DeletedPost", "id": copy["id"]}
    assert await Post.get(copy["id"]) is None
    assert (await api(delete, {"input": {"id": copy["id"]}}))["deletePost"][
        "__typename"
    ] == "NotFound"


async def test_scheduled_posts_soonest_first(
    api: Api, account: Account, owner: Caller, services: Services
):
    late = await make_post(services, owner, account, "late", schedule=once_core(300))
    early = await make_post(services, owner, account, "early", schedule=once_core(10))
    await make_post(services, owner, account, "draft")
    data = await api("{ scheduledPosts(limit: 10) { id } }")
    assert [p["id"] for p in data["scheduledPosts"]] == [str(early.id), str(late.id)]


async def test_a_viewer_may_list_posts_but_not_change_them(
    api: Api, viewer: Caller, account: Account, owner: Caller, services: Services
):
    post = await make_post(services, owner, account, "read only")
    listed = await api("{ posts { nodes { id } } }", token=viewer.token)
    assert listed["posts"]["nodes"] == [{"id": str(post.id)}]
    before = await snapshot(services)
    create = await api(
        CREATE,
        {"input": {"accountId": str(account.id), "content": {"text": "nope"}}},
        token=viewer.token,
    )
    assert create["createPost"]["__typename"] == "PermissionDenied"
    assert "Your role is viewer" in create["createPost"]["message"]
    cancel = await api(
        mutation("cancelPost", "PostIdInput"), {"input": {"id": str(post.id)}}, token=viewer.token
    )
    assert cancel["cancelPost"]["__typename"] == "PermissionDenied"
    assert await snapshot(services) == before
