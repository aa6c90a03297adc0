"""Composer form: the composer's fields, read into the core's `PostInput` and back.

Field names are the core's field paths, so the core's messages land next to their fields:
`account_id`, `type`, `text`, `media.{i}.url|alt_text|kind`, `options.topic_tag`,
`options.reply_control`, `options.link_attachment`, `options.poll.options.{0..3}`,
`replies.{j}.text|delay_seconds`, `schedule.pattern|start_date|times|timezone|days_of_week|
interval|day_of_month|end_date|count|rrule`. Only parsing happens here (a number that is not a
number, an unknown choice); every rule about what a post may be is the core's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from scheduler.platform.documents import Account, Post
from scheduler.platform.errors import ValidationFailed
from scheduler.posts.content import MediaKind, PostContent, PostType, ReplySpec
from scheduler.posts.recurrence import Pattern, Schedule
from scheduler.posts.service import PostInput
from web.errors import model_or_errors
from web.forms import FormValues, form_values, optional, shown_field, strings, text

POLL_SLOTS = 4
MAX_MEDIA_ROWS = 20
MAX_REPLY_ROWS = 10
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
REPEATED = frozenset({"schedule.days_of_week"})
INTENTS = ("draft", "schedule", "publish")


def read_form(form: FormData) -> FormValues:
    """The submitted composer values, with the row counts normalised."""
    values = form_values(form, REPEATED)
    values["media_rows"] = _rows(values.get("media_rows"), MAX_MEDIA_ROWS, minimum=1)
    values["reply_rows"] = _rows(values.get("reply_rows"), MAX_REPLY_ROWS, minimum=0)
    return values


def _rows(raw: Any, maximum: int, *, minimum: int) -> int:
    count = int(raw) if isinstance(raw, int) or str(raw).isdigit() else minimum
    return max(minimum, min(count, maximum))


def new_post_values(accounts: list[Account], now: datetime, day: str | None = None) -> FormValues:
    """A blank composer: the first account, its zone, the next whole hour."""
    zone = accounts[0].timezone if accounts else "UTC"
    local_now = now.astimezone(ZoneInfo(zone))
    start = (local_now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return {
        "account_id": str(accounts[0].id) if accounts else "",
        "type": PostType.TEXT.value,
        "text": "",
        "media_rows": 1,
        "reply_rows": 0,
        "schedule.pattern": Pattern.ONCE.value,
        "schedule.timezone": zone,
        "schedule.start_date": day or start.date().isoformat(),
        "schedule.times": start.strftime("%H:%M"),
        "schedule.interval": "1",
        "schedule.days_of_week": [str(start.weekday())],
    }


def post_values(post: Post) -> FormValues:
    """The composer filled in from a stored post (for editing)."""
    content = post.content
    values: FormValues = {
        "account_id": str(post.account_id),
        "type": content.type.value,
        "text": content.text,
        "version": str(post.version),
        "options.topic_tag": content.options.topic_tag or "",
        "options.reply_control": content.options.reply_control or "",
        "options.link_attachment": content.options.link_attachment or "",
        "media_rows": max(1, len(content.media)),
        "reply_rows": len(post.replies),
    }
    for i, item in enumerate(content.media):
        values[f"media.{i}.url"] = item.url
        values[f"media.{i}.alt_text"] = item.alt_text or ""
        values[f"media.{i}.kind"] = item.kind.value
    if content.options.poll is not None:
        for i, option in enumerate(content.options.poll.options[:POLL_SLOTS]):
            values[f"options.poll.options.{i}"] = option
    for j, reply in enumerate(post.replies):
        values[f"replies.{j}.text"] = reply.text
        values[f"replies.{j}.delay_seconds"] = str(reply.delay_seconds)
    values.update(schedule_values(post.schedule))
    return values


def schedule_values(schedule: Schedule | None) -> FormValues:
    if schedule is None:
        return {"schedule.pattern": Pattern.ONCE.value, "schedule.interval": "1"}
    return {
        "schedule.pattern": schedule.pattern.value,
        "schedule.timezone": schedule.timezone,
        "schedule.start_date": schedule.start_date.isoformat(),
        "schedule.times": ", ".join(_clock_time(t) for t in schedule.times),
        "schedule.days_of_week": [str(d) for d in schedule.days_of_week],
        "schedule.interval": str(schedule.interval),
        "schedule.day_of_month": str(schedule.day_of_month or ""),
        "schedule.end_date": schedule.end_date.isoformat() if schedule.end_date else "",
        "schedule.count": str(schedule.count or ""),
        "schedule.rrule": schedule.rrule or "",
    }


def _clock_time(moment: time) -> str:
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")


def post_input(values: Mapping[str, Any], *, with_schedule: bool) -> PostInput:
    """The core's command for these values.

    Raises:
        ValidationFailed: a value could not even be read (e.g. a delay that is not a number).
    """
    errors: dict[str, list[str]] = {}
    content = _content(values, errors)
    replies = _replies(values, errors)
    if errors:
        raise ValidationFailed(errors)
    return PostInput(
        account_id=text(values, "account_id") or None,
        content=content,
        replies=replies,
        schedule=schedule_input(values) if with_schedule else None,
    )


def _content(values: Mapping[str, Any], errors: dict[str, list[str]]) -> PostContent | None:
    kind = text(values, "type") or PostType.TEXT.value
    raw: dict[str, Any] = {"type": kind, "text": str(values.get("text", ""))}
    if kind in (PostType.IMAGE.value, PostType.VIDEO.value):
        url = text(values, "media.0.url")
        if url:
            item = {"url": url, "kind": kind, "alt_text": optional(values, "media.0.alt_text")}
            raw["media"] = [item]
    elif kind == PostType.CAROUSEL.value:
        rows = int(values.get("media_rows", 1))
        while rows and not text(values, f"media.{rows - 1}.url"):
            rows -= 1  # trailing empty rows are unused; the core's `media.{i}` match the rows
        raw["media"] = [
            {
                "url": text(values, f"media.{i}.url"),
                "kind": text(values, f"media.{i}.kind") or MediaKind.IMAGE.value,
                "alt_text": optional(values, f"media.{i}.alt_text"),
            }
            for i in range(rows)
        ]
    options: dict[str, Any] = {
        "topic_tag": optional(values, "options.topic_tag"),
        "reply_control": optional(values, "options.reply_control"),
        "link_attachment": optional(values, "options.link_attachment"),
    }
    poll = [text(values, f"options.poll.options.{i}") for i in range(POLL_SLOTS)]
    if any(poll):
        options["poll"] = {"options": [option for option in poll if option]}
    raw["options"] = options
    return model_or_errors(PostContent, raw, "", errors)


def _replies(values: Mapping[str, Any], errors: dict[str, list[str]]) -> list[ReplySpec]:
    replies: list[ReplySpec] = []
    rows = int(values.get("reply_rows", 0))
    # Trailing empty rows are unused; an empty row between filled ones is an error to show.
    while rows and not str(values.get(f"replies.{rows - 1}.text", "")).strip():
        rows -= 1
    for j in range(rows):
        body = str(values.get(f"replies.{j}.text", ""))
        path = f"replies.{j}"
        delay = text(values, f"replies.{j}.delay_seconds") or "0"
        if not delay.isdigit():
            errors[f"replies.{j}.delay_seconds"] = [
                "Give the delay as a whole number of seconds, e.g. 60."
            ]
            continue
        reply = model_or_errors(
            ReplySpec, {"text": body, "delay_seconds": int(delay)}, path, errors
        )
        if reply is not None:
            replies.append(reply)
    return replies


def schedule_input(values: Mapping[str, Any]) -> dict[str, Any]:
    """The raw schedule for the core to validate (fields the pattern does not use left out)."""
    pattern = text(values, "schedule.pattern") or Pattern.ONCE.value
    raw: dict[str, Any] = {
        "pattern": pattern,
        "timezone": text(values, "schedule.timezone") or "UTC",
        "times": [t for t in text(values, "schedule.times").replace(",", " ").split() if t],
    }
    optional_fields = {
        Pattern.WEEKLY.value: ("interval", "end_date", "count"),
        Pattern.MONTHLY.value: ("day_of_month", "interval", "end_date", "count"),
        Pattern.DATE_RANGE.value: ("interval", "end_date"),
        Pattern.RRULE.value: ("rrule", "end_date", "count"),
    }.get(pattern, ())
    for name in ("start_date", *optional_fields):
        if value := text(values, f"schedule.{name}"):
            raw[name] = value
    if pattern == Pattern.WEEKLY.value:
        raw["days_of_week"] = strings(values, "schedule.days_of_week")
    return raw


_SHOWN = frozenset(
    {
        "account_id", "type", "text", "media", "options", "options.topic_tag",
        "options.reply_control", "options.link_attachment", "options.poll",
        "options.poll.options", "replies", "schedule",
        *(f"options.poll.options.{i}" for i in range(POLL_SLOTS)),
        *(f"schedule.{name}" for name in Schedule.model_fields),
    }
)  # fmt: skip


def unshown_messages(errors: Mapping[str, list[str]], values: Mapping[str, Any]) -> list[str]:
    """Messages the composer cannot show next to a field, to list at the bottom of the form."""
    media_rows, reply_rows = int(values.get("media_rows", 1)), int(values.get("reply_rows", 0))
    shown = set(_SHOWN)
    for i in range(media_rows):
        shown |= {f"media.{i}.url", f"media.{i}.alt_text", f"media.{i}.kind"}
    messages = []
    for name, found in errors.items():
        in_reply = any(name.startswith(f"replies.{j}.") for j in range(reply_rows))
        if shown_field(name, shown) or in_reply:
            continue
        messages.extend(found)
    return messages
