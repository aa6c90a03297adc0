"""Typed requests and results of the Threads Graph API (frozen dataclasses, parsed from Graph JSON).

Parsing is lenient where Meta is inconsistent (ids as numbers or strings, optional fields) and
strict where the scheduler depends on a value (a container or media id must be present).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class MediaType(StrEnum):
    """`media_type` of a container (input side; posts read back as TEXT_POST / CAROUSEL_ALBUM)."""

    TEXT = "TEXT"
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    CAROUSEL = "CAROUSEL"


class ContainerState(StrEnum):
    """Processing status of a media container (`GET /{container-id}?fields=status`)."""

    IN_PROGRESS = "IN_PROGRESS"
    FINISHED = "FINISHED"
    PUBLISHED = "PUBLISHED"
    ERROR = "ERROR"
    EXPIRED = "EXPIRED"


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class ContainerRequest:
    """Every documented parameter of `POST /{user-id}/threads`; unset ones are not sent.

    `poll_options` becomes `poll_attachment` (`option_a`…`option_d`), `text_spoilers` (offset,
    length) pairs become `text_entities`, and `extra` passes any parameter this class does not
    name.
    """

    media_type: MediaType
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
    poll_options: tuple[str, ...] = ()
    allowlisted_country_codes: tuple[str, ...] = ()
    auto_publish_text: bool = False
    is_spoiler_media: bool = False
    text_spoilers: tuple[tuple[int, int], ...] = ()
    location_id: str | None = None
    text_attachment: Mapping[str, Any] | None = None
    gif_attachment: Mapping[str, Any] | None = None
    is_ghost_post: bool = False
    enable_reply_approvals: bool = False
    crossreshare_to_ig: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    def to_params(self) -> dict[str, str]:
        """The form parameters of this request, encoded as the Graph API expects them."""
        params: dict[str, str] = {"media_type": self.media_type.value}
        optional = {
            "text": self.text,
            "image_url": self.image_url,
            "video_url": self.video_url,
            "reply_to_id": self.reply_to_id,
            "quote_post_id": self.quote_post_id,
            "link_attachment": self.link_attachment,
            "topic_tag": self.topic_tag,
            "reply_control": self.reply_control,
            "alt_text": self.alt_text,
            "location_id": self.location_id,
        }
        params.update({k: v for k, v in optional.items() if v is not None})
        flags = {
            "is_carousel_item": self.is_carousel_item,
            "auto_publish_text": self.auto_publish_text,
            "is_spoiler_media": self.is_spoiler_media,
            "is_ghost_post": self.is_ghost_post,
            "enable_reply_approvals": self.enable_reply_approvals,
            "crossreshare_to_ig": self.crossreshare_to_ig,
        }
        params.update({k: "true" for k, on in flags.items() if on})
        if self.children:
            params["children"] = ",".join(self.children)
        if self.allowlisted_country_codes:
            params["allowlisted_country_codes"] = ",".join(self.allowlisted_country_codes)
        if self.poll_options:
            keys = ("option_a", "option_b", "option_c", "option_d")
            params["poll_attachment"] = _json(dict(zip(keys, self.poll_options, strict=False)))
        if self.text_spoilers:
            params["text_entities"] = _json(
                [
                    {"entity_type": "SPOILER", "offset": o, "length": n}
                    for o, n in self.text_spoilers
                ]
            )
        if self.text_attachment is not None:
            params["text_attachment"] = _json(dict(self.text_attachment))
        if self.gif_attachment is not None:
            params["gif_attachment"] = _json(dict(self.gif_attachment))
        params.update(self.extra)
        return params


# What a container's ERROR `error_message` means, and what to change.
MEDIA_ERROR_EXPLANATIONS: dict[str, str] = {
    "FAILED_DOWNLOADING_VIDEO": (
        "Threads could not download the video. Make sure its URL is public, serves the file "
        "itself (no login page or redirect) and stays reachable until the post is published."
    ),
    "FAILED_PROCESSING_AUDIO": (
        "Threads could not process the video's audio. Use AAC audio, at most 48 kHz, mono or "
        "stereo."
    ),
    "FAILED_PROCESSING_VIDEO": (
        "Threads could not process the video. Re-encode it as MP4 or MOV with H.264 or HEVC "
        "(progressive, closed GOP, 4:2:0 chroma, moov atom at the front)."
    ),
    "INVALID_ASPEC_RATIO": (
        "The media's aspect ratio is not accepted. Use between 0.01:1 and 10:1 (9:16 is "
        "recommended for video)."
    ),
    "INVALID_BIT_RATE": "The video's bit rate is too high. Re-encode it at 100 Mbps or less.",
    "INVALID_DURATION": "The video must be longer than 0 seconds and at most 5 minutes (300 s).",
    "INVALID_FRAME_RATE": "The video's frame rate must be between 23 and 60 frames per second.",
    "INVALID_AUDIO_CHANNELS": "The video's audio must have 1 or 2 channels.",
    "INVALID_AUDIO_CHANNEL_LAYOUT": "The video's audio must use a mono or stereo channel layout.",
    "UNKNOWN": (
        "Threads could not process the media and gave no reason. Check that the file meets "
        "Threads' image/video requirements and that its URL is public, then try again."
    ),
}


@dataclass(frozen=True)
class ContainerStatus:
    """A container's processing status; `error_message` is set when `status` is ERROR."""

    id: str
    status: ContainerState
    error_message: str | None = None

    @property
    def explanation(self) -> str:
        """Plain-language meaning of this status, for operators and post history."""
        if self.status is ContainerState.ERROR:
            return MEDIA_ERROR_EXPLANATIONS.get(
                self.error_message or "UNKNOWN", MEDIA_ERROR_EXPLANATIONS["UNKNOWN"]
            )
        return {
            ContainerState.IN_PROGRESS: "Threads is still processing the media.",
            ContainerState.FINISHED: "The container is ready to publish.",
            ContainerState.PUBLISHED: "The container has been published.",
            ContainerState.EXPIRED: (
                "The container was not published within 24 hours and expired; create a new one."
            ),
        }[self.status]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ContainerStatus:
        return cls(
            id=str(data["id"]),
            status=ContainerState(str(data["status"])),
            error_message=_opt_str(data.get("error_message")),
        )


@dataclass(frozen=True)
class PublishingLimit:
    """Quota usage over the rolling 24 hours (`threads_publishing_limit`); replies count apart."""

    quota_usage: int
    quota_total: int
    quota_duration: int
    reply_quota_usage: int | None = None
    reply_quota_total: int | None = None
    reply_quota_duration: int | None = None
    delete_quota_usage: int | None = None
    delete_quota_total: int | None = None
    delete_quota_duration: int | None = None

    @property
    def posts_remaining(self) -> int:
        return max(0, self.quota_total - self.quota_usage)

    @property
    def replies_remaining(self) -> int | None:
        if self.reply_quota_total is None:
            return None
        return max(0, self.reply_quota_total - (self.reply_quota_usage or 0))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PublishingLimit:
        item = data["data"][0]

        def config(name: str) -> Mapping[str, Any]:
            value = item.get(name)
            return value if isinstance(value, Mapping) else {}

        posts, replies, deletes = config("config"), config("reply_config"), config("delete_config")
        return cls(
            quota_usage=int(item.get("quota_usage", 0)),
            quota_total=int(posts.get("quota_total", 250)),
            quota_duration=int(posts.get("quota_duration", 86400)),
            reply_quota_usage=_opt_int(item.get("reply_quota_usage")),
            reply_quota_total=_opt_int(replies.get("quota_total")),
            reply_quota_duration=_opt_int(replies.get("quota_duration")),
            delete_quota_usage=_opt_int(item.get("delete_quota_usage")),
            delete_quota_total=_opt_int(deletes.get("quota_total")),
            delete_quota_duration=_opt_int(deletes.get("quota_duration")),
        )


@dataclass(frozen=True)
class Profile:
    """The token owner's Threads profile (`GET /me`)."""

    id: str
    username: str | None = None
    name: str | None = None
    picture_url: str | None = None
    biography: str | None = None
    is_verified: bool | None = None
    is_eligible_for_geo_gating: bool | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Profile:
        return cls(
            id=str(data["id"]),
            username=_opt_str(data.get("username")),
            name=_opt_str(data.get("name")),
            picture_url=_opt_str(data.get("threads_profile_picture_url")),
            biography=_opt_str(data.get("threads_biography")),
            is_verified=_opt_bool(data.get("is_verified")),
            is_eligible_for_geo_gating=_opt_bool(data.get("is_eligible_for_geo_gating")),
        )


@dataclass(frozen=True)
class ThreadsPost:
    """A published Threads media object (post, reply, carousel album)."""

    id: str
    media_type: str | None = None
    text: str | None = None
    timestamp: datetime | None = None
    permalink: str | None = None
    shortcode: str | None = None
    username: str | None = None
    owner_id: str | None = None
    media_url: str | None = None
    thumbnail_url: str | None = None
    alt_text: str | None = None
    link_attachment_url: str | None = None
    topic_tag: str | None = None
    is_quote_post: bool | None = None
    quoted_post_id: str | None = None
    is_reply: bool | None = None
    replied_to_id: str | None = None
    root_post_id: str | None = None
    has_replies: bool | None = None
    reply_audience: str | None = None
    children: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ThreadsPost:
        children = data.get("children")
        child_ids: tuple[str, ...] = ()
        if isinstance(children, Mapping):
            child_ids = tuple(str(c["id"]) for c in children.get("data", []) if "id" in c)
        return cls(
            id=str(data["id"]),
            media_type=_opt_str(data.get("media_type")),
            text=_opt_str(data.get("text")),
            timestamp=parse_graph_time(data.get("timestamp")),
            permalink=_opt_str(data.get("permalink")),
            shortcode=_opt_str(data.get("shortcode")),
            username=_opt_str(data.get("username")),
            owner_id=_nested_id(data.get("owner")),
            media_url=_opt_str(data.get("media_url")),
            thumbnail_url=_opt_str(data.get("thumbnail_url")),
            alt_text=_opt_str(data.get("alt_text")),
            link_attachment_url=_opt_str(data.get("link_attachment_url")),
            topic_tag=_opt_str(data.get("topic_tag")),
            is_quote_post=_opt_bool(data.get("is_quote_post")),
            quoted_post_id=_nested_id(data.get("quoted_post")),
            is_reply=_opt_bool(data.get("is_reply")),
            replied_to_id=_nested_id(data.get("replied_to")),
            root_post_id=_nested_id(data.get("root_post")),
            has_replies=_opt_bool(data.get("has_replies")),
            reply_audience=_opt_str(data.get("reply_audience")),
            children=child_ids,
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a Graph list: `data` plus the cursors to fetch the neighbouring pages."""

    data: tuple[T, ...]
    before: str | None = None
    after: str | None = None
    has_next: bool = False
    has_previous: bool = False


@dataclass(frozen=True)
class TokenGrant:
    """An access token issued by the OAuth endpoints; `expires_in` is in seconds when given."""

    access_token: str
    user_id: str | None = None
    expires_in: int | None = None
    token_type: str | None = None

    def expires_at(self, issued_at: datetime) -> datetime | None:
        """When the token expires, given when it was received."""
        if self.expires_in is None:
            return None
        return issued_at + timedelta(seconds=self.expires_in)

    def __repr__(self) -> str:  # never print a token
        return f"TokenGrant(user_id={self.user_id!r}, expires_in={self.expires_in!r}, token=***)"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TokenGrant:
        user_id = data.get("user_id")
        return cls(
            access_token=str(data["access_token"]),
            user_id=None if user_id is None else str(user_id),  # a number in the code exchange
            expires_in=_opt_int(data.get("expires_in")),
            token_type=_opt_str(data.get("token_type")),
        )


@dataclass(frozen=True)
class Insights:
    """Insight metrics by name. Time series (e.g. account `views`) are summed over the period."""

    metrics: dict[str, int]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Insights:
        metrics: dict[str, int] = {}
        for item in data.get("data", []):
            if "total_value" in item:
                value = int(item["total_value"].get("value", 0))
            elif "link_total_values" in item:
                value = sum(int(v.get("value", 0)) for v in item["link_total_values"])
            else:
                value = sum(int(v.get("value", 0)) for v in item.get("values", []))
            metrics[str(item["name"])] = value
        return cls(metrics=metrics)


@dataclass(frozen=True)
class PublishResolution:
    """What asking Threads revealed about a publish whose outcome was unknown.

    `published` is True (it happened: do not publish again), False (it did not: the container may
    be published now if `container` is FINISHED) or None (Threads could not tell; ask again later).
    `media_id` is the published post when it could be found among the account's recent posts.
    """

    published: bool | None
    container: ContainerStatus | None = None
    media_id: str | None = None


def parse_graph_time(value: Any) -> datetime | None:
    """Parse a Graph timestamp (`2023-10-17T05:42:03+0000`) into an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)
    except ValueError:
        try:
            return datetime.fromisoformat(value).astimezone(UTC)
        except ValueError:
            return None


def format_graph_time(instant: datetime) -> str:
    """Format an aware datetime as the Graph API does (`2023-10-17T05:42:03+0000`)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _opt_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _nested_id(value: Any) -> str | None:
    if isinstance(value, Mapping) and value.get("id") is not None:
        return str(value["id"])
    return None
