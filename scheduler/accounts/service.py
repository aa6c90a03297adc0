"""Accounts: connecting Threads profiles (OAuth), their tokens, reconnects and refreshes.

Tokens are encrypted at rest (`scheduler.accounts.secrets`) and leave this module only as the
decrypted string handed to the Threads client. An account whose token stops working is flagged
NEEDS_RECONNECT and its posts are held, not failed; reconnecting releases them.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from redis.asyncio import Redis

from scheduler.accounts.actors import Actor
from scheduler.accounts.secrets import TokenCipher
from scheduler.platform.clock import Clock
from scheduler.platform.documents import Account, AccountStatus, Post, PostStatus, QuotaSnapshot
from scheduler.platform.errors import (
    AccountNeedsReconnect,
    ConfigurationError,
    NotFoundError,
    ThreadsApiError,
    ThreadsAuthError,
    ValidationFailed,
)
from scheduler.platform.events import EventBus
from scheduler.posts.recurrence.zones import find_zone
from scheduler.publishing.timing import check_at_for
from scheduler.threads.client import ThreadsClient
from scheduler.threads.models import PublishingLimit

if TYPE_CHECKING:
    from scheduler.publishing.engine import EventDrivenScheduler

log = logging.getLogger(__name__)

# Refresh long-lived tokens (60 days) once they are a week old, well before they expire; Threads
# refuses to refresh a token younger than 24 hours.
REFRESH_AFTER = timedelta(days=7)
MIN_TOKEN_AGE = timedelta(hours=24)
# When the refresh cron next has work, cached in Redis: an idle cron costs no MongoDB query.
NEXT_REFRESH_KEY = "scheduler:nextTokenRefreshAt"
_CACHE_TTL = timedelta(seconds=30)
# How long a user may take on Threads' authorize page before the signed `state` expires.
CONNECT_STATE_TTL = timedelta(minutes=15)


@dataclass(frozen=True)
class OAuthStart:
    """Where to send the user to connect an account, and the signed state the URL carries."""

    url: str
    state: str
    expires_at: datetime


@dataclass
class _Cached:
    account: Account
    token: str
    loaded_at: datetime


class AccountTokens:
    """A short-lived per-process cache of accounts and their decrypted tokens (for publishing)."""

    def __init__(self, cipher: TokenCipher, clock: Clock) -> None:
        self._cipher = cipher
        self._clock = clock
        self._cache: dict[PydanticObjectId, _Cached] = {}

    async def get(
        self, account_id: PydanticObjectId, *, fresh: bool = False
    ) -> tuple[Account, str]:
        """The account and its token.

        Raises:
            AccountNeedsReconnect: the account is not active or has no token.
            NotFoundError: the account was deleted.
        """
        now = self._clock.now()
        cached = self._cache.get(account_id)
        if fresh or cached is None or now - cached.loaded_at > _CACHE_TTL:
            account = await Account.get(account_id)
            if account is None:
                self._cache.pop(account_id, None)
                raise NotFoundError("Account", account_id)
            token = self._cipher.decrypt(account.access_token) if account.access_token else ""
            cached = _Cached(account, token, now)
            self._cache[account_id] = cached
        if cached.account.status is not AccountStatus.ACTIVE or not cached.token:
            raise AccountNeedsReconnect(
                account_id, cached.account.status_reason or "its token is missing"
            )
        return cached.account, cached.token

    def forget(self, account_id: PydanticObjectId) -> None:
        self._cache.pop(account_id, None)


class AccountService:
    """Connect, reconnect, refresh and disconnect Threads accounts."""

    def __init__(
        self,
        *,
        clock: Clock,
        events: EventBus,
        threads: ThreadsClient,
        cipher: TokenCipher,
        tokens: AccountTokens,
        scheduler: EventDrivenScheduler,
        redis: Redis,
        redirect_uri: str | None,
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._events = events
        self._threads = threads
        self._cipher = cipher
        self._tokens = tokens
        self._scheduler = scheduler
        self._redirect_uri = redirect_uri

    # --- reading ---------------------------------------------------------------------------

    async def all(self, actor: Actor) -> list[Account]:
        return await Account.find({"owner_id": actor.owner_id}).sort("username").to_list()

    async def get(self, actor: Actor, account_id: object) -> Account:
        try:
            oid = PydanticObjectId(str(account_id))
        except Exception:
            raise NotFoundError("Account", account_id) from None
        account = await Account.find_one({"_id": oid, "owner_id": actor.owner_id})
        if account is None:
            raise NotFoundError("Account", account_id)
        return account

    async def get_many(self, actor: Actor, account_ids: Sequence[object]) -> list[Account]:
        """The actor's accounts among `account_ids` (one query; unknown ids are left out)."""
        oids = [PydanticObjectId(str(i)) for i in account_ids if PydanticObjectId.is_valid(str(i))]
        return await Account.find({"_id": {"$in": oids}, "owner_id": actor.owner_id}).to_list()

    async def publishing_quota(self, actor: Actor, account_id: object) -> PublishingLimit:
        """Live quota usage from Threads; also stored as the account's quota snapshot."""
        account = await self.get(actor, account_id)
        assert account.id is not None
        _, token = await self._tokens.get(account.id, fresh=True)
        limit = await self._threads.get_publishing_limit(access_token=token)
        snapshot = QuotaSnapshot(
            used=limit.quota_usage,
            total=limit.quota_total or 250,
            reply_used=limit.reply_quota_usage or 0,
            reply_total=limit.reply_quota_total or 1000,
            checked_at=self._clock.now(),
        )
        await Account.get_pymongo_collection().update_one(
            {"_id": account.id}, {"$set": {"quota": snapshot.model_dump()}}
        )
        return limit

    # --- connecting ------------------------------------------------------------------------

    def authorize_url(self, state: str) -> str:
        """Where to send the user to grant access; Threads redirects back with a code."""
        if not self._redirect_uri:
            raise ConfigurationError(
                "THREADS_REDIRECT_URI is not set; set it to this app's /accounts/callback URL "
                "(and register it in your Meta app).",
                variables=["THREADS_REDIRECT_URI"],
            )
        return self._threads.authorize_url(redirect_uri=self._redirect_uri, state=state)

    def start_connect(self, actor: Actor) -> OAuthStart:
        """Begin connecting an account: the authorize URL, carrying a signed, expiring `state`.

        The state names the actor's owner and is encrypted and authenticated with the token
        cipher, so only this deployment can mint one; `complete_connect` checks it.
        """
        actor.require_write()
        expires_at = self._clock.now() + CONNECT_STATE_TTL
        claims = {"owner": str(actor.owner_id), "exp": expires_at.timestamp()}
        claims["nonce"] = secrets.token_urlsafe(8)
        state = self._cipher.encrypt(json.dumps(claims))
        return OAuthStart(url=self.authorize_url(state), state=state, expires_at=expires_at)

    async def complete_connect(
        self, actor: Actor, code: str, state: str, *, timezone: str = "UTC"
    ) -> Account:
        """Finish a connection begun by `start_connect` with the code Threads sent back."""
        actor.require_write()
        self._check_state(actor, state)
        return await self.connect_with_code(actor, code, timezone)

    def _check_state(self, actor: Actor, state: str) -> None:
        try:
            claims = json.loads(self._cipher.decrypt(state)) if state else {}
        except (ConfigurationError, ValueError):
            claims = {}  # not minted here (or tampered with): refused below like a stranger's
        if not isinstance(claims, dict) or claims.get("owner") != str(actor.owner_id):
            raise ValidationFailed.single(
                "state",
                "This sign-in state is not valid for you; start connecting the account again.",
            )
        if float(claims.get("exp", 0)) < self._clock.now().timestamp():
            raise ValidationFailed.single(
                "state", "This sign-in took longer than 15 minutes; start connecting again."
            )

    async def connect_with_code(self, actor: Actor, code: str, timezone: str = "UTC") -> Account:
        """Finish the OAuth flow: code → short-lived → long-lived token, then store the account."""
        actor.require_write()
        if not code.strip():
            raise ValidationFailed.single("code", "The authorization code is empty; start again.")
        if not self._redirect_uri:
            raise ConfigurationError(
                "THREADS_REDIRECT_URI is not set.", variables=["THREADS_REDIRECT_URI"]
            )
        short = await self._threads.exchange_code(code, redirect_uri=self._redirect_uri)
        long = await self._threads.exchange_long_lived(short.access_token)
        now = self._clock.now()
        return await self._store(
            actor, long.access_token, long.expires_at(now), timezone=timezone, now=now
        )

    async def connect_with_token(
        self,
        actor: Actor,
        access_token: str,
        *,
        expires_at: datetime | None = None,
        timezone: str = "UTC",
    ) -> Account:
        """Store an account from a long-lived token (the seed's THREADS_ACCESS_TOKEN bootstrap)."""
        actor.require_write()
        return await self._store(
            actor, access_token, expires_at, timezone=timezone, now=self._clock.now()
        )

    async def _store(
        self,
        actor: Actor,
        access_token: str,
        expires_at: datetime | None,
        *,
        timezone: str,
        now: datetime,
    ) -> Account:
        _check_timezone(timezone)
        profile = await self._threads.get_profile(access_token=access_token)
        raw = await Account.get_pymongo_collection().find_one_and_update(
            {"owner_id": actor.owner_id, "threads_user_id": profile.id},
            {
                "$set": {
                    "username": profile.username or profile.id,
                    "access_token": self._cipher.encrypt(access_token),
                    "token_expires_at": expires_at,
                    "token_refreshed_at": now,
                    "status": str(AccountStatus.ACTIVE),
                    "status_reason": None,
                    "updated_at": now,
                },
                "$setOnInsert": {
                    "owner_id": actor.owner_id,
                    "threads_user_id": profile.id,
                    "timezone": timezone,
                    "quota": QuotaSnapshot().model_dump(),
                    "created_at": now,
                },
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        account: Account = Account.model_validate(raw)
        assert account.id is not None
        self._tokens.forget(account.id)
        await self._events.publish(
            "account.status",
            actor.owner_id,
            account_id=str(account.id),
            username=account.username,
            status=str(account.status),
        )
        await self.release_held_posts(account.id)
        return account

    async def update_settings(self, actor: Actor, account_id: object, *, timezone: str) -> Account:
        actor.require_write()
        _check_timezone(timezone)
        account = await self.get(actor, account_id)
        await Account.get_pymongo_collection().update_one(
            {"_id": account.id}, {"$set": {"timezone": timezone, "updated_at": self._clock.now()}}
        )
        return await self.get(actor, account_id)

    async def disconnect(self, actor: Actor, account_id: object) -> Account:
        """Forget the token; the account's scheduled posts are held until it is reconnected."""
        actor.require_write()
        account = await self.get(actor, account_id)
        assert account.id is not None
        await self._set_status(
            account.id, AccountStatus.DISCONNECTED, "disconnected by you", clear_token=True
        )
        await self.hold_posts(account.id, "its account was disconnected; reconnect it to publish.")
        return await self.get(actor, account_id)

    async def refresh(self, actor: Actor, account_id: object) -> Account:
        """Refresh the account's long-lived token now (it must be at least 24 hours old)."""
        actor.require_write()
        account = await self.get(actor, account_id)
        assert account.id is not None
        return await self._refresh(account)

    async def refresh_due_tokens(self) -> int:
        """The token-refresh cron: refresh active tokens older than a week; returns how many."""
        now = self._clock.now()
        cached = await self._redis.get(NEXT_REFRESH_KEY)
        if cached is not None and now.timestamp() < float(cached):
            return 0
        due = await Account.find(
            {
                "status": str(AccountStatus.ACTIVE),
                "token_refreshed_at": {"$lte": now - REFRESH_AFTER},
            }
        ).to_list()
        refreshed = 0
        for account in due:
            try:
                await self._refresh(account)
                refreshed += 1
            except (ThreadsApiError, ValidationFailed, AccountNeedsReconnect) as exc:
                log.warning("token refresh of account %s failed: %s", account.id, exc)
        oldest = (
            await Account.find({"status": str(AccountStatus.ACTIVE)})
            .sort("token_refreshed_at")
            .first_or_none()
        )
        next_at = now + timedelta(hours=1)
        if oldest is not None and oldest.token_refreshed_at is not None:
            next_at = max(next_at, oldest.token_refreshed_at + REFRESH_AFTER)
        elif oldest is None:
            next_at = now + REFRESH_AFTER  # nothing connected; a new token is a week from due
        await self._redis.set(NEXT_REFRESH_KEY, next_at.timestamp())
        return refreshed

    async def _refresh(self, account: Account) -> Account:
        assert account.id is not None
        now = self._clock.now()
        if account.token_refreshed_at and now - account.token_refreshed_at < MIN_TOKEN_AGE:
            raise ValidationFailed.single(
                "account", "Threads only refreshes tokens that are at least 24 hours old."
            )
        _, token = await self._tokens.get(account.id, fresh=True)
        try:
            grant = await self._threads.refresh_token(token)
        except ThreadsAuthError as exc:
            await self.mark_needs_reconnect(account.id, exc.meta_message)
            raise
        await Account.get_pymongo_collection().update_one(
            {"_id": account.id},
            {
                "$set": {
                    "access_token": self._cipher.encrypt(grant.access_token),
                    "token_expires_at": grant.expires_at(now),
                    "token_refreshed_at": now,
                    "updated_at": now,
                }
            },
        )
        self._tokens.forget(account.id)
        refreshed: Account | None = await Account.get(account.id)
        assert refreshed is not None
        return refreshed

    # --- holding and releasing posts --------------------------------------------------------

    async def mark_needs_reconnect(self, account_id: PydanticObjectId, reason: str) -> None:
        """Flag the account (once) and hold its scheduled posts until it is reconnected."""
        changed = await self._set_status(account_id, AccountStatus.NEEDS_RECONNECT, reason)
        if changed:
            await self.hold_posts(
                account_id, "its Threads account must be reconnected (Accounts → Reconnect)."
            )

    async def hold_posts(self, account_id: PydanticObjectId, why: str) -> int:
        """Park the account's scheduled posts: they keep their time and wait, they do not fail."""
        now = self._clock.now()
        result = await Post.get_pymongo_collection().update_many(
            {"account_id": account_id, "status": str(PostStatus.SCHEDULED)},
            {"$set": {"check_at": None, "held_reason": f"Held: {why}", "updated_at": now}},
        )
        await self._scheduler.on_post_cancelled()
        return int(result.modified_count)

    async def release_held_posts(self, account_id: PydanticObjectId) -> int:
        """After a reconnect: give held posts back to the scheduler (overdue ones go at once)."""
        now = self._clock.now()
        held = await Post.find(
            {"account_id": account_id, "status": str(PostStatus.SCHEDULED), "check_at": None}
        ).to_list()
        earliest: datetime | None = None
        for post in held:
            if post.next_run_at is None:
                continue
            check_at = check_at_for(post.next_run_at, post.content, now)
            await Post.get_pymongo_collection().update_one(
                {"_id": post.id, "check_at": None},
                {"$set": {"check_at": check_at, "held_reason": None, "updated_at": now}},
            )
            earliest = check_at if earliest is None else min(earliest, check_at)
        await self._scheduler.on_post_scheduled(earliest)
        return len(held)

    async def _set_status(
        self,
        account_id: PydanticObjectId,
        status: AccountStatus,
        reason: str,
        *,
        clear_token: bool = False,
    ) -> bool:
        changes: dict[str, Any] = {
            "status": str(status),
            "status_reason": reason,
            "updated_at": self._clock.now(),
        }
        if clear_token:
            changes["access_token"] = None
        raw = await Account.get_pymongo_collection().find_one_and_update(
            {"_id": account_id, "status": {"$ne": str(status)}},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
        self._tokens.forget(account_id)
        if raw is None:
            return False
        await self._events.publish(
            "account.status",
            raw["owner_id"],
            account_id=str(account_id),
            username=raw.get("username"),
            status=str(status),
            reason=reason,
        )
        return True


def _check_timezone(timezone: str) -> None:
    if find_zone(timezone) is None:
        raise ValidationFailed.single(
            "timezone", f"Unknown time zone {timezone!r}; use an IANA name like Europe/Berlin."
        )
