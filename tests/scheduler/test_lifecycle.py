from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from scheduler.platform.documents import Post, PostStatus
from scheduler.posts.lifecycle import TRANSITIONS, can_transition, transition
from tests.factories import NOW, make_post

pytestmark = pytest.mark.usefixtures("mongo")


def test_the_machine_matches_the_design() -> None:
    assert can_transition(PostStatus.DRAFT, PostStatus.SCHEDULED)
    assert can_transition(PostStatus.SCHEDULED, PostStatus.PUBLISHING)
    assert can_transition(PostStatus.PUBLISHING, PostStatus.PUBLISHED)
    assert can_transition(PostStatus.PUBLISHING, PostStatus.FAILED)
    assert can_transition(PostStatus.FAILED, PostStatus.SCHEDULED)
    assert can_transition(PostStatus.PUBLISHING, PostStatus.SCHEDULED)  # recurring
    assert not can_transition(PostStatus.PUBLISHED, PostStatus.SCHEDULED)
    assert not can_transition(PostStatus.DRAFT, PostStatus.PUBLISHED)
    assert TRANSITIONS[PostStatus.PUBLISHED] == frozenset()


async def test_transition_applies_and_bumps_the_version(mongo: Any) -> None:
    post = await make_post(status=PostStatus.DRAFT).insert()
    later = NOW + timedelta(minutes=1)
    moved = await transition(
        post.id,
        source=PostStatus.DRAFT,
        target=PostStatus.SCHEDULED,
        version=post.version,
        now=later,
        changes={"next_run_at": later + timedelta(hours=1)},
    )
    assert moved is not None
    assert moved.status is PostStatus.SCHEDULED
    assert moved.version == post.version + 1
    assert moved.next_run_at == later + timedelta(hours=1)
    assert moved.updated_at == later


async def test_a_stale_transition_loses_and_changes_nothing(mongo: Any) -> None:
    post = await make_post(status=PostStatus.SCHEDULED).insert()
    # Someone else moves it first...
    first = await transition(
        post.id,
        source=PostStatus.SCHEDULED,
        target=PostStatus.CANCELLED,
        version=post.version,
        now=NOW,
    )
    assert first is not None
    # ...so a transition based on the stale read loses.
    second = await transition(
        post.id,
        source=PostStatus.SCHEDULED,
        target=PostStatus.PUBLISHING,
        version=post.version,
        now=NOW,
        changes={"last_error": "should not be written"},
    )
    assert second is None
    stored = await Post.get(post.id)
    assert stored is not None
    assert stored.status is PostStatus.CANCELLED
    assert stored.last_error is None
    assert stored.version == post.version + 1


async def test_a_version_mismatch_loses_even_with_the_right_status(mongo: Any) -> None:
    post = await make_post(status=PostStatus.SCHEDULED).insert()
    await Post.find_one(Post.id == post.id).update({"$inc": {"version": 1}})
    assert (
        await transition(
            post.id,
            source=PostStatus.SCHEDULED,
            target=PostStatus.PUBLISHING,
            version=post.version,
            now=NOW,
        )
        is None
    )


async def test_an_illegal_transition_is_a_programming_error(mongo: Any) -> None:
    post = await make_post(status=PostStatus.PUBLISHED).insert()
    with pytest.raises(ValueError, match="cannot go from PUBLISHED to SCHEDULED"):
        await transition(post.id, source=PostStatus.PUBLISHED, target=PostStatus.SCHEDULED, now=NOW)
