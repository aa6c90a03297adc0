"""Pre-flight validation: documented limits, field paths and messages that say what to change."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.platform.errors import ValidationFailed
from scheduler.posts.content import (
    MediaItem,
    MediaKind,
    Poll,
    PostContent,
    PostType,
    ReplySpec,
    ThreadsOptions,
)
from scheduler.threads.preflight import ensure_valid, validate_chain, validate_content

IMG = "https://cdn.example.com/a.jpg"
VID = "https://cdn.example.com/a.mp4"


def post(**kw: Any) -> PostContent:
    options = kw.pop("options", {})
    return PostContent(options=ThreadsOptions(**options), **kw)


def text(body: str, **options: Any) -> PostContent:
    return post(text=body, options=options)


def media(kind: PostType, *items: MediaItem, **options: Any) -> PostContent:
    return post(type=kind, media=list(items), options=options)


SPOILER = {"offset": 0, "length": 1}


@pytest.mark.parametrize(
    "content",
    [
        post(text="hello"),
        post(text="a" * 500),
        post(text="😀" * 125),
        post(type=PostType.IMAGE, media=[MediaItem(url=IMG, alt_text="a" * 1000)]),
        post(type=PostType.VIDEO, media=[MediaItem(url=VID, kind=MediaKind.VIDEO)]),
        post(type=PostType.CAROUSEL, media=[MediaItem(url=IMG)] * 2),
        post(
            type=PostType.CAROUSEL,
            media=[MediaItem(url=IMG)] * 20,
            options={"is_spoiler_media": True},
        ),
        post(text="q", options={"poll": Poll(options=["a", "b" * 25, "c", "d"])}),
        post(text="x", options={"topic_tag": "a" * 50, "allowlisted_country_codes": ["us", "CA"]}),
        post(text="spoil", options={"text_spoilers": [{"offset": 0, "length": 5}] * 10}),
        post(text="a.com b.com c.com d.com e.com", options={"link_attachment": "https://a.com"}),
        post(text="quoting", options={"quote_post_id": "17900000000000001"}),
    ],
)
def test_valid_content_has_no_errors(content: PostContent):
    assert validate_content(content) == {}


@pytest.mark.parametrize(
    ("content", "field", "fragment"),
    [
        (text(""), "text", "needs text"),
        (
            text("a" * 512),
            "text",
            "Text is 512 characters; Threads allows 500 (emoji count as several). "
            "Shorten it by 12.",
        ),
        (text("😀" * 126), "text", "504 characters"),
        (text("a.com b.com c.com d.com e.com f.com"), "text", "6 different links"),
        (
            text("a.com b.com c.com d.com e.com", link_attachment="https://f.com"),
            "text",
            "Remove 1",
        ),
        (post(text="x", media=[MediaItem(url=IMG)]), "media", "TEXT post carries no media"),
        (post(type=PostType.IMAGE), "media", "exactly 1 image"),
        (media(PostType.IMAGE, MediaItem(url=IMG), MediaItem(url=IMG)), "media", "Use CAROUSEL"),
        (media(PostType.VIDEO, MediaItem(url=IMG)), "media.0.kind", "needs a video"),
        (media(PostType.CAROUSEL, MediaItem(url=IMG)), "media", "2 to 20 items; this one has 1"),
        (media(PostType.CAROUSEL, *[MediaItem(url=IMG)] * 21), "media", "Remove 1"),
        (media(PostType.IMAGE, MediaItem(url="ftp://x/a.jpg")), "media.0.url", "absolute http(s)"),
        (media(PostType.IMAGE, MediaItem(url="/local/a.jpg")), "media.0.url", "absolute http(s)"),
        (
            media(PostType.CAROUSEL, MediaItem(url=IMG), MediaItem(url=IMG, alt_text="a" * 1001)),
            "media.1.alt_text",
            "Shorten it by 1",
        ),
        (text("x", topic_tag="a.b"), "options.topic_tag", "cannot contain '.'"),
        (text("x", topic_tag="a" * 51), "options.topic_tag", "50"),
        (
            media(PostType.IMAGE, MediaItem(url=IMG), link_attachment="https://e.com"),
            "options.link_attachment",
            "only allowed on TEXT",
        ),
        (text("x", link_attachment="e.com"), "options.link_attachment", "absolute http(s)"),
        (text("x", poll=Poll(options=["only"])), "options.poll.options", "2 to 4 options"),
        (
            text("x", poll=Poll(options=["a", "b" * 26])),
            "options.poll.options.1",
            "Shorten it by 1",
        ),
        (text("x", poll=Poll(options=["a", " "])), "options.poll.options.1", "cannot be empty"),
        (
            text("x", poll=Poll(options=["a", "b"]), link_attachment="https://e.com"),
            "options.poll",
            "link attachment",
        ),
        (
            media(PostType.IMAGE, MediaItem(url=IMG), poll=Poll(options=["a", "b"])),
            "options.poll",
            "only allowed on TEXT",
        ),
        (text("x", is_spoiler_media=True), "options.is_spoiler_media", "turn it off"),
        (text("x" * 20, text_spoilers=[SPOILER] * 11), "options.text_spoilers", "Remove 1"),
        (
            text("short", text_spoilers=[{"offset": 3, "length": 5}]),
            "options.text_spoilers.0",
            "within the text",
        ),
        (
            text("short", text_spoilers=[{"offset": -1, "length": 1}]),
            "options.text_spoilers.0",
            "offset of 0",
        ),
        (
            text("x", allowlisted_country_codes=["US", "USA"]),
            "options.allowlisted_country_codes.1",
            "'USA' is not an ISO",
        ),
        (text("x", quote_post_id="abc"), "options.quote_post_id", "numeric"),
    ],
)
def test_each_rule_names_the_field_and_what_to_change(
    content: PostContent, field: str, fragment: str
):
    errors = validate_content(content)

    assert field in errors, errors
    assert any(fragment in message for message in errors[field]), errors[field]


def test_paths_are_prefixed_for_replies():
    replies = [ReplySpec(text="fine"), ReplySpec(text="a" * 501), ReplySpec(text="")]

    errors = validate_chain(post(text="root"), replies)

    assert set(errors) == {"replies.1.text", "replies.2.text"}
    assert errors["replies.1.text"][0].startswith("Reply text is 501 characters")
    assert validate_content(post(text=""), path="x.y") == {
        "x.y.text": [validate_content(post(text=""))["text"][0]]
    }


def test_ensure_valid_raises_validation_failed():
    with pytest.raises(ValidationFailed) as caught:
        ensure_valid(post(text="a" * 501, options={"topic_tag": "a&b"}))

    assert set(caught.value.field_errors) == {"text", "options.topic_tag"}
    ensure_valid(post(text="ok"), [ReplySpec(text="also ok", delay_seconds=60)])
