"""Inputs: GraphQL input objects turned into the core's commands (no rules here: the core
validates; this only reshapes, so field paths in errors match the input's)."""

from __future__ import annotations

import base64
import dataclasses
import re
from typing import Any

import strawberry
from pydantic import TypeAdapter
from typing_extensions import TypedDict

from scheduler.platform.errors import ValidationFailed
from scheduler.posts.content import PostContent, ReplySpec
from scheduler.posts.service import PostInput

# Standard base64 with its padding: text that matches (in a length divisible by 4) always decodes.
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def plain(value: object) -> Any:
    """An input object as plain data for the core's models: snake_case keys, None left out."""
    if isinstance(value, list):
        return [plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # an input object
        return plain(strawberry.asdict(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None}
    return value


class _PostParts(TypedDict, total=False):
    content: PostContent
    replies: list[ReplySpec]


# One adapter for both parts, so a refused reply is reported as `replies.1.delaySeconds`.
_POST_PARTS = TypeAdapter(_PostParts)


def post_input(
    *,
    account_id: object = None,
    content: object = None,
    replies: object = None,
    schedule: object = None,
) -> PostInput:
    """The core's `PostInput` from GraphQL inputs (None: not given, keep what the post has).

    Raises:
        pydantic.ValidationError: a part the core's models refuse (e.g. a negative delay).
    """
    raw = {"content": plain(content), "replies": plain(replies)}
    parts = _POST_PARTS.validate_python({k: v for k, v in raw.items() if v is not None})
    return PostInput(
        account_id=str(account_id) if account_id is not None else None,
        content=parts.get("content"),
        replies=parts.get("replies"),
        schedule=plain(schedule),
    )


def bounded(field: str, value: int, low: int, high: int) -> int:
    """`value` if it lies in [low, high]; else a ValidationFailed naming the argument."""
    if not low <= value <= high:
        raise ValidationFailed.single(field, f"Give a number from {low} to {high}; got {value}.")
    return value


def decode_base64(field: str, value: str) -> bytes:
    """The bytes of standard base64 text (line breaks allowed); else ValidationFailed on `field`."""
    text = "".join(value.split())
    if not _BASE64.fullmatch(text) or len(text) % 4:
        raise ValidationFailed.single(
            field,
            "This is not base64: send the file's bytes base64-encoded (standard alphabet with "
            "= padding), e.g. the output of `base64 posts.csv`.",
        )
    return base64.b64decode(text, validate=True)
