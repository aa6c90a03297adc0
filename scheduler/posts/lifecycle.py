"""Lifecycle: the post status machine as data, and the one way to move a post through it.

    DRAFT → SCHEDULED → PUBLISHING → PUBLISHED | FAILED;  FAILED → SCHEDULED (retry);
    DRAFT | SCHEDULED | PUBLISHING → CANCELLED;  CANCELLED → DRAFT | SCHEDULED;
    SCHEDULED → DRAFT (unschedule);  PUBLISHING → SCHEDULED (next recurrence, deferral, edit).

A recurring post returns from PUBLISHING to SCHEDULED after each occurrence. PUBLISHING can still be
cancelled or edited until the publish call is sent (`sending_for` is set). A status may "move" to
itself where the post can be edited in place (DRAFT, SCHEDULED, FAILED, CANCELLED).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from scheduler.platform.documents import Post, PostStatus

S = PostStatus
TRANSITIONS: Mapping[PostStatus, frozenset[PostStatus]] = {
    S.DRAFT: frozenset({S.DRAFT, S.SCHEDULED, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.SCHEDULED, S.DRAFT, S.PUBLISHING, S.CANCELLED}),
    S.PUBLISHING: frozenset({S.PUBLISHED, S.FAILED, S.SCHEDULED, S.CANCELLED}),
    S.FAILED: frozenset({S.FAILED, S.SCHEDULED, S.CANCELLED}),
    S.PUBLISHED: frozenset(),
    S.CANCELLED: frozenset({S.CANCELLED, S.DRAFT, S.SCHEDULED}),
}


def can_transition(source: PostStatus, target: PostStatus) -> bool:
    return target in TRANSITIONS[source]


async def transition(
    post_id: PydanticObjectId | None,
    *,
    source: PostStatus | Collection[PostStatus],
    target: PostStatus,
    version: int | None = None,
    now: datetime,
    changes: Mapping[str, Any] | None = None,
    where: Mapping[str, Any] | None = None,
) -> Post | None:
    """Move a post from `source` to `target` in one conditional update; None if the race was lost.

    Args:
        post_id: the post.
        source: the status (or statuses) the caller believes the post is in.
        target: the new status; must be allowed from every `source` by `TRANSITIONS`.
        version: when given, the update only applies if the post still has this version.
        now: the clock's instant, stored as `updated_at`.
        changes: extra fields to `$set` in the same update.
        where: extra filter conditions (e.g. owner scoping or "publish not yet sent").

    Returns:
        The post after the change, or None when the post no longer matches (someone else changed
        it first, or it does not exist). Nothing is written in that case.
    """
    if post_id is None:
        raise ValueError("transition() needs a stored post (its id is None)")
    sources = [source] if isinstance(source, PostStatus) else list(source)
    illegal = [s for s in sources if not can_transition(s, target)]
    if illegal:
        raise ValueError(f"a post cannot go from {', '.join(illegal)} to {target}")
    query: dict[str, Any] = {"_id": post_id, "status": {"$in": [str(s) for s in sources]}}
    if version is not None:
        query["version"] = version
    query.update(where or {})
    update = {
        "$set": {**(changes or {}), "status": str(target), "updated_at": now},
        "$inc": {"version": 1},
    }
    raw = await Post.get_pymongo_collection().find_one_and_update(
        query, update, return_document=ReturnDocument.AFTER
    )
    return Post.model_validate(raw) if raw is not None else None
