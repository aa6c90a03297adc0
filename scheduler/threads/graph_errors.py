"""Turn Graph API error payloads and transport failures into the scheduler's Threads error families.

The one place that decides what a failure means (see `scheduler/platform/errors.py` for the tree):

* **Outcome unknown** — only for calls that change something and must not be repeated blindly
  (`threads_publish`, auto-published text containers, the single-use code exchange): a failure
  after the request may have reached Meta (read timeout, dropped connection, a write that failed
  part-way, an HTTP 5xx, an unreadable 2xx) raises `ThreadsOutcomeUnknown`. Resolve it by asking
  Threads (`ThreadsClient.resolve_publish`), never by sending the call again.
* **Transient** — connect errors, connect/pool timeouts (the request was never sent), and for
  repeatable calls also read timeouts and 5xx; Graph codes 1 and 2 and `is_transient: true`.
* **Rate limited** — codes 4, 17, 32, 341, 613, HTTP 429, and the publishing-quota error (subcode
  2207042, the simulator's default): `retry_after` from `Retry-After`, `frees_at` = now + that.
* **Container not ready** — code 24 / subcode 4279009 ("Media Not Found") on `threads_publish`.
* **Auth** — code 190 (and 102/104), permission codes 10 and 200–299, and the flat OAuth error
  shape `{"error_type", "code", "error_message"}` of the token endpoints: the account must
  reconnect.
* **Rejected** — every other 4xx: permanent, with Meta's message and what to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from scheduler.platform.errors import (
    ThreadsApiError,
    ThreadsAuthError,
    ThreadsContainerNotReady,
    ThreadsMediaFailed,
    ThreadsOutcomeUnknown,
    ThreadsRateLimited,
    ThreadsRejectedError,
    ThreadsTransientError,
)
from scheduler.threads.models import ContainerState, ContainerStatus

RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613})
QUOTA_SUBCODE = 2207042
AUTH_CODES = frozenset({102, 104, 190})
TRANSIENT_CODES = frozenset({1, 2})
NOT_READY = (24, 4279009)
PERMANENT_SUBCODES = frozenset({33, 2207051, 2207052, 4279013})

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
_MISCONFIGURED = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL)

_UNKNOWN_EXPLANATION = (
    "The request reached (or may have reached) Threads but no usable answer came back, so it may "
    "have taken effect. Check with Threads (container status, recent posts) before sending it "
    "again."
)

_AUTH_SUBCODES = {
    458: "The user removed the app's access. Reconnect the account to Threads.",
    459: "Threads needs the user to log in to the Threads app first (checkpoint); then reconnect.",
    460: "The user changed their password, which ended the session. Reconnect the account.",
    463: "The access token expired. Reconnect the account to Threads.",
    464: "The user's session is unconfirmed. Log in to Threads, then reconnect the account.",
    467: "The access token is invalid or was revoked. Reconnect the account to Threads.",
}


def error_from_transport(
    exc: httpx.TransportError | httpx.InvalidURL, *, operation: str, repeatable: bool
) -> ThreadsApiError:
    """Classify a failure that produced no HTTP response.

    Args:
        exc: the httpx transport error.
        operation: what was being done, for the message (e.g. "publish").
        repeatable: whether sending the call twice is harmless (reads, container creation).
    """
    kind = type(exc).__name__
    detail = str(exc) or kind
    if isinstance(exc, _MISCONFIGURED):
        return ThreadsRejectedError(
            f"{operation} could not be sent: {detail}",
            explanation="The Threads base URL or a parameter is malformed; fix the configuration.",
        )
    if isinstance(exc, _NOT_SENT):
        return ThreadsTransientError(
            f"{operation} could not reach Threads ({kind}: {detail})",
            explanation="The request was never sent, so it is safe to retry after a short wait.",
        )
    if repeatable:
        return ThreadsTransientError(
            f"{operation} got no answer from Threads ({kind}: {detail})",
            explanation="Repeating this request is harmless; retry after a short wait.",
        )
    return ThreadsOutcomeUnknown(
        f"{operation} was sent but no answer came back ({kind}: {detail})",
        explanation=_UNKNOWN_EXPLANATION,
    )


def error_from_response(
    response: httpx.Response, *, operation: str, repeatable: bool, now: datetime
) -> ThreadsApiError:
    """Classify an error response (HTTP ≥ 400, or a body with an `error`).

    Args:
        response: the response that carried the error.
        operation: what was being done, for the message.
        repeatable: whether sending the call twice is harmless; if not, a 5xx is "outcome unknown".
        now: the current instant, to turn `Retry-After` into `frees_at`.
    """
    status = response.status_code
    body = _json_or_none(response)
    retry_after = retry_after_seconds(response.headers.get("retry-after"), now)
    frees_at = now + timedelta(seconds=retry_after) if retry_after is not None else None
    error = body.get("error") if isinstance(body, Mapping) else None

    if isinstance(body, Mapping) and "error_type" in body and "error_message" in body:
        message = str(body["error_message"])
        return ThreadsAuthError(
            message,
            code=_int(body.get("code")),
            status=status,
            payload=body,
            explanation=_oauth_explanation(message),
        )
    if not isinstance(error, Mapping):
        return _without_envelope(response, operation, repeatable, retry_after, frees_at)

    message = str(error.get("message") or f"HTTP {status}")
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    kw: dict[str, Any] = {"code": code, "subcode": subcode, "status": status, "payload": body}

    if status >= 500 and not repeatable:
        return ThreadsOutcomeUnknown(message, explanation=_UNKNOWN_EXPLANATION, **kw)
    if (code, subcode) == NOT_READY:
        return ThreadsContainerNotReady(
            message,
            retry_after=retry_after,
            explanation=(
                "Threads has not finished processing the container yet. Wait until its status is "
                "FINISHED (usually seconds, up to minutes for video) and publish again."
            ),
            **kw,
        )
    if subcode == QUOTA_SUBCODE or code in RATE_LIMIT_CODES or status == 429:
        quota = subcode == QUOTA_SUBCODE
        return ThreadsRateLimited(
            message,
            retry_after=retry_after,
            frees_at=frees_at,
            explanation=(
                "The account reached its Threads publishing quota (250 posts or 1,000 replies "
                "per rolling 24 hours); publishing resumes when older posts leave the window."
                if quota
                else "Threads is throttling calls for this app or account; retry later."
            ),
            **kw,
        )
    if code in AUTH_CODES or code == 10 or (code is not None and 200 <= code <= 299):
        return ThreadsAuthError(message, explanation=_auth_explanation(code, subcode), **kw)
    # Code 1 ("unknown error") also carries permanent subcodes, e.g. 2207052 (media not fetchable).
    known_permanent = subcode in PERMANENT_SUBCODES and error.get("is_transient") is not True
    if not known_permanent and (
        error.get("is_transient") is True or code in TRANSIENT_CODES or status >= 500
    ):
        return ThreadsTransientError(
            message,
            retry_after=retry_after,
            explanation="Threads reported a temporary problem; retry after a short wait.",
            **kw,
        )
    return ThreadsRejectedError(
        message, explanation=explain_rejection(code, subcode, message, error), **kw
    )


def error_from_unreadable(status: int, *, operation: str, repeatable: bool) -> ThreadsApiError:
    """A 2xx response whose body is not what the endpoint documents."""
    text = f"{operation} returned an unexpected response (HTTP {status})"
    if not repeatable:
        return ThreadsOutcomeUnknown(text, status=status, explanation=_UNKNOWN_EXPLANATION)
    return ThreadsTransientError(
        text, status=status, explanation="Retry; if it persists, Threads changed its API."
    )


def media_failed(status: ContainerStatus) -> ThreadsApiError:
    """The error for a container that can never be published (status ERROR or EXPIRED)."""
    if status.status is ContainerState.EXPIRED:
        return ThreadsRejectedError(
            f"Container {status.id} expired before it was published", explanation=status.explanation
        )
    reason = status.error_message or "UNKNOWN"
    return ThreadsMediaFailed(
        f"Container {status.id} failed processing: {reason}",
        code=reason,
        explanation=status.explanation,
        payload={"id": status.id, "status": status.status.value, "error_message": reason},
    )


def explain_rejection(
    code: int | None, subcode: int | None, message: str, error: Mapping[str, Any]
) -> str:
    """Say in plain words what to change after a permanent Graph error."""
    text = " ".join(str(error.get(k, "")) for k in ("message", "error_user_msg")).lower()
    if "link_limit_exceeded" in text or "at most 5 links" in text:
        return (
            "Threads allows at most 5 different links per post (a link attachment counts unless "
            "the same URL is already in the text). Remove some links."
        )
    if "500 characters" in text or ("text" in text and "at most 500" in text):
        return (
            "The text is longer than Threads' 500-character limit (each emoji counts as several "
            "characters). Shorten it."
        )
    if "geo_gating_invalid_country_codes" in text:
        return "Use two-letter ISO country codes such as US or CA for the country allowlist."
    if "feature_not_available" in text:
        return "This account cannot use this feature (for example geo-gating); remove the option."
    if subcode == 33 or "does not exist" in text:
        return (
            "The object does not exist, was deleted, or belongs to another account. Check the id "
            "(for example the post you reply to or quote)."
        )
    if "nonexisting field" in text:
        return "The request asked for a field this object does not have; report this as a bug."
    if subcode == 2207052 or code == 9004 or "could not be fetched" in text:
        return (
            "Threads could not download the media. Make sure its URL is public and points "
            "directly to the image or video file."
        )
    if subcode == 4279013:
        return "Threads restricted this account; check the account in the Threads app."
    if subcode == 2207051 or code == 368:
        return (
            "Threads blocked this action to protect its community. Review the content against "
            "Threads' policies and try again later."
        )
    if code == 100:
        return f"Threads rejected a parameter ({message}). Fix the post's content or options."
    return "Threads rejected the request; change the post before trying again."


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Parse a `Retry-After` header (seconds or an HTTP date) into seconds from `now`."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


def _without_envelope(
    response: httpx.Response,
    operation: str,
    repeatable: bool,
    retry_after: float | None,
    frees_at: datetime | None,
) -> ThreadsApiError:
    status = response.status_code
    message = f"{operation} failed with HTTP {status} and no Graph error body"
    if status >= 500:
        if not repeatable:
            return ThreadsOutcomeUnknown(message, status=status, explanation=_UNKNOWN_EXPLANATION)
        return ThreadsTransientError(
            message,
            status=status,
            retry_after=retry_after,
            explanation="Threads (or a proxy in front of it) failed; retry after a short wait.",
        )
    if status == 429:
        return ThreadsRateLimited(
            message,
            status=status,
            retry_after=retry_after,
            frees_at=frees_at,
            explanation="Threads is throttling calls; slow down and retry later.",
        )
    if status in (401, 403):
        return ThreadsAuthError(
            message,
            status=status,
            explanation="The access token was refused; reconnect the account.",
        )
    return ThreadsRejectedError(
        message,
        status=status,
        explanation="Threads refused the request; check the base URL and the request parameters.",
    )


def _auth_explanation(code: int | None, subcode: int | None) -> str:
    if code == 10 or (code is not None and 200 <= code <= 299):
        return (
            "The account did not grant a permission this action needs. Reconnect it and allow "
            "every requested permission."
        )
    if subcode in _AUTH_SUBCODES:
        return _AUTH_SUBCODES[subcode]
    return "The access token is missing, expired or revoked. Reconnect the account to Threads."


def _oauth_explanation(message: str) -> str:
    lowered = message.lower()
    if "code" in lowered and ("used" in lowered or "not found" in lowered or "expired" in lowered):
        return (
            "The authorization code expired (codes last 1 hour) or was already used. Start the "
            "Connect flow again."
        )
    if "redirect" in lowered:
        return "The redirect URI must match the one configured for the Threads app exactly."
    if "secret" in lowered or "client" in lowered:
        return "The Threads app id or secret is wrong; check THREADS_APP_ID and THREADS_APP_SECRET."
    return "Threads refused the token request. Start the Connect flow again."


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None
