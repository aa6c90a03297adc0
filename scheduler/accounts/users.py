"""Users: dashboard accounts with argon2-hashed passwords."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pymongo.errors import DuplicateKeyError

from scheduler.platform.database import connect_database
from scheduler.platform.documents import Role, User
from scheduler.platform.errors import ConflictError, NotFoundError, ValidationFailed
from scheduler.platform.settings import Settings

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def create_user(
    email: str, password: str, *, now: datetime, role: Role = Role.OWNER, owner: User | None = None
) -> User:
    """Create a user; an owner owns their own data, a viewer reads `owner`'s data.

    Raises:
        ValidationFailed: bad email or a password shorter than 10 characters.
        ConflictError: the email is taken.
    """
    email = email.strip().lower()
    errors: dict[str, list[str]] = {}
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        errors["email"] = ["Enter an email address such as ana@example.com."]
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"Use at least {MIN_PASSWORD_LENGTH} characters."]
    if role is Role.VIEWER and owner is None:
        errors["owner"] = ["A viewer needs the owner whose posts they may see."]
    if errors:
        raise ValidationFailed(errors)
    user = User(email=email, password_hash=hash_password(password), role=role, created_at=now)
    user.owner_id = owner.owner_id if owner is not None else None
    try:
        await user.insert()
    except DuplicateKeyError:
        raise ConflictError(f"A user with email {email} already exists.") from None
    if user.owner_id is None:
        user.owner_id = user.id
        await User.get_pymongo_collection().update_one(
            {"_id": user.id}, {"$set": {"owner_id": user.id}}
        )
    return user


async def create_user_command(
    settings: Settings, email: str, password: str, role: str, owner_email: str | None
) -> str:
    """`threads-scheduler create-user`: returns the line to print."""
    from scheduler.platform.clock import SystemClock
    from scheduler.platform.errors import ConfigurationError

    if settings.mongodb_uri is None:
        raise ConfigurationError(
            "MONGODB_URI is not set; set it to the database the web app uses.",
            variables=["MONGODB_URI"],
        )
    client = await connect_database(settings.mongodb_uri, settings.database_name)
    try:
        owner = None
        if owner_email:
            owner = await User.find_one(User.email == owner_email.strip().lower())
            if owner is None:
                raise NotFoundError("User", owner_email)
        user = await create_user(
            email, password, now=SystemClock().now(), role=Role(role.upper()), owner=owner
        )
        return f"Created {user.role.value.lower()} {user.email} (id {user.id})."
    finally:
        await client.close()
