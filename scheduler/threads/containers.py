"""Map a post's content to the Graph API containers that publish it.

TEXT, IMAGE and VIDEO posts need one container. A CAROUSEL needs one item container per media item
(created first, each `is_carousel_item=true`), then the carousel container whose `children` lists
the item ids; the post-level options (reply control, topic tag, spoilers, …) go on the carousel
container.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from scheduler.posts.content import MediaItem, MediaKind, PostContent, PostType
from scheduler.threads.models import ContainerRequest, MediaType


@dataclass(frozen=True)
class ContainerPlan:
    """The containers of one post: carousel `items` first (if any), then `main`."""

    items: tuple[ContainerRequest, ...]
    main: ContainerRequest

    def main_with_children(self, child_ids: Sequence[str]) -> ContainerRequest:
        """The carousel container, once its item containers exist."""
        if len(child_ids) != len(self.items):
            raise ValueError(
                f"The carousel has {len(self.items)} items but {len(child_ids)} child ids were "
                "given; create every item container first."
            )
        return replace(self.main, children=tuple(child_ids))


def plan_containers(
    content: PostContent, *, reply_to_id: str | None = None, auto_publish_text: bool = False
) -> ContainerPlan:
    """Build the container requests for `content` (validate it with `preflight` first).

    Args:
        content: the post or reply.
        reply_to_id: the media id this is a reply to, if it is a reply.
        auto_publish_text: publish a TEXT post in the creation call itself (its id is then the
            published media id). Ignored for other types.
    """
    options = content.options
    common = ContainerRequest(
        media_type=MediaType(content.type.value),
        text=content.text or None,
        reply_to_id=reply_to_id,
        quote_post_id=options.quote_post_id,
        topic_tag=options.topic_tag,
        reply_control=options.reply_control.value if options.reply_control else None,
        allowlisted_country_codes=tuple(c.upper() for c in options.allowlisted_country_codes),
        text_spoilers=tuple((s.offset, s.length) for s in options.text_spoilers),
        location_id=options.location_id,
    )
    if content.type is PostType.TEXT:
        main = replace(
            common,
            link_attachment=options.link_attachment,
            poll_options=tuple(options.poll.options) if options.poll else (),
            auto_publish_text=auto_publish_text,
        )
        return ContainerPlan(items=(), main=main)
    if content.type is PostType.CAROUSEL:
        items = tuple(_media_request(item, carousel_item=True) for item in content.media)
        return ContainerPlan(
            items=items, main=replace(common, is_spoiler_media=options.is_spoiler_media)
        )
    single = _media_request(content.media[0], carousel_item=False)
    main = replace(
        common,
        image_url=single.image_url,
        video_url=single.video_url,
        alt_text=single.alt_text,
        is_spoiler_media=options.is_spoiler_media,
    )
    return ContainerPlan(items=(), main=main)


def _media_request(item: MediaItem, *, carousel_item: bool) -> ContainerRequest:
    is_video = item.kind is MediaKind.VIDEO
    return ContainerRequest(
        media_type=MediaType.VIDEO if is_video else MediaType.IMAGE,
        image_url=None if is_video else item.url,
        video_url=item.url if is_video else None,
        alt_text=item.alt_text,
        is_carousel_item=carousel_item,
    )
