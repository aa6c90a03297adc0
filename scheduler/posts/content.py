"""Content: what a post says and shows, independent of when or where it is published.

These models are embedded in the `Post` document, validated by the Threads pre-flight rules
(`scheduler.threads.preflight`) and turned into Graph API containers by the publisher.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class PostType(StrEnum):
    TEXT = "TEXT"
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    CAROUSEL = "CAROUSEL"


class MediaKind(StrEnum):
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"


class ReplyControl(StrEnum):
    EVERYONE = "everyone"
    ACCOUNTS_YOU_FOLLOW = "accounts_you_follow"
    MENTIONED_ONLY = "mentioned_only"
    PARENT_POST_AUTHOR_ONLY = "parent_post_author_only"
    FOLLOWERS_ONLY = "followers_only"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MediaItem(_Model):
    """One image or video, fetched by Threads from a public URL at publish time."""

    url: str
    kind: MediaKind = MediaKind.IMAGE
    alt_text: str | None = None


class Poll(_Model):
    """A poll attached to a TEXT post: 2–4 options of 1–25 characters."""

    options: list[str] = Field(default_factory=list)


class TextSpoiler(_Model):
    """A span of the text hidden as a spoiler (offset and length in characters)."""

    offset: int
    length: int


class ThreadsOptions(_Model):
    """The optional Graph API container parameters a post may carry."""

    topic_tag: str | None = None
    reply_control: ReplyControl | None = None
    link_attachment: str | None = None
    quote_post_id: str | None = None
    poll: Poll | None = None
    allowlisted_country_codes: list[str] = Field(default_factory=list)
    is_spoiler_media: bool = False
    text_spoilers: list[TextSpoiler] = Field(default_factory=list)
    location_id: str | None = None


class PostContent(_Model):
    """Everything Threads needs to create the container(s) of one post or reply."""

    type: PostType = PostType.TEXT
    text: str = ""
    media: list[MediaItem] = Field(default_factory=list)
    options: ThreadsOptions = Field(default_factory=ThreadsOptions)


class ReplySpec(PostContent):
    """One follow-up reply in a chain: published `delay_seconds` after its parent."""

    delay_seconds: int = Field(default=0, ge=0)
