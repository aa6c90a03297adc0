"""Insights: the metrics Threads reports for published posts and for accounts, with their history.

A post has one `PostInsights` per publication (a recurring post publishes several times), read on
a schedule that thins out with age; `history` holds the readings, oldest first, for charts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import strawberry

from graphql_api.context import Info
from graphql_api.fields import authenticated_field, field
from scheduler.platform import documents as core
from scheduler.threads.client import ACCOUNT_METRICS, POST_METRICS

if TYPE_CHECKING:
    from graphql_api.posts import Post

# graphql_api.posts imports this module (a Post shows its insights, an Account its queue): the
# Post type is resolved lazily, and imported by the resolver when it runs.
LazyPost = Annotated["Post", strawberry.lazy("graphql_api.posts")]


@strawberry.enum(description="A metric of a post, to rank posts by.")
class InsightMetric(StrEnum):
    VIEWS = "views"
    LIKES = "likes"
    REPLIES = "replies"
    REPOSTS = "reposts"
    QUOTES = "quotes"
    SHARES = "shares"


@strawberry.type(description="A post's lifetime metrics (null: not read yet).")
class PostMetrics:
    views: int | None
    likes: int | None
    replies: int | None
    reposts: int | None
    quotes: int | None
    shares: int | None

    @classmethod
    def from_dict(cls, metrics: Mapping[str, int]) -> PostMetrics:
        return cls(**{name: metrics.get(name) for name in POST_METRICS})


@strawberry.type(description="An account's metrics of the last day (null: not read yet).")
class AccountMetrics:
    views: int | None
    likes: int | None
    replies: int | None
    reposts: int | None
    quotes: int | None
    followers_count: int | None

    @classmethod
    def from_dict(cls, metrics: Mapping[str, int]) -> AccountMetrics:
        return cls(**{name: metrics.get(name) for name in ACCOUNT_METRICS})


@strawberry.type(description="A post's metrics as read at one instant (a point of a chart).")
class PostInsightSample:
    at: datetime
    metrics: PostMetrics


@strawberry.type(description="An account's metrics as read at one instant.")
class AccountInsightSample:
    at: datetime
    metrics: AccountMetrics


@strawberry.type(description="The insights of one publication of a post.")
class PostInsights:
    post_id: strawberry.ID
    account_id: strawberry.ID
    media_id: str = strawberry.field(description="The published post's Threads id.")
    published_at: datetime
    metrics: PostMetrics = strawberry.field(description="The latest reading.")
    fetched_at: datetime | None
    next_fetch_at: datetime | None = strawberry.field(
        description="The next reading; null when the post is too old to be read again."
    )
    history: list[PostInsightSample] = strawberry.field(description="Readings, oldest first.")
    error: str | None = strawberry.field(description="Why the last reading failed, if it did.")

    @field(description="The post (null if it was deleted).")
    async def post(self, info: Info) -> LazyPost | None:
        from graphql_api.posts import Post

        found = await info.context.loaders.post.load(self.post_id)
        return Post.from_document(found) if found else None

    @classmethod
    def from_document(cls, doc: core.PostInsights) -> PostInsights:
        return cls(
            post_id=strawberry.ID(str(doc.post_id)),
            account_id=strawberry.ID(str(doc.account_id)),
            media_id=doc.media_id,
            published_at=doc.published_at,
            metrics=PostMetrics.from_dict(doc.metrics),
            fetched_at=doc.fetched_at,
            next_fetch_at=doc.next_fetch_at,
            history=[
                PostInsightSample(at=s.at, metrics=PostMetrics.from_dict(s.metrics))
                for s in doc.history
            ],
            error=doc.error,
        )


@strawberry.type(description="An account's daily insights and their history.")
class AccountInsights:
    account_id: strawberry.ID
    metrics: AccountMetrics = strawberry.field(description="The latest reading.")
    fetched_at: datetime | None
    next_fetch_at: datetime | None
    history: list[AccountInsightSample] = strawberry.field(description="Readings, oldest first.")
    error: str | None

    @classmethod
    def from_document(cls, doc: core.AccountInsights) -> AccountInsights:
        return cls(
            account_id=strawberry.ID(str(doc.account_id)),
            metrics=AccountMetrics.from_dict(doc.metrics),
            fetched_at=doc.fetched_at,
            next_fetch_at=doc.next_fetch_at,
            history=[
                AccountInsightSample(at=s.at, metrics=AccountMetrics.from_dict(s.metrics))
                for s in doc.history
            ],
            error=doc.error,
        )


@strawberry.type
class InsightsQuery:
    @authenticated_field(
        description="Your best publications by one metric (of one account, or all), 1-100.",
    )
    async def top_posts(
        self,
        info: Info,
        metric: InsightMetric = InsightMetric.VIEWS,
        account_id: strawberry.ID | None = None,
        limit: int = 10,
    ) -> list[PostInsights]:
        found = await info.context.services.insights.top_posts(
            info.context.caller, account_id=account_id, metric=metric.value, limit=limit
        )
        return [PostInsights.from_document(doc) for doc in found]
