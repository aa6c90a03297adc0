"""Insights over HTTP: per publication of a post, per account, and the top posts, each scoped
to its owner. The readings are stored as the insights worker stores them."""

from __future__ import annotations

from datetime import timedelta

from beanie import PydanticObjectId

from graphql_api.insights import InsightMetric
from sandbox.simulator.server import SimulatorServer
from scheduler.platform.documents import Account, AccountInsights, InsightSample, PostInsights
from scheduler.services import Services
from scheduler.threads.client import POST_METRICS
from tests.conftest import T0
from tests.graphql_api.conftest import Api, Caller, connect, make_post

POST_INSIGHTS = """query($id: ID!) { post(id: $id) { __typename ... on Post { insights {
    postId accountId mediaId publishedAt fetchedAt nextFetchAt error
    metrics { views likes replies reposts quotes shares }
    history { at metrics { views likes } } } } } }"""
ACCOUNT_INSIGHTS = """query($id: ID!) { account(id: $id) { ... on Account { insights {
    accountId fetchedAt metrics { views followersCount } history { at metrics { followersCount } }
} } } }"""
TOP = """query($metric: InsightMetric!, $account: ID, $limit: Int!) {
    topPosts(metric: $metric, accountId: $account, limit: $limit) {
        mediaId metrics { views likes } post { content { text } } } }"""


async def store_reading(
    account: Account, post_id: PydanticObjectId | None, media_id: str, **metrics: int
) -> PostInsights:
    assert post_id is not None and account.id is not None
    doc = PostInsights(
        owner_id=account.owner_id,
        account_id=account.id,
        post_id=post_id,
        media_id=media_id,
        published_at=T0 - timedelta(days=1),
        metrics=metrics,
        fetched_at=T0,
        next_fetch_at=T0 + timedelta(days=7),
        history=[
            InsightSample(at=T0 - timedelta(hours=23), metrics={"views": 1}),
            InsightSample(at=T0, metrics=metrics),
        ],
        created_at=T0,
    )
    await doc.insert()
    return doc


async def test_post_insights_per_publication(
    api: Api, account: Account, owner: Caller, services: Services
):
    post = await make_post(services, owner, account, "read by many")
    empty = (await api(POST_INSIGHTS, {"id": str(post.id)}))["post"]["insights"]
    assert empty == []
    await store_reading(account, post.id, "m1", views=120, likes=7, replies=2)
    [insights] = (await api(POST_INSIGHTS, {"id": str(post.id)}))["post"]["insights"]
    assert insights["postId"] == str(post.id) and insights["mediaId"] == "m1"
    assert insights["metrics"] == {
        "views": 120,
        "likes": 7,
        "replies": 2,
        "reposts": None,  # not read (yet)
        "quotes": None,
        "shares": None,
    }
    assert insights["fetchedAt"] == T0.isoformat()
    assert insights["nextFetchAt"] == (T0 + timedelta(days=7)).isoformat()
    assert [h["metrics"]["views"] for h in insights["history"]] == [1, 120]


async def test_account_insights(
    api: Api,
    account: Account,
    stranger: Caller,
    services: Services,
    simulator: SimulatorServer,
):
    assert (await api(ACCOUNT_INSIGHTS, {"id": str(account.id)}))["account"]["insights"] is None
    assert account.id is not None
    await AccountInsights(
        owner_id=account.owner_id,
        account_id=account.id,
        metrics={"views": 900, "followers_count": 42},
        fetched_at=T0,
        history=[InsightSample(at=T0, metrics={"followers_count": 42})],
        created_at=T0,
    ).insert()
    insights = (await api(ACCOUNT_INSIGHTS, {"id": str(account.id)}))["account"]["insights"]
    assert insights == {
        "accountId": str(account.id),
        "fetchedAt": T0.isoformat(),
        "metrics": {"views": 900, "followersCount": 42},
        "history": [{"at": T0.isoformat(), "metrics": {"followersCount": 42}}],
    }
    hidden = await api(ACCOUNT_INSIGHTS, {"id": str(account.id)}, token=stranger.token)
    assert hidden["account"] == {}  # NotFound: no Account fields


async def test_top_posts_by_metric_scoped_to_the_owner(
    api: Api,
    account: Account,
    owner: Caller,
    stranger: Caller,
    services: Services,
    simulator: SimulatorServer,
):
    other = await connect(services, simulator, owner, "bo")
    theirs = await connect(services, simulator, stranger, "zed")
    a = await make_post(services, owner, account, "many views")
    b = await make_post(services, owner, other, "many likes")
    c = await make_post(services, stranger, theirs, "not yours")
    await store_reading(account, a.id, "ma", views=500, likes=3)
    await store_reading(other, b.id, "mb", views=50, likes=30)
    await store_reading(theirs, c.id, "mc", views=9000, likes=900)

    by_views = (await api(TOP, {"metric": "VIEWS", "limit": 10}))["topPosts"]
    assert [t["mediaId"] for t in by_views] == ["ma", "mb"]
    assert by_views[0]["post"] == {"content": {"text": "many views"}}
    by_likes = (await api(TOP, {"metric": "LIKES", "limit": 1}))["topPosts"]
    assert [t["mediaId"] for t in by_likes] == ["mb"]
    one_account = {"metric": "LIKES", "account": str(account.id), "limit": 10}
    assert [t["mediaId"] for t in (await api(TOP, one_account))["topPosts"]] == ["ma"]

    errors = await api.errors(TOP, {"metric": "VIEWS", "limit": 0})
    assert errors[0]["message"] == "Invalid input. limit: Ask for 1 to 100 posts."
    await services.posts.delete(owner.actor, a.id)
    orphan = (await api(TOP, {"metric": "VIEWS", "limit": 1}))["topPosts"]
    assert orphan == [{"mediaId": "ma", "metrics": {"views": 500, "likes": 3}, "post": None}]


def test_the_metric_enum_matches_the_core():
    assert [metric.value for metric in InsightMetric] == list(POST_METRICS)
