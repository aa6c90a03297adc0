"""The reading endpoints: objects (profile, container status, post), post lists, quotas, delete.

Lists are newest first with Graph paging: `data` plus `paging.cursors.before/after`, and
`paging.next`/`paging.previous` URLs when there is more. `limit` defaults to 25 and is capped at
100; a negative limit, a malformed cursor, or `before` and `after` together are code-100 errors.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sandbox.simulator.objects import Account, Media
from sandbox.simulator.params import GraphRequest, graph_error_for_bad_since
from sandbox.simulator.publishing import acting_account, quota_error, require_scope
from sandbox.simulator.responses import Reply, invalid_param, json_reply, no_such_object
from sandbox.simulator.state import SimulatorState
from scheduler.threads.models import format_graph_time

PROFILE_FIELDS = frozenset(
    {
        "id",
        "username",
        "name",
        "threads_profile_picture_url",
        "threads_biography",
        "is_verified",
        "is_eligible_for_geo_gating",
        "recently_searched_keywords",
    }
)
CONTAINER_FIELDS = frozenset({"id", "status", "error_message"})
LIMIT_FIELDS = {
    "quota_usage": ("posts", None),
    "config": ("posts", "post_quota"),
    "reply_quota_usage": ("replies", None),
    "reply_config": ("replies", "reply_quota"),
    "delete_quota_usage": ("deletes", None),
    "delete_config": ("deletes", "delete_quota"),
    "location_search_quota_usage": ("location_searches", None),
    "location_search_config": ("location_searches", None),
}
DEFAULT_LIMIT, MAX_LIMIT = 25, 100


def object_kind(state: SimulatorState, object_id: str) -> str:
    """The endpoint name of `GET /{id}` (for the journal and endpoint-scoped faults)."""
    if object_id == "me" or object_id in state.accounts:
        return "profile"
    if object_id in state.containers:
        return "container_status"
    if object_id in state.media:
        return "get_post"
    return "get_object"


def get_object(state: SimulatorState, req: GraphRequest) -> Reply:
    account, _ = state.authenticate(req.token, req.now)
    object_id = req.segments[0]
    if object_id in ("me", account.user_id):
        return json_reply(_profile(account, req.fields(PROFILE_FIELDS, "id")))
    container = state.containers.get(object_id)
    if container is not None and container.user_id == account.user_id:
        names = req.fields(CONTAINER_FIELDS, "id,status")
        status, error_message = state.container_status(container, req.now)
        values = {"id": container.id, "status": status, "error_message": error_message}
        req.record.container_id = container.id
        return json_reply({k: values[k] for k in ["id", *names] if values[k] is not None})
    media = state.live_media(object_id)
    if media is not None:
        req.record.media_id = media.id
        return json_reply(render_media(state, media, req.fields(MEDIA_FIELDS, "id"), account))
    raise no_such_object(object_id)


def _profile(account: Account, names: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": account.user_id,
        "username": account.username,
        "name": account.name,
        "threads_profile_picture_url": f"https://sim.threads.invalid/{account.username}.jpg",
        "threads_biography": account.biography,
        "is_verified": account.is_verified,
        "is_eligible_for_geo_gating": account.geo_gating_eligible,
        "recently_searched_keywords": [],
    }
    return {k: values[k] for k in ["id", *names]}


def list_own(state: SimulatorState, req: GraphRequest) -> Reply:
    """`GET /{user}/threads` (top-level posts) and `GET /{user}/replies` (own replies)."""
    account, _ = acting_account(state, req)
    names = req.fields(MEDIA_FIELDS, "id")
    since, until = req.timestamp("since"), req.timestamp("until")
    if (error := graph_error_for_bad_since(since, until, req.now)) is not None:
        raise error
    ids = account.replies if req.segments[1] == "replies" else account.posts
    items = [
        media
        for media in (state.media[i] for i in reversed(ids))
        if not media.deleted
        and (since is None or media.timestamp.timestamp() >= since)
        and (until is None or media.timestamp.timestamp() <= until)
    ]
    return paginate(req, items, lambda m: render_media(state, m, names, account))


def list_media_replies(state: SimulatorState, req: GraphRequest) -> Reply:
    """`GET /{media}/replies`: the top-level replies to a post."""
    account, token = state.authenticate(req.token, req.now)
    require_scope(token, "threads_read_replies")
    media = state.live_media(req.segments[0])
    if media is None:
        raise no_such_object(req.segments[0])
    names = req.fields(MEDIA_FIELDS, "id")
    replies = [r for r in (state.media[i] for i in media.replies) if not r.deleted]
    newest_first = req.get("reverse") is None or req.flag("reverse")
    if newest_first:
        replies.reverse()
    return paginate(
        req, replies, lambda m: render_media(state, m, names, account), newest_first=newest_first
    )


def paginate(
    req: GraphRequest,
    items: list[Media],
    render: Callable[[Media], dict[str, Any]],
    *,
    newest_first: bool = True,
) -> Reply:
    """One Graph page of `items`, which are in list order (media ids decreasing if newest first).

    A cursor is the id of a page's first or last item, so pages stay stable when posts are added.
    """
    limit = req.integer("limit", DEFAULT_LIMIT)
    if limit < 0:
        raise invalid_param("Param limit must be a non-negative integer")
    limit = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    after, before = req.get("after"), req.get("before")
    if after and before:
        raise invalid_param("Only one of the before and after cursors can be given")
    sign = -1 if newest_first else 1  # position in list order grows with sign * id

    def position(media: Media) -> int:
        return sign * int(media.id)

    if after:
        edge = sign * _decode_cursor(after)
        rest = [m for m in items if position(m) > edge]
        page, has_next, has_prev = rest[:limit], len(rest) > limit, len(rest) < len(items)
    elif before:
        edge = sign * _decode_cursor(before)
        rest = [m for m in items if position(m) < edge]
        page, has_next, has_prev = rest[-limit:], len(rest) < len(items), len(rest) > limit
    else:
        page, has_next, has_prev = items[:limit], len(items) > limit, False
    payload: dict[str, Any] = {"data": [render(m) for m in page]}
    if page:
        first, last = _encode_cursor(page[0].id), _encode_cursor(page[-1].id)
        paging: dict[str, Any] = {"cursors": {"before": first, "after": last}}
        kept = {k: v for k, v in req.params.items() if k not in ("after", "before")}
        if has_next:
            paging["next"] = f"{req.base_url()}?{urlencode({**kept, 'after': last})}"
        if has_prev:
            paging["previous"] = f"{req.base_url()}?{urlencode({**kept, 'before': first})}"
        payload["paging"] = paging
    return json_reply(payload)


def _encode_cursor(media_id: str) -> str:
    return base64.urlsafe_b64encode(f"c:{media_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw.startswith("c:"):
            return int(raw[2:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise invalid_param("The cursor is invalid; use a cursor from a previous response's paging")


def publishing_limit(state: SimulatorState, req: GraphRequest) -> Reply:
    account, _ = acting_account(state, req)
    names = req.fields(frozenset(LIMIT_FIELDS), "quota_usage")
    config = state.config
    row: dict[str, Any] = {}
    for name in names:
        kind, total_attr = LIMIT_FIELDS[name]
        if name.endswith("_usage"):
            row[name] = (
                state.quota_usage(account, kind, req.now) if kind in account.quota_log else 0
            )
        else:
            total = getattr(config, total_attr) if total_attr else 500
            row[name] = {"quota_total": total, "quota_duration": int(config.quota_window_seconds)}
    return json_reply({"data": [row]})


def delete_post(state: SimulatorState, req: GraphRequest) -> Reply:
    account, token = state.authenticate(req.token, req.now)
    require_scope(token, "threads_delete")
    media_id = req.segments[0]
    media = state.live_media(media_id)
    if media is None or media.user_id != account.user_id:
        raise no_such_object(media_id, "delete")
    if state.quota_usage(account, "deletes", req.now) >= state.config.delete_quota:
        raise quota_error(state, account, "deletes", state.config.delete_quota, req)
    media.deleted = True
    account.quota_log["deletes"].append(req.now)
    req.record.media_id = media_id
    return json_reply({"success": True, "deleted_id": media_id})


def render_media(
    state: SimulatorState, media: Media, names: list[str], viewer: Account
) -> dict[str, Any]:
    """The requested fields of a post, omitting those without a value (as Graph does)."""
    parent = state.media.get(media.spec.reply_to_id or "")
    out: dict[str, Any] = {"id": media.id}
    for name in names:
        getter = _MEDIA_GETTERS.get(name)
        value = getter(state, media, parent, viewer) if getter else None
        if value is not None:
            out[name] = value
    return out


_Getter = Callable[[SimulatorState, Media, Media | None, Account], Any]

# One reader per field; fields without one (reposted_post, location, profile_picture_url) are not
# simulated and are omitted, as Graph omits empty fields.
_MEDIA_GETTERS: dict[str, _Getter] = {
    "id": lambda s, m, p, v: m.id,
    "media_product_type": lambda s, m, p, v: "THREADS",
    "media_type": lambda s, m, p, v: m.media_type,
    "media_url": lambda s, m, p, v: m.spec.image_url or m.spec.video_url,
    "thumbnail_url": lambda s, m, p, v: (
        f"{m.spec.video_url}#thumbnail" if m.spec.video_url else None
    ),
    "permalink": lambda s, m, p, v: m.permalink,
    "shortcode": lambda s, m, p, v: m.shortcode,
    "username": lambda s, m, p, v: m.username,
    "text": lambda s, m, p, v: m.spec.text,
    "timestamp": lambda s, m, p, v: format_graph_time(m.timestamp),
    "owner": lambda s, m, p, v: {"id": m.user_id} if p is None and m.user_id == v.user_id else None,
    "children": lambda s, m, p, v: (
        {"data": [{"id": c} for c in m.children]} if m.children else None
    ),
    "is_quote_post": lambda s, m, p, v: m.spec.quote_post_id is not None,
    "quoted_post": lambda s, m, p, v: (
        {"id": m.spec.quote_post_id} if m.spec.quote_post_id else None
    ),
    "alt_text": lambda s, m, p, v: m.spec.alt_text,
    "link_attachment_url": lambda s, m, p, v: m.spec.link_attachment,
    "gif_url": lambda s, m, p, v: (
        f"https://media.giphy.com/media/{m.spec.gif_attachment['gif_id']}/giphy.gif"
        if m.spec.gif_attachment
        else None
    ),
    "poll_attachment": lambda s, m, p, v: _poll(m) if m.spec.poll else None,
    "topic_tag": lambda s, m, p, v: m.spec.topic_tag,
    "is_spoiler_media": lambda s, m, p, v: m.spec.is_spoiler_media,
    "text_entities": lambda s, m, p, v: (
        {"data": m.spec.text_entities} if m.spec.text_entities else None
    ),
    "text_attachment": lambda s, m, p, v: m.spec.text_attachment,
    "allowlisted_country_codes": lambda s, m, p, v: list(m.spec.countries) or None,
    "location_id": lambda s, m, p, v: m.spec.location_id,
    "has_replies": lambda s, m, p, v: any(not s.media[r].deleted for r in m.replies),
    "reply_audience": lambda s, m, p, v: (m.spec.reply_control or "everyone").upper(),
    "is_reply": lambda s, m, p, v: p is not None,
    "is_reply_owned_by_me": lambda s, m, p, v: p is not None and m.user_id == v.user_id,
    "root_post": lambda s, m, p, v: {"id": m.root_id} if m.root_id else None,
    "replied_to": lambda s, m, p, v: {"id": p.id} if p else None,
    "hide_status": lambda s, m, p, v: "NOT_HUSHED" if p else None,
    "ghost_post_status": lambda s, m, p, v: _ghost(s, m, "status"),
    "ghost_post_expiration_timestamp": lambda s, m, p, v: _ghost(s, m, "expires"),
    "is_verified": lambda s, m, p, v: s.accounts[m.user_id].is_verified,
}
MEDIA_FIELDS = frozenset(_MEDIA_GETTERS) | {"reposted_post", "location", "profile_picture_url"}


def _poll(media: Media) -> dict[str, Any]:
    poll: dict[str, Any] = dict(media.spec.poll or {})
    for key in list(poll):
        poll[f"{key}_votes_percentage"] = 0.0
    poll["total_votes"] = 0
    poll["expiration_timestamp"] = format_graph_time(media.timestamp + timedelta(hours=24))
    return poll


def _ghost(state: SimulatorState, media: Media, name: str) -> str | None:
    if not media.spec.is_ghost_post:
        return None
    expires = media.timestamp + timedelta(hours=24)
    if name == "expires":
        return format_graph_time(expires)
    return "ACTIVE" if state.clock.now() < expires else "ARCHIVED"
