"""Slots: each account's weekly posting-slot grid, and the queue of posts that fills it.

An account has a weekly grid of slots (weekday + local time) read in the account's time zone, so
a 09:00 slot stays at 09:00 on the wall clock across DST changes (the instants come from
`scheduler.posts.recurrence`, which owns the gap and overlap rules). "Add to queue" schedules a post
(ONCE) at the next free slot. A post is *in the queue* while it is SCHEDULED on a one-off
schedule at a slot instant and not about to be prepared; only such posts are ever moved by
shuffle and reorder, so published posts, posts being published and posts given their own time
stay where they are. When the grid changes, posts keep their times (they leave the queue rather
than move). Two add-to-queue calls racing for one account may pick the same slot; the dashboard
acts one at a time, and a reorder spreads them out again.
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from beanie import PydanticObjectId
from pydantic import ValidationError

from scheduler.accounts.actors import Actor
from scheduler.platform.clock import Clock
from scheduler.platform.documents import Account, Post, PostingSlot, PostStatus
from scheduler.platform.errors import NotFoundError, ValidationFailed
from scheduler.platform.events import EventBus
from scheduler.posts.recurrence import Pattern, Schedule, upcoming
from scheduler.posts.recurrence.limits import MAX_TIMES_PER_DAY
from scheduler.posts.recurrence.zones import get_zone, local_wall
from scheduler.posts.service import PostService

# A slot sooner than this is not filled or moved: the post's containers are being prepared.
QUEUE_LEAD = timedelta(minutes=2)
CHUNK = 200  # slot instants looked at per query when searching for a free one
HORIZON = timedelta(days=366)  # add-to-queue gives up after a year of full slots
RUNS_LOW = timedelta(hours=24)  # warn when the queue empties within this


@dataclass(frozen=True)
class QueueSlot:
    """One upcoming slot: its instant, its wall time in the account's zone, and its post."""

    at: datetime
    local: datetime
    post_id: PydanticObjectId | None = None


@dataclass(frozen=True)
class QueueStatus:
    """How an account's queue stands, with a warning when it is empty or about to be."""

    account_id: PydanticObjectId
    slots_per_week: int
    queued: int
    next_free: datetime | None
    runs_out_at: datetime | None  # the last queued post's instant
    warning: str | None


class SlotService:
    """Weekly posting slots per account, and the queue that fills them."""

    def __init__(self, *, clock: Clock, posts: PostService, events: EventBus) -> None:
        self._clock = clock
        self._posts = posts
        self._events = events

    async def set_slots(
        self, actor: Actor, account_id: object, slots: Sequence[PostingSlot | Mapping[str, Any]]
    ) -> Account:
        """Replace the account's weekly grid; posts already queued keep their times.

        Args:
            slots: `PostingSlot`s or dicts like `{"weekday": 0, "at": "09:00"}` (0 = Monday).

        Raises:
            ValidationFailed: on `slots.N.weekday` / `slots.N.at` / `slots`.
        """
        actor.require_write()
        account = await self._account(actor, account_id)
        grid = _validate_slots(slots)
        now = self._clock.now()
        await Account.get_pymongo_collection().update_one(
            {"_id": account.id, "owner_id": actor.owner_id},
            {"$set": {"slots": [s.model_dump(mode="json") for s in grid], "updated_at": now}},
        )
        await self._events.publish(
            "account.slots", actor.owner_id, account_id=str(account.id), slots=len(grid)
        )
        return await self._account(actor, account_id)

    async def upcoming(self, actor: Actor, account_id: object, limit: int = 28) -> list[QueueSlot]:
        """The next `limit` slots of the account and the post in each (None: free)."""
        account = await self._account(actor, account_id)
        instants = _slot_instants(account, self._clock.now() + QUEUE_LEAD, limit)
        occupied = await self._occupied(account, instants)
        zone = get_zone(account.timezone)
        return [
            QueueSlot(at=at, local=local_wall(at, zone), post_id=occupied.get(at))
            for at in instants
        ]

    async def add_to_queue(self, actor: Actor, post_id: object) -> Post:
        """Schedule a post (draft, scheduled, failed or cancelled) at its account's next free slot.

        Raises:
            ValidationFailed: the account has no slots, or every slot of the next year is taken.
            ConflictError: the post is published or being published.
        """
        actor.require_write()
        post = await self._posts.get(actor, post_id)
        account = await self._account(actor, post.account_id)
        if post.schedule is not None and post.schedule.pattern is not Pattern.ONCE:
            raise ValidationFailed.single(
                "post_id",
                f"Post {post.id} repeats ({post.schedule.pattern.value}); only one-off posts go "
                "into the queue.",
            )
        at = await self._next_free(account, exclude=post.id)
        return await self._move(actor, account, post.id, at)

    async def shuffle(
        self, actor: Actor, account_id: object, seed: int | None = None
    ) -> list[Post]:
        """Shuffle the queued posts among the slots they occupy; returns them in slot order."""
        actor.require_write()
        account = await self._account(actor, account_id)
        queued = await self._queued(account)
        order = [post.id for post in queued]
        random.Random(seed).shuffle(order)
        return await self._assign(actor, account, queued, order)

    async def reorder(
        self, actor: Actor, account_id: object, post_ids: Sequence[object]
    ) -> list[Post]:
        """Put the queued posts in the given order over the slots they occupy.

        Args:
            post_ids: every queued post of the account, once each, in the wanted order.
        """
        actor.require_write()
        account = await self._account(actor, account_id)
        queued = await self._queued(account)
        wanted = [str(post_id) for post_id in post_ids]
        current = {str(post.id) for post in queued}
        if sorted(wanted) != sorted(current):
            raise ValidationFailed.single(
                "post_ids",
                f"List every queued post of @{account.username} once ({len(current)} posts); the "
                "queue changed meanwhile, or a post is missing, repeated or not queued. Reload "
                "the queue and try again.",
            )
        order = [PydanticObjectId(post_id) for post_id in wanted]
        return await self._assign(actor, account, queued, order)

    async def status(self, actor: Actor, account_id: object) -> QueueStatus:
        """How many posts are queued, the next free slot, and a warning if the queue runs dry."""
        account = await self._account(actor, account_id)
        queued = await self._queued_times(account)
        now = self._clock.now()
        next_free = await self._next_free(account) if account.slots else None
        runs_out = queued[-1] if queued else None
        name = f"@{account.username}"
        warning = None
        if not account.slots:
            warning = f"{name} has no posting slots; set its weekly slots to use the queue."
        elif not queued:
            warning = (
                f"The queue of {name} is empty: no post waits in its {len(account.slots)} weekly "
                "slots. Add posts to the queue, or the account goes quiet."
            )
        elif runs_out is not None and runs_out - now <= RUNS_LOW:
            warning = (
                f"The queue of {name} runs out at {runs_out:%Y-%m-%d %H:%M} UTC; add posts to "
                "keep it going."
            )
        assert account.id is not None
        return QueueStatus(
            account_id=account.id,
            slots_per_week=len(account.slots),
            queued=len(queued),
            next_free=next_free,
            runs_out_at=runs_out,
            warning=warning,
        )

    # --- helpers ---------------------------------------------------------------------------

    async def _account(self, actor: Actor, account_id: object) -> Account:
        oid = (
            PydanticObjectId(str(account_id))
            if PydanticObjectId.is_valid(str(account_id))
            else None
        )
        account = await Account.find_one({"_id": oid, "owner_id": actor.owner_id}) if oid else None
        if account is None:
            raise NotFoundError("Account", account_id)
        return account

    async def _occupied(
        self, account: Account, instants: Sequence[datetime]
    ) -> dict[datetime, PydanticObjectId]:
        """Which of these slot instants a scheduled (or publishing) post of the account holds."""
        if not instants:
            return {}
        query = {
            "account_id": account.id,
            "status": {"$in": [str(PostStatus.SCHEDULED), str(PostStatus.PUBLISHING)]},
            "next_run_at": {"$in": list(instants)},
        }
        wanted = set(instants)
        found: dict[datetime, PydanticObjectId] = {}
        async for raw in Post.get_pymongo_collection().find(query, {"next_run_at": 1}):
            if raw["next_run_at"] in wanted:
                found.setdefault(raw["next_run_at"], raw["_id"])
        return found

    async def _next_free(
        self, account: Account, exclude: PydanticObjectId | None = None
    ) -> datetime:
        if not account.slots:
            raise ValidationFailed.single(
                "slots",
                f"@{account.username} has no posting slots; set its weekly slots first "
                "(e.g. Monday to Friday at 09:00).",
            )
        after = self._clock.now() + QUEUE_LEAD
        until = after + HORIZON
        while after < until:
            instants = _slot_instants(account, after, CHUNK)
            occupied = await self._occupied(account, instants)
            for at in instants:
                holder = occupied.get(at)
                if holder is None or holder == exclude:
                    return at
            after = instants[-1]
        raise ValidationFailed.single(
            "slots",
            f"Every slot of @{account.username} in the next year is taken; add slots or "
            "schedule the post at a time of its own.",
        )

    @staticmethod
    def _movable(account: Account, now: datetime) -> dict[str, Any]:
        """The filter of the account's posts that may be in its queue (then: on a slot)."""
        return {
            "account_id": account.id,
            "status": str(PostStatus.SCHEDULED),
            "schedule.pattern": str(Pattern.ONCE),
            "sending_for": None,
            "next_run_at": {"$gt": now + QUEUE_LEAD},
        }

    async def _queued_times(self, account: Account) -> list[datetime]:
        """The instants of the account's queued posts, in order: `_queued` without loading the
        posts (a page shows the queue's state; parsing thousands of posts would take seconds)."""
        if not account.slots:
            return []
        now = self._clock.now()
        query, collection = self._movable(account, now), Post.get_pymongo_collection()
        last = await collection.find_one(query, {"next_run_at": 1}, sort=[("next_run_at", -1)])
        if last is None:
            return []
        grid = _slot_instants(account, now + QUEUE_LEAD, None, until=last["next_run_at"])
        if not grid:
            return []
        # Only posts on a slot instant: index point lookups, however many other posts wait.
        query["next_run_at"] = {"$in": grid}
        cursor = collection.find(query, {"next_run_at": 1}, sort=[("next_run_at", 1)])
        return [raw["next_run_at"] async for raw in cursor]

    async def _queued(self, account: Account) -> list[Post]:
        """The account's queued posts (movable, on a current slot instant), in slot order."""
        now = self._clock.now()
        posts = await Post.find(self._movable(account, now)).to_list()
        if not posts or not account.slots:
            return []
        posts.sort(key=lambda post: post.next_run_at or now)
        last = posts[-1].next_run_at
        assert last is not None
        grid = set(_slot_instants(account, now + QUEUE_LEAD, None, until=last))
        return [post for post in posts if post.next_run_at in grid]

    async def _assign(
        self,
        actor: Actor,
        account: Account,
        queued: Sequence[Post],
        order: Sequence[PydanticObjectId | None],
    ) -> list[Post]:
        instants = sorted(post.next_run_at for post in queued if post.next_run_at is not None)
        by_id = {post.id: post for post in queued}
        result: list[Post] = []
        for post_id, at in zip(order, instants, strict=True):
            post = by_id[post_id]
            if post.next_run_at == at:
                result.append(post)
            else:
                result.append(await self._move(actor, account, post_id, at))
        return result

    async def _move(self, actor: Actor, account: Account, post_id: object, at: datetime) -> Post:
        zone = get_zone(account.timezone)
        schedule = Schedule.once(local_wall(at, zone), account.timezone)
        return await self._posts.schedule(actor, post_id, schedule)


def _validate_slots(slots: Sequence[PostingSlot | Mapping[str, Any]]) -> list[PostingSlot]:
    errors: dict[str, list[str]] = {}
    grid: list[PostingSlot] = []
    for i, raw in enumerate(slots):
        try:
            slot = raw if isinstance(raw, PostingSlot) else PostingSlot.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(part) for part in error["loc"]) or "at"
                hint = (
                    "a weekday from 0 (Monday) to 6 (Sunday)"
                    if "weekday" in field
                    else ("a local time as HH:MM, e.g. 09:30")
                )
                errors.setdefault(f"slots.{i}.{field}", []).append(f"Give {hint}.")
            continue
        if slot.at.second or slot.at.microsecond or slot.at.tzinfo is not None:
            errors[f"slots.{i}.at"] = ["Slots are whole minutes of local time, e.g. 09:30."]
            continue
        grid.append(slot)
    per_day: dict[int, set[time]] = defaultdict(set)
    for slot in grid:
        per_day[slot.weekday].add(slot.at)
    if any(len(times) > MAX_TIMES_PER_DAY for times in per_day.values()):
        errors["slots"] = [f"Give at most {MAX_TIMES_PER_DAY} slots a day."]
    if errors:
        raise ValidationFailed(errors)
    unique = {(slot.weekday, slot.at): slot for slot in grid}
    return [unique[key] for key in sorted(unique)]


def _slot_instants(
    account: Account, after: datetime, limit: int | None, *, until: datetime | None = None
) -> list[datetime]:
    """The account's slot instants strictly after `after`: the first `limit`, or up to `until`."""
    if not account.slots:
        return []
    days_by_time: dict[time, list[int]] = defaultdict(list)
    for slot in account.slots:
        days_by_time[slot.at].append(slot.weekday)
    start = local_wall(after, get_zone(account.timezone)).date() - timedelta(days=7)
    # One WEEKLY rule per time of day, merged in order: the recurrence engine owns DST.
    streams = [
        _stream(
            Schedule(
                pattern=Pattern.WEEKLY,
                timezone=account.timezone,
                start_date=start,
                times=[at],
                days_of_week=sorted(days),
            ),
            after,
        )
        for at, days in days_by_time.items()
    ]
    found: list[datetime] = []
    for at in heapq.merge(*streams):
        if (limit is not None and len(found) >= limit) or (until is not None and at > until):
            break
        if not found or at != found[-1]:
            found.append(at)
    return found


def _stream(schedule: Schedule, after: datetime) -> Iterator[datetime]:
    cursor = after
    while True:
        batch = upcoming(schedule, cursor, 64)
        if not batch:
            return
        yield from batch
        cursor = batch[-1]
