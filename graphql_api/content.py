"""Content: what a post (or a reply) says and shows, as GraphQL types and inputs."""

from __future__ import annotations

import strawberry

from graphql_api.enums import MediaKind, PostType, ReplyControl
from scheduler.posts import content as core


@strawberry.type(description="An image or video Threads fetches from a public URL.")
class MediaItem:
    url: str
    kind: MediaKind
    alt_text: str | None


@strawberry.type(description="A span of the text shown as a spoiler.")
class TextSpoiler:
    offset: int
    length: int


@strawberry.type(description="A poll of 2-4 options attached to a TEXT post.")
class Poll:
    options: list[str]


@strawberry.type(description="Optional Threads parameters of a post.")
class ThreadsOptions:
    topic_tag: str | None
    reply_control: ReplyControl | None
    link_attachment: str | None
    quote_post_id: str | None
    poll: Poll | None
    allowlisted_country_codes: list[str]
    is_spoiler_media: bool
    text_spoilers: list[TextSpoiler]
    location_id: str | None

    @classmethod
    def from_model(cls, options: core.ThreadsOptions) -> ThreadsOptions:
        return cls(
            topic_tag=options.topic_tag,
            reply_control=options.reply_control,
            link_attachment=options.link_attachment,
            quote_post_id=options.quote_post_id,
            poll=Poll(options=list(options.poll.options)) if options.poll else None,
            allowlisted_country_codes=list(options.allowlisted_country_codes),
            is_spoiler_media=options.is_spoiler_media,
            text_spoilers=[
                TextSpoiler(offset=s.offset, length=s.length) for s in options.text_spoilers
            ],
            location_id=options.location_id,
        )


@strawberry.type(description="What one post says and shows.")
class PostContent:
    type: PostType
    text: str
    media: list[MediaItem]
    options: ThreadsOptions

    @classmethod
    def from_model(cls, content: core.PostContent) -> PostContent:
        return cls(
            type=content.type,
            text=content.text,
            media=[MediaItem(url=m.url, kind=m.kind, alt_text=m.alt_text) for m in content.media],
            options=ThreadsOptions.from_model(content.options),
        )


@strawberry.type(description="A follow-up reply, published `delaySeconds` after its parent.")
class Reply(PostContent):
    delay_seconds: int

    @classmethod
    def from_reply(cls, reply: core.ReplySpec) -> Reply:
        content = PostContent.from_model(reply)
        return cls(
            type=content.type,
            text=content.text,
            media=content.media,
            options=content.options,
            delay_seconds=reply.delay_seconds,
        )


# --- inputs ------------------------------------------------------------------------------------


@strawberry.input(description="An image or video by public URL.")
class MediaItemInput:
    url: str
    kind: MediaKind = MediaKind.IMAGE
    alt_text: str | None = None


@strawberry.input
class TextSpoilerInput:
    offset: int
    length: int


@strawberry.input(description="A poll of 2-4 options of 1-25 characters.")
class PollInput:
    options: list[str]


@strawberry.input(description="Optional Threads parameters; leave out what you don't use.")
class ThreadsOptionsInput:
    topic_tag: str | None = None
    reply_control: ReplyControl | None = None
    link_attachment: str | None = None
    quote_post_id: str | None = None
    poll: PollInput | None = None
    allowlisted_country_codes: list[str] | None = None
    is_spoiler_media: bool | None = None
    text_spoilers: list[TextSpoilerInput] | None = None
    location_id: str | None = None


@strawberry.input(description="What a post says and shows.")
class PostContentInput:
    type: PostType = PostType.TEXT
    text: str = ""
    media: list[MediaItemInput] = strawberry.field(default_factory=list)
    options: ThreadsOptionsInput | None = None


@strawberry.input(description="A follow-up reply: content plus the delay after its parent.")
class ReplyInput(PostContentInput):
    delay_seconds: int = 0
