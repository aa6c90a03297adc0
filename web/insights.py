"""Insights: what Threads counted for posts and accounts, as numbers and small SVG charts.

No routes of its own: the post page, the account page and the overview fill part of their
context here (reads only). Charts show the history the worker collected (`InsightSample`s,
oldest first); the numbers are the latest reading.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from scheduler.accounts.actors import Actor
from scheduler.platform.documents import InsightSample, Post, PostInsights
from scheduler.services import Services
from scheduler.threads.client import ACCOUNT_METRICS, POST_METRICS
from web.charts import LineChart, line_chart

CHARTED_POST_METRICS = ("views", "likes")
CHARTED_ACCOUNT_METRICS = ("views", "followers_count")
TOP_POSTS = 5


def charts_of(
    history: Sequence[InsightSample], metrics: Iterable[str], zone: str
) -> list[tuple[str, LineChart]]:
    """One chart per metric that has readings: (metric, chart)."""
    charts: list[tuple[str, LineChart]] = []
    for metric in metrics:
        samples = [(s.at, s.metrics[metric]) for s in history if metric in s.metrics]
        chart = line_chart(samples, name=metric.replace("_", " "), zone=zone)
        if chart is not None:
            charts.append((metric, chart))
    return charts


async def post_insights(
    services: Services, actor: Actor, post_id: str, zone: str
) -> dict[str, Any]:
    """`publications` (newest first) and the charts of the newest one."""
    publications = await services.insights.for_post(actor, post_id)
    newest = publications[0].history if publications else []
    return {
        "publications": publications,
        "post_metrics": POST_METRICS,
        "post_charts": charts_of(newest, CHARTED_POST_METRICS, zone),
    }


async def _with_posts(
    services: Services, actor: Actor, top: list[PostInsights]
) -> list[tuple[PostInsights, Post | None]]:
    posts = await services.posts.get_many(actor, [entry.post_id for entry in top])
    by_id = {post.id: post for post in posts}
    return [(entry, by_id.get(entry.post_id)) for entry in top]


async def top_posts(
    services: Services, actor: Actor, account_id: str | None = None
) -> list[tuple[PostInsights, Post | None]]:
    """The best publications by views, each with its post (None once the post is deleted)."""
    top = await services.insights.top_posts(actor, account_id=account_id, limit=TOP_POSTS)
    return await _with_posts(services, actor, top) if top else []


async def account_insights(
    services: Services, actor: Actor, account_id: str, zone: str
) -> dict[str, Any]:
    """The account's latest daily metrics, their charts and its best posts."""
    insights, top = await asyncio.gather(
        services.insights.for_account(actor, account_id),
        top_posts(services, actor, account_id),
    )
    return {
        "account_insights": insights,
        "account_metrics": ACCOUNT_METRICS,
        "account_charts": charts_of(insights.history, CHARTED_ACCOUNT_METRICS, zone)
        if insights
        else [],
        "top_posts": top,
    }
