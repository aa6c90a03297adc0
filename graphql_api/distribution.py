"""Distribution: spread posts over a window, at least a gap apart per account (the seed's random
distribution): `planDistribution` previews where each post would go, `distributePosts` does it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated

import strawberry

from graphql_api.context import Info
from graphql_api.errors import Conflict, NotFound, PermissionDenied, ValidationErrors
from graphql_api.fields import authenticated_field, authenticated_mutation, field
from graphql_api.posts import Post
from scheduler.posts import distribute


@strawberry.input(
    description=(
        "Posts to spread over [start, end], each account on its own, within the account's quota "
        "per 24 hours and clear of its other scheduled posts."
    )
)
class DistributeInput:
    post_ids: list[strawberry.ID] = strawberry.field(
        description="Drafts or scheduled, failed or cancelled one-off posts."
    )
    start: datetime = strawberry.field(description="The window's start, with a UTC offset.")
    end: datetime = strawberry.field(description="The window's end, with a UTC offset.")
    min_gap: int = strawberry.field(
        default=5, description="Minutes between two posts of one account, 5 or more."
    )
    daily_start: time | None = strawberry.field(
        default=None, description="With dailyEnd: publish only between these local times."
    )
    daily_end: time | None = None
    timezone: str | None = strawberry.field(
        default=None,
        description="The zone of the daily hours and schedules; default each account's own.",
    )
    randomize: bool = strawberry.field(
        default=False, description="Random instants (the seed's way) instead of evenly spaced."
    )
    seed: int | None = strawberry.field(
        default=None, description="Makes a random plan repeatable (plan, then apply the same)."
    )

    def request(self) -> distribute.DistributeRequest:
        return distribute.DistributeRequest(
            post_ids=list(self.post_ids),
            start=self.start,
            end=self.end,
            min_gap=timedelta(minutes=self.min_gap),
            daily_start=self.daily_start,
            daily_end=self.daily_end,
            timezone=self.timezone,
            randomize=self.randomize,
            seed=self.seed,
        )


@strawberry.type(description="Where one post would go.")
class Placement:
    post_id: strawberry.ID
    account_id: strawberry.ID
    at: datetime = strawberry.field(description="The instant, in UTC.")
    local: datetime = strawberry.field(description="Wall-clock time in `timezone` (no offset).")
    timezone: str

    @field(description="The post.")
    async def post(self, info: Info) -> Post | None:
        found = await info.context.loaders.post.load(self.post_id)
        return Post.from_document(found) if found else None

    @classmethod
    def from_placement(cls, placement: distribute.Placement) -> Placement:
        return cls(
            post_id=strawberry.ID(str(placement.post_id)),
            account_id=strawberry.ID(str(placement.account_id)),
            at=placement.at,
            local=placement.local,
            timezone=placement.timezone,
        )


@strawberry.type(description="A preview: where each post would go. Nothing was changed.")
class DistributionPlan:
    placements: list[Placement]


@strawberry.type(description="The posts, scheduled at their places.")
class DistributedPosts:
    posts: list[Post]


DistributionPlanResult = Annotated[
    DistributionPlan | ValidationErrors | NotFound, strawberry.union("DistributionPlanResult")
]
DistributePostsResult = Annotated[
    DistributedPosts | ValidationErrors | NotFound | Conflict | PermissionDenied,
    strawberry.union("DistributePostsResult"),
]


@strawberry.type
class DistributionQuery:
    @authenticated_field(description="Where distributePosts would put each post; writes nothing.")
    async def plan_distribution(self, info: Info, input: DistributeInput) -> DistributionPlanResult:
        placements = await info.context.services.distributor.plan(
            info.context.caller, input.request()
        )
        return DistributionPlan(placements=[Placement.from_placement(p) for p in placements])


@strawberry.type
class DistributionMutation:
    @authenticated_mutation(
        description="Schedule each post (one-off, in the plan's zone) where the plan puts it.",
    )
    async def distribute_posts(self, info: Info, input: DistributeInput) -> DistributePostsResult:
        posts = await info.context.services.distributor.apply(info.context.caller, input.request())
        return DistributedPosts(posts=[Post.from_document(post) for post in posts])
