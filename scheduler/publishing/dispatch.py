"""Dispatch: turn due posts into publish jobs, exactly once, and take over from dead workers.

A post is claimed by one conditional update (SCHEDULED → PUBLISHING with a fresh lease token);
only the claimer enqueues its publish job. A PUBLISHING post whose lease (`check_at`) expired
belongs to a job whose worker died: it is taken over with a new token, and every write of the old
job (which filters on its own token) fails from then on. SAQ job keys only avoid redundant work.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from saq.queue.redis import RedisQueue

from scheduler.platform.clock import Clock
from scheduler.platform.documents import Post, PostStatus
from scheduler.platform.events import EventBus
from scheduler.platform.queues import PUBLISH_JOB
from scheduler.posts.lifecycle import transition
from scheduler.posts.recurrence import is_recurring, resolve_missed
from scheduler.publishing.timing import MISSED_GRACE, lease_until

log = logging.getLogger(__name__)

# Lower bound for range queries on `check_at`: matches every date, never null (held posts).
_ANY_TIME = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_BATCHES = 50


def publish_job_key(post_id: object, due: datetime, token: str) -> str:
    """`publish:{post_id}:{scheduled_epoch}:{lease}`: one job per claim.

    The lease suffix matters: after an edit or a takeover the same occurrence is claimed again
    while the previous job may still be listed by SAQ, which would refuse the same key.
    """
    return f"publish:{post_id}:{int(due.timestamp())}:{token[:8]}"


class Dispatcher:
    """Claims due posts and enqueues their publish jobs on `post-publishing`."""

    def __init__(
        self,
        *,
        queue: RedisQueue,
        clock: Clock,
        events: EventBus,
        lease_margin: timedelta,
        prepare_timeout: timedelta,
        batch_size: int = 200,
    ) -> None:
        self._queue = queue
        self._clock = clock
        self._events = events
        self._lease_margin = lease_margin
        self._prepare_timeout = prepare_timeout
        self._batch = batch_size

    async def next_check_at(self) -> datetime | None:
        """The earliest moment any post needs the scheduler (claim or lease expiry)."""
        collection = Post.get_pymongo_collection()
        earliest: datetime | None = None
        for status in (PostStatus.SCHEDULED, PostStatus.PUBLISHING):
            raw = await collection.find_one(
                {"status": str(status), "check_at": {"$gte": _ANY_TIME}},
                projection={"check_at": 1},
                sort=[("check_at", 1)],
            )
            if raw is not None and (earliest is None or raw["check_at"] < earliest):
                earliest = raw["check_at"]
        return earliest

    async def dispatch_due(self, now: datetime, horizon: datetime) -> int:
        """Take over expired leases, then claim what is due by `horizon`; returns jobs enqueued."""
        dispatched = 0
        dispatched += await self._sweep(PostStatus.PUBLISHING, now, self._take_over, now)
        dispatched += await self._sweep(PostStatus.SCHEDULED, horizon, self._claim, now)
        return dispatched

    async def _sweep(self, status: PostStatus, until: datetime, handle: Any, now: datetime) -> int:
        collection = Post.get_pymongo_collection()
        done = 0
        for _ in range(_MAX_BATCHES):
            cursor = collection.find(
                {"status": str(status), "check_at": {"$gte": _ANY_TIME, "$lte": until}},
                sort=[("check_at", 1)],
                limit=self._batch,
            )
            batch = [Post.model_validate(raw) async for raw in cursor]
            for post in batch:
                done += int(await handle(post, now))
            if len(batch) < self._batch:
                break
        return done

    async def _claim(self, post: Post, now: datetime) -> bool:
        due = post.next_run_at
        if due is None:
            log.error("post %s is SCHEDULED without next_run_at; skipping", post.id)
            return False
        changes: dict[str, Any] = {}
        if post.schedule is not None and is_recurring(post.schedule) and due < now - MISSED_GRACE:
            missed = resolve_missed(post.schedule, due, now, MISSED_GRACE)
            if missed.skipped_count:
                log.warning(
                    "post %s: skipping %d missed occurrences", post.id, missed.skipped_count
                )
                changes["last_error"] = (
                    f"{missed.skipped_count} occurrence(s) were missed while the scheduler was "
                    "down "
                    f"and skipped; the latest one ({missed.publish.isoformat()}) is published."
                )
            due = missed.publish
        token = uuid.uuid4().hex
        changes |= {
            "next_run_at": due,
            "lease": token,
            "check_at": lease_until(due, now, self._lease_margin),
            "sending_for": None,
            "held_reason": None,
        }
        claimed = await transition(
            post.id,
            source=PostStatus.SCHEDULED,
            target=PostStatus.PUBLISHING,
            version=post.version,
            now=now,
            changes=changes,
        )
        if claimed is None:
            return False  # someone else changed it first: it is theirs now
        await self._enqueue(claimed, due, token)
        await self._events.publish(
            "post.status",
            claimed.owner_id,
            post_id=str(claimed.id),
            account_id=str(claimed.account_id),
            status=str(PostStatus.PUBLISHING),
            previous=str(PostStatus.SCHEDULED),
            version=claimed.version,
            next_run_at=due.isoformat(),
        )
        return True

    async def _take_over(self, post: Post, now: datetime) -> bool:
        due = post.sending_for or post.next_run_at
        if due is None:
            return False
        token = uuid.uuid4().hex
        raw = await Post.get_pymongo_collection().find_one_and_update(
            {
                "_id": post.id,
                "status": str(PostStatus.PUBLISHING),
                "lease": post.lease,
                "check_at": {"$lte": now},
            },
            {
                "$set": {
                    "lease": token,
                    "check_at": lease_until(now, now, self._lease_margin),
                    "updated_at": now,
                },
                # Every claim gets a higher version, so a stale run can tell it was superseded
                # (see `Publisher._take_occurrence`).
                "$inc": {"version": 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            return False
        log.warning("post %s: lease %s expired; taken over by %s", post.id, post.lease, token)
        await self._enqueue(Post.model_validate(raw), due, token)
        return True

    async def _enqueue(self, post: Post, due: datetime, token: str) -> None:
        await self._queue.enqueue(
            PUBLISH_JOB,
            key=publish_job_key(post.id, due, token),
            post_id=str(post.id),
            # The claimed document itself: the job needs no read, and the publish gate's version
            # check makes a stale snapshot harmless.
            post=post.model_dump(mode="json"),
            token=token,
            due=due.isoformat(),
            timeout=int(self._prepare_timeout.total_seconds()) + 30,
            retries=1,  # our own lease and takeover logic recovers; SAQ must not run it twice
            ttl=600,
        )
