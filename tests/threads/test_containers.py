"""Mapping post content to container parameters."""

from __future__ import annotations

import json

import pytest

from scheduler.posts.content import (
    MediaItem,
    MediaKind,
    Poll,
    PostContent,
    PostType,
    ReplyControl,
    ThreadsOptions,
)
from scheduler.threads import ContainerRequest, MediaType, plan_containers


def test_text_post_with_every_text_option():
    content = PostContent(
        text="Vote",
        options=ThreadsOptions(
            topic_tag="Polls",
            reply_control=ReplyControl.MENTIONED_ONLY,
            quote_post_id="123",
            poll=Poll(options=["A", "B", "C"]),
            allowlisted_country_codes=["us", "ca"],
            text_spoilers=[{"offset": 0, "length": 2}],
            location_id="777",
        ),
    )

    plan = plan_containers(content, reply_to_id="999", auto_publish_text=True)

    assert plan.items == ()
    params = plan.main.to_params()
    assert json.loads(params.pop("poll_attachment")) == {
        "option_a": "A",
        "option_b": "B",
        "option_c": "C",
    }
    assert json.loads(params.pop("text_entities")) == [
        {"entity_type": "SPOILER", "offset": 0, "length": 2}
    ]
    assert params == {
        "media_type": "TEXT",
        "text": "Vote",
        "reply_to_id": "999",
        "quote_post_id": "123",
        "topic_tag": "Polls",
        "reply_control": "mentioned_only",
        "location_id": "777",
        "auto_publish_text": "true",
        "allowlisted_country_codes": "US,CA",
    }


def test_link_attachment_goes_on_text_posts():
    plan = plan_containers(
        PostContent(text="x", options=ThreadsOptions(link_attachment="https://e.com"))
    )
    assert plan.main.to_params()["link_attachment"] == "https://e.com"


def test_image_and_video_posts():
    image = plan_containers(
        PostContent(
            type=PostType.IMAGE,
            text="pic",
            media=[MediaItem(url="https://e.com/a.jpg", alt_text="alt")],
            options=ThreadsOptions(is_spoiler_media=True),
        ),
        auto_publish_text=True,  # ignored for media posts
    )
    video = plan_containers(
        PostContent(
            type=PostType.VIDEO, media=[MediaItem(url="https://e.com/a.mp4", kind=MediaKind.VIDEO)]
        )
    )

    assert image.main.to_params() == {
        "media_type": "IMAGE",
        "text": "pic",
        "image_url": "https://e.com/a.jpg",
        "alt_text": "alt",
        "is_spoiler_media": "true",
    }
    assert video.main.to_params() == {"media_type": "VIDEO", "video_url": "https://e.com/a.mp4"}


def test_carousel_items_then_the_carousel_container():
    content = PostContent(
        type=PostType.CAROUSEL,
        text="album",
        media=[
            MediaItem(url="https://e.com/1.jpg", alt_text="one"),
            MediaItem(url="https://e.com/2.mp4", kind=MediaKind.VIDEO),
        ],
        options=ThreadsOptions(topic_tag="Trips", is_spoiler_media=True),
    )

    plan = plan_containers(content)

    assert [i.to_params() for i in plan.items] == [
        {
            "media_type": "IMAGE",
            "image_url": "https://e.com/1.jpg",
            "alt_text": "one",
            "is_carousel_item": "true",
        },
        {"media_type": "VIDEO", "video_url": "https://e.com/2.mp4", "is_carousel_item": "true"},
    ]
    main = plan.main_with_children(["11", "22"]).to_params()
    assert main == {
        "media_type": "CAROUSEL",
        "text": "album",
        "topic_tag": "Trips",
        "is_spoiler_media": "true",
        "children": "11,22",
    }
    with pytest.raises(ValueError, match="2 items but 1 child ids"):
        plan.main_with_children(["11"])


def test_extra_and_json_attachments_are_encoded():
    request = ContainerRequest(
        MediaType.TEXT,
        text="long read",
        text_attachment={"plaintext": "body", "link_attachment_url": "https://e.com"},
        gif_attachment={"gif_id": "abc", "provider": "GIPHY"},
        is_ghost_post=True,
        enable_reply_approvals=False,
        extra={"custom": "1"},
    )

    params = request.to_params()

    assert json.loads(params["text_attachment"])["plaintext"] == "body"
    assert json.loads(params["gif_attachment"]) == {"gif_id": "abc", "provider": "GIPHY"}
    assert (params["is_ghost_post"], params["custom"]) == ("true", "1")
    assert "enable_reply_approvals" not in params
