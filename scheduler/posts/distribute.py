"""Distribute: spread a set of posts over a window, at least a minimum gap apart, per account.

The seed's "random distribution", kept and made exact. For each account separately, the candidate
instants are a grid `min_gap` apart inside the window (and, when given, inside the daily hours,
read on the wall clock of the account's time zone: a DST change shifts the instants, not the
hours). Instants closer than `min_gap` to the account's other scheduled posts are dropped, and no
rolling 24 hours may hold more than the account's publishing quota (250), counting what is
already scheduled or was published. Then the posts get candidates spread evenly, or at random.

`plan` only computes (a preview, or to show why it does not fit); `apply` schedules the posts on
ONCE schedules in the account's zone through `PostService.schedule`.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right, insort
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from beanie import PydanticObjectId

from scheduler.accounts.actors import Actor
from scheduler.platform.clock import Clock
from scheduler.platform.documents import Account, Post, PostStatus
from scheduler.platform.errors import ValidationFailed
from scheduler.posts.recurrence import Pattern, Schedule
from scheduler.posts.recurrence.zones import find_zone, local_wall, to_instant
from scheduler.posts.service import PostService

MIN_GAP = timedelta(minutes=5)
QUOTA_WINDOW = timedelta(hours=24)
# Posts need preparing before their instant: the window starts no sooner than this from now.
LEAD = timedelta(minutes=2)
_MOVABLE = (PostStatus.DRAFT, PostStatus.SCHEDULED, PostStatus.FAILED, PostStatus.CANCELLED)


@dataclass(frozen=True)
class DistributeRequest:
    """Which posts to spread, and where.

    Args:
        post_ids: the posts (any accounts; each account is spread on its own).
        start: the window's first instant (aware).
        end: the window's last instant (aware).
        min_gap: the least time between two posts of one account (5 minutes or more).
        daily_start: with `daily_end`, only publish between these local times each day.
        daily_end: the end of the daily hours (after `daily_start`).
        timezone: the zone of the daily hours and of the schedules; default each account's.
        randomize: random instants (the seed's way) rather than evenly spaced ones.
        seed: makes the random choice repeatable (tests, previews).
    """

    post_ids: Sequence[object]
    start: datetime
    end: datetime
    min_gap: timedelta = MIN_GAP
    daily_start: time | None = None
    daily_end: time | None = None
    timezone: str | None = None
    randomize: bool = False
    seed: int | None = None


@dataclass(frozen=True)
class Placement:
    """Where one post goes: the instant, and the wall time in the schedule's zone."""

    post_id: PydanticObjectId
    account_id: PydanticObjectId
    at: datetime
    local: datetime
    timezone: str


class Distributor:
    """Plans and applies the spreading of posts over a window."""

    def __init__(self, *, clock: Clock, posts: PostService) -> None:
        self._clock = clock
        self._posts = posts

    async def plan(self, actor: Actor, request: DistributeRequest) -> list[Placement]:
        """Where each post would go (in the order of `post_ids` per account); writes nothing.

        Raises:
            ValidationFailed: a bad window or gap, a post that cannot move (published,
                recurring), or more posts than fit (saying how many fit).
            NotFoundError: a post id that is not the actor's.
        """
        self._check_request(request)
        posts = [await self._posts.get(actor, post_id) for post_id in request.post_ids]
        self._check_posts(posts)
        rng = random.Random(request.seed)
        placements: list[Placement] = []
        for account_id in dict.fromkeys(post.account_id for post in posts):
            account = await Account.find_one({"_id": account_id, "owner_id": actor.owner_id})
            assert account is not None  # a post's account belongs to the same owner
            group = [post for post in posts if post.account_id == account_id]
            placements += await self._place(account, group, request, rng)
        return placements

    async def apply(self, actor: Actor, request: DistributeRequest) -> list[Post]:
        """Plan, then schedule every post at its instant (ONCE, in the zone of the plan)."""
        actor.require_write()
        placements = await self.plan(actor, request)
        scheduled: list[Post] = []
        for placement in placements:
            schedule = Schedule.once(placement.local, placement.timezone)
            scheduled.append(await self._posts.schedule(actor, placement.post_id, schedule))
        return scheduled

    # --- checks ----------------------------------------------------------------------------

    def _check_request(self, r: DistributeRequest) -> None:
        errors: dict[str, list[str]] = {}
        if r.start.tzinfo is None or r.end.tzinfo is None:
            errors["start"] = ["Give the window's start and end with a time zone (UTC offset)."]
        elif r.end <= max(r.start, self._clock.now()):
            errors["end"] = ["The window must end after it starts, and in the future."]
        if r.min_gap < MIN_GAP:
            minutes = int(MIN_GAP.total_seconds() // 60)
            errors["min_gap"] = [f"The gap between posts must be at least {minutes} minutes."]
        elif r.min_gap.total_seconds() % 1:
            errors["min_gap"] = ["Give the gap in whole seconds."]
        if (r.daily_start is None) != (r.daily_end is None):
            errors["daily_start"] = ["Give both the start and the end of the daily hours."]
        elif r.daily_start is not None and r.daily_end is not None:
            if r.daily_start >= r.daily_end:
                errors["daily_end"] = [
                    "The daily hours must end after they start on the same day, e.g. 09:00-21:00."
                ]
        if r.timezone is not None and find_zone(r.timezone) is None:
            errors["timezone"] = [f"{r.timezone!r} is not a known IANA time zone."]
        if not r.post_ids:
            errors["post_ids"] = ["Choose at least one post to distribute."]
        if errors:
            raise ValidationFailed(errors)

    @staticmethod
    def _check_posts(posts: Sequence[Post]) -> None:
        errors: dict[str, list[str]] = {}
        for i, post in enumerate(posts):
            if post.status not in _MOVABLE:
                errors[f"post_ids.{i}"] = [
                    f"Post {post.id} is {post.status.value}; only drafts and scheduled, failed or "
                    "cancelled posts can be distributed."
                ]
            elif post.schedule is not None and post.schedule.pattern is not Pattern.ONCE:
                errors[f"post_ids.{i}"] = [
                    f"Post {post.id} repeats ({post.schedule.pattern.value}); distribute spreads "
                    "one-off posts. Leave it out, or change its schedule to a single time."
                ]
        if len({post.id for post in posts}) != len(posts):
            errors["post_ids"] = ["A post is listed twice; list each post once."]
        if errors:
            raise ValidationFailed(errors)

    # --- placing ---------------------------------------------------------------------------

    async def _place(
        self, account: Account, posts: list[Post], r: DistributeRequest, rng: random.Random
    ) -> list[Placement]:
        zone_name = r.timezone or account.timezone
        zone = find_zone(zone_name) or ZoneInfo("UTC")
        start = max(r.start, self._clock.now() + LEAD)
        taken = await self._taken(account, posts, start - QUOTA_WINDOW, r.end + QUOTA_WINDOW)
        candidates = [
            at
            for at in _grid(start, r.end, r.min_gap, zone, r.daily_start, r.daily_end)
            if not _near(taken, at, r.min_gap)
        ]
        if r.randomize:
            order = rng.sample(candidates, len(candidates))
        else:
            order = _evenly_first(candidates, len(posts))
        chosen: list[datetime] = []
        busy = sorted(taken)
        for at in order:
            if len(chosen) == len(posts):
                break
            if _fits_quota(busy, at, account.quota.total):
                insort(busy, at)
                chosen.append(at)
        if len(chosen) < len(posts):
            raise ValidationFailed.single(
                "post_ids", _does_not_fit(account, len(chosen), len(posts), r, zone_name)
            )
        chosen.sort()
        return [
            Placement(
                post_id=post.id,  # type: ignore[arg-type]  # stored posts have ids
                account_id=account.id,  # type: ignore[arg-type]
                at=at,
                local=local_wall(at, zone),
                timezone=zone_name,
            )
            for post, at in zip(posts, chosen, strict=True)
        ]

    @staticmethod
    async def _taken(
        account: Account, moving: Sequence[Post], since: datetime, until: datetime
    ) -> list[datetime]:
        """Instants of the account's other posts: scheduled ones, and ones published lately."""
        ids = [post.id for post in moving]
        query = {
            "account_id": account.id,
            "_id": {"$nin": ids},
            "$or": [
                {
                    "status": {"$in": [str(PostStatus.SCHEDULED), str(PostStatus.PUBLISHING)]},
                    "next_run_at": {"$gte": since, "$lte": until},
                },
                {"last_published_at": {"$gte": since, "$lte": until}},
            ],
        }
        fields = {"next_run_at": 1, "last_published_at": 1, "status": 1}
        found: list[datetime] = []
        async for raw in Post.get_pymongo_collection().find(query, fields):
            for key in ("next_run_at", "last_published_at"):
                value = raw.get(key)
                if value is not None and since <= value <= until:
                    found.append(value)
        return found


def _grid(
    start: datetime,
    end: datetime,
    gap: timedelta,
    zone: ZoneInfo,
    daily_start: time | None,
    daily_end: time | None,
) -> list[datetime]:
    """Instants `gap` apart in [start, end] (within the daily hours), whole seconds, in order."""
    spans: list[tuple[datetime, datetime]] = [(start, end)]
    if daily_start is not None and daily_end is not None:
        spans = []
        day = local_wall(start, zone).date() - timedelta(days=1)
        last = local_wall(end, zone).date()
        while day <= last:
            opens = to_instant(datetime.combine(day, daily_start), zone)
            closes = to_instant(datetime.combine(day, daily_end), zone)
            if closes >= start and opens <= end:
                spans.append((max(opens, start), min(closes, end)))
            day += timedelta(days=1)
    found: list[datetime] = []
    for opens, closes in spans:
        at = _ceil_minute(opens)
        while at <= closes:
            # A wall time shown twice (the hour after a fall-back) cannot be written as a ONCE
            # schedule in this zone without landing on the first one: skip the second.
            if to_instant(local_wall(at, zone), zone) == at and (
                not found or at - found[-1] >= gap
            ):
                found.append(at)
            at += gap
    return found


def _ceil_minute(instant: datetime) -> datetime:
    floor = instant.replace(second=0, microsecond=0)
    return floor if floor == instant else floor + timedelta(minutes=1)


def _near(taken: Sequence[datetime], at: datetime, gap: timedelta) -> bool:
    return any(abs(other - at) < gap for other in taken)


def _evenly_first(candidates: list[datetime], count: int) -> list[datetime]:
    """Candidates spread evenly over the list first, then the rest (used if quota skips some)."""
    if count <= 0 or not candidates:
        return candidates
    if count == 1:
        picks = [0]
    else:
        span = len(candidates) - 1
        picks = sorted({round(i * span / (count - 1)) for i in range(count)})
    first = [candidates[i] for i in picks]
    chosen = set(picks)
    return first + [c for i, c in enumerate(candidates) if i not in chosen]


def _fits_quota(busy: list[datetime], at: datetime, limit: int) -> bool:
    """Whether adding `at` keeps every rolling 24 hours at or under `limit` posts."""
    # Only windows that contain `at` change; each starts at a post in (at - 24 h, at].
    lo = bisect_right(busy, at - QUOTA_WINDOW)
    hi = bisect_right(busy, at)
    starts = [*busy[lo:hi], at]
    for begin in starts:
        count = bisect_left(busy, begin + QUOTA_WINDOW) - bisect_left(busy, begin)
        if count + 1 > limit:
            return False
    return True


def _does_not_fit(account: Account, fits: int, wanted: int, r: DistributeRequest, zone: str) -> str:
    hours = ""
    if r.daily_start is not None and r.daily_end is not None:
        hours = f", within {r.daily_start:%H:%M}-{r.daily_end:%H:%M} ({zone})"
    gap = int(r.min_gap.total_seconds() // 60)
    return (
        f"Only {fits} of the {wanted} posts for @{account.username} fit between "
        f"{r.start.astimezone(UTC):%Y-%m-%d %H:%M} and {r.end.astimezone(UTC):%Y-%m-%d %H:%M} "
        f"UTC{hours}, {gap} minutes apart "
        f"and at most {account.quota.total} per 24 hours (counting its other posts). Widen the "
        "window or the daily hours, or shorten the gap."
    )
