"""Posting slots: the weekly grid in the account's zone, add-to-queue across DST, shuffle and
reorder (which never move published or publishing posts), and the empty-queue warning."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from scheduler.accounts.actors import Actor
from scheduler.platform.clock import ManualClock
from scheduler.platform.documents import Account, Post, PostStatus
from scheduler.platform.errors import ValidationFailed
from scheduler.posts.content import PostContent
from scheduler.posts.recurrence import Schedule
from scheduler.posts.service import PostInput
from scheduler.services import Services
from tests.bulk.conftest import AddAccount

BERLIN = ZoneInfo("Europe/Berlin")
EVERY_DAY_9 = [{"weekday": d, "at": "09:00"} for d in range(7)]


async def draft(services: Services, actor: Actor, account: Account, text: str) -> Post:
    return await services.posts.create(
        actor, PostInput(account_id=str(account.id), content=PostContent(text=text))
    )


async def test_add_to_queue_across_a_dst_change_keeps_the_local_slot_time(
    services: Services, actor: Actor, add_account: AddAccount, clock: ManualClock
) -> None:
    clock.set(datetime(2030, 3, 28, 12, tzinfo=UTC))  # Berlin springs forward on Sunday 31 March
    ana = await add_account("ana", timezone="Europe/Berlin")
    await services.slots.set_slots(actor, ana.id, EVERY_DAY_9)

    queued = [
        await services.slots.add_to_queue(actor, (await draft(services, actor, ana, f"P{i}")).id)
        for i in range(6)
    ]

    local = [p.next_run_at.astimezone(BERLIN) for p in queued if p.next_run_at]
    assert [t.date().isoformat() for t in local] == [
        "2030-03-29", "2030-03-30", "2030-03-31", "2030-04-01", "2030-04-02", "2030-04-03",
    ]  # fmt: skip
    assert {t.time() for t in local} == {time(9)}
    utc_hours = [p.next_run_at.hour for p in queued if p.next_run_at]
    assert utc_hours == [8, 8, 7, 7, 7, 7]  # the offset changed; the wall time did not
    assert all(p.status is PostStatus.SCHEDULED for p in queued)
    assert all(p.schedule and p.schedule.timezone == "Europe/Berlin" for p in queued)

    # Across the autumn change too: a slot grid of Sundays at 02:30 (a time that exists twice).
    clock.set(datetime(2030, 10, 20, 12, tzinfo=UTC))
    await services.slots.set_slots(actor, ana.id, [{"weekday": 6, "at": "02:30"}])
    autumn = [
        await services.slots.add_to_queue(actor, (await draft(services, actor, ana, f"A{i}")).id)
        for i in range(2)
    ]
    walls = [p.next_run_at.astimezone(BERLIN) for p in autumn if p.next_run_at]
    assert [(w.month, w.day, w.hour, w.minute) for w in walls] == [(10, 27, 2, 30), (11, 3, 2, 30)]


async def test_the_next_free_slot_skips_taken_ones_and_keeps_other_posts(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    ana = await add_account("ana", timezone="UTC")
    await services.slots.set_slots(
        actor, ana.id, [{"weekday": 1, "at": "09:00"}, {"weekday": 1, "at": "17:00"}]
    )
    # Tuesday 8 January 09:00 is held by a post with a time of its own... at the slot instant.
    held = await services.posts.create(
        actor,
        PostInput(
            account_id=str(ana.id),
            content=PostContent(text="Mine"),
            schedule=Schedule.once(datetime(2030, 1, 8, 9), "UTC"),
        ),
    )
    post = await services.slots.add_to_queue(actor, (await draft(services, actor, ana, "Q")).id)
    assert post.next_run_at == datetime(2030, 1, 8, 17, tzinfo=UTC)
    slots = await services.slots.upcoming(actor, ana.id, limit=3)
    assert [(s.local.isoformat(), s.post_id) for s in slots] == [
        ("2030-01-08T09:00:00", held.id),
        ("2030-01-08T17:00:00", post.id),
        ("2030-01-15T09:00:00", None),
    ]


async def test_shuffle_and_reorder_never_move_published_or_publishing_posts(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    ana = await add_account("ana", timezone="Europe/Berlin")
    await services.slots.set_slots(actor, ana.id, EVERY_DAY_9)
    queued = [
        await services.slots.add_to_queue(actor, (await draft(services, actor, ana, f"P{i}")).id)
        for i in range(5)
    ]
    # The third slot's post is being published, and the fourth was published (say, by hand).
    publishing, published = queued[2], queued[3]
    await Post.find_one({"_id": publishing.id}).update({"$set": {"status": "PUBLISHING"}})
    await Post.find_one({"_id": published.id}).update({"$set": {"status": "PUBLISHED"}})
    fixed = {publishing.id: publishing.next_run_at, published.id: published.next_run_at}
    movable = [queued[i] for i in (0, 1, 4)]
    instants = sorted(p.next_run_at for p in movable if p.next_run_at)

    reordered = await services.slots.reorder(actor, ana.id, [p.id for p in reversed(movable)])

    assert [p.id for p in reordered] == [p.id for p in reversed(movable)]
    assert [p.next_run_at for p in reordered] == instants
    shuffled = await services.slots.shuffle(actor, ana.id, seed=3)
    assert sorted(p.next_run_at for p in shuffled if p.next_run_at) == instants
    for post_id, at in fixed.items():
        stored = await Post.get(post_id)
        assert stored is not None and stored.next_run_at == at
    with pytest.raises(ValidationFailed):
        await services.slots.reorder(actor, ana.id, [movable[0].id, publishing.id])


async def test_the_queue_status_warns_when_empty_or_running_out(
    services: Services, actor: Actor, add_account: AddAccount, clock: ManualClock
) -> None:
    ana = await add_account("ana", timezone="UTC")
    no_slots = await services.slots.status(actor, ana.id)
    assert no_slots.warning is not None and "no posting slots" in no_slots.warning
    with pytest.raises(ValidationFailed) as caught:
        await services.slots.add_to_queue(actor, (await draft(services, actor, ana, "X")).id)
    assert "set its weekly slots" in caught.value.field_errors["slots"][0]

    await services.slots.set_slots(actor, ana.id, EVERY_DAY_9)
    empty = await services.slots.status(actor, ana.id)
    assert empty.queued == 0 and empty.warning is not None and "is empty" in empty.warning
    assert empty.next_free == datetime(2030, 1, 8, 9, tzinfo=UTC)  # T0 is Monday 09:00

    await services.slots.add_to_queue(actor, (await draft(services, actor, ana, "Y")).id)
    soon = await services.slots.status(actor, ana.id)
    assert soon.queued == 1 and soon.warning is not None and "runs out" in soon.warning
    for text in ("Z1", "Z2"):
        await services.slots.add_to_queue(actor, (await draft(services, actor, ana, text)).id)
    healthy = await services.slots.status(actor, ana.id)
    assert healthy.queued == 3 and healthy.warning is None
    assert healthy.runs_out_at == datetime(2030, 1, 10, 9, tzinfo=UTC)


async def test_slots_are_validated(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    ana = await add_account("ana")
    with pytest.raises(ValidationFailed) as caught:
        await services.slots.set_slots(
            actor,
            ana.id,
            [
                {"weekday": 7, "at": "09:00"},
                {"weekday": 0, "at": "9h"},
                {"weekday": 0, "at": "09:00:30"},
            ],
        )
    assert set(caught.value.field_errors) == {"slots.0.weekday", "slots.1.at", "slots.2.at"}
    account = await services.slots.set_slots(
        actor, ana.id, [{"weekday": 0, "at": "09:00"}, {"weekday": 0, "at": "09:00"}]
    )
    assert [(s.weekday, s.at) for s in account.slots] == [(0, time(9))]
    stored = await Account.get(ana.id)
    assert stored is not None and stored.slots == account.slots


async def test_a_post_moved_off_the_grid_leaves_the_queue(
    services: Services, actor: Actor, add_account: AddAccount
) -> None:
    ana = await add_account("ana", timezone="UTC")
    await services.slots.set_slots(actor, ana.id, EVERY_DAY_9)
    post = await services.slots.add_to_queue(actor, (await draft(services, actor, ana, "Q")).id)
    assert (await services.slots.status(actor, ana.id)).queued == 1
    await services.posts.schedule(
        actor, post.id, Schedule.once(datetime(2030, 1, 9, 13, 15), "UTC")
    )
    assert (await services.slots.status(actor, ana.id)).queued == 0
    assert (await services.slots.upcoming(actor, ana.id, limit=1))[0].post_id is None
