"""Publishing endpoints: `POST /{user}/threads` (create a container), `/{user}/threads_publish`.

Container creation validates every documented rule (`docs/threads-api.md` §2, §3) and answers
with code 100 (`THApiException`) and a message naming the parameter. Choices where Meta is silent:

* too many links → code 100, message `THREADS_API__LINK_LIMIT_EXCEEDED`; bad country codes → code
  100, `THREADS_API__GEO_GATING_INVALID_COUNTRY_CODES`; geo-gating on an ineligible account →
  `THREADS_API__FEATURE_NOT_AVAILABLE`;
* `reply_to_id`/`quote_post_id`/`children` that do not exist → the observed 100/33 error;
* any simulated account may reply to any post (all simulated accounts are app testers).

Publishing a container that is IN_PROGRESS, or an unknown container id, gets the observed 400
24/4279009 "Media Not Found" payload. Publishing an ERROR, EXPIRED, already-PUBLISHED or
carousel-item container is a permanent code-100 error (Meta does not document these; a second
publish of the same container is refused, so nothing is ever published twice). Quotas are checked
at publish time.
"""

from __future__ import annotations

import math

from sandbox.simulator.objects import Account, ContainerSpec, Token
from sandbox.simulator.params import GraphRequest
from sandbox.simulator.responses import (
    GraphError,
    Reply,
    container_not_ready,
    invalid_param,
    json_reply,
    no_such_object,
)
from sandbox.simulator.state import SimulatorState
from scheduler.threads.countries import is_country_code
from scheduler.threads.preflight import is_public_url
from scheduler.threads.text import count_characters, count_links, topic_tag_problem

MEDIA_TYPES = ("TEXT", "IMAGE", "VIDEO", "CAROUSEL")
REPLY_CONTROLS = frozenset(
    {
        "everyone",
        "accounts_you_follow",
        "mentioned_only",
        "parent_post_author_only",
        "followers_only",
    }
)
TEXT_LIMIT, LINK_LIMIT, ALT_TEXT_LIMIT, ATTACHMENT_TEXT_LIMIT = 500, 5, 1000, 10_000
CAROUSEL_MIN, CAROUSEL_MAX, SPOILER_MAX, POLL_OPTION_MAX = 2, 20, 10, 25
POLL_KEYS = ("option_a", "option_b", "option_c", "option_d")


def acting_account(state: SimulatorState, req: GraphRequest) -> tuple[Account, Token]:
    """Authenticate and check that the path's user (`me` or an id) is the token's owner."""
    account, token = state.authenticate(req.token, req.now)
    target = req.segments[0]
    if target != "me" and target != account.user_id:
        raise no_such_object(target, req.method.lower())
    return account, token


def require_scope(token: Token, scope: str) -> None:
    if scope not in token.scopes:
        raise GraphError(
            f"Application does not have permission for this action: it needs {scope}.",
            code=10,
            type="OAuthException",
        )


def create_container(state: SimulatorState, req: GraphRequest) -> Reply:
    account, token = acting_account(state, req)
    require_scope(token, "threads_basic")
    require_scope(token, "threads_content_publish")
    spec = parse_spec(state, req, account, token)
    if spec.auto_publish_text:
        check_quota(state, account, spec, req)
    container = state.add_container(account, spec, req.now)
    req.record.container_id = container.id
    if spec.auto_publish_text:
        media = state.publish(container, account, req.now, auto=True)
        req.record.media_id = media.id
        return json_reply({"id": media.id})
    return json_reply({"id": container.id})


def publish(state: SimulatorState, req: GraphRequest) -> Reply:
    account, token = acting_account(state, req)
    require_scope(token, "threads_content_publish")
    creation_id = req.require("creation_id")
    req.record.container_id = creation_id
    container = state.containers.get(creation_id)
    if container is None or container.user_id != account.user_id:
        raise container_not_ready(creation_id)
    status, error_message = state.container_status(container, req.now)
    if status == "IN_PROGRESS":
        raise container_not_ready(creation_id)
    if status == "PUBLISHED":
        raise invalid_param(
            f"The media container {creation_id} has already been published (media id "
            f"{container.published_media_id}); create a new container to post again."
        )
    if status == "ERROR":
        raise invalid_param(
            f"The media container {creation_id} failed processing ({error_message}) and cannot be "
            "published."
        )
    if status == "EXPIRED":
        raise invalid_param(
            f"The media container {creation_id} expired (containers must be published within 24 "
            "hours)."
        )
    if container.spec.is_carousel_item:
        raise invalid_param(
            f"The media container {creation_id} is a carousel item; publish the CAROUSEL container."
        )
    check_quota(state, account, container.spec, req)
    media = state.publish(container, account, req.now, auto=False)
    req.record.media_id = media.id
    if container.spec.crossreshare_to_ig:
        return json_reply(
            {
                "id": media.id,
                "crossreshare_to_ig_status": "SUCCESS" if account.ig_linked else "FAILED",
            }
        )
    return json_reply({"id": media.id})


def check_quota(
    state: SimulatorState, account: Account, spec: ContainerSpec, req: GraphRequest
) -> None:
    """Raise the configured quota error when this publish would exceed a rolling quota."""
    config = state.config
    kinds = [("replies", config.reply_quota)] if spec.reply_to_id else []
    if not spec.reply_to_id or config.replies_count_toward_posts:
        kinds.append(("posts", config.post_quota))
    for kind, limit in kinds:
        if state.quota_usage(account, kind, req.now) >= limit:
            raise quota_error(state, account, kind, limit, req)


def quota_error(
    state: SimulatorState, account: Account, kind: str, limit: int, req: GraphRequest
) -> GraphError:
    spec = state.config.quota_error
    frees_in = max(1, math.ceil(state.quota_frees_in(account, kind, req.now)))
    return GraphError(
        f"{spec.message} ({limit} {kind} per 24 hours)",
        code=spec.code,
        subcode=spec.subcode,
        type=spec.type,
        status=spec.status,
        user_title="Publishing limit reached",
        user_msg=f"You can publish again in {frees_in} seconds.",
        headers=((b"retry-after", str(frees_in).encode()),),
    )


def parse_spec(
    state: SimulatorState, req: GraphRequest, account: Account, token: Token
) -> ContainerSpec:
    """Validate the parameters of a container creation."""
    raw_type = req.require("media_type")
    media_type = raw_type.upper() if state.config.media_type_case_insensitive else raw_type
    if media_type not in MEDIA_TYPES:
        raise invalid_param(f"Param media_type must be one of {{{', '.join(MEDIA_TYPES)}}}")
    spec = ContainerSpec(media_type=media_type, is_carousel_item=req.flag("is_carousel_item"))
    _media_part(state, req, account, spec)
    _text_part(req, spec)
    _attachments_part(req, spec)
    _relations_part(state, req, token, spec)
    _options_part(req, account, token, spec)
    return spec


def _media_part(
    state: SimulatorState, req: GraphRequest, account: Account, spec: ContainerSpec
) -> None:
    kind = spec.media_type
    if spec.is_carousel_item and kind not in ("IMAGE", "VIDEO"):
        raise invalid_param("Carousel items must have media_type IMAGE or VIDEO")
    if kind in ("IMAGE", "VIDEO"):
        name = "image_url" if kind == "IMAGE" else "video_url"
        url = req.require(name)
        if not is_public_url(url):
            raise invalid_param(f"Param {name} must be a valid http or https URL")
        setattr(spec, name, url)
    if kind == "CAROUSEL":
        children = [c.strip() for c in req.require("children").split(",") if c.strip()]
        if not CAROUSEL_MIN <= len(children) <= CAROUSEL_MAX:
            raise invalid_param(
                f"Param children must list {CAROUSEL_MIN} to {CAROUSEL_MAX} carousel item "
                f"containers; got {len(children)}"
            )
        for child_id in children:
            child = state.containers.get(child_id)
            if child is None or child.user_id != account.user_id:
                raise no_such_object(child_id)
            if not child.spec.is_carousel_item:
                raise invalid_param(
                    f"Container {child_id} is not a carousel item (is_carousel_item=true)"
                )
        spec.children = tuple(children)
    alt_text = req.get("alt_text")
    if alt_text is not None:
        if kind == "TEXT":
            raise invalid_param("Param alt_text is only supported for IMAGE and VIDEO media")
        if len(alt_text) > ALT_TEXT_LIMIT:
            raise invalid_param(f"Param alt_text must be at most {ALT_TEXT_LIMIT} characters long")
        spec.alt_text = alt_text


def _text_part(req: GraphRequest, spec: ContainerSpec) -> None:
    text = req.get("text")
    if spec.media_type == "TEXT" and not (text or "").strip():
        raise invalid_param("The parameter text is required for TEXT posts")
    if text is not None and count_characters(text) > TEXT_LIMIT:
        raise invalid_param(f"Param text must be at most {TEXT_LIMIT} characters long")
    spec.text = text or None
    link = req.get("link_attachment")
    if link is not None:
        if spec.media_type != "TEXT":
            raise invalid_param("Param link_attachment is only supported for TEXT posts")
        if not is_public_url(link):
            raise invalid_param("Param link_attachment must be a valid http or https URL")
        spec.link_attachment = link


def _attachments_part(req: GraphRequest, spec: ContainerSpec) -> None:
    is_text = spec.media_type == "TEXT"
    poll = req.json("poll_attachment", dict)
    attachment = req.json("text_attachment", dict)
    gif = req.json("gif_attachment", dict)
    if poll is not None:
        if not is_text:
            raise invalid_param("Param poll_attachment is only supported for TEXT posts")
        if spec.link_attachment or attachment is not None:
            raise invalid_param(
                "A poll cannot be combined with a link attachment or a text attachment"
            )
        spec.poll = _poll(poll)
    if attachment is not None:
        if not is_text:
            raise invalid_param("Param text_attachment is only supported for TEXT posts")
        plaintext = attachment.get("plaintext")
        if not isinstance(plaintext, str) or len(plaintext) > ATTACHMENT_TEXT_LIMIT:
            raise invalid_param(
                f"text_attachment.plaintext must be a string of at most {ATTACHMENT_TEXT_LIMIT} "
                "characters"
            )
        if attachment.get("link_attachment_url") and spec.link_attachment:
            raise invalid_param(
                "text_attachment.link_attachment_url cannot be used with link_attachment"
            )
        spec.text_attachment = attachment
    if gif is not None:
        if not is_text:
            raise invalid_param("Param gif_attachment is only supported for TEXT posts")
        if not gif.get("gif_id") or str(gif.get("provider", "")).upper() != "GIPHY":
            raise invalid_param(
                'Param gif_attachment must be {"gif_id": "...", "provider": "GIPHY"}'
            )
        spec.gif_attachment = gif
    extra_link = (attachment or {}).get("link_attachment_url") or spec.link_attachment
    if count_links(spec.text or "", extra_link) > LINK_LIMIT:
        raise GraphError(
            "THREADS_API__LINK_LIMIT_EXCEEDED",
            code=100,
            user_title="Too many links",
            user_msg=f"Posts can contain at most {LINK_LIMIT} links.",
        )


def _poll(poll: dict[str, object]) -> dict[str, str]:
    options = {k: poll[k] for k in POLL_KEYS if poll.get(k) not in (None, "")}
    unknown = set(poll) - set(POLL_KEYS)
    if unknown or "option_a" not in options or "option_b" not in options:
        raise invalid_param(
            "poll_attachment needs option_a and option_b, and optionally option_c and option_d"
        )
    if "option_d" in options and "option_c" not in options:
        raise invalid_param("poll_attachment option_d needs option_c")
    for key, value in options.items():
        if not isinstance(value, str) or not 1 <= count_characters(value) <= POLL_OPTION_MAX:
            raise invalid_param(f"poll_attachment {key} must be 1 to {POLL_OPTION_MAX} characters")
    return {k: str(v) for k, v in options.items()}


def _relations_part(
    state: SimulatorState, req: GraphRequest, token: Token, spec: ContainerSpec
) -> None:
    for name in ("reply_to_id", "quote_post_id"):
        target = req.get(name)
        if target is None or target == "":
            continue
        if state.live_media(target) is None:
            raise no_such_object(target)
        setattr(spec, name, target)
    if spec.reply_to_id:
        require_reply_scope(token)
    spec.is_ghost_post = req.flag("is_ghost_post")
    spec.enable_reply_approvals = req.flag("enable_reply_approvals")
    if spec.is_ghost_post:
        if spec.media_type != "TEXT" or spec.reply_to_id:
            raise invalid_param("Ghost posts must be TEXT posts and cannot be replies")
        if spec.enable_reply_approvals:
            raise invalid_param("Reply approvals cannot be enabled on ghost posts")


def require_reply_scope(token: Token) -> None:
    if "threads_manage_replies" not in token.scopes:
        raise GraphError(
            "Application does not have permission for this action: replying needs "
            "threads_manage_replies.",
            code=10,
            type="OAuthException",
        )


def _options_part(req: GraphRequest, account: Account, token: Token, spec: ContainerSpec) -> None:
    is_text = spec.media_type == "TEXT"
    tag = req.get("topic_tag")
    if tag is not None:
        if (problem := topic_tag_problem(tag)) is not None:
            raise invalid_param(f"Param topic_tag is invalid: {problem}")
        spec.topic_tag = tag
    control = req.get("reply_control")
    if control is not None:
        if control not in REPLY_CONTROLS:
            raise invalid_param(
                f"Param reply_control must be one of {{{', '.join(sorted(REPLY_CONTROLS))}}}"
            )
        spec.reply_control = control
    spec.auto_publish_text = req.flag("auto_publish_text")
    if spec.auto_publish_text and not is_text:
        raise invalid_param("Param auto_publish_text is only supported for TEXT posts")
    spec.is_spoiler_media = req.flag("is_spoiler_media")
    if spec.is_spoiler_media and is_text:
        raise invalid_param(
            "Param is_spoiler_media is only supported for IMAGE, VIDEO and CAROUSEL posts"
        )
    spec.text_entities = _entities(req)
    spec.countries = _countries(req, account)
    location = req.get("location_id")
    if location:
        if "threads_location_tagging" not in token.scopes:
            raise GraphError(
                "Location tagging needs the threads_location_tagging permission.", code=10
            )
        spec.location_id = location
    spec.crossreshare_to_ig = req.flag("crossreshare_to_ig") or req.flag(
        "crossreshare_to_ig_dark_mode"
    )


def _entities(req: GraphRequest) -> list[dict[str, object]] | None:
    entities = req.json("text_entities", list)
    if entities is None:
        return None
    if len(entities) > SPOILER_MAX:
        raise invalid_param(f"Param text_entities can hold at most {SPOILER_MAX} entities")
    for entity in entities:
        if not isinstance(entity, dict) or str(entity.get("entity_type", "")).upper() != "SPOILER":
            raise invalid_param('Each text entity needs "entity_type": "SPOILER"')
        try:
            offset, length = int(entity["offset"]), int(entity["length"])
        except (KeyError, TypeError, ValueError):
            raise invalid_param("Each text entity needs integer offset and length") from None
        if offset < 0 or length < 1:
            raise invalid_param("Text entity offset must be ≥ 0 and length ≥ 1")
    return list(entities)


def _countries(req: GraphRequest, account: Account) -> tuple[str, ...]:
    values = req.repeated.get("allowlisted_country_codes") or (
        [req.params["allowlisted_country_codes"]] if req.get("allowlisted_country_codes") else []
    )
    codes: list[str] = []
    for value in values:
        value = value.strip()
        if value.startswith("["):
            parsed = req.json("allowlisted_country_codes", list) or []
            codes.extend(str(c) for c in parsed)
        else:
            codes.extend(c.strip() for c in value.split(",") if c.strip())
    if not codes:
        return ()
    if not account.geo_gating_eligible:
        raise GraphError(
            "THREADS_API__FEATURE_NOT_AVAILABLE", code=100, user_msg="Geo-gating is not available."
        )
    if not all(is_country_code(c) for c in codes):
        raise GraphError(
            "THREADS_API__GEO_GATING_INVALID_COUNTRY_CODES",
            code=100,
            user_msg="Use ISO 3166-1 alpha-2 country codes.",
        )
    return tuple(c.upper() for c in codes)
