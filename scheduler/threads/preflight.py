"""Pre-flight validation: check a post against Threads' documented limits before it is scheduled.

Every rule here comes from `docs/threads-api.md` (§2 limits, §3 content rules), so a post that
passes is not rejected by Threads for its shape. Errors are keyed by field path (`text`,
`media.2.alt_text`, `options.topic_tag`, `replies.0.text` …) and say what to change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from scheduler.platform.errors import ValidationFailed
from scheduler.posts.content import MediaKind, PostContent, PostType, ReplySpec
from scheduler.threads.countries import is_country_code
from scheduler.threads.text import (
    LINK_LIMIT,
    TEXT_LIMIT,
    count_characters,
    count_links,
    topic_tag_problem,
)

CAROUSEL_MIN, CAROUSEL_MAX = 2, 20
ALT_TEXT_MAX = 1000
POLL_MIN_OPTIONS, POLL_MAX_OPTIONS, POLL_OPTION_MAX = 2, 4, 25
TEXT_SPOILER_MAX = 10

Errors = dict[str, list[str]]
_Add = Callable[[str, str], None]


def is_public_url(url: str) -> bool:
    """Whether `url` is an absolute http(s) URL with a host (what Threads can download)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url.strip()


def validate_content(content: PostContent, *, is_reply: bool = False, path: str = "") -> Errors:
    """Check one post or reply against Threads' limits.

    Args:
        content: the post (or `ReplySpec`) to check.
        is_reply: whether it is published as a reply (changes only the wording).
        path: prefix for the field paths, e.g. "replies.0".

    Returns:
        Field path → messages; empty when the content is valid.
    """
    errors: Errors = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(f"{path}.{field}" if path else field, []).append(message)

    _check_media(content, add)
    _check_text(content, is_reply, add)
    _check_options(content, add)
    return errors


def validate_chain(content: PostContent, replies: Sequence[ReplySpec] = ()) -> Errors:
    """Check a post and its reply chain; reply errors are keyed `replies.{i}.…`."""
    errors = validate_content(content)
    for i, reply in enumerate(replies):
        errors.update(validate_content(reply, is_reply=True, path=f"replies.{i}"))
    return errors


def ensure_valid(content: PostContent, replies: Sequence[ReplySpec] = ()) -> None:
    """Raise `ValidationFailed` when the post or one of its replies breaks a Threads limit."""
    errors = validate_chain(content, replies)
    if errors:
        raise ValidationFailed(errors)


def _check_text(content: PostContent, is_reply: bool, add: _Add) -> None:
    what = "Reply text" if is_reply else "Text"
    text = content.text
    if content.type is PostType.TEXT and not text.strip():
        add(
            "text",
            f"{what} is empty; a TEXT post needs text. Write something, or choose IMAGE, VIDEO or "
            "CAROUSEL to post media.",
        )
    length = count_characters(text)
    if length > TEXT_LIMIT:
        add(
            "text",
            f"{what} is {length} characters; Threads allows {TEXT_LIMIT} (emoji count as "
            f"several). Shorten it by {length - TEXT_LIMIT}.",
        )
    links = count_links(text, content.options.link_attachment)
    if links > LINK_LIMIT:
        add(
            "text",
            f"The post has {links} different links; Threads allows {LINK_LIMIT} (a link "
            f"attachment counts unless the same URL is in the text). Remove {links - LINK_LIMIT}.",
        )


def _check_media(content: PostContent, add: _Add) -> None:
    media, kind = content.media, content.type
    count = len(media)
    if kind is PostType.TEXT and count:
        add(
            "media",
            f"A TEXT post carries no media; remove the {count} media item(s) or change the type "
            "to IMAGE, VIDEO or CAROUSEL.",
        )
    elif kind in (PostType.IMAGE, PostType.VIDEO):
        wanted = MediaKind.IMAGE if kind is PostType.IMAGE else MediaKind.VIDEO
        noun = wanted.value.lower()
        if count != 1:
            add(
                "media",
                f"An {kind.value} post needs exactly 1 {noun}; it has {count}. "
                + ("Add one." if count == 0 else "Use CAROUSEL for several items."),
            )
        elif media[0].kind is not wanted:
            add(
                "media.0.kind",
                f"An {kind.value} post needs a {noun}, not a {media[0].kind.value.lower()}.",
            )
    elif kind is PostType.CAROUSEL and not CAROUSEL_MIN <= count <= CAROUSEL_MAX:
        add(
            "media",
            f"A carousel has {CAROUSEL_MIN} to {CAROUSEL_MAX} items; this one has {count}. "
            + ("Add more items." if count < CAROUSEL_MIN else f"Remove {count - CAROUSEL_MAX}."),
        )
    for i, item in enumerate(media):
        if not is_public_url(item.url):
            add(
                f"media.{i}.url",
                "Media URL must be an absolute http(s) address Threads can download, e.g. "
                "https://example.com/photo.jpg.",
            )
        if item.alt_text is not None and len(item.alt_text) > ALT_TEXT_MAX:
            over = len(item.alt_text) - ALT_TEXT_MAX
            add(
                f"media.{i}.alt_text",
                f"Alt text is {len(item.alt_text)} characters; Threads allows {ALT_TEXT_MAX}. "
                f"Shorten it by {over}.",
            )


def _check_options(content: PostContent, add: _Add) -> None:
    options, is_text = content.options, content.type is PostType.TEXT
    if options.topic_tag is not None and (problem := topic_tag_problem(options.topic_tag)):
        add("options.topic_tag", problem)
    if options.link_attachment is not None:
        if not is_text:
            add(
                "options.link_attachment",
                "A link attachment is only allowed on TEXT posts; remove it.",
            )
        elif not is_public_url(options.link_attachment):
            add("options.link_attachment", "The link attachment must be an absolute http(s) URL.")
    if options.poll is not None:
        _check_poll(content, add)
    if options.is_spoiler_media and is_text:
        add(
            "options.is_spoiler_media",
            "Only IMAGE, VIDEO and CAROUSEL posts can hide media as a spoiler; turn it off.",
        )
    _check_spoilers(content, add)
    for i, code in enumerate(options.allowlisted_country_codes):
        if not is_country_code(code):
            add(
                f"options.allowlisted_country_codes.{i}",
                f"{code!r} is not an ISO 3166-1 alpha-2 country code; use two letters such as US "
                "or CA.",
            )
    if options.quote_post_id is not None and not options.quote_post_id.strip().isdigit():
        add("options.quote_post_id", "The quoted post id must be a numeric Threads media id.")
    if options.location_id is not None and not options.location_id.strip():
        add("options.location_id", "The location id is empty; remove it or pick a location.")


def _check_spoilers(content: PostContent, add: _Add) -> None:
    spoilers = content.options.text_spoilers
    if len(spoilers) > TEXT_SPOILER_MAX:
        add(
            "options.text_spoilers",
            f"The post has {len(spoilers)} text spoilers; Threads allows {TEXT_SPOILER_MAX}. "
            f"Remove {len(spoilers) - TEXT_SPOILER_MAX}.",
        )
    text_length = len(content.text)
    for i, spoiler in enumerate(spoilers):
        if spoiler.offset < 0 or spoiler.length < 1:
            add(
                f"options.text_spoilers.{i}",
                "A spoiler needs an offset of 0 or more and a length of 1 or more.",
            )
        elif spoiler.offset + spoiler.length > text_length:
            add(
                f"options.text_spoilers.{i}",
                f"The spoiler ends at character {spoiler.offset + spoiler.length} but the text "
                f"has {text_length}; keep spoilers within the text.",
            )


def _check_poll(content: PostContent, add: _Add) -> None:
    poll, options = content.options.poll, content.options
    assert poll is not None  # checked by the caller; narrows the type
    if content.type is not PostType.TEXT:
        add(
            "options.poll",
            "Polls are only allowed on TEXT posts; remove the poll or change the type.",
        )
    if options.link_attachment is not None:
        add("options.poll", "A poll cannot be combined with a link attachment; remove one of them.")
    count = len(poll.options)
    if not POLL_MIN_OPTIONS <= count <= POLL_MAX_OPTIONS:
        add(
            "options.poll.options",
            f"A poll has {POLL_MIN_OPTIONS} to {POLL_MAX_OPTIONS} options; this one has {count}.",
        )
    for i, option in enumerate(poll.options):
        length = count_characters(option)
        if not option.strip():
            add(
                f"options.poll.options.{i}",
                "Poll options cannot be empty; write 1 to 25 characters.",
            )
        elif length > POLL_OPTION_MAX:
            add(
                f"options.poll.options.{i}",
                f"Poll option is {length} characters; Threads allows {POLL_OPTION_MAX}. Shorten "
                f"it by {length - POLL_OPTION_MAX}.",
            )
