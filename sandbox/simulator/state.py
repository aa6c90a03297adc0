"""SimulatorState: accounts, tokens, containers, posts, quotas, faults and journal, on one clock.

Everything the simulated Threads knows lives here, in plain dicts, mutated only from the server's
event loop. Time comes from the injected `Clock`; container processing, expiry, token lifetimes and
rolling quotas are all computed from it, so tests move time with `ManualClock.advance` (or, against
a separate process, with the admin API's clock offset).
"""

from __future__ import annotations

import base64
import itertools
import random
from collections import deque
from datetime import datetime, timedelta

from sandbox.simulator.config import SimulatorConfig
from sandbox.simulator.faults import FaultSet
from sandbox.simulator.journal import Journal
from sandbox.simulator.objects import (
    ALL_SCOPES,
    Account,
    AuthCode,
    Container,
    ContainerSpec,
    Media,
    Token,
    TokenKind,
)
from sandbox.simulator.responses import GraphError
from scheduler.platform.clock import Clock, SystemClock
from scheduler.threads.models import format_graph_time


class OffsetClock:
    """Another clock plus an offset the admin API can advance (for a subprocess simulator)."""

    def __init__(self, base: Clock | None = None) -> None:
        self.base: Clock = base or SystemClock()
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return self.base.now() + self.offset

    def advance(self, delta: timedelta | float) -> None:
        self.offset += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)

    async def sleep(self, seconds: float) -> None:
        await self.base.sleep(seconds)

    async def sleep_until(self, instant: datetime) -> None:
        await self.base.sleep_until(instant - self.offset)


class SimulatorState:
    """The whole simulated Threads.

    Args:
        config: tunables (defaults follow `docs/threads-api.md`).
        clock: the simulated "now" (default: system time plus an admin-adjustable offset).
        fault_clock: real time for injected latency and hangs (default: the system clock), so
            that a `ManualClock` in tests does not freeze injected delays.
    """

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        clock: Clock | None = None,
        fault_clock: Clock | None = None,
    ) -> None:
        self.config = config or SimulatorConfig()
        self.clock: Clock = clock or OffsetClock()
        self.fault_clock: Clock = fault_clock or SystemClock()
        self.journal = Journal(self.config.journal_max_requests)
        self.faults = FaultSet(seed=self.config.seed)
        self.rng = random.Random(self.config.seed)
        self._user_ids = itertools.count(17_841_400_000_000_001)
        self._container_ids = itertools.count(18_000_000_000_000_001)
        self._media_ids = itertools.count(17_900_000_000_000_001)
        self._traces = itertools.count(1)
        self._clear()

    def _clear(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.usernames: dict[str, str] = {}
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, AuthCode] = {}
        self.containers: dict[str, Container] = {}
        self.media: dict[str, Media] = {}

    def reset(self, *, config: bool = False) -> None:
        """Forget accounts, tokens, posts, faults and the journal (ids keep counting up)."""
        if config:
            self.config = SimulatorConfig()
        self._clear()
        self.journal = Journal(self.config.journal_max_requests)
        self.faults.clear()

    def trace_id(self) -> str:
        return f"ASim{next(self._traces):08x}"

    # --- accounts and tokens ----------------------------------------------------------------

    def create_account(
        self,
        username: str,
        *,
        name: str | None = None,
        access_token: str | None = None,
        scopes: frozenset[str] = ALL_SCOPES,
        token_age_seconds: float = 0.0,
        geo_gating_eligible: bool = True,
        ig_linked: bool = False,
    ) -> tuple[Account, Token]:
        """Create an account with a long-lived token (optionally a fixed token string).

        Raises:
            ValueError: the username or token is already taken.
        """
        if not username or username in self.usernames:
            raise ValueError(f"Username {username!r} is empty or already exists; pick another.")
        user_id = str(next(self._user_ids))
        account = Account(
            user_id,
            username,
            name or username.replace("_", " ").title(),
            geo_gating_eligible=geo_gating_eligible,
            ig_linked=ig_linked,
        )
        self.accounts[user_id] = account
        self.usernames[username] = user_id
        token = self.issue_token(
            user_id,
            TokenKind.LONG,
            value=access_token,
            age_seconds=token_age_seconds,
            scopes=scopes,
        )
        return account, token

    def account_by_ref(self, ref: str) -> Account:
        """Find an account by user id or username (admin API)."""
        account = self.accounts.get(ref) or self.accounts.get(self.usernames.get(ref, ""))
        if account is None:
            raise ValueError(
                f"No simulated account {ref!r}; create it with POST /__admin/accounts."
            )
        return account

    def issue_token(
        self,
        user_id: str | None,
        kind: TokenKind,
        *,
        value: str | None = None,
        age_seconds: float = 0.0,
        scopes: frozenset[str] = ALL_SCOPES,
        expires_in: float | None = None,
    ) -> Token:
        """Issue a token `age_seconds` old, expiring after its kind's lifetime (or `expires_in`)."""
        if value is not None and value in self.tokens:
            raise ValueError("That access token string is already in use; pick another.")
        issued = self.clock.now() - timedelta(seconds=age_seconds)
        lifetime = expires_in
        if lifetime is None:
            lifetime = {
                TokenKind.SHORT: self.config.short_lived_seconds,
                TokenKind.LONG: self.config.long_lived_seconds,
                TokenKind.APP: 10 * 365 * 86400,
            }[kind]
        token = Token(
            value or self._new_token_string(),
            user_id,
            kind,
            issued,
            issued + timedelta(seconds=lifetime),
            scopes,
        )
        self.tokens[token.value] = token
        return token

    def _new_token_string(self) -> str:
        return f"THSIM{self.rng.getrandbits(160):040x}"

    def issue_code(
        self, user_id: str, redirect_uri: str | None, scopes: frozenset[str]
    ) -> AuthCode:
        code = AuthCode(
            f"AQSIM{self.rng.getrandbits(96):024x}", user_id, redirect_uri, self.clock.now(), scopes
        )
        self.codes[code.value] = code
        return code

    def revoke(
        self, *, token: str | None = None, user_id: str | None = None, subcode: int = 458
    ) -> int:
        """Revoke one token, or every token of an account; returns how many were revoked."""
        targets = [
            t
            for t in self.tokens.values()
            if (token is not None and t.value == token)
            or (user_id is not None and t.user_id == user_id)
        ]
        for t in targets:
            t.revoked_subcode = subcode
        return len(targets)

    def token_owner(self, value: str | None) -> str | None:
        """The user id behind a token, without validating it (fault scoping, journal)."""
        token = self.tokens.get(value) if value else None
        return token.user_id if token else None

    def authenticate(self, value: str | None, now: datetime) -> tuple[Account, Token]:
        """The account and token of a request, or the Graph auth error Threads would return."""
        if not value:
            raise GraphError(
                "An access token is required to request this resource.",
                code=104,
                type="OAuthException",
            )
        token = self.tokens.get(value)
        if token is None:
            raise GraphError(
                "Invalid OAuth access token - Cannot parse access token",
                code=190,
                type="OAuthException",
            )
        if token.revoked_subcode is not None:
            raise GraphError(
                "Error validating access token: The session has been invalidated because the "
                "user changed their password or Threads has changed the session for security "
                "reasons.",
                code=190,
                subcode=token.revoked_subcode,
                type="OAuthException",
            )
        if now >= token.expires_at:
            raise GraphError(
                "Error validating access token: Session has expired on "
                f"{format_graph_time(token.expires_at)}. The current time is "
                f"{format_graph_time(now)}.",
                code=190,
                subcode=463,
                type="OAuthException",
            )
        if token.user_id is None:
            raise GraphError(
                "A user access token is required for this request.", code=190, type="OAuthException"
            )
        return self.accounts[token.user_id], token

    # --- containers, posts and quotas -------------------------------------------------------

    def add_container(self, account: Account, spec: ContainerSpec, now: datetime) -> Container:
        """Store a validated container; its processing outcome is fixed now, revealed over time."""
        delay = self.config.processing_seconds.get(spec.media_type, 0.0)
        ready_at = now + timedelta(seconds=delay)
        error = self._media_failure(spec.image_url or spec.video_url)
        for child_id in spec.children:
            child = self.containers[child_id]
            ready_at = max(ready_at, child.ready_at)
            error = error or child.error_message
        container = Container(
            str(next(self._container_ids)), account.user_id, spec, now, ready_at, error
        )
        self.containers[container.id] = container
        return container

    def _media_failure(self, url: str | None) -> str | None:
        if url:
            for pattern, error_message in self.config.media_failures:
                if pattern in url:
                    return error_message
        return None

    def container_status(self, container: Container, now: datetime) -> tuple[str, str | None]:
        """(status, error_message) of a container at `now`."""
        if container.published_media_id is not None:
            return "PUBLISHED", None
        if (now - container.created_at).total_seconds() >= self.config.container_ttl_seconds:
            return "EXPIRED", None
        if now < container.ready_at:
            return "IN_PROGRESS", None
        if container.error_message is not None:
            return "ERROR", container.error_message
        return "FINISHED", None

    def quota_usage(self, account: Account, kind: str, now: datetime) -> int:
        """How many `kind` actions ("posts", "replies", "deletes") fall in the rolling window."""
        log = account.quota_log[kind]
        horizon = now - timedelta(seconds=self.config.quota_window_seconds)
        while log and log[0] <= horizon:
            log.popleft()
        return len(log)

    def quota_frees_in(self, account: Account, kind: str, now: datetime) -> float:
        """Seconds until the oldest action in the window leaves it."""
        log = account.quota_log[kind]
        if not log:
            return 0.0
        window = timedelta(seconds=self.config.quota_window_seconds)
        return max(0.0, (log[0] + window - now).total_seconds())

    def fill_quota(self, account: Account, kind: str, used: int, now: datetime) -> None:
        """Set the usage of a quota to `used` actions, all stamped `now` (admin API)."""
        account.quota_log[kind] = deque([now] * used)

    def publish(
        self, container: Container, account: Account, now: datetime, *, auto: bool
    ) -> Media:
        """Make a container public: a media object, quota use, and a journal record."""
        spec = container.spec
        media = self._new_media(account, container, now)
        if spec.children:
            media.children = tuple(
                self._new_media(account, self.containers[c], now).id for c in spec.children
            )
        parent = self.media.get(spec.reply_to_id or "")
        if parent is not None:
            media.root_id = parent.root_id or parent.id
            parent.replies.append(media.id)
            account.replies.append(media.id)
            account.quota_log["replies"].append(now)
            if self.config.replies_count_toward_posts:
                account.quota_log["posts"].append(now)
        else:
            account.posts.append(media.id)
            account.quota_log["posts"].append(now)
        container.published_media_id = media.id
        self.journal.add_publish(
            received_at=now,
            user_id=account.user_id,
            username=account.username,
            container_id=container.id,
            media_id=media.id,
            media_type=spec.media_type,
            text=spec.text,
            reply_to_id=spec.reply_to_id,
            quote_post_id=spec.quote_post_id,
            children=media.children,
            auto_published=auto,
        )
        return media

    def _new_media(self, account: Account, container: Container, now: datetime) -> Media:
        number = next(self._media_ids)
        shortcode = base64.urlsafe_b64encode(number.to_bytes(8, "big")).decode().rstrip("=")
        media = Media(
            str(number),
            account.user_id,
            account.username,
            container.id,
            container.spec,
            now,
            shortcode,
        )
        self.media[media.id] = media
        return media

    def live_media(self, media_id: str) -> Media | None:
        """A media object that exists and is not deleted."""
        media = self.media.get(media_id)
        return None if media is None or media.deleted else media
