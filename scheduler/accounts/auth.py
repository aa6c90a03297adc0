"""Auth: who is calling — dashboard logins (with throttling) and API tokens.

Passwords are argon2 hashes (`scheduler.accounts.users`). API tokens are random secrets shown
once; only their SHA-256 is stored (a 256-bit random secret needs no slow hash). Every successful
authentication ends in an `Actor`, which the services scope every read and write by.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from redis.asyncio import Redis

from scheduler.accounts.actors import Actor
from scheduler.accounts.users import create_user, hash_password, verify_password
from scheduler.platform.clock import Clock
from scheduler.platform.documents import ApiToken, Role, User
from scheduler.platform.errors import AuthenticationFailed, NotFoundError, ValidationFailed
from scheduler.platform.events import EventBus

TOKEN_PREFIX = "tsk_"
BAD_CREDENTIALS = "The email or password is wrong."
# Failed logins per email and per client within the window before further tries are refused.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LAST_USED_PRECISION = timedelta(minutes=1)  # don't write `last_used_at` on every request
# A fixed hash to verify against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = hash_password("not a real password, only for constant-time failures")


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def actor_for(user: User, token: ApiToken | None = None) -> Actor:
    assert user.id is not None and user.owner_id is not None
    return Actor(
        owner_id=user.owner_id,
        user_id=user.id,
        role=token.role if token is not None and token.role is Role.VIEWER else user.role,
        token_id=token.id if token is not None else None,
    )


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: `secret` is the only time the raw value exists; show it once."""

    token: ApiToken
    secret: str


class AuthService:
    """Logins, sessions' users and API tokens."""

    def __init__(self, *, clock: Clock, events: EventBus, redis: Redis) -> None:
        self._clock = clock
        self._events = events
        self._redis = redis

    # --- users and logins ------------------------------------------------------------------

    async def has_users(self) -> bool:
        return await User.find_one({}) is not None

    async def create_first_owner(self, email: str, password: str) -> User:
        """The first-run setup: only possible while no user exists."""
        if await self.has_users():
            raise AuthenticationFailed("This scheduler is already set up; log in instead.")
        return await create_user(email, password, now=self._clock.now())

    async def login(self, email: str, password: str, *, client: str) -> User:
        """Check credentials; throttled per email and per client after repeated failures.

        Raises:
            AuthenticationFailed: always with the same generic message, whatever was wrong.
        """
        email = email.strip().lower()
        keys = [f"auth:failures:email:{email}", f"auth:failures:client:{client}"]
        counts = [int(c or 0) for c in await self._redis.mget(keys)]
        if max(counts) >= MAX_FAILURES:
            raise AuthenticationFailed("Too many failed attempts; wait 15 minutes and try again.")
        user = await User.find_one({"email": email})
        valid = verify_password(user.password_hash if user else _DUMMY_HASH, password)
        if user is None or not valid:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.incr(key)
                    pipe.expire(key, int(FAILURE_WINDOW.total_seconds()))
                await pipe.execute()
            raise AuthenticationFailed(BAD_CREDENTIALS)
        await self._redis.delete(keys[0])
        await User.get_pymongo_collection().update_one(
            {"_id": user.id}, {"$set": {"last_login_at": self._clock.now()}}
        )
        return user

    async def user_actor(self, user_id: object) -> Actor:
        """The actor of a logged-in session's user (who may have been deleted since)."""
        try:
            user = await User.get(PydanticObjectId(str(user_id)))
        except Exception:
            user = None
        if user is None:
            raise AuthenticationFailed("Your session has ended; log in again.")
        return actor_for(user)

    async def me(self, actor: Actor) -> User:
        """The user behind the actor (for "who am I" views)."""
        user = await User.get(actor.user_id) if actor.user_id else None
        if user is None:
            raise AuthenticationFailed("Your session has ended; log in again.")
        return user

    async def viewers(self, actor: Actor) -> list[User]:
        """The read-only users of the actor's data."""
        return (
            await User.find({"owner_id": actor.owner_id, "role": str(Role.VIEWER)})
            .sort("email")
            .to_list()
        )

    async def add_viewer(self, actor: Actor, email: str, password: str) -> User:
        """An owner invites a read-only user of their data."""
        actor.require_write()
        owner = await User.get(actor.owner_id)
        if owner is None:
            raise NotFoundError("User", actor.owner_id)
        return await create_user(
            email, password, now=self._clock.now(), role=Role.VIEWER, owner=owner
        )

    # --- API tokens --------------------------------------------------------------------------

    async def create_token(
        self, actor: Actor, name: str, *, read_only: bool = False
    ) -> IssuedToken:
        """Create an API token for the actor's user; the secret is returned once."""
        actor.require_write()
        name = name.strip()
        if not name or len(name) > 100:
            raise ValidationFailed.single("name", "Give the token a name of 1 to 100 characters.")
        if actor.user_id is None:
            raise ValidationFailed.single("name", "Only a logged-in user can create tokens.")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(
            owner_id=actor.owner_id,
            user_id=actor.user_id,
            name=name,
            token_hash=hash_token(secret),
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            role=Role.VIEWER if read_only or not actor.can_write else Role.OWNER,
            created_at=self._clock.now(),
        )
        await token.insert()
        return IssuedToken(token=token, secret=secret)

    async def list_tokens(self, actor: Actor) -> list[ApiToken]:
        return await ApiToken.find({"owner_id": actor.owner_id}).sort("-created_at").to_list()

    async def revoke_token(self, actor: Actor, token_id: object) -> ApiToken:
        """Revoke a token; open WebSockets using it are closed (via the `token.revoked` event)."""
        actor.require_write()
        try:
            oid = PydanticObjectId(str(token_id))
        except Exception:
            raise NotFoundError("API token", token_id) from None
        now = self._clock.now()
        raw = await ApiToken.get_pymongo_collection().find_one_and_update(
            {"_id": oid, "owner_id": actor.owner_id},
            {"$set": {"revoked_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            raise NotFoundError("API token", token_id)
        await self._events.publish("token.revoked", actor.owner_id, token_id=str(oid))
        revoked: ApiToken = ApiToken.model_validate(raw)
        return revoked

    async def authenticate_token(self, secret: str) -> Actor:
        """The actor behind `Authorization: Bearer <secret>`.

        Raises:
            AuthenticationFailed: unknown, malformed or revoked token (one generic message).
        """
        if not secret.startswith(TOKEN_PREFIX):
            raise AuthenticationFailed("The API token is not valid.")
        token = await ApiToken.find_one({"token_hash": hash_token(secret)})
        if token is None or token.revoked_at is not None:
            raise AuthenticationFailed("The API token is not valid.")
        user = await User.get(token.user_id)
        if user is None:
            raise AuthenticationFailed("The API token is not valid.")
        await self._touch(token)
        return actor_for(user, token)

    async def token_active(self, token_id: PydanticObjectId) -> bool:
        token = await ApiToken.get(token_id)
        return token is not None and token.revoked_at is None

    async def _touch(self, token: ApiToken) -> None:
        now = self._clock.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            await ApiToken.get_pymongo_collection().update_one(
                {"_id": token.id}, {"$set": {"last_used_at": now}}
            )
