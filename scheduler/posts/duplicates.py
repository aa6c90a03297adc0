"""Duplicates: the same content on the same account twice within a short time.

Threads treats repeated content as spam, and the seed system refused it too. Every post carries a
`content_hash`: its text (Unicode-normalised, case-folded, white space collapsed) plus its media
URLs (scheme and host lower-cased, sorted). The reply chain is left out on purpose: followers see
the post itself in their feed, so a repeat of it is a repeat whatever its replies say.

A new or edited post repeats another post of the same account when their hashes match and the
other one is scheduled (the whole scheduled future), was published within the window
(`DUPLICATE_WINDOW_HOURS`, default 24), or is a draft or failed post touched within the window
(so re-importing a sheet of drafts is caught too). `DUPLICATE_POLICY` decides what happens:
`warn` saves the post and marks it (`Post.duplicate_of`), `block` refuses to schedule it (drafts
are only marked, so "duplicate this post" still works), `off` only stores the hash.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from beanie import PydanticObjectId

from scheduler.platform.clock import Clock
from scheduler.platform.documents import Post, PostStatus
from scheduler.platform.errors import ValidationFailed
from scheduler.platform.settings import Settings
from scheduler.posts.content import PostContent

_LIVE = [str(PostStatus.SCHEDULED), str(PostStatus.PUBLISHING)]
_RESTING = [str(PostStatus.DRAFT), str(PostStatus.FAILED)]
_FIELDS = dict.fromkeys(
    ("account_id", "content_hash", "status", "next_run_at", "last_published_at"), 1
)


class DuplicatePolicy(StrEnum):
    """What to do with a post that repeats another one (the `DUPLICATE_POLICY` setting)."""

    OFF = "off"
    WARN = "warn"
    BLOCK = "block"


def normalise_text(text: str) -> str:
    """Text as compared for duplicates: NFKC, case-folded, runs of white space made one space."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def normalise_url(url: str) -> str:
    """A media URL as compared for duplicates: scheme and host lower-cased, no trailing slash."""
    raw = url.strip()
    try:
        parts = urlsplit(raw)
    except ValueError:
        return raw
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def content_hash(content: PostContent) -> str:
    """The normalised-content hash of a post (text and media URLs; replies are not part of it)."""
    urls = sorted(normalise_url(item.url) for item in content.media)
    payload = json.dumps([normalise_text(content.text), urls], ensure_ascii=False)
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Duplicate:
    """What a post repeats: a stored post, or an earlier item of the same batch."""

    post_id: PydanticObjectId | None
    status: PostStatus | None = None
    at: datetime | None = None  # when the stored post is due, or was published
    earlier_item: int | None = None  # index of the earlier item in the batch

    @classmethod
    def of(cls, original: Post) -> Duplicate:
        """A stored post as what another one repeats (for the warning about `duplicate_of`)."""
        live = str(original.status) in _LIVE
        return cls(
            post_id=original.id,
            status=original.status,
            at=original.next_run_at if live else original.last_published_at,
        )


def describe(duplicate: Duplicate, label: Callable[[int], str] | None = None) -> str:
    """A sentence saying what a post repeats, e.g. "post 66.. (scheduled for 2030-01-07 09:00 UTC)".

    Args:
        duplicate: the finding.
        label: how to name an earlier item of the batch (default "item N of this batch").
    """
    if duplicate.earlier_item is not None:
        name = label or (lambda i: f"item {i + 1} of this batch")
        return name(duplicate.earlier_item)
    when = f"{duplicate.at:%Y-%m-%d %H:%M} UTC" if duplicate.at else ""
    state = {
        PostStatus.SCHEDULED: f"scheduled for {when}",
        PostStatus.PUBLISHING: f"being published for {when}",
        PostStatus.PUBLISHED: f"published at {when}",
        PostStatus.DRAFT: "a draft",
        PostStatus.FAILED: "a failed post",
    }.get(duplicate.status or PostStatus.DRAFT, "")
    return f"post {duplicate.post_id} ({state})" if state else f"post {duplicate.post_id}"


class DuplicateGuard:
    """Finds posts that repeat recent or scheduled content of the same account."""

    def __init__(
        self,
        *,
        clock: Clock,
        policy: DuplicatePolicy = DuplicatePolicy.WARN,
        window: timedelta = timedelta(hours=24),
    ) -> None:
        self._clock = clock
        self.policy = policy
        self.window = window

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> DuplicateGuard:
        """The guard configured by DUPLICATE_POLICY and DUPLICATE_WINDOW_HOURS."""
        return cls(
            clock=clock,
            policy=DuplicatePolicy(settings.duplicate_policy),
            window=timedelta(hours=settings.duplicate_window_hours),
        )

    def blocks(self, post: Post, found: Duplicate, *, strict: bool = False) -> bool:
        """Whether the policy refuses `post`, which repeats `found`.

        Scheduling a post that repeats one scheduled or published is refused; drafts are only
        marked, on either side, unless `strict`.

        Args:
            post: the new or edited post.
            found: what it repeats.
            strict: refuse any repeat, drafts too (an import: re-importing a sheet is the
                mistake to catch).
        """
        if self.policy is not DuplicatePolicy.BLOCK:
            return False
        if strict:
            return True
        return post.status in _LIVE and found.status not in _RESTING

    async def check(self, post: Post, *, exclude: PydanticObjectId | None = None) -> None:
        """Stamp `content_hash` and `duplicate_of` on `post`; raise when the policy blocks it.

        Args:
            post: the post about to be stored (its status already the one it will have).
            exclude: a stored post not to compare with (the post itself, when editing).

        Raises:
            ValidationFailed: on `text`, when the post repeats another and the policy is block.
        """
        (found,) = await self.find([post], exclude=exclude)
        if found is not None and self.blocks(post, found):
            raise ValidationFailed.single("text", self.blocked_message(found))

    async def find(
        self, posts: Sequence[Post], *, exclude: PydanticObjectId | None = None
    ) -> list[Duplicate | None]:
        """For each post (all of one owner): what it repeats, or None; stamps hash and mark.

        A post may also repeat an earlier post of the same sequence (a batch being imported).
        """
        hashes = [content_hash(post.content) for post in posts]
        for post, digest in zip(posts, hashes, strict=True):
            post.content_hash = digest
            post.duplicate_of = None
        if self.policy is DuplicatePolicy.OFF or not posts:
            return [None] * len(posts)
        stored = await self._stored(posts, hashes, exclude)
        found: list[Duplicate | None] = []
        seen: dict[tuple[PydanticObjectId, str], int] = {}
        for index, (post, digest) in enumerate(zip(posts, hashes, strict=True)):
            key = (post.account_id, digest)
            duplicate = stored.get(key)
            if duplicate is None and key in seen:
                earlier = seen[key]
                before = posts[earlier]
                duplicate = Duplicate(
                    post_id=before.id,
                    status=before.status,
                    at=before.next_run_at,
                    earlier_item=earlier,
                )
            seen.setdefault(key, index)
            post.duplicate_of = duplicate.post_id if duplicate else None
            found.append(duplicate)
        return found

    def blocked_message(self, found: Duplicate, label: Callable[[int], str] | None = None) -> str:
        """The error shown when the policy refuses a repeat."""
        return (
            f"The same text and media are already in {describe(found, label)} for this "
            f"account; repeated posts within {self._window_words()} are refused "
            "(DUPLICATE_POLICY=block). Change the text or media, or choose another account."
        )

    def warning_message(self, found: Duplicate, label: Callable[[int], str] | None = None) -> str:
        """The notice shown when a repeat is saved anyway (policy warn)."""
        return (
            f"The same text and media are already in {describe(found, label)} for this "
            "account; Threads may treat repeated posts as spam."
        )

    def _window_words(self) -> str:
        hours = int(self.window.total_seconds() // 3600)
        return f"{hours} hours and the scheduled future"

    async def _stored(
        self,
        posts: Sequence[Post],
        hashes: Sequence[str],
        exclude: PydanticObjectId | None,
    ) -> dict[tuple[PydanticObjectId, str], Duplicate]:
        since = self._clock.now() - self.window
        found: dict[tuple[PydanticObjectId, str], Duplicate] = {}
        # One query per account: each is then an index lookup on (account_id, content_hash).
        for account_id in sorted({post.account_id for post in posts}):
            mine = {d for p, d in zip(posts, hashes, strict=True) if p.account_id == account_id}
            query: dict[str, Any] = {
                "account_id": account_id,
                "content_hash": {"$in": sorted(mine)},
                "owner_id": posts[0].owner_id,
                "$or": [
                    {"status": {"$in": _LIVE}},
                    {"last_published_at": {"$gte": since}},
                    {"status": {"$in": _RESTING}, "updated_at": {"$gte": since}},
                ],
            }
            if exclude is not None:
                query["_id"] = {"$ne": exclude}
            async for raw in Post.get_pymongo_collection().find(query, _FIELDS):
                status = PostStatus(raw["status"])
                at = raw.get("next_run_at") if status in _LIVE else raw.get("last_published_at")
                key = (account_id, str(raw["content_hash"]))
                duplicate = Duplicate(post_id=raw["_id"], status=status, at=at)
                # A scheduled or published repeat says more (and may block) than a draft one.
                if key not in found or _rank(duplicate) < _rank(found[key]):
                    found[key] = duplicate
        return found


def _rank(duplicate: Duplicate) -> int:
    return 1 if duplicate.status in _RESTING else 0
