"""Insights with deterministic numbers: a hash of the object id and metric, grown with age.

A post's metrics start at 0 when it is published and grow linearly to a fixed, hash-derived value
over 48 hours of the simulator's clock, so the same post at the same instant always reports the
same numbers. `replies` is the real number of (undeleted) direct replies.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.simulator.objects import Account, Media
from sandbox.simulator.params import GraphRequest
from sandbox.simulator.publishing import acting_account, require_scope
from sandbox.simulator.responses import Reply, invalid_param, json_reply, no_such_object
from sandbox.simulator.state import SimulatorState
from scheduler.threads.models import format_graph_time

POST_METRIC_CAPS = {
    "views": 5000,
    "likes": 500,
    "replies": 0,
    "reposts": 50,
    "quotes": 20,
    "shares": 30,
}
ACCOUNT_METRICS = frozenset(
    {
        "views",
        "likes",
        "replies",
        "reposts",
        "quotes",
        "clicks",
        "followers_count",
        "follower_demographics",
    }
)
EARLIEST_ACCOUNT_SINCE = 1712991600  # docs/threads-api.md §8.2
BREAKDOWNS = {
    "country": ["US", "BR", "IN", "GB"],
    "city": ["New York, New York", "São Paulo, São Paulo", "London, England"],
    "age": ["18-24", "25-34", "35-44", "45-54"],
    "gender": ["F", "M", "U"],
}


def hashed(seed: str, cap: int) -> int:
    """A stable pseudo-random number in [0, cap)."""
    if cap <= 0:
        return 0
    digest = hashlib.blake2b(seed.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % cap


def post_metric(state: SimulatorState, media: Media, name: str, now: datetime) -> int:
    if name == "replies":
        return sum(1 for r in media.replies if not state.media[r].deleted)
    grown = min(1.0, max(0.0, (now - media.timestamp).total_seconds() / (48 * 3600)))
    return int(hashed(f"{media.id}:{name}", POST_METRIC_CAPS[name]) * grown)


def post_insights(state: SimulatorState, req: GraphRequest) -> Reply:
    _, token = state.authenticate(req.token, req.now)
    require_scope(token, "threads_manage_insights")
    media = state.live_media(req.segments[0])
    if media is None:
        raise no_such_object(req.segments[0])
    names = _metrics(req, frozenset(POST_METRIC_CAPS))
    data = [
        {
            "name": name,
            "period": "lifetime",
            "values": [{"value": post_metric(state, media, name, req.now)}],
            "title": name.title(),
            "description": f"The number of {name} of your post.",
            "id": f"{media.id}/insights/{name}/lifetime",
        }
        for name in names
    ]
    return json_reply({"data": data})


def account_insights(state: SimulatorState, req: GraphRequest) -> Reply:
    account, token = acting_account(state, req)
    require_scope(token, "threads_manage_insights")
    names = _metrics(req, ACCOUNT_METRICS)
    since, until = req.timestamp("since"), req.timestamp("until")
    for bound in (since, until):
        if bound is not None and bound < EARLIEST_ACCOUNT_SINCE:
            raise invalid_param(f"Params since and until must be at least {EARLIEST_ACCOUNT_SINCE}")
    if (since is not None or until is not None) and {
        "followers_count",
        "follower_demographics",
    } & set(names):
        raise invalid_param(
            "followers_count and follower_demographics do not accept since or until"
        )
    end = datetime.fromtimestamp(until, UTC) if until is not None else req.now
    start = datetime.fromtimestamp(since, UTC) if since is not None else end - timedelta(days=1)
    posts = [
        m
        for m in (state.media[i] for i in account.posts)
        if not m.deleted and start <= m.timestamp <= end
    ]
    data = [_account_metric(state, req, account, name, posts, start, end) for name in names]
    return json_reply({"data": data})


def _account_metric(
    state: SimulatorState,
    req: GraphRequest,
    account: Account,
    name: str,
    posts: list[Media],
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": name,
        "period": "day",
        "title": name,
        "description": f"The {name}.",
    }
    item["id"] = f"{account.user_id}/insights/{name}/day"
    followers = hashed(f"{account.user_id}:followers", 5000)
    if name == "views":
        days = max(1, (end.date() - start.date()).days + 1)
        item["values"] = [
            {
                "value": hashed(
                    f"{account.user_id}:{(start + timedelta(days=d)).date()}:views", 1000
                ),
                "end_time": format_graph_time(
                    datetime.combine(start.date() + timedelta(days=d + 1), datetime.min.time(), UTC)
                ),
            }
            for d in range(days)
        ]
    elif name == "clicks":
        links = sorted({p.spec.link_attachment for p in posts if p.spec.link_attachment})
        item["link_total_values"] = [
            {"value": hashed(f"{link}:clicks", 100), "link_url": link} for link in links
        ]
    elif name == "followers_count":
        item["total_value"] = {"value": followers}
    elif name == "follower_demographics":
        item["total_value"] = _demographics(req, account, followers)
    else:
        item["total_value"] = {"value": sum(post_metric(state, p, name, req.now) for p in posts)}
    return item


def _demographics(req: GraphRequest, account: Account, followers: int) -> dict[str, Any]:
    breakdown = req.get("breakdown")
    if breakdown not in BREAKDOWNS:
        raise invalid_param(
            "follower_demographics needs exactly one breakdown: country, city, age or gender"
        )
    if followers < 100:
        raise invalid_param("follower_demographics needs a profile with at least 100 followers")
    results = [
        {"dimension_values": [key], "value": hashed(f"{account.user_id}:{key}", followers)}
        for key in BREAKDOWNS[breakdown]
    ]
    return {"breakdowns": [{"dimension_keys": [breakdown], "results": results}]}


def _metrics(req: GraphRequest, allowed: frozenset[str]) -> list[str]:
    names = [m.strip() for m in req.require("metric").split(",") if m.strip()]
    for i, name in enumerate(names):
        if name not in allowed:
            raise invalid_param(
                f"metric[{i}] must be one of the following values: {', '.join(sorted(allowed))}"
            )
    return names
