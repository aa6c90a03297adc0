"""Insights: a post's numbers and a server-drawn SVG chart of their history on its page, the
account's on the account page, the best posts on the overview; and the chart geometry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.platform.documents import AccountInsights, InsightSample, Post, PostInsights
from scheduler.services import Services
from tests.web.conftest import Tenant, soup
from web.charts import line_chart, nice_ceiling

PUBLISHED = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


async def readings(owner: Tenant, post: Post, views: list[int], **latest: int) -> PostInsights:
    history = [
        InsightSample(at=PUBLISHED + timedelta(hours=h), metrics={"views": v, "likes": v // 10})
        for h, v in zip((1, 6, 24, 168), views, strict=False)
    ]
    doc = PostInsights(
        owner_id=owner.actor.owner_id,
        account_id=owner.account.id,
        post_id=post.id,
        media_id=f"media-{post.id}",
        published_at=PUBLISHED,
        metrics={"views": views[-1], "likes": views[-1] // 10, **latest},
        fetched_at=history[-1].at,
        next_fetch_at=PUBLISHED + timedelta(days=14),
        fetches=len(history),
        history=history,
        created_at=PUBLISHED,
    )
    await doc.insert()
    return doc


async def test_the_post_page_charts_the_readings(owner: Tenant, services: Services) -> None:
    post = await owner.post(services, "Counted")
    await readings(owner, post, [120, 900, 1500, 2100], replies=7)

    response = await owner.client.get(f"/posts/{post.id}")
    assert [p.post_id for p in response.context["publications"]] == [post.id]
    metrics = soup(response).find(id="post-metrics")
    assert "2,100" in metrics.text and "7" in metrics.text
    chart = soup(response).find("svg", id="post-chart-views")
    assert chart["role"] == "img"
    assert "4 readings" in chart.find("title").text and "latest 2,100" in chart.find("title").text
    points = [tuple(map(float, p.split(","))) for p in chart.find("polyline")["points"].split()]
    assert len(points) == 4
    assert [x for x, _ in points] == sorted(x for x, _ in points)  # time runs left to right
    assert [y for _, y in points] == sorted((y for _, y in points), reverse=True)  # rising
    assert [c.find("title").text for c in chart.find_all("circle")][0].startswith("120 views")
    assert soup(response).find("svg", id="post-chart-likes") is not None


async def test_a_post_without_readings_says_when_they_come(
    owner: Tenant, services: Services
) -> None:
    post = await owner.post(services, "Not yet published")
    response = await owner.client.get(f"/posts/{post.id}")
    assert response.context["publications"] == []
    section = soup(response).find(id="post-insights")
    assert "an hour after the post is published" in section.text
    assert section.find("svg") is None


async def test_the_account_page_and_the_overview_show_insights(
    owner: Tenant, services: Services
) -> None:
    await AccountInsights(
        owner_id=owner.actor.owner_id,
        account_id=owner.account.id,
        metrics={"views": 5000, "followers_count": 321},
        fetched_at=PUBLISHED,
        history=[
            InsightSample(at=PUBLISHED - timedelta(days=1), metrics={"followers_count": 300}),
            InsightSample(at=PUBLISHED, metrics={"followers_count": 321, "views": 5000}),
        ],
        created_at=PUBLISHED,
    ).insert()
    best = await owner.post(services, "The best one")
    other = await owner.post(services, "Another one")
    await readings(owner, other, [10, 20])
    await readings(owner, best, [100, 4000])

    page = await owner.client.get(f"/accounts/{owner.account.id}")
    assert page.context["account_insights"].metrics["followers_count"] == 321
    assert "321" in soup(page).find(id="account-insights").text
    assert soup(page).find("svg", id="account-chart-followers_count") is not None
    assert [post.id for _, post in page.context["top_posts"]] == [best.id, other.id]

    overview = await owner.client.get("/")
    top = [post.content.text for _, post in overview.context["top_posts"]]
    assert top == ["The best one", "Another one"]
    assert "4,000 views" in soup(overview).find(class_="top-posts").text


def test_chart_geometry() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    assert line_chart([], name="views") is None
    chart = line_chart(
        [(start, 0), (start + timedelta(hours=1), 50), (start + timedelta(hours=4), 180)],
        name="views",
        zone="Europe/Berlin",
    )
    assert chart is not None
    xs = [dot.x for dot in chart.dots]
    assert xs[0] == chart.left and xs[-1] == chart.right_edge
    assert abs((xs[1] - xs[0]) * 3 - (xs[2] - xs[1])) < 0.5  # time at its real pace
    assert [tick.text for tick in chart.values] == ["0", "100", "200"]  # 180 rounds up to 200
    assert chart.dots[0].title == "0 views on 01 Jan 01:00"  # Berlin time
    single = line_chart([(start, 7)], name="likes")
    assert single is not None and len(single.dates) == 1
    assert [nice_ceiling(v) for v in (1, 3, 7, 10, 11, 4001)] == [1, 5, 10, 10, 20, 5000]
