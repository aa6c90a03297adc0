"""Actors: who is asking. Every service call takes one, and every query is scoped by it."""

from __future__ import annotations

from dataclasses import dataclass

from beanie import PydanticObjectId

from scheduler.platform.documents import Role
from scheduler.platform.errors import PermissionDenied


@dataclass(frozen=True)
class Actor:
    """A user (or API token, or the system) acting on `owner_id`'s data with a role."""

    owner_id: PydanticObjectId
    user_id: PydanticObjectId | None = None
    role: Role = Role.OWNER
    token_id: PydanticObjectId | None = None

    @property
    def can_write(self) -> bool:
        return self.role is Role.OWNER

    def require_write(self) -> None:
        if not self.can_write:
            raise PermissionDenied(
                "Your role is viewer: you can look at posts and accounts but not change them. "
                "Ask the owner for access."
            )
