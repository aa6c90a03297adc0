"""Enums: the core's enums, exposed to GraphQL under the same names and values.

`strawberry.enum` marks the core classes themselves (it returns the class it is given), so the
types here are the core's and resolvers pass the core's values straight through.
"""

from __future__ import annotations

import strawberry

from scheduler.ops.notifications import NoticeKind
from scheduler.platform.documents import (
    AccountStatus,
    DeliveryStatus,
    OccurrenceState,
    PostStatus,
    Role,
)
from scheduler.posts.content import MediaKind, PostType, ReplyControl
from scheduler.posts.recurrence import Pattern

strawberry.enum(PostStatus, description="Where a post is in its lifecycle.")
strawberry.enum(AccountStatus, description="Whether an account can post.")
strawberry.enum(OccurrenceState, description="Where one publication of a post stands.")
strawberry.enum(Role, description="OWNER may change things; VIEWER only looks.")
strawberry.enum(PostType, description="What kind of Threads post.")
strawberry.enum(MediaKind, description="Image or video.")
strawberry.enum(ReplyControl, description="Who may reply to the post.")
strawberry.enum(Pattern, name="SchedulePattern", description="How a schedule repeats.")
strawberry.enum(DeliveryStatus, description="Where one webhook delivery stands.")
strawberry.enum(
    NoticeKind,
    description="What an owner is told about: webhook events and inbox entries (WEBHOOK_TEST is "
    "only sent by sendTestWebhook).",
)
SchedulePattern = Pattern

__all__ = [
    "AccountStatus",
    "DeliveryStatus",
    "MediaKind",
    "NoticeKind",
    "OccurrenceState",
    "PostStatus",
    "PostType",
    "ReplyControl",
    "Role",
    "SchedulePattern",
]
