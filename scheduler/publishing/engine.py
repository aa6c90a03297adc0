"""Engine: the event-driven scheduler (DESIGN §5) — one delayed job wakes exactly when work is due.

Kept from the seed, with its names: the delayed SAQ job `check-due-posts` with key
`scheduler-check-{epoch_ms}` on `scheduler-meta`, and the Redis keys `scheduler:nextExecutionAt`,
`scheduler:activeJobId` and `scheduler:lastCheck`. The seed's camelCase operations are the
snake_case methods here: `initialize`, `on_post_scheduled`, `on_post_cancelled`,
`process_due_posts`, `schedule_next_check`, `schedule_immediate_check`.

Redis only caches *when* to look next; MongoDB's `Post.check_at` is the truth. Every method can
therefore be called any number of times, by any process, and a wiped Redis is rebuilt by
`initialize` (the reconcile cron notices the missing marker key).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from saq import Status
from saq.queue.redis import RedisQueue

from scheduler.platform.clock import Clock
from scheduler.platform.events import EventBus
from scheduler.platform.queues import CHECK_JOB

if TYPE_CHECKING:
    from scheduler.publishing.dispatch import Dispatcher

log = logging.getLogger(__name__)

NEXT_EXECUTION_KEY = "scheduler:nextExecutionAt"
ACTIVE_JOB_KEY = "scheduler:activeJobId"
LAST_CHECK_KEY = "scheduler:lastCheck"
# Present while Redis holds state this engine wrote; its absence means Redis was wiped.
MARKER_KEY = "scheduler:initialized"
CHECK_TIMEOUT_SECONDS = 120
FALLBACK_DELAY = timedelta(seconds=30)
# A check that should have run this long ago but did not is re-armed by the reconcile cron.
STALL_SECONDS = 30

# Arm a check atomically. It replaces the pending one when it is earlier, or when the caller read
# the pending one as ARGV[3] before deciding (the "expected" id; '' for none) and it has not
# changed since: a decision taken on a stale read never removes a check someone armed meanwhile.
# Returns the replaced job id ('' for none), or false when ours was not armed.
_ARM = """
local current = redis.call('GET', KEYS[1])
local active = redis.call('GET', KEYS[2]) or ''
local unchanged = ARGV[3] ~= '-' and active == ARGV[3]
if unchanged or not current or tonumber(ARGV[1]) < tonumber(current) then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('SET', KEYS[3], '1')
  return active
end
return false
"""
# Go idle, but only if the pending check is still the one the caller read before deciding.
_CLEAR = """
local active = redis.call('GET', KEYS[2]) or ''
redis.call('SET', KEYS[3], '1')
if active == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
"""
NOT_EXPECTED = "-"


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def check_job_key(instant: datetime) -> str:
    return f"scheduler-check-{_ms(instant)}"


@dataclass(frozen=True)
class SchedulerState:
    """What the scheduler is waiting for, as stored in Redis."""

    next_execution_at: datetime | None
    active_job_id: str | None
    last_check: datetime | None
    mode: str


class EventDrivenScheduler:
    """Arms exactly one pending `check-due-posts` job for the earliest moment work is due."""

    def __init__(
        self,
        *,
        redis: Redis,
        queue: RedisQueue,
        clock: Clock,
        events: EventBus,
        dispatcher: Dispatcher,
        batch_window: timedelta,
        event_driven: bool = True,
        poll_interval: timedelta = timedelta(seconds=60),
    ) -> None:
        self._redis = redis
        self._queue = queue
        self._clock = clock
        self._events = events
        self._dispatcher = dispatcher
        self._window = batch_window
        self._event_driven = event_driven
        self._poll_interval = poll_interval
        self._arm_script = redis.register_script(_ARM)
        self._clear_script = redis.register_script(_CLEAR)

    @property
    def mode(self) -> str:
        return "event-driven" if self._event_driven else "polling"

    async def initialize(self) -> SchedulerState:
        """At worker start (and after a wipe): keep a live pending check, else rebuild it."""
        state = await self.state()
        job = await self._queue.job(state.active_job_id) if state.active_job_id else None
        alive = job is not None and job.status not in {
            Status.COMPLETE,
            Status.FAILED,
            Status.ABORTED,
        }
        if alive and await self._redis.exists(MARKER_KEY):
            log.info("scheduler state restored: next check %s", state.next_execution_at)
            return state
        log.info("scheduler state rebuilt from MongoDB")
        await self.schedule_next_check()
        return await self.state()

    async def on_post_scheduled(self, check_at: datetime | None) -> None:
        """A post became due at `check_at`: move the pending check earlier if needed."""
        if check_at is None:
            return
        if not self._event_driven:
            await self._ensure_polling()
            return
        current = await self._redis.get(NEXT_EXECUTION_KEY)
        if current is not None and int(current) <= _ms(check_at):
            return
        await self._arm(check_at)

    async def on_post_cancelled(self) -> None:
        """A post left the schedule: re-derive the next check (idle when nothing is left)."""
        if self._event_driven:
            await self.schedule_next_check()

    async def schedule_immediate_check(self) -> None:
        await self._arm(self._clock.now())

    async def process_due_posts(self, job_key: str | None = None) -> dict[str, Any]:
        """The `check-due-posts` job: dispatch everything due within the batch window, re-arm."""
        now = self._clock.now()
        await self._redis.set(LAST_CHECK_KEY, _ms(now))
        if job_key is not None:
            # This check is running, so it is no longer the pending one: a fallback check
            # stands in for it. Should this process die mid-check, the fallback runs instead of
            # waiting minutes for SAQ to notice; when the check completes, the real next check
            # replaces it (`schedule_next_check` expects it).
            await self._arm(now + FALLBACK_DELAY, expected=job_key)
        dispatched = await self._dispatcher.dispatch_due(now, now + self._window)
        next_at = await self.schedule_next_check()
        return {
            "dispatched": dispatched,
            "next_check": next_at.isoformat() if next_at else None,
        }

    async def schedule_next_check(self) -> datetime | None:
        """Arm the check for the earliest `check_at` in MongoDB, or go idle when there is none.

        The pending check is read *before* MongoDB is asked: if someone arms another check while
        we query, ours only replaces it when earlier, and going idle leaves it in place.
        """
        now = self._clock.now()
        expected = (await self._redis.get(ACTIVE_JOB_KEY) or b"").decode()
        if not self._event_driven:
            at = now + self._poll_interval
            await self._arm(at, expected=expected)
            return at
        earliest = await self._dispatcher.next_check_at()
        if earliest is None:
            await self._clear(expected)
            return None
        # Never in the past: something still due right after a dispatch lost a race; look
        # again shortly instead of spinning.
        at = max(earliest, now + timedelta(seconds=1)) if earliest <= now else earliest
        await self._arm(at, expected=expected)
        return at

    async def reconcile(self) -> str:
        """The reconcile cron: Redis-only unless Redis lost its state or the check stalled."""
        if not await self._redis.exists(MARKER_KEY):
            await self.initialize()
            return "rebuilt"
        state = await self.state()
        now = self._clock.now()
        stalled = state.next_execution_at is not None and (
            state.next_execution_at < now - timedelta(seconds=STALL_SECONDS)
        )
        missing = (
            state.active_job_id is not None and await self._queue.job(state.active_job_id) is None
        )
        if stalled or missing:
            log.warning("pending check %s is missing or stalled; re-arming", state.active_job_id)
            await self.schedule_next_check()
            return "re-armed"
        if not self._event_driven and state.active_job_id is None:
            await self._ensure_polling()
            return "re-armed"
        return "ok"

    async def state(self) -> SchedulerState:
        nxt, active, last = await self._redis.mget(
            NEXT_EXECUTION_KEY, ACTIVE_JOB_KEY, LAST_CHECK_KEY
        )
        return SchedulerState(
            next_execution_at=_from_ms(nxt),
            active_job_id=active.decode() if active else None,
            last_check=_from_ms(last),
            mode=self.mode,
        )

    async def _ensure_polling(self) -> None:
        if not await self._redis.exists(ACTIVE_JOB_KEY):
            await self._arm(self._clock.now())

    async def _arm(self, at: datetime, *, expected: str = NOT_EXPECTED) -> None:
        key = check_job_key(at)
        now = self._clock.now()
        # SAQ schedules in whole epoch seconds and strands a job scheduled at 0.0: use int 0
        # ("now") or a whole second >= 1. Rounding up never runs a check before `at`.
        scheduled = 0 if at <= now else math.ceil(at.timestamp())
        await self._queue.enqueue(
            CHECK_JOB,
            key=key,
            scheduled=scheduled,
            timeout=CHECK_TIMEOUT_SECONDS,
            retries=2,
            ttl=300,
        )
        previous = await self._arm_script(
            keys=[NEXT_EXECUTION_KEY, ACTIVE_JOB_KEY, MARKER_KEY],
            args=[_ms(at), key, expected],
        )
        if previous is None:
            # Someone armed an earlier check meanwhile: ours is redundant.
            if key != (await self._redis.get(ACTIVE_JOB_KEY) or b"").decode():
                await self._remove(key)
            return
        previous_key = previous.decode() if isinstance(previous, bytes) else str(previous)
        if previous_key and previous_key != key:
            await self._remove(previous_key)
        await self._events.publish(
            "scheduler.state", None, next_execution_at=at.isoformat(), active_job_id=key
        )

    async def _clear(self, expected: str) -> None:
        cleared = await self._clear_script(
            keys=[NEXT_EXECUTION_KEY, ACTIVE_JOB_KEY, MARKER_KEY], args=[expected]
        )
        if not cleared:
            return  # a check was armed while we looked: it stays
        if expected:
            await self._remove(expected)
        await self._events.publish(
            "scheduler.state", None, next_execution_at=None, active_job_id=None
        )

    async def _remove(self, key: str) -> None:
        """Drop a pending (future) check job so it neither runs nor lingers in Redis."""
        job = await self._queue.job(key)
        if job is None or job.status not in {Status.NEW, Status.QUEUED}:
            return  # already running or finished: let it be
        await self._queue.abort(job, "superseded")
        # Aborting a future job leaves it `aborting` forever (SAQ pitfall): make it terminal.
        await self._queue.finish(job, Status.ABORTED, error="superseded")
        # And SAQ refuses the same key for 5 s after an abort: the check for this very instant
        # may be needed again at once (e.g. it was superseded by one that ran already).
        await self._redis.delete(job.abort_id)


def _from_ms(raw: bytes | None) -> datetime | None:
    if raw is None:
        return None
    from datetime import UTC

    return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
