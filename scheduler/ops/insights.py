"""Insights: post and account metrics from Threads, read on a schedule that respects API limits.

Schedule. A published post is read 1 h, 6 h and 24 h after publishing (while its numbers move),
then weekly until it is 30 days old, then never again (`POST_SCHEDULE`); each account's own
insights are read once a day. A reading the worker missed (it was down) is not made up: the next
one in the schedule after now is taken instead.

Budget. Every request spends one unit of its account's hourly budget (INSIGHTS_CALLS_PER_HOUR),
kept in Redis as a log of the last hour's calls that a Lua script checks and extends atomically:
no rolling hour ever holds more calls than the budget, however many workers make them. What does
not fit waits until the budget frees, the longest-waiting reading first.

Idle. The cron (`refresh_due`) first reads `insights:nextDueAt` and returns at once while nothing
is due, so an idle system sends no MongoDB command. A newly published post is registered by the
worker's event reactor (`register`), which moves that instant earlier; a wiped Redis makes the
next run look at MongoDB and rebuild it. Even idle it looks once an hour (`IDLE_RECHECK`), for new
accounts and for published posts whose event was missed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError
from redis.asyncio import Redis

from scheduler.accounts.actors import Actor
from scheduler.accounts.service import AccountTokens
from scheduler.ops.metrics import Observer
from scheduler.platform.clock import Clock
from scheduler.platform.documents import (
    Account,
    AccountInsights,
    AccountStatus,
    InsightSample,
    Occurrence,
    OccurrenceState,
    Post,
    PostInsights,
)
from scheduler.platform.errors import (
    AccountNeedsReconnect,
    NotFoundError,
    ThreadsApiError,
    ThreadsAuthError,
    ThreadsRateLimited,
    ThreadsRejectedError,
    ThreadsTransientError,
    ValidationFailed,
)
from scheduler.threads.client import POST_METRICS, ThreadsClient
from scheduler.threads.models import Insights

log = logging.getLogger(__name__)

POST_SCHEDULE = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
    timedelta(days=7),
    timedelta(days=14),
    timedelta(days=21),
    timedelta(days=30),
)
ACCOUNT_EVERY = timedelta(days=1)
IDLE_RECHECK = timedelta(hours=1)
WINDOW = timedelta(hours=1)
POST_HISTORY = 30
ACCOUNT_HISTORY = 90
RUN_LIMIT = 500  # readings looked at per run; the rest are picked up by the next run
RETRY_TRANSIENT = timedelta(minutes=15)
RETRY_INACTIVE = timedelta(hours=6)
RETRY_OTHER = timedelta(hours=1)

NEXT_DUE_KEY = "insights:nextDueAt"
DISCOVERED_KEY = "insights:discoveredUntil"
LOCK_KEY = "insights:lock"
BUDGET_KEY = "insights:budget:{account_id}"

# KEYS[1] the account's call log (sorted set of call instants); ARGV: now ms, window ms, budget,
# member. Forget calls older than the window; spend one unit if the budget allows.
_SPEND = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
# Move the next run earlier (only when Redis knows one: a missing key already means "look now").
_LOWER = """
local current = redis.call('GET', KEYS[1])
if current and tonumber(ARGV[1]) < tonumber(current) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
"""
# Store the next run computed by a run, unless a registration moved it earlier meanwhile.
_FINISH = """
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] and tonumber(current) < tonumber(ARGV[2]) then
  return current
end
redis.call('SET', KEYS[1], ARGV[2])
return ARGV[2]
"""
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


def next_post_fetch(published_at: datetime, now: datetime) -> datetime | None:
    """The next reading of a post published at `published_at`, or None once it is 30 days old."""
    for offset in POST_SCHEDULE:
        if published_at + offset > now:
            return published_at + offset
    return None


@dataclass(frozen=True)
class InsightsRun:
    """What one run of the cron did."""

    ran: bool = False  # False: nothing was due (Redis only) or another worker was running
    post_calls: int = 0
    account_calls: int = 0
    waiting: int = 0  # due readings left for lack of budget
    next_due: datetime | None = None


@dataclass
class _Tally:
    post_calls: int = 0
    account_calls: int = 0
    waiting: int = 0


class _StopAccount(Exception):
    """Internal: this account cannot be read now (token, throttling): wait until `until`."""

    def __init__(self, until: datetime, error: str) -> None:
        super().__init__(error)
        self.until = until
        self.error = error


class InsightsService:
    """Fetch, store and serve post and account insights within an hourly call budget."""

    def __init__(
        self,
        *,
        clock: Clock,
        redis: Redis,
        threads: ThreadsClient,
        tokens: AccountTokens,
        calls_per_hour: int,
        observer: Observer | None = None,
    ) -> None:
        self._clock = clock
        self._redis = redis
        self._threads = threads
        self._tokens = tokens
        self._budget = calls_per_hour
        self._observer = observer or Observer()
        self._spend_script = redis.register_script(_SPEND)
        self._lower_script = redis.register_script(_LOWER)
        self._finish_script = redis.register_script(_FINISH)
        self._unlock_script = redis.register_script(_UNLOCK)

    @property
    def calls_per_hour(self) -> int:
        return self._budget

    # --- reading (for the dashboard and GraphQL) ---------------------------------------------

    async def for_post(self, actor: Actor, post_id: object) -> list[PostInsights]:
        """Insights of each publication of one post (a recurring post has several), newest first.

        Raises:
            NotFoundError: the post is not the actor's.
        """
        post = await Post.find_one({"_id": _oid(post_id, "Post"), "owner_id": actor.owner_id})
        if post is None:
            raise NotFoundError("Post", post_id)
        return (
            await PostInsights.find({"owner_id": actor.owner_id, "post_id": post.id})
            .sort("-published_at")
            .to_list()
        )

    async def for_account(self, actor: Actor, account_id: object) -> AccountInsights | None:
        """The account's latest daily insights and their history (None until the first reading).

        Raises:
            NotFoundError: the account is not the actor's.
        """
        account = await Account.find_one(
            {"_id": _oid(account_id, "Account"), "owner_id": actor.owner_id}
        )
        if account is None:
            raise NotFoundError("Account", account_id)
        return await AccountInsights.find_one(
            {"account_id": account.id, "owner_id": actor.owner_id}
        )

    async def top_posts(
        self,
        actor: Actor,
        *,
        account_id: object | None = None,
        metric: str = "views",
        limit: int = 10,
    ) -> list[PostInsights]:
        """The actor's best publications by one metric (views, likes, replies, ...)."""
        if metric not in POST_METRICS:
            raise ValidationFailed.single(
                "metric", f"Use one of {', '.join(POST_METRICS)}, not {metric!r}."
            )
        if not 1 <= limit <= 100:
            raise ValidationFailed.single("limit", "Ask for 1 to 100 posts.")
        query: dict[str, Any] = {"owner_id": actor.owner_id}
        if account_id is not None:
            query["account_id"] = _oid(account_id, "Account")
        return await PostInsights.find(query).sort(f"-metrics.{metric}").limit(limit).to_list()

    async def calls_last_hour(self, account_id: object) -> int:
        """Insights calls spent for the account in the rolling hour that ends now."""
        now_ms = _ms(self._clock.now())
        return int(
            await self._redis.zcount(
                BUDGET_KEY.format(account_id=account_id), now_ms - _ms_delta(WINDOW) + 1, "+inf"
            )
        )

    # --- registering and refreshing (the worker) ----------------------------------------------

    async def register(
        self,
        *,
        owner_id: object,
        account_id: object,
        post_id: object,
        media_id: str,
        published_at: datetime,
    ) -> PostInsights | None:
        """Start the reading schedule of a newly published post (once per Threads media id)."""
        now = self._clock.now()
        first = next_post_fetch(published_at, now)
        if first is None or self._budget <= 0:
            return None
        doc = PostInsights(
            owner_id=PydanticObjectId(str(owner_id)),
            account_id=PydanticObjectId(str(account_id)),
            post_id=PydanticObjectId(str(post_id)),
            media_id=media_id,
            published_at=published_at,
            next_fetch_at=first,
            created_at=now,
        )
        try:
            await doc.insert()
        except DuplicateKeyError:
            return None
        await self._lower_script(keys=[NEXT_DUE_KEY], args=[first.timestamp()])
        return doc

    async def refresh_due(self) -> InsightsRun:
        """The insights cron: Redis only until something is due; then read within the budget."""
        if self._budget <= 0:
            return InsightsRun()
        now = self._clock.now()
        cached = await self._redis.get(NEXT_DUE_KEY)
        if cached is not None and now.timestamp() < float(cached):
            return InsightsRun()
        lock = uuid.uuid4().hex
        if not await self._redis.set(LOCK_KEY, lock, nx=True, ex=600):
            return InsightsRun()  # another worker is running it
        try:
            await self._discover(now)
            tally, truncated = await self._fetch_due(now)
            next_due = await self._next_due(now, truncated)
            start = cached.decode() if cached is not None else ""
            await self._finish_script(keys=[NEXT_DUE_KEY], args=[start, next_due.timestamp()])
        finally:
            await self._unlock_script(keys=[LOCK_KEY], args=[lock])
        return InsightsRun(
            ran=True,
            post_calls=tally.post_calls,
            account_calls=tally.account_calls,
            waiting=tally.waiting,
            next_due=next_due,
        )

    async def _discover(self, now: datetime) -> None:
        """Enrol accounts without insights yet, and published posts whose event was missed."""
        active = await Account.find({"status": str(AccountStatus.ACTIVE)}).to_list()
        known = {
            doc.account_id
            for doc in await AccountInsights.find(
                {"account_id": {"$in": [a.id for a in active]}}
            ).to_list()
        }
        for account in active:
            if account.id not in known:
                entry = AccountInsights(
                    owner_id=account.owner_id,
                    account_id=account.id,
                    next_fetch_at=now,
                    created_at=now,
                )
                try:
                    await entry.insert()
                except DuplicateKeyError:
                    pass
        raw = await self._redis.get(DISCOVERED_KEY)
        since = (
            _from_timestamp(float(raw), now) - timedelta(days=1)
            if raw is not None
            else now - POST_SCHEDULE[-1]
        )
        published = await Occurrence.find(
            {"state": str(OccurrenceState.PUBLISHED), "scheduled_for": {"$gte": since}}
        ).to_list()
        roots = [(o, o.parts[0]) for o in published if o.parts and o.parts[0].media_id]
        seen = {
            doc.media_id
            for doc in await PostInsights.find(
                {"media_id": {"$in": [part.media_id for _, part in roots]}}
            ).to_list()
        }
        for occurrence, part in roots:
            if part.media_id in seen or part.media_id is None:
                continue
            await self.register(
                owner_id=occurrence.owner_id,
                account_id=occurrence.account_id,
                post_id=occurrence.post_id,
                media_id=part.media_id,
                published_at=part.published_at
                or occurrence.confirmed_at
                or occurrence.scheduled_for,
            )
        await self._redis.set(DISCOVERED_KEY, now.timestamp())

    async def _fetch_due(self, now: datetime) -> tuple[_Tally, bool]:
        posts = (
            await PostInsights.find({"next_fetch_at": {"$lte": now}})
            .sort("next_fetch_at")
            .limit(RUN_LIMIT)
            .to_list()
        )
        accounts = await AccountInsights.find({"next_fetch_at": {"$lte": now}}).to_list()
        work: dict[PydanticObjectId, list[PostInsights | AccountInsights]] = {}
        for entry in [*accounts, *posts]:  # an account's own reading first: one call a day
            work.setdefault(entry.account_id, []).append(entry)
        tally = _Tally()
        for account_id, entries in work.items():
            await self._read_account(account_id, entries, now, tally)
        return tally, len(posts) >= RUN_LIMIT

    async def _read_account(
        self,
        account_id: PydanticObjectId,
        entries: Sequence[PostInsights | AccountInsights],
        now: datetime,
        tally: _Tally,
    ) -> None:
        try:
            _, token = await self._tokens.get(account_id)
        except AccountNeedsReconnect as exc:
            for entry in entries:
                await self._postpone(entry, now + RETRY_INACTIVE, str(exc))
            return
        except NotFoundError:
            for entry in entries:
                await self._postpone(entry, None, "The account was removed.")
            return
        for index, entry in enumerate(entries):
            if not await self._spend(account_id, now):
                tally.waiting += len(entries) - index
                return
            if isinstance(entry, AccountInsights):
                tally.account_calls += 1
            else:
                tally.post_calls += 1
            try:
                await self._read(entry, token, now)
            except _StopAccount as stop:
                for rest in entries[index:]:
                    await self._postpone(rest, stop.until, stop.error)
                return

    async def _read(self, entry: PostInsights | AccountInsights, token: str, now: datetime) -> None:
        kind = "account" if isinstance(entry, AccountInsights) else "post"
        try:
            if isinstance(entry, AccountInsights):
                insights = await self._threads.get_account_insights(access_token=token)
            else:
                insights = await self._threads.get_post_insights(entry.media_id, access_token=token)
        except ThreadsApiError as exc:
            self._observer.insights_call(kind, "error")
            await self._failed(entry, exc, now)
            return
        self._observer.insights_call(kind, "ok")
        await self._store(entry, insights, now)

    async def _failed(
        self, entry: PostInsights | AccountInsights, exc: ThreadsApiError, now: datetime
    ) -> None:
        log.warning("insights of account %s: %s", entry.account_id, exc)
        if isinstance(exc, ThreadsAuthError):
            raise _StopAccount(now + RETRY_INACTIVE, str(exc))
        if isinstance(exc, ThreadsRateLimited):
            raise _StopAccount(max(exc.frees_at or now, now + RETRY_TRANSIENT), str(exc))
        if isinstance(exc, ThreadsTransientError):
            await self._postpone(entry, now + RETRY_TRANSIENT, str(exc))
        elif isinstance(exc, ThreadsRejectedError) and isinstance(entry, PostInsights):
            await self._postpone(entry, None, str(exc))  # deleted on Threads: nothing to read
        else:
            await self._postpone(entry, now + RETRY_OTHER, str(exc))

    async def _store(
        self, entry: PostInsights | AccountInsights, insights: Insights, now: datetime
    ) -> None:
        sample = InsightSample(at=now, metrics=insights.metrics)
        if isinstance(entry, PostInsights):
            next_at = next_post_fetch(entry.published_at, now)
            kept = POST_HISTORY
        else:
            next_at = now + ACCOUNT_EVERY
            kept = ACCOUNT_HISTORY
        update: dict[str, Any] = {
            "$set": {
                "metrics": insights.metrics,
                "fetched_at": now,
                "next_fetch_at": next_at,
                "error": None,
            },
            "$push": {"history": {"$each": [sample.model_dump()], "$slice": -kept}},
        }
        if isinstance(entry, PostInsights):
            update["$inc"] = {"fetches": 1}
        await type(entry).get_pymongo_collection().update_one({"_id": entry.id}, update)

    async def _postpone(
        self, entry: PostInsights | AccountInsights, until: datetime | None, error: str
    ) -> None:
        await (
            type(entry)
            .get_pymongo_collection()
            .update_one({"_id": entry.id}, {"$set": {"next_fetch_at": until, "error": error[:500]}})
        )

    async def _spend(self, account_id: object, now: datetime) -> bool:
        member = f"{_ms(now)}:{uuid.uuid4().hex[:8]}"
        spent = await self._spend_script(
            keys=[BUDGET_KEY.format(account_id=account_id)],
            args=[_ms(now), _ms_delta(WINDOW), self._budget, member],
        )
        return bool(spent)

    async def _next_due(self, now: datetime, truncated: bool) -> datetime:
        """When the cron must look again: the next reading, a budget freeing, or the recheck."""
        candidates = [now + IDLE_RECHECK]
        if truncated:
            candidates.append(now)
        for model in (PostInsights, AccountInsights):
            upcoming = (
                await model.find({"next_fetch_at": {"$gt": now}})
                .sort("next_fetch_at")
                .first_or_none()
            )
            if upcoming is not None and upcoming.next_fetch_at is not None:
                candidates.append(upcoming.next_fetch_at)
        # Readings still due here were left for lack of budget: look again when it frees.
        due = {"next_fetch_at": {"$lte": now}}
        waiting_accounts = set(
            await PostInsights.get_pymongo_collection().distinct("account_id", due)
        ) | set(await AccountInsights.get_pymongo_collection().distinct("account_id", due))
        for account_id in waiting_accounts:
            candidates.append(await self._budget_frees_at(account_id, now))
        return min(candidates)

    async def _budget_frees_at(self, account_id: object, now: datetime) -> datetime:
        oldest = await self._redis.zrange(
            BUDGET_KEY.format(account_id=account_id), 0, 0, withscores=True
        )
        if not oldest:
            return now
        return _from_timestamp(float(oldest[0][1]) / 1000, now) + WINDOW


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def _ms_delta(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


def _from_timestamp(seconds: float, like: datetime) -> datetime:
    return datetime.fromtimestamp(seconds, like.tzinfo)


def _oid(value: object, kind: str) -> PydanticObjectId:
    text = str(value)
    if not PydanticObjectId.is_valid(text):
        raise NotFoundError(kind, value)
    return PydanticObjectId(text)
