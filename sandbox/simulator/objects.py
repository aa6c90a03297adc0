"""The simulated Threads objects: accounts, tokens, authorization codes, containers and posts.

Plain mutable dataclasses owned by `SimulatorState`; the rules that change them live in the state
and in the endpoint modules.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

ALL_SCOPES = frozenset(
    {
        "threads_basic",
        "threads_content_publish",
        "threads_manage_replies",
        "threads_read_replies",
        "threads_manage_insights",
        "threads_delete",
        "threads_keyword_search",
        "threads_manage_mentions",
        "threads_location_tagging",
        "threads_profile_discovery",
        "threads_share_to_instagram",
    }
)

# Output media_type differs from the input enum (docs/threads-api.md §3.1).
OUTPUT_MEDIA_TYPE = {
    "TEXT": "TEXT_POST",
    "IMAGE": "IMAGE",
    "VIDEO": "VIDEO",
    "CAROUSEL": "CAROUSEL_ALBUM",
}


class TokenKind(StrEnum):
    SHORT = "short"
    LONG = "long"
    APP = "app"


@dataclass(slots=True)
class Token:
    value: str
    user_id: str | None
    kind: TokenKind
    issued_at: datetime
    expires_at: datetime
    scopes: frozenset[str]
    revoked_subcode: int | None = None


@dataclass(slots=True)
class AuthCode:
    value: str
    user_id: str
    redirect_uri: str | None
    issued_at: datetime
    scopes: frozenset[str]
    used: bool = False


@dataclass(slots=True)
class Account:
    user_id: str
    username: str
    name: str
    biography: str = ""
    is_verified: bool = False
    geo_gating_eligible: bool = True
    ig_linked: bool = False
    posts: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    quota_log: dict[str, deque[datetime]] = field(
        default_factory=lambda: {"posts": deque(), "replies": deque(), "deletes": deque()}
    )

    def to_json(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "username": self.username, "name": self.name}


@dataclass(slots=True)
class ContainerSpec:
    """The validated parameters of one `POST /threads` call."""

    media_type: str
    text: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    is_carousel_item: bool = False
    children: tuple[str, ...] = ()
    reply_to_id: str | None = None
    quote_post_id: str | None = None
    link_attachment: str | None = None
    topic_tag: str | None = None
    reply_control: str | None = None
    alt_text: str | None = None
    poll: dict[str, str] | None = None
    countries: tuple[str, ...] = ()
    is_spoiler_media: bool = False
    text_entities: list[dict[str, Any]] | None = None
    location_id: str | None = None
    text_attachment: dict[str, Any] | None = None
    gif_attachment: dict[str, Any] | None = None
    is_ghost_post: bool = False
    enable_reply_approvals: bool = False
    crossreshare_to_ig: bool = False
    auto_publish_text: bool = False


@dataclass(slots=True)
class Container:
    id: str
    user_id: str
    spec: ContainerSpec
    created_at: datetime
    ready_at: datetime
    error_message: str | None = None
    published_media_id: str | None = None


@dataclass(slots=True)
class Media:
    id: str
    user_id: str
    username: str
    container_id: str
    spec: ContainerSpec
    timestamp: datetime
    shortcode: str
    root_id: str | None = None
    children: tuple[str, ...] = ()
    replies: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def media_type(self) -> str:
        return OUTPUT_MEDIA_TYPE[self.spec.media_type]

    @property
    def permalink(self) -> str:
        return f"https://www.threads.net/@{self.username}/post/{self.shortcode}"
