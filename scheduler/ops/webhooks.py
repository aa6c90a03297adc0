"""Webhooks: an owner's notices POSTed as signed JSON, retried with backoff, logged, resendable.

- Configured per owner: an http(s) URL, the notice kinds to send (`NoticeKind`), enabled, and a
  secret (generated unless given; encrypted at rest; shown only when created or rotated).
- The body is the notice as JSON (`Notice.payload`). It is stored with the delivery, so every
  attempt and every resend sends, and signs, the very same bytes.
- `X-Signature-256: sha256=<hex HMAC-SHA256 of the raw body keyed with the secret>`; receivers
  recompute it over the bytes they received and compare in constant time (`signature`). Also
  `X-Webhook-Event`, `X-Webhook-Delivery` (the receiver's dedupe key) and `X-Webhook-Attempt`.
- Each attempt is a SAQ job (`deliver-webhook`, on the `background` queue so a slow receiver
  never delays publishing). 2xx is delivered. Anything else — redirects too, which are never
  followed — or a timeout (5 s) is retried at our own clock's backoff, WEBHOOK_RETRY_SECONDS ×
  2^(attempt-1) capped at an hour, up to WEBHOOK_ATTEMPTS, then FAILED. Delivery is at least
  once: a worker dying mid-POST leaves the delivery to be resent from the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from beanie import PydanticObjectId
from pymongo import DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError
from saq.queue.redis import RedisQueue

from scheduler.accounts.actors import Actor
from scheduler.accounts.secrets import TokenCipher
from scheduler.ops.metrics import Observer
from scheduler.ops.notifications import SUBSCRIBABLE, Notice, NoticeKind
from scheduler.platform.clock import Clock
from scheduler.platform.documents import DeliveryAttempt, DeliveryStatus, Webhook, WebhookDelivery
from scheduler.platform.errors import ConflictError, NotFoundError, ValidationFailed
from scheduler.platform.queues import DELIVER_JOB

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature-256"
USER_AGENT = "threads-scheduler-webhooks/1"
# Receivers are strangers: short timeouts and a small pool (the client also follows no redirects).
RECEIVER_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
RECEIVER_LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=10)
MAX_BACKOFF = timedelta(hours=1)
HISTORY_KEPT = 20
MAX_PAGE = 200
_OPEN = [str(DeliveryStatus.PENDING), str(DeliveryStatus.RETRYING)]


def signature(secret: str, body: bytes) -> str:
    """The `X-Signature-256` value for `body`: `sha256=` and the hex HMAC-SHA256 digest."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute the signature and compare in constant time."""
    return hmac.compare_digest(signature(secret, body), header)


@dataclass(frozen=True)
class WebhookInput:
    """A webhook to create: where, which kinds (default: all), and optionally its secret."""

    url: str
    events: Sequence[str] = SUBSCRIBABLE
    enabled: bool = True
    description: str = ""
    secret: str | None = None  # None: a strong one is generated


@dataclass(frozen=True)
class IssuedWebhook:
    """A webhook and its secret in clear: returned once, at creation or rotation."""

    webhook: Webhook
    secret: str


@dataclass(frozen=True)
class DeliveryPage:
    """One page of the delivery log, newest first."""

    deliveries: list[WebhookDelivery]
    total: int
    offset: int
    limit: int
    has_more: bool


class WebhookService:
    """Configure webhooks, dispatch notices to them, deliver, and keep the delivery log."""

    def __init__(
        self,
        *,
        clock: Clock,
        http: httpx.AsyncClient,
        queue: RedisQueue,
        cipher: TokenCipher,
        observer: Observer | None = None,
        retry_base: timedelta = timedelta(seconds=30),
        attempts: int = 6,
    ) -> None:
        self._clock = clock
        self._http = http
        self._queue = queue
        self._cipher = cipher
        self._observer = observer or Observer()
        self._retry_base = retry_base
        self._attempts = attempts

    # --- configuration ---------------------------------------------------------------------

    async def all(self, actor: Actor) -> list[Webhook]:
        """The actor's webhooks, newest first (their secrets stay encrypted: never show them)."""
        return await Webhook.find({"owner_id": actor.owner_id}).sort("-created_at").to_list()

    async def get(self, actor: Actor, webhook_id: object) -> Webhook:
        hook = await Webhook.find_one(
            {"_id": _oid(webhook_id, "Webhook"), "owner_id": actor.owner_id}
        )
        if hook is None:
            raise NotFoundError("Webhook", webhook_id)
        return hook

    async def create(self, actor: Actor, data: WebhookInput) -> IssuedWebhook:
        """Add a webhook; the returned secret is shown once (store it on the receiving side)."""
        actor.require_write()
        url = validate_url(data.url)
        events = validate_events(data.events)
        secret = _secret(data.secret)
        description = _description(data.description)
        now = self._clock.now()
        hook = Webhook(
            owner_id=actor.owner_id,
            url=url,
            secret=self._cipher.encrypt(secret),
            events=events,
            enabled=data.enabled,
            description=description,
            created_at=now,
            updated_at=now,
        )
        await hook.insert()
        return IssuedWebhook(hook, secret)

    async def update(
        self,
        actor: Actor,
        webhook_id: object,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        enabled: bool | None = None,
        description: str | None = None,
    ) -> Webhook:
        """Change some of a webhook's settings (None leaves a setting as it is)."""
        actor.require_write()
        hook = await self.get(actor, webhook_id)
        changes: dict[str, Any] = {"updated_at": self._clock.now()}
        if url is not None:
            changes["url"] = validate_url(url)
        if events is not None:
            changes["events"] = validate_events(events)
        if enabled is not None:
            changes["enabled"] = enabled
        if description is not None:
            changes["description"] = _description(description)
        await Webhook.get_pymongo_collection().update_one(
            {"_id": hook.id, "owner_id": actor.owner_id}, {"$set": changes}
        )
        return await self.get(actor, webhook_id)

    async def rotate_secret(
        self, actor: Actor, webhook_id: object, secret: str | None = None
    ) -> IssuedWebhook:
        """Replace the signing secret; deliveries from now on (retries too) use the new one."""
        actor.require_write()
        hook = await self.get(actor, webhook_id)
        fresh = _secret(secret)
        await Webhook.get_pymongo_collection().update_one(
            {"_id": hook.id, "owner_id": actor.owner_id},
            {"$set": {"secret": self._cipher.encrypt(fresh), "updated_at": self._clock.now()}},
        )
        return IssuedWebhook(await self.get(actor, webhook_id), fresh)

    async def delete(self, actor: Actor, webhook_id: object) -> None:
        """Remove a webhook and its delivery log; retries still scheduled are dropped."""
        actor.require_write()
        hook = await self.get(actor, webhook_id)
        await Webhook.get_pymongo_collection().delete_one({"_id": hook.id})
        await WebhookDelivery.get_pymongo_collection().delete_many({"webhook_id": hook.id})

    # --- the delivery log ------------------------------------------------------------------

    async def deliveries(
        self,
        actor: Actor,
        *,
        webhook_id: object | None = None,
        status: DeliveryStatus | str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> DeliveryPage:
        """The actor's deliveries (of one webhook, in one status), newest first."""
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise ValidationFailed.single(
                "limit", f"Ask for 1 to {MAX_PAGE} deliveries from a non-negative offset."
            )
        query: dict[str, Any] = {"owner_id": actor.owner_id}
        if webhook_id is not None:
            query["webhook_id"] = (await self.get(actor, webhook_id)).id
        if status is not None:
            try:
                query["status"] = str(DeliveryStatus(str(status).upper()))
            except ValueError:
                raise ValidationFailed.single(
                    "status", f"Use one of {', '.join(DeliveryStatus)}, not {status!r}."
                ) from None
        collection = WebhookDelivery.get_pymongo_collection()
        cursor = collection.find(
            query,
            sort=[("created_at", DESCENDING), ("_id", DESCENDING)],
            skip=offset,
            limit=limit + 1,
        )
        found = [WebhookDelivery.model_validate(raw) async for raw in cursor]
        return DeliveryPage(
            deliveries=found[:limit],
            total=await collection.count_documents(query),
            offset=offset,
            limit=limit,
            has_more=len(found) > limit,
        )

    async def delivery(self, actor: Actor, delivery_id: object) -> WebhookDelivery:
        found = await WebhookDelivery.find_one(
            {"_id": _oid(delivery_id, "Webhook delivery"), "owner_id": actor.owner_id}
        )
        if found is None:
            raise NotFoundError("Webhook delivery", delivery_id)
        return found

    async def resend(self, actor: Actor, delivery_id: object) -> WebhookDelivery:
        """Send a delivery's payload again, as a new delivery (the old entry stays as it was)."""
        actor.require_write()
        original = await self.delivery(actor, delivery_id)
        hook = await self.get(actor, original.webhook_id)
        if not hook.enabled:
            raise ConflictError(
                f"Webhook {hook.id} is disabled; enable it before resending its deliveries."
            )
        fresh_id = PydanticObjectId()
        return await self._create_delivery(
            hook,
            event_id=original.event_id,
            event_type=original.event_type,
            payload=original.payload,
            dedupe_key=f"resend:{fresh_id}",
            resend_of=original.resend_of or original.id,
            delivery_id=fresh_id,
        )

    async def send_test(self, actor: Actor, webhook_id: object) -> WebhookDelivery:
        """Send a `webhook.test` notice to one webhook now (to check the receiver)."""
        actor.require_write()
        hook = await self.get(actor, webhook_id)
        fresh_id = PydanticObjectId()
        notice = Notice(
            id=f"test-{fresh_id}",
            kind=NoticeKind.WEBHOOK_TEST,
            owner_id=str(actor.owner_id),
            at=self._clock.now(),
            data={"webhook_id": str(hook.id)},
        )
        return await self._create_delivery(
            hook,
            event_id=notice.id,
            event_type=str(notice.kind),
            payload=_body(notice),
            dedupe_key=f"test:{fresh_id}",
            delivery_id=fresh_id,
        )

    # --- dispatching and delivering ----------------------------------------------------------

    async def dispatch(self, notice: Notice) -> list[WebhookDelivery]:
        """Queue `notice` for each of its owner's enabled webhooks that subscribe to its kind.

        Idempotent per (webhook, notice): a second call (another worker saw the same event)
        creates nothing.
        """
        hooks = await Webhook.find(
            {
                "owner_id": PydanticObjectId(notice.owner_id),
                "enabled": True,
                "events": str(notice.kind),
            }
        ).to_list()
        created = []
        body = _body(notice)
        for hook in hooks:
            try:
                created.append(
                    await self._create_delivery(
                        hook,
                        event_id=notice.id,
                        event_type=str(notice.kind),
                        payload=body,
                        dedupe_key=f"{hook.id}:{notice.id}",
                    )
                )
            except DuplicateKeyError:
                continue
        return created

    async def deliver(self, delivery_id: str) -> str:
        """The `deliver-webhook` job: one attempt; schedules the next one if it failed."""
        delivery = await WebhookDelivery.get(_oid(delivery_id, "Webhook delivery"))
        if delivery is None:
            return "missing"
        if str(delivery.status) not in _OPEN:
            return str(delivery.status)  # a duplicate job, or a resend already finished it
        hook = await Webhook.get(delivery.webhook_id)
        if hook is None or not hook.enabled:
            await self._record(
                delivery,
                DeliveryStatus.CANCELLED,
                None,
                "The webhook was deleted or disabled before this delivery; nothing was sent.",
                attempted=False,
            )
            return str(DeliveryStatus.CANCELLED)
        attempt = delivery.attempts + 1
        code, error = await self._post(hook, delivery, attempt)
        if error is None:
            status = DeliveryStatus.DELIVERED
        elif attempt >= self._attempts:
            status = DeliveryStatus.FAILED
            error = f"{error} Gave up after {attempt} attempts; resend it from the log."
        else:
            status = DeliveryStatus.RETRYING
        recorded = await self._record(delivery, status, code, error, attempted=True)
        if recorded is not None and status is DeliveryStatus.RETRYING:
            assert recorded.next_attempt_at is not None
            await self._enqueue(recorded, recorded.next_attempt_at)
        self._observer.webhook_delivery(str(status).lower())
        return str(status)

    def backoff(self, attempt: int) -> timedelta:
        """The wait after failed attempt `attempt` (1-based): base × 2^(attempt-1), ≤ 1 hour."""
        return min(self._retry_base * (1 << max(0, attempt - 1)), MAX_BACKOFF)

    async def _post(
        self, hook: Webhook, delivery: WebhookDelivery, attempt: int
    ) -> tuple[int | None, str | None]:
        body = delivery.payload.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: signature(self._cipher.decrypt(hook.secret), body),
            "X-Webhook-Event": delivery.event_type,
            "X-Webhook-Delivery": str(delivery.id),
            "X-Webhook-Attempt": str(attempt),
        }
        try:
            # Streamed and never read: a receiver's body cannot make us download anything.
            async with self._http.stream(
                "POST", hook.url, content=body, headers=headers, follow_redirects=False
            ) as response:
                code = response.status_code
                location = response.headers.get("location", "")
        except httpx.TimeoutException:
            return None, "The receiver did not answer in time (5 s)."
        except httpx.HTTPError as exc:
            return None, f"Could not reach the receiver: {exc or type(exc).__name__}."
        if 200 <= code < 300:
            return code, None
        if 300 <= code < 400:
            return code, (
                f"The receiver redirected (HTTP {code} to {location or 'elsewhere'}); webhooks "
                "do not follow redirects, so configure the final URL."
            )
        return code, f"The receiver answered HTTP {code}."

    async def _record(
        self,
        delivery: WebhookDelivery,
        status: DeliveryStatus,
        code: int | None,
        error: str | None,
        *,
        attempted: bool,
    ) -> WebhookDelivery | None:
        now = self._clock.now()
        attempts = delivery.attempts + (1 if attempted else 0)
        changes: dict[str, Any] = {
            "status": str(status),
            "attempts": attempts,
            "response_code": code,
            "error": error,
            "updated_at": now,
            "next_attempt_at": now + self.backoff(attempts)
            if status is DeliveryStatus.RETRYING
            else None,
        }
        if status is DeliveryStatus.DELIVERED:
            changes["delivered_at"] = now
        update: dict[str, Any] = {"$set": changes}
        if attempted:
            entry = DeliveryAttempt(at=now, response_code=code, error=error)
            update["$push"] = {"history": {"$each": [entry.model_dump()], "$slice": -HISTORY_KEPT}}
        raw = await WebhookDelivery.get_pymongo_collection().find_one_and_update(
            # Only the attempt we started from: a duplicate job cannot record twice.
            {"_id": delivery.id, "attempts": delivery.attempts, "status": {"$in": _OPEN}},
            update,
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            return None
        recorded: WebhookDelivery = WebhookDelivery.model_validate(raw)
        if status is not DeliveryStatus.DELIVERED:
            log.warning(
                "webhook delivery %s (%s) %s: %s",
                delivery.id,
                delivery.event_type,
                str(status).lower(),
                error,
                extra={"delivery_id": str(delivery.id), "webhook_id": str(delivery.webhook_id)},
            )
        return recorded

    async def _create_delivery(
        self,
        hook: Webhook,
        *,
        event_id: str,
        event_type: str,
        payload: str,
        dedupe_key: str,
        resend_of: PydanticObjectId | None = None,
        delivery_id: PydanticObjectId | None = None,
    ) -> WebhookDelivery:
        now = self._clock.now()
        delivery = WebhookDelivery(
            id=delivery_id or PydanticObjectId(),
            owner_id=hook.owner_id,
            webhook_id=hook.id,
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            dedupe_key=dedupe_key,
            resend_of=resend_of,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        await delivery.insert()
        await self._enqueue(delivery, now)
        return delivery

    async def _enqueue(self, delivery: WebhookDelivery, at: datetime) -> None:
        now = self._clock.now()
        # SAQ schedules in whole epoch seconds and strands a job scheduled at 0.0: use 0 ("now")
        # or a whole second; rounding up never runs an attempt early.
        scheduled = 0 if at <= now else math.ceil(at.timestamp())
        await self._queue.enqueue(
            DELIVER_JOB,
            key=f"webhook:{delivery.id}:{delivery.attempts + 1}",
            delivery_id=str(delivery.id),
            scheduled=scheduled,
            timeout=30,
            retries=1,  # our own backoff retries, with a fresh job per attempt
            ttl=3600,
        )


def validate_url(url: str) -> str:
    """An http(s) URL with a host, or ValidationFailed on `url` saying what to change."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ValidationFailed.single("url", "This is not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise ValidationFailed.single(
            "url", "Use an http:// or https:// URL; webhooks are only sent over HTTP."
        )
    if not host:
        raise ValidationFailed.single(
            "url", "The URL needs a host name, e.g. https://example.com/hook."
        )
    if len(url) > 2048:
        raise ValidationFailed.single("url", "Keep the URL under 2048 characters.")
    return url


def validate_events(events: Sequence[str]) -> list[str]:
    """The notice kinds to subscribe to, checked and without repeats."""
    chosen: list[str] = []
    for event in events:
        if event not in SUBSCRIBABLE:
            raise ValidationFailed.single(
                "events", f"Unknown event {event!r}; choose from {', '.join(SUBSCRIBABLE)}."
            )
        if event not in chosen:
            chosen.append(str(event))
    if not chosen:
        raise ValidationFailed.single("events", "Choose at least one event to send.")
    return chosen


def _secret(secret: str | None) -> str:
    if secret is None:
        return "whsec_" + secrets.token_urlsafe(32)
    if not 16 <= len(secret) <= 256:
        raise ValidationFailed.single(
            "secret", "Use a secret of 16 to 256 characters (or leave it empty to generate one)."
        )
    return secret


def _description(text: str) -> str:
    text = text.strip()
    if len(text) > 200:
        raise ValidationFailed.single("description", "Keep the description under 200 characters.")
    return text


def _body(notice: Notice) -> str:
    return json.dumps(notice.payload(), separators=(",", ":"), sort_keys=True, default=str)


def _oid(value: object, kind: str) -> PydanticObjectId:
    text = str(value)
    if not PydanticObjectId.is_valid(text):
        raise NotFoundError(kind, value)
    return PydanticObjectId(text)
