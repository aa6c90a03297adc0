"""Timing: how far ahead a post is prepared, and how long a job may hold it.

The check runs a *lead* before `next_run_at`, so the Threads containers exist (and media finished
processing) when the instant comes; the publish call itself waits on the clock for the exact
instant. Threads recommends ~30 s between creating a media container and publishing it, and text
containers published instantly sometimes fail with 24/4279009 — hence a lead even for text.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduler.posts.content import MediaKind, PostContent, PostType

LEAD = {
    PostType.TEXT: timedelta(seconds=10),
    PostType.IMAGE: timedelta(seconds=30),
    PostType.CAROUSEL: timedelta(seconds=45),
    PostType.VIDEO: timedelta(seconds=120),
}
# The publish gate (one conditional write) is passed this long before the instant, so only the
# HTTP call itself is left for the instant. A cancel within this last moment is refused ("being
# published right now") instead of racing the call.
GATE_AHEAD = timedelta(milliseconds=250)
# How long a publish job may spend creating containers and waiting for media processing.
PREPARE_TIMEOUT = timedelta(minutes=6)
# Recurring occurrences later than this are "missed" (downtime): only the latest is published.
MISSED_GRACE = timedelta(minutes=15)


def lead_time(content: PostContent) -> timedelta:
    """How long before its instant a post's containers are prepared."""
    if any(item.kind is MediaKind.VIDEO for item in content.media):
        return LEAD[PostType.VIDEO]
    return LEAD[content.type]


def check_at_for(next_run_at: datetime, content: PostContent, now: datetime) -> datetime:
    """When the scheduler should claim a post due at `next_run_at` (never before `now`)."""
    return max(next_run_at - lead_time(content), now)


def lease_margin(job_timeout_seconds: float, grace_seconds: float) -> timedelta:
    """How long past its instant a job owns an occurrence: JOB_TIMEOUT + LEASE_GRACE_SECONDS.

    Long enough for one Threads call to time out and the job to say what happened; after it,
    another worker presumes the job's process dead and takes the occurrence over.
    """
    return timedelta(seconds=job_timeout_seconds + grace_seconds)


def lease_until(due: datetime, now: datetime, margin: timedelta) -> datetime:
    """Until when a job owns an occurrence due at `due`: the instant plus `margin`
    (`lease_margin`), counted from now if the instant has passed."""
    return max(due, now) + margin
