"""Documents: the Beanie models stored in MongoDB, the single source of truth (DESIGN §3).

Status changes never go through `Document.save()` of a stale instance: they are conditional,
query-level updates (`scheduler.posts.lifecycle.transition`). Every document belongs to an owner
(a tenant: the owning user's id); every read in the core filters on it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from beanie import Document, PydanticObjectId
from pydantic import AwareDatetime, BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from scheduler.posts.content import PostContent, ReplySpec
from scheduler.posts.recurrence import Schedule

# BSON has no date or time-of-day: store local dates and times as ISO strings (as the JSON form
# does). `datetime` is listed first because it is a subclass of `date`.
BSON_ENCODERS: dict[type, Any] = {
    datetime: lambda value: value,
    date: date.isoformat,
    time: time.isoformat,
}


def bson_document(document: Document) -> dict[str, Any]:
    """A document as Beanie stores it (`BSON_ENCODERS` applied), for bulk inserts.

    Beanie's own encoder walks every value through a generic dispatcher (~0.3 ms per post);
    this is the same result from pydantic's dump (a test compares the two).
    """
    raw: dict[str, Any] = _bson_value(document.model_dump(by_alias=True, exclude={"revision_id"}))
    return raw


def _bson_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _bson_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_bson_value(item) for item in value]
    if isinstance(value, date | time) and not isinstance(value, datetime):
        return value.isoformat()
    return value


class PostStatus(StrEnum):
    DRAFT = "DRAFT"
    SCHEDULED = "SCHEDULED"
    PUBLISHING = "PUBLISHING"
    PUBLISHED = "PUBLISHED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class AccountStatus(StrEnum):
    ACTIVE = "ACTIVE"
    NEEDS_RECONNECT = "NEEDS_RECONNECT"
    DISCONNECTED = "DISCONNECTED"


class OccurrenceState(StrEnum):
    CLAIMED = "CLAIMED"  # taken by the scheduler; a publish job owns it
    CONTAINER_READY = "CONTAINER_READY"  # containers created and FINISHED, waiting for the instant
    PUBLISH_SENT = "PUBLISH_SENT"  # threads_publish was called; outcome not yet confirmed
    PUBLISHED = "PUBLISHED"
    FAILED = "FAILED"
    HELD = "HELD"  # waiting for quota or a reconnect; resumes by itself
    SKIPPED = "SKIPPED"  # a missed recurring occurrence, skipped by policy
    CANCELLED = "CANCELLED"  # the post was cancelled or edited before the publish call


class Role(StrEnum):
    OWNER = "OWNER"
    VIEWER = "VIEWER"


class QuotaSnapshot(BaseModel):
    """The account's publishing quota as last read from Threads (or counted locally)."""

    used: int = 0
    total: int = 250
    reply_used: int = 0
    reply_total: int = 1000
    checked_at: AwareDatetime | None = None


class PostingSlot(BaseModel):
    """One weekly posting time of an account's queue: a weekday (0 = Monday) at a local time."""

    weekday: int = Field(ge=0, le=6)
    at: time  # wall-clock time in the account's zone, whole minutes


class Account(Document):
    """One connected Threads profile."""

    owner_id: PydanticObjectId
    threads_user_id: str
    username: str
    # Encrypted at rest (scheduler.accounts.secrets), never returned.
    access_token: str | None = None
    token_expires_at: AwareDatetime | None = None
    token_refreshed_at: AwareDatetime | None = None
    timezone: str = "UTC"
    status: AccountStatus = AccountStatus.ACTIVE
    status_reason: str | None = None
    quota: QuotaSnapshot = Field(default_factory=QuotaSnapshot)
    slots: list[PostingSlot] = Field(default_factory=list)  # the weekly queue grid (slots.py)
    created_at: AwareDatetime
    updated_at: AwareDatetime

    class Settings:
        name = "accounts"
        bson_encoders = BSON_ENCODERS
        indexes = [
            IndexModel([("owner_id", ASCENDING), ("threads_user_id", ASCENDING)], unique=True),
            IndexModel([("status", ASCENDING), ("token_expires_at", ASCENDING)]),
        ]


class Post(Document):
    """A post (with optional reply chain) to publish once or on a recurring schedule."""

    owner_id: PydanticObjectId
    account_id: PydanticObjectId
    content: PostContent
    replies: list[ReplySpec] = Field(default_factory=list)
    status: PostStatus = PostStatus.DRAFT
    schedule: Schedule | None = None
    next_run_at: AwareDatetime | None = None  # UTC; the scheduler's key
    # When the scheduler must look at this post next: for SCHEDULED, `next_run_at` minus the
    # preparation lead; for PUBLISHING, when the lease of the job working on it expires (a dead
    # worker's post is taken over then); None while held (waiting for a reconnect).
    check_at: AwareDatetime | None = None
    lease: str | None = None  # token of the job that owns the current occurrence
    sending_for: AwareDatetime | None = (
        None  # set right before threads_publish: outcome may be unknown
    )
    # An occurrence already exists for this `next_run_at` (retry, hold, deferral): the next job
    # resumes it (keeping whatever of its reply chain was published) instead of starting afresh.
    resume_due: AwareDatetime | None = None
    occurrence_count: int = 0
    version: int = 1  # bumped by every change; the optimistic-concurrency token
    last_error: str | None = None
    held_reason: str | None = None  # why a due post waits (quota, reconnect), shown to the user
    last_published_at: AwareDatetime | None = None
    threads_media_ids: list[str] = Field(default_factory=list)  # most recent first, capped
    content_hash: str | None = None
    # Saved although it repeats this post's content (DUPLICATE_POLICY=warn); see duplicates.py.
    duplicate_of: PydanticObjectId | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime

    class Settings:
        name = "posts"
        bson_encoders = BSON_ENCODERS
        indexes = [
            IndexModel([("status", ASCENDING), ("next_run_at", ASCENDING)], name="status_next_run"),
            IndexModel([("status", ASCENDING), ("check_at", ASCENDING)], name="status_check_at"),
            IndexModel([("owner_id", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel(
                [("owner_id", ASCENDING), ("status", ASCENDING), ("next_run_at", ASCENDING)]
            ),
            IndexModel([("account_id", ASCENDING), ("status", ASCENDING)]),
            IndexModel([("account_id", ASCENDING), ("content_hash", ASCENDING)]),
        ]


class Attempt(BaseModel):
    """One try at a step of publishing, kept for the post's timeline."""

    at: AwareDatetime
    step: str  # "container", "publish", "resolve", ...
    part: int = 0  # 0 = the post itself, 1.. = replies in the chain
    error: str | None = None
    kind: str | None = None  # transient, rejected, auth, quota, media, unknown


class OccurrencePart(BaseModel):
    """The post itself (index 0) or one reply of its chain, within one occurrence."""

    index: int
    state: OccurrenceState = OccurrenceState.CLAIMED
    due_at: AwareDatetime
    container_id: str | None = None
    item_container_ids: list[str] = Field(default_factory=list)
    media_id: str | None = None
    publish_sent_at: AwareDatetime | None = None
    published_at: AwareDatetime | None = None
    error: str | None = None


class Occurrence(Document):
    """One publication of one post at one instant; (post_id, scheduled_for) is unique.

    Inserting this record is the exactly-once gate, also for recurring posts.
    """

    post_id: PydanticObjectId
    owner_id: PydanticObjectId
    account_id: PydanticObjectId
    scheduled_for: AwareDatetime
    post_version: int
    lease: str | None = None  # the token of the job working on it (same as the post's lease)
    state: OccurrenceState = OccurrenceState.CLAIMED
    parts: list[OccurrencePart] = Field(default_factory=list)
    attempts: list[Attempt] = Field(default_factory=list)
    error: str | None = None
    claimed_at: AwareDatetime
    container_ready_at: AwareDatetime | None = None
    publish_sent_at: AwareDatetime | None = None
    confirmed_at: AwareDatetime | None = None
    updated_at: AwareDatetime

    class Settings:
        name = "occurrences"
        indexes = [
            IndexModel(
                [("post_id", ASCENDING), ("scheduled_for", ASCENDING)],
                unique=True,
                name="post_scheduled_for_unique",
            ),
            IndexModel([("state", ASCENDING), ("scheduled_for", ASCENDING)]),
            IndexModel([("owner_id", ASCENDING), ("scheduled_for", DESCENDING)]),
        ]


class User(Document):
    """A person who logs in to the dashboard; `owner_id` is the tenant whose data they see."""

    email: str
    password_hash: str
    owner_id: PydanticObjectId | None = None  # None until set to the user's own id on creation
    role: Role = Role.OWNER
    created_at: AwareDatetime
    last_login_at: AwareDatetime | None = None

    class Settings:
        name = "users"
        indexes = [IndexModel([("email", ASCENDING)], unique=True)]


class ApiToken(Document):
    """A programmatic credential; only its hash is stored, the token is shown once."""

    owner_id: PydanticObjectId
    user_id: PydanticObjectId
    name: str
    token_hash: str
    prefix: str  # the first characters, to recognise a token in lists
    role: Role = Role.OWNER
    created_at: AwareDatetime
    last_used_at: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = None

    class Settings:
        name = "api_tokens"
        indexes = [
            IndexModel([("token_hash", ASCENDING)], unique=True),
            IndexModel([("owner_id", ASCENDING), ("created_at", DESCENDING)]),
        ]


class InsightSample(BaseModel):
    """Metrics as read at one instant (a point of an insights chart)."""

    at: AwareDatetime
    metrics: dict[str, int]


class PostInsights(Document):
    """Insights of one published Threads post (the root of one occurrence), refreshed on a
    schedule that thins out with age (`scheduler.ops.insights`)."""

    owner_id: PydanticObjectId
    account_id: PydanticObjectId
    post_id: PydanticObjectId
    media_id: str
    published_at: AwareDatetime
    metrics: dict[str, int] = Field(default_factory=dict)  # the latest reading
    fetched_at: AwareDatetime | None = None
    next_fetch_at: AwareDatetime | None = None  # None: no more refreshes (too old, or gone)
    fetches: int = 0
    history: list[InsightSample] = Field(default_factory=list)  # oldest first, capped
    error: str | None = None
    created_at: AwareDatetime

    class Settings:
        name = "post_insights"
        indexes = [
            IndexModel([("account_id", ASCENDING), ("media_id", ASCENDING)], unique=True),
            IndexModel([("next_fetch_at", ASCENDING)]),
            IndexModel([("owner_id", ASCENDING), ("post_id", ASCENDING)]),
        ]


class AccountInsights(Document):
    """Daily account-level insights of one connected account, with a capped history."""

    owner_id: PydanticObjectId
    account_id: PydanticObjectId
    metrics: dict[str, int] = Field(default_factory=dict)
    fetched_at: AwareDatetime | None = None
    next_fetch_at: AwareDatetime | None = None
    history: list[InsightSample] = Field(default_factory=list)
    error: str | None = None
    created_at: AwareDatetime

    class Settings:
        name = "account_insights"
        indexes = [
            IndexModel([("account_id", ASCENDING)], unique=True),
            IndexModel([("next_fetch_at", ASCENDING)]),
        ]


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its first attempt
    RETRYING = "RETRYING"  # an attempt failed; the next one is scheduled at `next_attempt_at`
    DELIVERED = "DELIVERED"  # the receiver answered 2xx
    FAILED = "FAILED"  # every attempt failed
    CANCELLED = "CANCELLED"  # the webhook was deleted or disabled before delivery


class Webhook(Document):
    """An owner's outbound webhook: where to POST which events, signed with `secret`."""

    owner_id: PydanticObjectId
    url: str
    # Encrypted at rest (scheduler.accounts.secrets), shown once when created or rotated.
    secret: str
    events: list[str]
    enabled: bool = True
    description: str = ""
    created_at: AwareDatetime
    updated_at: AwareDatetime

    class Settings:
        name = "webhooks"
        indexes = [IndexModel([("owner_id", ASCENDING), ("created_at", DESCENDING)])]


class DeliveryAttempt(BaseModel):
    """One POST of a delivery: the receiver's status code, or why there was none."""

    at: AwareDatetime
    response_code: int | None = None
    error: str | None = None


class WebhookDelivery(Document):
    """One event sent (or to send) to one webhook, with every attempt: the delivery log."""

    owner_id: PydanticObjectId
    webhook_id: PydanticObjectId
    event_id: str
    event_type: str
    payload: str  # the exact JSON body: every attempt and resend sends (and signs) these bytes
    dedupe_key: str  # "{webhook_id}:{event_id}" (unique): an event is delivered once per webhook
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    response_code: int | None = None
    error: str | None = None
    next_attempt_at: AwareDatetime | None = None
    delivered_at: AwareDatetime | None = None
    resend_of: PydanticObjectId | None = None
    history: list[DeliveryAttempt] = Field(default_factory=list)
    created_at: AwareDatetime
    updated_at: AwareDatetime

    class Settings:
        name = "webhook_deliveries"
        indexes = [
            IndexModel([("dedupe_key", ASCENDING)], unique=True),
            IndexModel([("owner_id", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel([("webhook_id", ASCENDING), ("created_at", DESCENDING)]),
        ]


class Notification(Document):
    """An inbox entry: something that needs the owner's attention, linked to its post."""

    owner_id: PydanticObjectId
    event_id: str  # the event it came from (unique per owner: one entry per event)
    kind: str  # post.failed, post.deferred, account.needs_reconnect
    level: str  # error, warning
    title: str
    message: str
    post_id: PydanticObjectId | None = None
    account_id: PydanticObjectId | None = None
    read_at: AwareDatetime | None = None
    created_at: AwareDatetime

    class Settings:
        name = "notifications"
        indexes = [
            IndexModel([("owner_id", ASCENDING), ("event_id", ASCENDING)], unique=True),
            IndexModel([("owner_id", ASCENDING), ("created_at", DESCENDING)]),
        ]


DOCUMENT_MODELS: list[type[Document]] = [
    Account,
    Post,
    Occurrence,
    User,
    ApiToken,
    PostInsights,
    AccountInsights,
    Webhook,
    WebhookDelivery,
    Notification,
]
