"""Distribution over HTTP: a plan (a preview that writes nothing), then the same request applied,
with each typed error. T0 is Monday 2030-01-07 09:00 UTC."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sandbox.simulator.server import SimulatorServer
from scheduler.platform.documents import Account, Post, PostStatus
from scheduler.services import Services
from tests.conftest import T0
from tests.graphql_api.conftest import Api, Caller, connect, make_post, snapshot

FAIL = "__typename ... on Error { message }"
INVALID = "... on ValidationErrors { errors { field messages } }"
PLAN = f"""query($input: DistributeInput!) {{ planDistribution(input: $input) {{
    {FAIL} {INVALID} ... on NotFound {{ kind id }}
    ... on DistributionPlan {{ placements {{
        postId accountId at local timezone post {{ status content {{ text }} }} }} }} }} }}"""
APPLY = f"""mutation($input: DistributeInput!) {{ distributePosts(input: $input) {{
    {FAIL} {INVALID} ... on NotFound {{ kind }}
    ... on DistributedPosts {{ posts {{ id status nextRunAt schedule {{ timezone }} }} }} }} }}"""


def window(post_ids: list[str], **overrides: Any) -> dict[str, Any]:
    request = {
        "postIds": post_ids,
        "start": (T0 + timedelta(hours=1)).isoformat(),
        "end": (T0 + timedelta(hours=2)).isoformat(),
        "minGap": 30,
        **overrides,
    }
    return {"input": request}


async def test_plan_then_apply(api: Api, account: Account, owner: Caller, services: Services):
    posts = [await make_post(services, owner, account, f"spread {n}") for n in range(3)]
    ids = [str(post.id) for post in posts]
    await api("{ me { role } }")
    before = await snapshot(services)
    plan = (await api(PLAN, window(ids)))["planDistribution"]
    assert plan["__typename"] == "DistributionPlan"
    placements = plan["placements"]
    assert [p["postId"] for p in placements] == ids
    assert [p["at"] for p in placements] == [
        "2030-01-07T10:00:00+00:00",
        "2030-01-07T10:30:00+00:00",
        "2030-01-07T11:00:00+00:00",
    ]
    assert placements[0]["local"] == "2030-01-07T10:00:00" and placements[0]["timezone"] == "UTC"
    assert placements[0]["post"] == {"status": "DRAFT", "content": {"text": "spread 0"}}
    assert {p["accountId"] for p in placements} == {str(account.id)}
    assert await snapshot(services) == before  # a plan writes nothing

    applied = (await api(APPLY, window(ids)))["distributePosts"]
    assert [(p["id"], p["status"]) for p in applied["posts"]] == [(i, "SCHEDULED") for i in ids]
    assert [p["nextRunAt"] for p in applied["posts"]] == [p["at"] for p in placements]
    stored = await Post.find({"_id": {"$in": [post.id for post in posts]}}).to_list()
    assert {post.status for post in stored} == {PostStatus.SCHEDULED}


async def test_daily_hours_and_zone_shape_the_plan(
    api: Api, account: Account, owner: Caller, services: Services
):
    posts = [await make_post(services, owner, account, f"daily {n}") for n in range(2)]
    request = window(
        [str(post.id) for post in posts],
        end=(T0 + timedelta(days=3)).isoformat(),
        minGap=60,
        dailyStart="09:00",
        dailyEnd="10:00",
        timezone="America/New_York",
        randomize=True,
        seed=3,
    )
    placements = (await api(PLAN, request))["planDistribution"]["placements"]
    again = (await api(PLAN, request))["planDistribution"]["placements"]
    assert placements == again  # a seed makes a random plan repeatable
    for placement in placements:
        local = datetime.fromisoformat(placement["local"])
        assert placement["timezone"] == "America/New_York"
        assert (local.hour, local.minute) in {(9, 0), (10, 0)}


async def test_bad_requests_are_validation_errors(
    api: Api, account: Account, owner: Caller, services: Services
):
    post = await make_post(services, owner, account)
    bad = window([str(post.id)], minGap=2, dailyStart="09:00", timezone="Mars/Base")
    result = (await api(PLAN, bad))["planDistribution"]
    assert {e["field"] for e in result["errors"]} == {"minGap", "dailyStart", "timezone"}
    naive = window([str(post.id)], start="2030-01-07T10:00:00")
    result = (await api(APPLY, naive))["distributePosts"]
    assert [e["field"] for e in result["errors"]] == ["start"]
    crowded = window(
        [str(post.id)]
        + [str((await make_post(services, owner, account, f"more {n}")).id) for n in range(3)]
    )
    result = (await api(APPLY, crowded))["distributePosts"]
    assert result["errors"][0]["field"] == "postIds"
    assert result["errors"][0]["messages"][0].startswith("Only 3 of the 4 posts for @ana fit")


async def test_other_owners_posts_and_viewers(
    api: Api,
    account: Account,
    owner: Caller,
    stranger: Caller,
    viewer: Caller,
    services: Services,
    simulator: SimulatorServer,
):
    theirs = await make_post(
        services, stranger, await connect(services, simulator, stranger, "zed"), "theirs"
    )
    mine = await make_post(services, owner, account, "mine")
    result = (await api(APPLY, window([str(mine.id), str(theirs.id)])))["distributePosts"]
    assert result == {
        "__typename": "NotFound",
        "message": f"Post {theirs.id} was not found; check the id (it may have been deleted).",
        "kind": "Post",
    }
    plan = (await api(PLAN, window([str(mine.id)]), token=viewer.token))["planDistribution"]
    assert plan["__typename"] == "DistributionPlan"  # a viewer may look
    applied = (await api(APPLY, window([str(mine.id)]), token=viewer.token))["distributePosts"]
    assert applied["__typename"] == "PermissionDenied"
    stored = await Post.get(mine.id)
    assert stored is not None and stored.status is PostStatus.DRAFT
