"""Posts: create, edit, schedule, cancel, retry, publish now, duplicate, delete and list.

Every method validates before it writes (Threads pre-flight rules, the account, the schedule),
scopes every read and write to the actor's owner, and changes status only through conditional
updates (`scheduler.posts.lifecycle`). A post that a job has claimed (PUBLISHING) can still be
edited or cancelled until the publish call is sent: the change bumps the version and drops the
job's lease, so the job's gate fails and it never publishes the old content.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from beanie import PydanticObjectId
from pydantic import ValidationError
from pymongo import DESCENDING

from scheduler.accounts.actors import Actor
from scheduler.platform.clock import Clock
from scheduler.platform.documents import Account, Occurrence, Post, PostStatus, bson_document
from scheduler.platform.errors import ConflictError, NotFoundError, StaleUpdate, ValidationFailed
from scheduler.platform.events import EventBus
from scheduler.posts.content import PostContent, ReplySpec
from scheduler.posts.duplicates import DuplicateGuard
from scheduler.posts.lifecycle import transition
from scheduler.posts.recurrence import Schedule, next_occurrence, validate_schedule
from scheduler.publishing.timing import check_at_for
from scheduler.threads.preflight import validate_chain

if TYPE_CHECKING:
    from scheduler.publishing.engine import EventDrivenScheduler

MAX_PAGE = 200
_NOT_SENT = {"sending_for": None}


@dataclass
class PostInput:
    """What an interface hands over to create or edit a post (None: keep / not given)."""

    account_id: str | None = None
    content: PostContent | None = None
    replies: list[ReplySpec] | None = None
    schedule: Schedule | Mapping[str, Any] | None = None


@dataclass
class PostFilter:
    status: Sequence[PostStatus] = ()
    account_id: str | None = None
    due_from: datetime | None = None
    due_until: datetime | None = None
    text: str | None = None


@dataclass
class PostPage:
    posts: list[Post]
    total: int
    offset: int = 0
    limit: int = 50
    has_more: bool = field(default=False)


def _oid(value: object, kind: str) -> PydanticObjectId:
    try:
        return PydanticObjectId(str(value))
    except Exception:
        raise NotFoundError(kind, value) from None


def _ms(instant: datetime) -> datetime:
    # MongoDB keeps milliseconds; truncate up front so equality holds after a round trip.
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


class PostService:
    """The only way interfaces change posts."""

    def __init__(
        self,
        *,
        clock: Clock,
        events: EventBus,
        scheduler: EventDrivenScheduler,
        duplicates: DuplicateGuard | None = None,
    ) -> None:
        self._clock = clock
        self._events = events
        self._scheduler = scheduler
        self._duplicates = duplicates or DuplicateGuard(clock=clock)

    # --- reading ---------------------------------------------------------------------------

    async def get(self, actor: Actor, post_id: object) -> Post:
        post = await Post.find_one({"_id": _oid(post_id, "Post"), "owner_id": actor.owner_id})
        if post is None:
            raise NotFoundError("Post", post_id)
        return post

    async def find(
        self, actor: Actor, filters: PostFilter | None = None, *, offset: int = 0, limit: int = 50
    ) -> PostPage:
        """Posts of the actor's owner, newest first; `total` counts every match."""
        if limit < 1 or limit > MAX_PAGE or offset < 0:
            raise ValidationFailed.single(
                "limit", f"Ask for 1 to {MAX_PAGE} posts from a non-negative offset."
            )
        query = self._query(actor, filters or PostFilter())
        collection = Post.get_pymongo_collection()
        cursor = collection.find(query, sort=[("_id", DESCENDING)], skip=offset, limit=limit + 1)
        posts = [Post.model_validate(raw) async for raw in cursor]
        total = await collection.count_documents(query)
        return PostPage(
            posts=posts[:limit],
            total=total,
            offset=offset,
            limit=limit,
            has_more=len(posts) > limit,
        )

    async def occurrences(self, actor: Actor, post_id: object, limit: int = 50) -> list[Occurrence]:
        post = await self.get(actor, post_id)
        return (
            await Occurrence.find({"post_id": post.id, "owner_id": actor.owner_id})
            .sort("-scheduled_for")
            .limit(limit)
            .to_list()
        )

    async def get_many(self, actor: Actor, post_ids: Iterable[object]) -> list[Post]:
        """The actor's posts among `post_ids` (unknown and other owners' ids are left out)."""
        oids = [PydanticObjectId(str(i)) for i in post_ids if PydanticObjectId.is_valid(str(i))]
        if not oids:
            return []
        return await Post.find({"_id": {"$in": oids}, "owner_id": actor.owner_id}).to_list()

    async def occurrences_between(
        self, actor: Actor, start: datetime, end: datetime, limit: int = 2000
    ) -> list[Occurrence]:
        """The actor's occurrences (published, failed, held…) due in [start, end), oldest first."""
        return (
            await Occurrence.find(
                {"owner_id": actor.owner_id, "scheduled_for": {"$gte": start, "$lt": end}}
            )
            .sort("scheduled_for")
            .limit(limit)
            .to_list()
        )

    async def counts(self, actor: Actor) -> dict[PostStatus, int]:
        """How many of the actor's posts are in each status (every status present, 0 if none)."""
        # One index-answered count per status (owner_id, status, …) beats a $group that reads
        # every post of the owner.
        collection = Post.get_pymongo_collection()
        totals = await asyncio.gather(
            *(
                collection.count_documents({"owner_id": actor.owner_id, "status": str(status)})
                for status in PostStatus
            )
        )
        return dict(zip(PostStatus, totals, strict=True))

    async def last_occurrences(
        self, actor: Actor, post_ids: Sequence[object]
    ) -> dict[str, Occurrence]:
        """The latest occurrence of each of the actor's posts that has one, by post id (one query).

        Unknown, malformed and other owners' ids are simply absent (for batch loaders).
        """
        oids = [PydanticObjectId(str(i)) for i in post_ids if PydanticObjectId.is_valid(str(i))]
        pipeline: list[dict[str, Any]] = [
            {"$match": {"post_id": {"$in": oids}, "owner_id": actor.owner_id}},
            {"$sort": {"scheduled_for": DESCENDING}},
            {"$group": {"_id": "$post_id", "latest": {"$first": "$$ROOT"}}},
        ]
        cursor = await Occurrence.get_pymongo_collection().aggregate(pipeline)
        return {str(row["_id"]): Occurrence.model_validate(row["latest"]) async for row in cursor}

    # --- writing ---------------------------------------------------------------------------

    async def create(self, actor: Actor, data: PostInput) -> Post:
        """Create a post: a DRAFT, or SCHEDULED straight away when `data.schedule` is given."""
        actor.require_write()
        post = await self._build(actor, data, self._clock.now())
        await self._duplicates.check(post)
        await post.insert()
        await self._announce(post, previous=None)
        if post.status is PostStatus.SCHEDULED:
            await self._scheduler.on_post_scheduled(post.check_at)
        return post

    async def create_many(
        self,
        actor: Actor,
        inputs: Sequence[PostInput],
        *,
        validate_only: bool = False,
        strict_duplicates: bool = False,
        label: Callable[[int], str] | None = None,
    ) -> list[Post | ValidationFailed]:
        """Create many posts: each validated exactly like `create`, the valid ones in one insert.

        Args:
            actor: who creates them.
            inputs: the posts to create.
            validate_only: check everything (duplicates too) but write nothing (a dry run).
            strict_duplicates: DUPLICATE_POLICY=block refuses repeated drafts too (imports).
            label: how messages name an earlier item of the batch, e.g. `lambda i: f"row {i}"`.

        Returns:
            Per input, in order: the post (created, or as it would be created) or the
            `ValidationFailed` that refused it. Nothing is written for refused inputs.
        """
        actor.require_write()
        now = self._clock.now()
        accounts = await self._accounts_of(actor, inputs)
        results: list[Post | ValidationFailed] = []
        for data in inputs:
            try:
                results.append(await self._build(actor, data, now, accounts))
            except ValidationFailed as exc:
                results.append(exc)
        built = [(i, post) for i, post in enumerate(results) if isinstance(post, Post)]
        found = await self._duplicates.find([post for _, post in built])
        for (index, post), duplicate in zip(built, found, strict=True):
            if duplicate is not None and self._duplicates.blocks(
                post, duplicate, strict=strict_duplicates
            ):
                message = self._duplicates.blocked_message(duplicate, label)
                results[index] = ValidationFailed.single("text", message)
        valid = [post for post in results if isinstance(post, Post)]
        if validate_only or not valid:
            return results
        await Post.get_pymongo_collection().insert_many([bson_document(p) for p in valid])
        for post in valid:
            await self._announce(post, previous=None)
        due = [post.check_at for post in valid if post.check_at is not None]
        if due:
            await self._scheduler.on_post_scheduled(min(due))
        return results

    async def _build(
        self,
        actor: Actor,
        data: PostInput,
        now: datetime,
        accounts: Mapping[str, Account] | None = None,
    ) -> Post:
        """Validate `data` as a new post (DRAFT or SCHEDULED); raises ValidationFailed."""
        errors: dict[str, list[str]] = {}
        account = (accounts or {}).get(str(data.account_id))
        if account is None:
            account = await self._account(actor, data.account_id, errors)
        content = data.content or PostContent()
        replies = data.replies or []
        errors.update(validate_chain(content, replies))
        schedule, next_run = self._schedule(data.schedule, now, errors)
        if errors:
            raise ValidationFailed(errors)
        assert account is not None and account.id is not None
        return Post(
            id=PydanticObjectId(),  # known before the insert: batch duplicates point at it
            owner_id=actor.owner_id,
            account_id=account.id,
            content=content,
            replies=replies,
            status=PostStatus.SCHEDULED if schedule else PostStatus.DRAFT,
            schedule=schedule,
            next_run_at=next_run,
            check_at=check_at_for(next_run, content, now) if next_run else None,
            created_at=now,
            updated_at=now,
        )

    async def _accounts_of(self, actor: Actor, inputs: Sequence[PostInput]) -> dict[str, Account]:
        """The actor's accounts named by `inputs`, by id, in one query."""
        ids = {str(data.account_id) for data in inputs if data.account_id}
        oids = [PydanticObjectId(i) for i in ids if PydanticObjectId.is_valid(i)]
        found = await Account.find({"_id": {"$in": oids}, "owner_id": actor.owner_id}).to_list()
        return {str(account.id): account for account in found}

    async def update(
        self, actor: Actor, post_id: object, data: PostInput, *, version: int | None = None
    ) -> Post:
        """Edit content, replies, account or schedule; a claimed post goes back to SCHEDULED."""
        actor.require_write()
        post = await self.get(actor, post_id)
        self._ensure_editable(post)
        now = self._clock.now()
        errors: dict[str, list[str]] = {}
        account_id = post.account_id
        if data.account_id is not None:
            account = await self._account(actor, data.account_id, errors)
            if account is not None and account.id is not None:
                account_id = account.id
        content = data.content if data.content is not None else post.content
        replies = data.replies if data.replies is not None else post.replies
        errors.update(validate_chain(content, replies))
        schedule, next_run = post.schedule, post.next_run_at
        if data.schedule is not None:
            schedule, next_run = self._schedule(data.schedule, now, errors)
        if errors:
            raise ValidationFailed(errors)
        changes: dict[str, Any] = {
            "account_id": account_id,
            "content": content.model_dump(mode="json"),
            "replies": [r.model_dump(mode="json") for r in replies],
            "schedule": schedule.model_dump(mode="json") if schedule else None,
            "next_run_at": next_run,
        }
        target = post.status
        if post.status in (PostStatus.SCHEDULED, PostStatus.PUBLISHING):
            target = PostStatus.SCHEDULED
            if next_run is None:
                raise ValidationFailed.single("schedule", "A scheduled post needs a schedule.")
            changes |= {"check_at": check_at_for(next_run, content, now), "lease": None}
        candidate = post.model_copy(
            update={"account_id": account_id, "content": content, "status": target}
        )
        await self._duplicates.check(candidate, exclude=post.id)
        changes |= {"content_hash": candidate.content_hash, "duplicate_of": candidate.duplicate_of}
        updated = await transition(
            post.id,
            source=post.status,
            target=target,
            version=version if version is not None else post.version,
            now=now,
            changes=changes,
            where={"owner_id": actor.owner_id, **_NOT_SENT},
        )
        if updated is None:
            raise StaleUpdate("Post", post.id, f"version {version or post.version}")
        await self._announce(updated, previous=post.status)
        if updated.status is PostStatus.SCHEDULED:
            await self._scheduler.on_post_scheduled(updated.check_at)
        return updated

    async def schedule(
        self, actor: Actor, post_id: object, schedule: Schedule | Mapping[str, Any]
    ) -> Post:
        """Schedule a DRAFT (or reschedule a SCHEDULED/FAILED/CANCELLED post) on `schedule`."""
        actor.require_write()
        post = await self.get(actor, post_id)
        self._ensure_editable(post)
        now = self._clock.now()
        errors: dict[str, list[str]] = {}
        errors.update(validate_chain(post.content, post.replies))
        rule, next_run = self._schedule(schedule, now, errors)
        if errors:
            raise ValidationFailed(errors)
        assert rule is not None and next_run is not None
        return await self._to_scheduled(
            actor, post, now, next_run=next_run, schedule=rule.model_dump(mode="json")
        )

    async def publish_now(self, actor: Actor, post_id: object) -> Post:
        """Publish as soon as possible (a recurring post then continues after now)."""
        actor.require_write()
        post = await self.get(actor, post_id)
        self._ensure_editable(post)
        errors = validate_chain(post.content, post.replies)
        if errors:
            raise ValidationFailed(errors)
        now = _ms(self._clock.now())
        return await self._to_scheduled(actor, post, now, next_run=now)

    async def retry(self, actor: Actor, post_id: object) -> Post:
        """Send a FAILED post back to the scheduler; its occurrence resumes where it stopped."""
        actor.require_write()
        post = await self.get(actor, post_id)
        if post.status is not PostStatus.FAILED:
            raise ConflictError(
                f"Post {post.id} is {post.status.value}, not FAILED; only failed posts can be "
                "retried."
            )
        now = self._clock.now()
        due = post.next_run_at or _ms(now)
        updated = await transition(
            post.id,
            source=PostStatus.FAILED,
            target=PostStatus.SCHEDULED,
            version=post.version,
            now=now,
            changes={"next_run_at": due, "check_at": now, "last_error": None, "lease": None},
            where={"owner_id": actor.owner_id},
        )
        if updated is None:
            raise StaleUpdate("Post", post.id, "FAILED")
        await self._announce(updated, previous=post.status)
        await self._scheduler.on_post_scheduled(updated.check_at)
        return updated

    async def cancel(self, actor: Actor, post_id: object) -> Post:
        """Stop a draft or scheduled post (also a claimed one, until its publish call is sent)."""
        actor.require_write()
        post = await self.get(actor, post_id)
        cancellable = (PostStatus.DRAFT, PostStatus.SCHEDULED, PostStatus.PUBLISHING)
        if post.status not in cancellable or post.sending_for is not None:
            raise self._conflict(post, "cancelled")
        updated = await transition(
            post.id,
            source=cancellable,
            target=PostStatus.CANCELLED,
            now=self._clock.now(),
            changes={"check_at": None, "lease": None},
            where={"owner_id": actor.owner_id, **_NOT_SENT},
        )
        if updated is None:
            raise self._conflict(await self.get(actor, post_id), "cancelled")
        await self._announce(updated, previous=post.status)
        await self._scheduler.on_post_cancelled()
        return updated

    async def delete(self, actor: Actor, post_id: object) -> None:
        """Delete a post and its history (a post being sent right now cannot be deleted)."""
        actor.require_write()
        post = await self.get(actor, post_id)
        result = await Post.get_pymongo_collection().delete_one(
            {"_id": post.id, "owner_id": actor.owner_id, **_NOT_SENT}
        )
        if result.deleted_count == 0:
            raise self._conflict(post, "deleted")
        await Occurrence.get_pymongo_collection().delete_many({"post_id": post.id})
        await self._events.publish(
            "post.deleted", actor.owner_id, post_id=str(post.id), account_id=str(post.account_id)
        )
        if post.status in (PostStatus.SCHEDULED, PostStatus.PUBLISHING):
            await self._scheduler.on_post_cancelled()

    async def duplicate(self, actor: Actor, post_id: object) -> Post:
        """A new DRAFT with the same account, content and reply chain."""
        actor.require_write()
        post = await self.get(actor, post_id)
        return await self.create(
            actor,
            PostInput(
                account_id=str(post.account_id), content=post.content, replies=list(post.replies)
            ),
        )

    # --- helpers ---------------------------------------------------------------------------

    async def _to_scheduled(
        self, actor: Actor, post: Post, now: datetime, *, next_run: datetime, **changes: Any
    ) -> Post:
        changes |= {
            "next_run_at": next_run,
            "check_at": check_at_for(next_run, post.content, now),
            "lease": None,
            "last_error": None,
            "held_reason": None,
        }
        candidate = post.model_copy(update={"status": PostStatus.SCHEDULED})
        await self._duplicates.check(candidate, exclude=post.id)
        changes |= {"content_hash": candidate.content_hash, "duplicate_of": candidate.duplicate_of}
        updated = await transition(
            post.id,
            source=post.status,
            target=PostStatus.SCHEDULED,
            version=post.version,
            now=now,
            changes=changes,
            where={"owner_id": actor.owner_id, **_NOT_SENT},
        )
        if updated is None:
            raise StaleUpdate("Post", post.id, post.status.value)
        await self._announce(updated, previous=post.status)
        await self._scheduler.on_post_scheduled(updated.check_at)
        return updated

    def _ensure_editable(self, post: Post) -> None:
        if post.status is PostStatus.PUBLISHED:
            raise ConflictError(
                f"Post {post.id} is already published; duplicate it to post something similar."
            )
        if post.status is PostStatus.PUBLISHING and post.sending_for is not None:
            raise self._conflict(post, "changed")

    @staticmethod
    def _conflict(post: Post, verb: str) -> ConflictError:
        if post.sending_for is not None or post.status is PostStatus.PUBLISHING:
            return ConflictError(
                f"Post {post.id} is being published right now and can no longer be {verb}; "
                "wait a moment and look at its status."
            )
        return ConflictError(f"Post {post.id} is {post.status.value} and cannot be {verb}.")

    async def _account(
        self, actor: Actor, account_id: str | None, errors: dict[str, list[str]]
    ) -> Account | None:
        if not account_id:
            errors["account_id"] = ["Choose the Threads account to publish with."]
            return None
        try:
            oid = PydanticObjectId(account_id)
        except Exception:
            oid = None
        account = await Account.find_one({"_id": oid, "owner_id": actor.owner_id}) if oid else None
        if account is None:
            errors["account_id"] = [
                f"No connected account {account_id}; choose one of your accounts (Accounts page)."
            ]
        return account

    def _schedule(
        self,
        raw: Schedule | Mapping[str, Any] | None,
        now: datetime,
        errors: dict[str, list[str]],
    ) -> tuple[Schedule | None, datetime | None]:
        if raw is None:
            return None, None
        try:
            rule = validate_schedule(raw, now)
        except ValidationFailed as exc:
            errors.update(exc.field_errors)
            return None, None
        except ValidationError as exc:  # pragma: no cover - validate_schedule maps these
            errors["schedule"] = [str(exc)]
            return None, None
        first = next_occurrence(rule, now)
        if first is None:
            errors["schedule"] = [
                "This schedule has no occurrence in the future; change its dates."
            ]
            return None, None
        return rule, _ms(first)

    def _query(self, actor: Actor, filters: PostFilter) -> dict[str, Any]:
        query: dict[str, Any] = {"owner_id": actor.owner_id}
        if filters.status:
            query["status"] = {"$in": [str(s) for s in filters.status]}
        if filters.account_id:
            query["account_id"] = _oid(filters.account_id, "Account")
        due: dict[str, datetime] = {}
        if filters.due_from:
            due["$gte"] = filters.due_from
        if filters.due_until:
            due["$lte"] = filters.due_until
        if due:
            query["next_run_at"] = due
        if filters.text:
            query["content.text"] = {"$regex": re.escape(filters.text), "$options": "i"}
        return query

    async def _announce(self, post: Post, previous: PostStatus | None) -> None:
        await self._events.publish(
            "post.status",
            post.owner_id,
            post_id=str(post.id),
            account_id=str(post.account_id),
            status=str(post.status),
            previous=str(previous) if previous else None,
            version=post.version,
            next_run_at=post.next_run_at.isoformat() if post.next_run_at else None,
        )
