"""Publishing: one occurrence of one post, from claimed to published, exactly once.

1. The publish job (SAQ) creates the containers (waiting for media to finish processing), records
   the occurrence, and arms its release.
2. The release, at the exact instant, passes the *gate* (the post is still ours, unchanged, not
   cancelled; `sending_for` is set) and calls threads_publish on that container only, then the
   reply chain, each reply after its delay.
3. Finally the occurrence is PUBLISHED and the post too, or it moves on to its next occurrence.

Invariants:
- threads_publish is never called before the occurrence's instant, and only after the *gate*: one
  conditional update on the post (status PUBLISHING, our lease token, our version, nothing sent
  yet). Cancels and edits filter on "nothing sent", so exactly one of them wins.
- Once `sending_for` is set, the outcome may be unknown: it is resolved by asking Threads (the
  container's status, the account's recent posts), never by creating a new container. Publishing
  the same container twice is refused by Threads, so even a wrong guess cannot post twice.
- Every write filters on the job's lease token: a job whose worker was presumed dead and taken
  over can no longer change anything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from scheduler.accounts.service import AccountService, AccountTokens
from scheduler.ops.metrics import Observer
from scheduler.platform.clock import Clock
from scheduler.platform.documents import (
    Attempt,
    Occurrence,
    OccurrencePart,
    OccurrenceState,
    Post,
    PostStatus,
)
from scheduler.platform.errors import (
    AccountNeedsReconnect,
    NotFoundError,
    SchedulerError,
    ThreadsApiError,
    ThreadsAuthError,
    ThreadsContainerNotReady,
    ThreadsMediaFailed,
    ThreadsOutcomeUnknown,
    ThreadsRateLimited,
    ThreadsRejectedError,
    ThreadsTransientError,
)
from scheduler.platform.events import EventBus
from scheduler.posts.content import MediaKind, PostContent
from scheduler.posts.lifecycle import transition
from scheduler.posts.recurrence import is_recurring, next_occurrence
from scheduler.publishing.engine import EventDrivenScheduler
from scheduler.publishing.releaser import Releaser
from scheduler.publishing.timing import GATE_AHEAD, check_at_for, lease_until
from scheduler.threads.client import ThreadsClient
from scheduler.threads.containers import plan_containers
from scheduler.threads.models import ContainerRequest, ContainerState, PublishResolution

log = logging.getLogger(__name__)

NOT_READY_PATIENCE = timedelta(seconds=60)  # how long to keep retrying a 24/4279009
UNKNOWN_RECHECK = timedelta(seconds=15)  # when an unresolved outcome is looked at again
RESOLVE_TRIES = 3  # asking Threads what happened is harmless: retry it before giving up
# How far back the search for a publish with an unknown outcome looks (with Threads' clock skew);
# other occurrences' posts within it are excluded by id.
RESOLVE_LOOKBACK = timedelta(minutes=5)
MEDIA_POLL_SECONDS = 2.0
KEEP_MEDIA_IDS = 20


class Held(Exception):
    """Internal: the occurrence must wait (quota, reconnect) and was parked by `_park`."""


class Failed(Exception):
    """Internal: the occurrence failed permanently; `message` says why in plain words."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


class Unresolved(Exception):
    """Internal: this run stops without a verdict: a publish outcome is still unknown (a later
    takeover asks Threads again), or a newer run holds the post (an edit or a takeover)."""


@dataclass
class Work:
    """What one job (and its release) works on: the claimed post, its occurrence, its lease."""

    post: Post
    occurrence: Occurrence
    token: str
    due: datetime
    access_token: str = ""
    # Parts whose publish call an earlier run may have sent (outcome unknown until resolved).
    inherited_sends: set[int] = field(default_factory=set)

    @property
    def key(self) -> str:
        return f"{self.post.id}:{int(self.due.timestamp() * 1000)}"


class Publisher:
    """Prepares, releases and records occurrences; the publish job is a thin adapter over `run`."""

    def __init__(
        self,
        *,
        clock: Clock,
        events: EventBus,
        threads: ThreadsClient,
        tokens: AccountTokens,
        accounts: AccountService,
        releaser: Releaser,
        scheduler: EventDrivenScheduler,
        attempts: int,
        lease_margin: timedelta,
        media_budget: timedelta = timedelta(minutes=5),
        observer: Observer | None = None,
    ) -> None:
        self._clock = clock
        self._events = events
        self._threads = threads
        self._tokens = tokens
        self._accounts = accounts
        self._releaser = releaser
        self._scheduler = scheduler
        self._attempts = attempts
        self._lease_margin = lease_margin
        self._media_budget = media_budget
        self._observer = observer or Observer()  # metrics (scheduler.ops.metrics)

    # --- the publish job --------------------------------------------------------------------

    async def run(self, snapshot: dict[str, Any], token: str, due: datetime) -> dict[str, str]:
        """Prepare the occurrence and arm its release; returns a small summary for SAQ."""
        post = Post.model_validate(snapshot)
        work = Work(post=post, occurrence=_placeholder(post, due, token), token=token, due=due)
        try:
            _, work.access_token = await self._tokens.get(post.account_id)
            resume = post.sending_for is not None or post.resume_due == due
            if resume:
                found = await self._take_occurrence(work)
                if found is None:
                    resume = False
            if not resume:
                await self._start_occurrence(work)
            work.inherited_sends = {
                part.index
                for part in work.occurrence.parts
                if part.state is not OccurrenceState.PUBLISHED
                and (
                    part.publish_sent_at is not None
                    or (part.index == 0 and post.sending_for == due)
                )
            }
            if work.occurrence.state is OccurrenceState.PUBLISHED:
                await self._finish(work)
                return {"result": "already published"}
            if work.post.sending_for is None:
                await self._prepare_root(work)
        except (Held, Failed, Unresolved) as exc:
            return {"result": type(exc).__name__.lower()}
        except (ThreadsApiError, AccountNeedsReconnect, NotFoundError) as exc:
            await self._handle(work, exc, part=0)
            return {"result": "not armed", "error": str(exc)}
        self._releaser.arm(
            work.key,
            token,
            max(due - GATE_AHEAD, self._clock.now()),
            lambda: self.release(work),
            lambda: self._hand_back(work),
        )
        return {"result": "armed", "due": due.isoformat()}

    async def _start_occurrence(self, work: Work) -> None:
        """A fresh occurrence: create its containers first, then record it in one write."""
        now = self._clock.now()
        part = OccurrencePart(index=0, due_at=work.due)
        await self._create_containers(work, part, work.post.content, reply_to_id=None)
        part.state = OccurrenceState.CONTAINER_READY
        occurrence = Occurrence(
            post_id=work.post.id,
            owner_id=work.post.owner_id,
            account_id=work.post.account_id,
            scheduled_for=work.due,
            post_version=work.post.version,
            lease=work.token,
            state=OccurrenceState.CONTAINER_READY,
            parts=[part],
            claimed_at=work.post.updated_at,
            container_ready_at=now,
            updated_at=now,
        )
        try:
            await occurrence.insert()
            work.occurrence = occurrence
        except DuplicateKeyError:
            # It exists after all (a retry, or a duplicate job): resume it instead.
            found = await self._take_occurrence(work)
            if found is None:  # a newer claim holds it: this run is stale
                raise Unresolved("superseded by a newer claim") from None
            root = work.occurrence.parts[0]
            if root.state is not OccurrenceState.PUBLISHED and root.publish_sent_at is None:
                # Its containers may hold an older version of the post: use the fresh ones.
                await self._save_part(work, 0, part, state=OccurrenceState.CONTAINER_READY)

    async def _take_occurrence(self, work: Work) -> Occurrence | None:
        """Make the occurrence's record ours; None if it is missing or a newer claim (an edit, a
        takeover: each has a higher post version) holds it, so a stale run never steals it."""
        raw = await Occurrence.get_pymongo_collection().find_one_and_update(
            {
                "post_id": work.post.id,
                "scheduled_for": work.due,
                "post_version": {"$lte": work.post.version},
            },
            {"$set": {"lease": work.token, "post_version": work.post.version}},
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            return None
        work.occurrence = Occurrence.model_validate(raw)
        if not work.occurrence.parts:
            work.occurrence.parts = [OccurrencePart(index=0, due_at=work.due)]
        return work.occurrence

    async def _prepare_root(self, work: Work) -> None:
        root = work.occurrence.parts[0]
        if root.state is OccurrenceState.PUBLISHED:
            return
        if root.container_id and work.post.resume_due != work.due:
            return  # prepared by `_start_occurrence` just now
        if root.container_id:
            # Resuming (retry, hold, deferral). An earlier run may have called publish on this
            # container: ask before making a new one, and reuse it while it is still good.
            status = await self._container_state(work, root.container_id)
            if status is ContainerState.PUBLISHED:
                work.inherited_sends.add(0)  # resolved (media id found) at release
                return
            if status is ContainerState.FINISHED:
                return
            if status is None:  # cannot tell whether it was published: look again later
                await self._park_unknown(work)
                raise Unresolved(root.container_id)
        part = OccurrencePart(index=0, due_at=work.due)
        await self._create_containers(work, part, work.post.content, reply_to_id=None)
        await self._save_part(work, 0, part, state=OccurrenceState.CONTAINER_READY)

    async def _create_containers(
        self, work: Work, part: OccurrencePart, content: PostContent, reply_to_id: str | None
    ) -> None:
        plan = plan_containers(content, reply_to_id=reply_to_id)
        items: list[str] = []
        for request in plan.items:
            items.append(await self._create(work, request))
        for item in items:
            await self._wait_ready(work, item)
        main = plan.main_with_children(items) if plan.items else plan.main
        container = await self._create(work, main)
        if content.media:
            await self._wait_ready(work, container)
        part.item_container_ids = items
        part.container_id = container

    async def _container_state(self, work: Work, container_id: str) -> ContainerState | None:
        try:
            status = await self._threads.get_container_status(
                container_id, access_token=work.access_token
            )
        except (ThreadsTransientError, ThreadsOutcomeUnknown, ThreadsRejectedError):
            return None
        return status.status

    async def _create(self, work: Work, request: ContainerRequest) -> str:
        """Create one container; creating is harmless to repeat, so transient errors retry."""
        for attempt in range(1, self._attempts + 1):
            try:
                return await self._threads.create_container(request, access_token=work.access_token)
            except (ThreadsTransientError, ThreadsOutcomeUnknown) as exc:
                if attempt >= self._attempts or isinstance(exc, ThreadsRateLimited):
                    raise
                await self._note(work, _current_part(work), "container", exc)
                await self._clock.sleep(_backoff(attempt, exc))
        raise AssertionError("unreachable")

    async def _wait_ready(self, work: Work, container_id: str) -> None:
        is_video = any(m.kind is MediaKind.VIDEO for m in work.post.content.media)
        for attempt in range(1, self._attempts + 1):
            try:
                await self._threads.wait_until_ready(
                    container_id,
                    access_token=work.access_token,
                    poll_interval=MEDIA_POLL_SECONDS if is_video else 0.5,
                    give_up_after=self._media_budget.total_seconds(),
                )
            except ThreadsContainerNotReady:
                raise  # the media budget is spent: a real failure, not a hiccup
            except (ThreadsTransientError, ThreadsOutcomeUnknown) as exc:
                if attempt >= self._attempts:
                    raise
                await self._clock.sleep(_backoff(attempt, exc))
            else:
                return

    # --- the release, at the instant -------------------------------------------------------

    async def release(self, work: Work) -> None:
        """Publish the post (and its reply chain) now; called by the releaser at the instant."""
        try:
            if work.post.sending_for is None:
                if not await self._gate(work):
                    return
            await self._clock.sleep_until(work.due)  # never a moment early
            root = work.occurrence.parts[0]
            if root.state is not OccurrenceState.PUBLISHED:
                self._observer.publish_released(work.due, self._clock.now())
                media_id = await self._publish_part(work, 0, work.post.content)
                await self._record_part(work, 0, media_id, last=not work.post.replies)
            for index, reply in enumerate(work.post.replies, start=1):
                await self._publish_reply(work, index, reply)
            await self._finish(work)
        except (Held, Failed, Unresolved):
            return
        except (ThreadsApiError, AccountNeedsReconnect, NotFoundError) as exc:
            await self._handle(work, exc, part=_current_part(work))

    async def _gate(self, work: Work) -> bool:
        """Claim the right to call threads_publish; False when the post was cancelled or changed."""
        now = self._clock.now()
        raw = await Post.get_pymongo_collection().find_one_and_update(
            {
                "_id": work.post.id,
                "status": str(PostStatus.PUBLISHING),
                "lease": work.token,
                "version": work.post.version,
                "sending_for": None,
            },
            {"$set": {"sending_for": work.due, "updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        if raw is not None:
            work.post = Post.model_validate(raw)
            return True
        current = await Post.get(work.post.id) if work.post.id else None
        if current is not None and current.lease == work.token:
            log.error("post %s: gate refused its own lease (state %s)", current.id, current.status)
            return False
        # Cancelled, deleted or edited (which drops the lease), or taken over: not ours any more.
        if current is None or current.status is PostStatus.CANCELLED:
            reason = "the post was cancelled or deleted"
        else:
            reason = "the post was changed before its time; the new version is scheduled"
        await self._set_occurrence(
            work, OccurrenceState.CANCELLED, error=f"Not published: {reason}."
        )
        return False

    async def _publish_reply(self, work: Work, index: int, reply: PostContent) -> None:
        parts = work.occurrence.parts
        while len(parts) <= index:
            parts.append(OccurrencePart(index=len(parts), due_at=work.due))
        part = parts[index]
        if part.state is OccurrenceState.PUBLISHED:
            return
        parent = parts[index - 1]
        if not parent.media_id:
            raise Failed(
                f"Reply {index} could not be posted: the id of the post it answers is unknown "
                "(Threads did not list it). Post the rest of the chain by hand.",
                "unknown",
            )
        delay = getattr(reply, "delay_seconds", 0)
        due = max((parent.published_at or self._clock.now()) + timedelta(seconds=delay), work.due)
        if part.publish_sent_at is None:
            fresh = OccurrencePart(index=index, due_at=due)
            await self._create_containers(work, fresh, reply, reply_to_id=parent.media_id)
            fresh.publish_sent_at = max(due, self._clock.now())
            # Persisted before the call: a crash from here on is resolved by asking Threads. If
            # the record is not ours any more, another run took the post over (this one was
            # presumed dead): it goes on with the chain, so this run must not send anything.
            if not await self._save_part(work, index, fresh, state=OccurrenceState.PUBLISH_SENT):
                raise Unresolved(f"taken over before reply {index}")
            await self._extend_lease(work, fresh.publish_sent_at)
            await self._clock.sleep_until(due)
        media_id = await self._publish_part(work, index, reply)
        await self._record_part(work, index, media_id, last=index == len(work.post.replies))

    async def _publish_part(self, work: Work, index: int, content: PostContent) -> str | None:
        """threads_publish with retries that can never post twice; returns the media id."""
        part = work.occurrence.parts[index]
        container = part.container_id
        assert container is not None
        sent_at = part.publish_sent_at or work.due
        if self._maybe_sent(work, index):
            resolved = await self._resolve(work, index, container, sent_at, content)
            if resolved is not None:
                return resolved or None
        attempt = 0
        not_ready_until = self._clock.now() + NOT_READY_PATIENCE
        while True:
            attempt += 1
            sent_at = self._clock.now()
            try:
                return await self._threads.publish(container, access_token=work.access_token)
            except ThreadsContainerNotReady:
                if self._clock.now() >= not_ready_until:
                    raise
                await self._clock.sleep(2.0)
                attempt -= 1
            except ThreadsRateLimited:
                raise
            except ThreadsRejectedError as exc:
                # Permanent, unless it is "already published": another run (a worker presumed
                # dead, but only slow) published this very container. Ask before failing.
                await self._note(work, index, "publish", exc)
                resolved = await self._resolve(work, index, container, sent_at, content)
                if resolved is not None:
                    return resolved or None
                raise
            except (ThreadsOutcomeUnknown, ThreadsTransientError) as exc:
                # The call may have gone through: ask Threads, then retry the same container.
                await self._note(work, index, "publish", exc)
                resolved = await self._resolve(work, index, container, sent_at, content)
                if resolved is not None:
                    return resolved or None
                if attempt >= self._attempts:
                    raise
                delay = _backoff(attempt, exc)
                # Still working on it: keep the lease, so no other worker takes over meanwhile.
                await self._extend_lease(work, self._clock.now() + timedelta(seconds=delay))
                await self._clock.sleep(delay)

    def _maybe_sent(self, work: Work, index: int) -> bool:
        # Only a send marker inherited from an earlier run means "maybe sent"; one this run
        # set itself was followed by the call below.
        return index in work.inherited_sends

    async def _resolve(
        self, work: Work, index: int, container: str, sent_at: datetime, content: PostContent
    ) -> str | None:
        """Ask Threads whether a publish happened: media id ("" if unknown), or None if it did not.

        Raises:
            Unresolved: Threads could not tell; the occurrence is parked for a later look.
        """
        resolution = PublishResolution(published=None)
        known = await self._known_media_ids(work, sent_at)
        for attempt in range(1, RESOLVE_TRIES + 1):
            try:
                resolution = await self._threads.resolve_publish(
                    container,
                    access_token=work.access_token,
                    sent_at=sent_at - timedelta(seconds=60),
                    text=content.text or None,
                    is_reply=index > 0,
                    known=known,
                )
            except (ThreadsTransientError, ThreadsOutcomeUnknown):
                resolution = PublishResolution(published=None)  # could not ask: still unknown
            if resolution.published is not None:
                break
            if attempt < RESOLVE_TRIES:
                await self._clock.sleep(float(attempt))
        if resolution.published:
            return resolution.media_id or ""
        if resolution.published is False:
            state = resolution.container.status if resolution.container else None
            if state in (ContainerState.ERROR, ContainerState.EXPIRED):
                raise ThreadsMediaFailed(
                    f"The container of part {index} is {state}; it cannot be published.",
                    explanation="Retry the post to create a fresh container.",
                )
            return None
        await self._park_unknown(work)
        raise Unresolved(container)

    async def _known_media_ids(self, work: Work, sent_at: datetime) -> set[str]:
        """What the post's other recent occurrences published: a recurring post repeats its
        text, so an earlier occurrence's post must never be taken for this one's."""
        known: set[str] = set(work.post.threads_media_ids)
        others = Occurrence.find(
            {
                "post_id": work.post.id,
                "scheduled_for": {"$ne": work.due, "$gte": sent_at - RESOLVE_LOOKBACK},
            }
        )
        async for occurrence in others:
            known.update(part.media_id for part in occurrence.parts if part.media_id)
        return known

    # --- recording --------------------------------------------------------------------------

    async def _record_part(
        self, work: Work, index: int, media_id: str | None, *, last: bool
    ) -> None:
        now = self._clock.now()
        part = work.occurrence.parts[index]
        part.state = OccurrenceState.PUBLISHED
        part.media_id = media_id
        part.published_at = now
        part.publish_sent_at = part.publish_sent_at or work.due
        changes: dict[str, Any] = {
            f"parts.{index}": part.model_dump(),
            "state": str(OccurrenceState.PUBLISHED if last else OccurrenceState.PUBLISH_SENT),
            "updated_at": now,
        }
        if index == 0:
            changes |= {"publish_sent_at": part.publish_sent_at, "confirmed_at": now}
        await Occurrence.get_pymongo_collection().update_one(
            {"_id": work.occurrence.id, "lease": work.token}, {"$set": changes}
        )
        work.occurrence.state = OccurrenceState.PUBLISHED if last else OccurrenceState.PUBLISH_SENT
        await self._events.publish(
            "occurrence.state",
            work.post.owner_id,
            post_id=str(work.post.id),
            occurrence_id=str(work.occurrence.id),
            part=index,
            state=str(OccurrenceState.PUBLISHED),
            media_id=media_id,
            scheduled_for=work.due.isoformat(),
            published_at=now.isoformat(),
        )

    async def _finish(self, work: Work) -> None:
        """The whole chain is out: the post is PUBLISHED, or moves on to its next occurrence."""
        now = self._clock.now()
        post = work.post
        media_ids = [p.media_id for p in work.occurrence.parts if p.media_id]
        nxt = None
        if post.schedule is not None and is_recurring(post.schedule):
            nxt = next_occurrence(post.schedule, max(work.due, now - timedelta(seconds=1)))
        changes: dict[str, Any] = {
            "sending_for": None,
            "lease": None,
            "resume_due": None,
            "held_reason": None,
            "last_published_at": now,
            "occurrence_count": post.occurrence_count + 1,
            "threads_media_ids": (media_ids[:1] + post.threads_media_ids)[:KEEP_MEDIA_IDS],
            "next_run_at": nxt,
            "check_at": check_at_for(nxt, post.content, now) if nxt else None,
        }
        target = PostStatus.SCHEDULED if nxt else PostStatus.PUBLISHED
        done = await transition(
            post.id,
            source=PostStatus.PUBLISHING,
            target=target,
            now=now,
            changes=changes,
            where={"lease": work.token},
        )
        if done is None:
            log.warning("post %s: finished but lost its lease before recording it", post.id)
            return
        if work.occurrence.state is not OccurrenceState.PUBLISHED:
            await self._set_occurrence(work, OccurrenceState.PUBLISHED)
        self._observer.post_published()
        await self._announce(done, PostStatus.PUBLISHING)
        if nxt is not None:
            await self._scheduler.on_post_scheduled(done.check_at)

    # --- failures ---------------------------------------------------------------------------

    async def _handle(self, work: Work, exc: Exception, *, part: int) -> None:
        """Route an error: hold (reconnect), defer (quota), retry later (unknown) or fail."""
        try:
            if isinstance(exc, ThreadsAuthError | AccountNeedsReconnect):
                reason = exc.meta_message if isinstance(exc, ThreadsAuthError) else str(exc)
                await self._accounts.mark_needs_reconnect(work.post.account_id, reason)
                await self._park(
                    work,
                    check_at=None,
                    why="Held: the Threads account must be reconnected (Accounts → Reconnect).",
                    error=str(exc),
                )
            elif isinstance(exc, ThreadsRateLimited):
                frees = exc.frees_at or (self._clock.now() + timedelta(minutes=15))
                what = "publishing" if part == 0 else "reply"
                await self._park(
                    work,
                    # Claimed again when quota frees, not a lead earlier: the post is overdue, so
                    # its release fires as soon as it is prepared, and must not precede `frees`.
                    check_at=max(frees, self._clock.now()),
                    why=f"Deferred: {what} quota reached; resumes at {frees.isoformat()}.",
                    error=str(exc),
                )
            elif isinstance(exc, ThreadsTransientError | ThreadsOutcomeUnknown):
                # Every attempt failed, and each publish attempt was resolved with Threads as
                # "not published": a definite failure that a retry may fix.
                message = f"{_plain(exc, part)} Gave up after {self._attempts} attempts."
                await self._fail(work, message, _kind(exc))
            else:
                await self._fail(work, _plain(exc, part), _kind(exc))
        except (Held, Failed, Unresolved):
            pass

    async def _park(self, work: Work, *, check_at: datetime | None, why: str, error: str) -> None:
        """Hand the occurrence back to the scheduler to try again later (nothing lost)."""
        now = self._clock.now()
        parked = await transition(
            work.post.id,
            source=PostStatus.PUBLISHING,
            target=PostStatus.SCHEDULED,
            now=now,
            changes={
                "check_at": check_at,
                "lease": None,
                "sending_for": None,
                "held_reason": why,
                "resume_due": work.due,
            },
            where={"lease": work.token},
        )
        if parked is not None:
            self._observer.post_held("reconnect" if check_at is None else "quota")
            await self._set_occurrence(work, OccurrenceState.HELD, error=error)
            await self._announce(parked, PostStatus.PUBLISHING)
            await self._scheduler.on_post_scheduled(check_at)
        raise Held(why)

    async def _park_unknown(self, work: Work) -> None:
        """An unresolved outcome: keep the post PUBLISHING and look again after a while."""
        now = self._clock.now()
        await Post.get_pymongo_collection().update_one(
            {"_id": work.post.id, "lease": work.token},
            {"$set": {"check_at": now + UNKNOWN_RECHECK, "updated_at": now}},
        )
        await self._set_occurrence(
            work,
            OccurrenceState.PUBLISH_SENT,
            error="Outcome unknown: Threads did not answer the publish call; checking again "
            "shortly (it will not be published twice).",
        )
        await self._scheduler.on_post_scheduled(now + UNKNOWN_RECHECK)

    async def _fail(self, work: Work, message: str, kind: str) -> None:
        now = self._clock.now()
        post = work.post
        await self._note(work, _current_part(work), "publish", None, message=message, kind=kind)
        published_any = any(p.state is OccurrenceState.PUBLISHED for p in work.occurrence.parts)
        nxt = None
        if post.schedule is not None and is_recurring(post.schedule) and not published_any:
            # A recurring post keeps its rhythm: this occurrence failed, the next one is tried.
            nxt = next_occurrence(post.schedule, max(work.due, now))
        changes: dict[str, Any] = {
            "lease": None,
            "sending_for": None,
            "last_error": message,
            "resume_due": None if nxt else work.due,
            "check_at": check_at_for(nxt, post.content, now) if nxt else None,
        }
        if nxt:
            changes["next_run_at"] = nxt
        failed = await transition(
            post.id,
            source=PostStatus.PUBLISHING,
            target=PostStatus.SCHEDULED if nxt else PostStatus.FAILED,
            now=now,
            changes=changes,
            where={"lease": work.token},
        )
        if failed is None:
            raise Failed(message, kind)
        self._observer.post_failed(kind)
        await self._set_occurrence(work, OccurrenceState.FAILED, error=message)
        await self._announce(failed, PostStatus.PUBLISHING, error=message)
        if nxt:
            await self._scheduler.on_post_scheduled(failed.check_at)
        raise Failed(message, kind)

    async def _hand_back(self, work: Work) -> None:
        """Shutdown before the instant: let another worker take over right away."""
        now = self._clock.now()
        result = await Post.get_pymongo_collection().update_one(
            {"_id": work.post.id, "lease": work.token, "sending_for": None},
            {"$set": {"check_at": now, "updated_at": now}},
        )
        if result.modified_count:
            await self._scheduler.on_post_scheduled(now)

    # --- small writes -----------------------------------------------------------------------

    async def _save_part(
        self, work: Work, index: int, part: OccurrencePart, *, state: OccurrenceState
    ) -> bool:
        """Store a part; False when the record is held by another run (it was taken over)."""
        parts = work.occurrence.parts
        while len(parts) <= index:
            parts.append(OccurrencePart(index=len(parts), due_at=work.due))
        parts[index] = part
        now = self._clock.now()
        changes: dict[str, Any] = {
            "parts": [p.model_dump() for p in parts],
            "state": str(state),
            "updated_at": now,
        }
        if index == 0:
            changes["container_ready_at"] = now
        saved = await Occurrence.get_pymongo_collection().update_one(
            {"_id": work.occurrence.id, "lease": work.token}, {"$set": changes}
        )
        work.occurrence.state = state
        return saved.matched_count == 1

    async def _extend_lease(self, work: Work, until: datetime) -> None:
        now = self._clock.now()
        await Post.get_pymongo_collection().update_one(
            {"_id": work.post.id, "lease": work.token},
            {"$set": {"check_at": lease_until(until, now, self._lease_margin)}},
        )

    async def _ensure_recorded(self, work: Work) -> None:
        """A failure before the occurrence was stored (e.g. while creating containers) still gets
        its record, so the post's timeline shows the attempt and its error."""
        if work.occurrence.id is not None:
            return
        placeholder = work.occurrence.model_dump(exclude={"id", "revision_id"})
        raw = await Occurrence.get_pymongo_collection().find_one_and_update(
            {"post_id": work.post.id, "scheduled_for": work.due},
            {"$setOnInsert": placeholder},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        work.occurrence = Occurrence.model_validate(raw)

    async def _set_occurrence(
        self, work: Work, state: OccurrenceState, *, error: str | None = None
    ) -> None:
        await self._ensure_recorded(work)
        now = self._clock.now()
        changes: dict[str, Any] = {"state": str(state), "updated_at": now, "error": error}
        if state is OccurrenceState.PUBLISHED:
            changes["confirmed_at"] = now
        await Occurrence.get_pymongo_collection().update_one(
            {"_id": work.occurrence.id, "lease": work.token}, {"$set": changes}
        )
        work.occurrence.state = state
        await self._events.publish(
            "occurrence.state",
            work.post.owner_id,
            post_id=str(work.post.id),
            occurrence_id=str(work.occurrence.id),
            state=str(state),
            error=error,
            scheduled_for=work.due.isoformat(),
        )

    async def _note(
        self,
        work: Work,
        part: int,
        step: str,
        exc: Exception | None,
        *,
        message: str | None = None,
        kind: str | None = None,
    ) -> None:
        await self._ensure_recorded(work)
        attempt = Attempt(
            at=self._clock.now(),
            step=step,
            part=part,
            error=message or (str(exc) if exc else None),
            kind=kind or (_kind(exc) if exc else None),
        )
        await Occurrence.get_pymongo_collection().update_one(
            {"_id": work.occurrence.id},
            {"$push": {"attempts": {"$each": [attempt.model_dump()], "$slice": -50}}},
        )

    async def _announce(self, post: Post, previous: PostStatus, error: str | None = None) -> None:
        await self._events.publish(
            "post.status",
            post.owner_id,
            post_id=str(post.id),
            account_id=str(post.account_id),
            status=str(post.status),
            previous=str(previous),
            version=post.version,
            next_run_at=post.next_run_at.isoformat() if post.next_run_at else None,
            held_reason=post.held_reason,  # "Deferred: ..." / "Held: ..." (webhooks, inbox)
            error=error,
        )


def _placeholder(post: Post, due: datetime, token: str) -> Occurrence:
    return Occurrence(
        post_id=post.id,
        owner_id=post.owner_id,
        account_id=post.account_id,
        scheduled_for=due,
        post_version=post.version,
        lease=token,
        parts=[OccurrencePart(index=0, due_at=due)],
        claimed_at=post.updated_at,
        updated_at=post.updated_at,
    )


def _current_part(work: Work) -> int:
    for part in work.occurrence.parts:
        if part.state is not OccurrenceState.PUBLISHED:
            return part.index
    return 0


def _backoff(attempt: int, exc: Exception) -> float:
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int | float) and retry_after > 0:
        return min(float(retry_after), 60.0)
    return float(min(2 ** (attempt - 1), 30))


def _kind(exc: Exception | None) -> str:
    if isinstance(exc, ThreadsAuthError | AccountNeedsReconnect):
        return "auth"
    if isinstance(exc, ThreadsRateLimited):
        return "quota"
    if isinstance(exc, ThreadsMediaFailed):
        return "media"
    if isinstance(exc, ThreadsOutcomeUnknown):
        return "unknown"
    if isinstance(exc, ThreadsTransientError):
        return "transient"
    if isinstance(exc, ThreadsRejectedError):
        return "rejected"
    return "error"


def _plain(exc: Exception, part: int) -> str:
    where = "The post" if part == 0 else f"Reply {part}"
    if isinstance(exc, SchedulerError):
        return f"{where} was not published. {exc}"
    return f"{where} was not published: {exc}"


__all__: Sequence[str] = ["Publisher", "Work"]
