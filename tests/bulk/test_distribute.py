"""Distribute: the minimum gap, the daily hours (on the local wall clock, across DST) and quota."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from beanie import PydanticObjectId

from scheduler.accounts.actors import Actor
from scheduler.platform.clock import ManualClock
from scheduler.platform.documents import Account, Post, PostStatus, QuotaSnapshot
from scheduler.platform.errors import ValidationFailed
from scheduler.posts.content import PostContent
from scheduler.posts.distribute import DistributeRequest, Placement
from scheduler.posts.service import PostInput
from scheduler.services import Services
from tests.bulk.conftest import AddAccount
from tests.factories import make_post

BERLIN = ZoneInfo("Europe/Berlin")


async def drafts(
    services: Services, actor: Actor, account: Account, n: int
) -> list[PydanticObjectId]:
    inputs = [
        PostInput(account_id=str(account.id), content=PostContent(text=f"Draft {i}"))
        for i in range(n)
    ]
    created = await services.posts.create_many(actor, inputs)
    return [p.id for p in created if isinstance(p, Post) and p.id is not None]


def gaps(instants: list[datetime]) -> list[timedelta]:
    ordered = sorted(instants)
    return [b - a for a, b in zip(ordered, ordered[1:], strict=False)]


async def test_posts_are_spread_with_the_gap_within_the_daily_hours(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    ana = await add_account("ana", timezone="Europe/Berlin")
    ids = await drafts(services, actor, ana, 20)
    request = DistributeRequest(
        post_ids=ids,
        start=datetime(2030, 1, 8, tzinfo=UTC),
        end=datetime(2030, 1, 10, tzinfo=UTC),
        min_gap=timedelta(minutes=20),
        daily_start=time(9),
        daily_end=time(12),
    )

    posts = await services.distributor.apply(actor, request)

    assert [p.id for p in posts] == ids  # in the order given, earliest first
    instants = [p.next_run_at for p in posts if p.next_run_at is not None]
    assert instants == sorted(instants) and len(instants) == 20
    assert min(gaps(instants)) >= timedelta(minutes=20)
    for post, at in zip(posts, instants, strict=True):
        local = at.astimezone(BERLIN).time()
        assert time(9) <= local <= time(12)
        assert post.status is PostStatus.SCHEDULED
        assert post.schedule is not None and post.schedule.timezone == "Europe/Berlin"
    # Evenly: both days are used, from the first slot to the last.
    assert instants[0].astimezone(BERLIN) == datetime(2030, 1, 8, 9, tzinfo=BERLIN)
    assert instants[-1].astimezone(BERLIN) == datetime(2030, 1, 9, 12, tzinfo=BERLIN)


async def test_too_many_posts_for_the_window_are_refused_saying_how_many_fit(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    ana = await add_account("ana", timezone="Europe/Berlin")
    ids = await drafts(services, actor, ana, 30)
    request = DistributeRequest(
        post_ids=ids,
        start=datetime(2030, 1, 8, tzinfo=UTC),
        end=datetime(2030, 1, 10, tzinfo=UTC),
        min_gap=timedelta(minutes=20),
        daily_start=time(9),
        daily_end=time(12),
    )
    with pytest.raises(ValidationFailed) as caught:
        await services.distributor.apply(actor, request)
    message = caught.value.field_errors["post_ids"][0]
    assert "Only 20 of the 30 posts for @ana" in message and "09:00-12:00" in message
    assert await Post.find({"status": "SCHEDULED"}).count() == 0  # nothing moved


async def test_random_distribution_keeps_the_gap_and_is_repeatable(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    ana = await add_account("ana")
    ids = await drafts(services, actor, ana, 40)
    request = DistributeRequest(
        post_ids=ids,
        start=datetime(2030, 1, 8, 8, tzinfo=UTC),
        end=datetime(2030, 1, 8, 14, tzinfo=UTC),
        randomize=True,
        seed=7,
    )
    first = await services.distributor.plan(actor, request)
    again = await services.distributor.plan(actor, request)
    other = await services.distributor.plan(
        actor, DistributeRequest(**{**request.__dict__, "seed": 8})
    )

    assert first == again and first != other
    instants = [p.at for p in first]
    assert min(gaps(instants)) >= timedelta(minutes=5)
    assert all(request.start <= at <= request.end for at in instants)


async def test_the_gap_is_kept_from_posts_already_scheduled(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    ana = await add_account("ana")
    busy = datetime(2030, 1, 8, 10, 2, tzinfo=UTC)
    await make_post(
        owner_id=actor.owner_id, account_id=ana.id, status=PostStatus.SCHEDULED, next_run_at=busy
    ).insert()
    ids = await drafts(services, actor, ana, 11)
    plan = await services.distributor.plan(
        actor,
        DistributeRequest(
            post_ids=ids,
            start=datetime(2030, 1, 8, 10, tzinfo=UTC),
            end=datetime(2030, 1, 8, 11, tzinfo=UTC),
        ),
    )
    instants = [p.at for p in plan]
    assert all(abs(at - busy) >= timedelta(minutes=5) for at in instants)
    assert min(gaps([*instants, busy])) >= timedelta(minutes=5)


async def test_no_rolling_24_hours_exceeds_the_quota(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    ana = await add_account("ana", quota=QuotaSnapshot(total=10))
    taken = [datetime(2030, 1, 8, 10, tzinfo=UTC) + timedelta(minutes=5 * i) for i in range(8)]
    for at in taken:
        await make_post(
            owner_id=actor.owner_id, account_id=ana.id, status=PostStatus.SCHEDULED, next_run_at=at
        ).insert()
    ids = await drafts(services, actor, ana, 6)
    start = datetime(2030, 1, 8, tzinfo=UTC)

    with pytest.raises(ValidationFailed) as caught:
        await services.distributor.plan(
            actor, DistributeRequest(post_ids=ids, start=start, end=start + timedelta(hours=23))
        )
    assert "Only 2 of the 6" in caught.value.field_errors["post_ids"][0]
    assert "at most 10 per 24 hours" in caught.value.field_errors["post_ids"][0]

    plan: list[Placement] = await services.distributor.plan(
        actor, DistributeRequest(post_ids=ids, start=start, end=start + timedelta(days=3))
    )
    everything = sorted([*taken, *(p.at for p in plan)])
    for begin in everything:
        in_window = [at for at in everything if begin <= at < begin + timedelta(hours=24)]
        assert len(in_window) <= 10, f"{len(in_window)} posts in the 24 h from {begin}"


async def test_daily_hours_follow_the_wall_clock_across_dst(
    services: Services, actor: Actor, add_account: AddAccount, clock: ManualClock
) -> None:
    clock.set(datetime(2030, 3, 29, 12, tzinfo=UTC))  # Europe/Berlin springs forward on 31 March
    ana = await add_account("ana", timezone="Europe/Berlin")
    ids = await drafts(services, actor, ana, 12)
    posts = await services.distributor.apply(
        actor,
        DistributeRequest(
            post_ids=ids,
            start=datetime(2030, 3, 30, tzinfo=UTC),
            end=datetime(2030, 4, 2, tzinfo=UTC),
            min_gap=timedelta(minutes=10),
            daily_start=time(9),
            daily_end=time(9, 30),
        ),
    )
    local = [p.next_run_at.astimezone(BERLIN) for p in posts if p.next_run_at]
    assert {t.time() for t in local} <= {time(9), time(9, 10), time(9, 20), time(9, 30)}
    assert {t.date().day for t in local} == {30, 31, 1}
    offsets = {t.utcoffset() for t in local}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}


async def test_bad_requests_are_refused(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    ana = await add_account("ana")
    ids = await drafts(services, actor, ana, 2)
    start = datetime(2030, 1, 8, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as caught:
        await services.distributor.plan(
            actor,
            DistributeRequest(
                post_ids=ids,
                start=start,
                end=start - timedelta(hours=1),
                min_gap=timedelta(minutes=4),
                daily_start=time(18),
                daily_end=time(9),
            ),
        )
    assert set(caught.value.field_errors) == {"end", "min_gap", "daily_end"}

    published = await make_post(
        owner_id=actor.owner_id, account_id=ana.id, status=PostStatus.PUBLISHED
    ).insert()
    with pytest.raises(ValidationFailed) as caught:
        await services.distributor.plan(
            actor,
            DistributeRequest(
                post_ids=[ids[0], published.id], start=start, end=start + timedelta(days=1)
            ),
        )
    assert "is PUBLISHED" in caught.value.field_errors["post_ids.1"][0]
