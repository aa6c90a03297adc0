"""Errors: every domain error the core raises, under one base class.

    SchedulerError
    ├── ConfigurationError            a setting is missing or malformed
    ├── NotFoundError                 no such object (or it belongs to someone else)
    ├── ValidationFailed              bad input, with messages per field path
    ├── ConflictError                 the object is in a state that forbids the change
    │   └── StaleUpdate               someone else changed it first (lost race)
    ├── PermissionDenied              the caller may not do this (e.g. a viewer writing)
    ├── AuthenticationFailed          no valid credentials
    ├── AccountNeedsReconnect         the Threads token expired or was revoked
    ├── QuotaExhausted                the account's publishing quota is used up
    └── ThreadsApiError               the Threads Graph API said no (or said nothing)
        ├── ThreadsTransientError     retry later (5xx, timeouts, is_transient)
        │   ├── ThreadsRateLimited    throttled or quota reached; carries when it frees
        │   └── ThreadsContainerNotReady   code 24 / subcode 4279009: not processed yet
        ├── ThreadsAuthError          token invalid, expired or revoked: reconnect
        ├── ThreadsRejectedError      permanent: the request itself must change
        ├── ThreadsMediaFailed        the container finished with status ERROR
        └── ThreadsOutcomeUnknown     the request was sent but no answer came back

Messages are full sentences that say what happened and what to do about it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any


class SchedulerError(Exception):
    """Base class of every error the scheduler core raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(SchedulerError):
    """A setting is missing or malformed; raised at start-up, naming the variable."""

    def __init__(self, message: str, *, variables: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.variables = list(variables)


class NotFoundError(SchedulerError):
    """No object of this kind with this id is visible to the caller.

    Another owner's object raises exactly this too, so ids cannot be probed.
    """

    def __init__(self, kind: str, id: object) -> None:
        super().__init__(f"{kind} {id} was not found; check the id (it may have been deleted).")
        self.kind = kind
        self.id = str(id)


class ValidationFailed(SchedulerError):
    """Input was rejected; `field_errors` maps a field path (e.g. `media.0.url`) to messages."""

    def __init__(self, field_errors: Mapping[str, Sequence[str]]) -> None:
        self.field_errors: dict[str, list[str]] = {k: list(v) for k, v in field_errors.items()}
        parts = [f"{field}: {'; '.join(msgs)}" for field, msgs in self.field_errors.items()]
        super().__init__("Invalid input. " + " | ".join(parts))

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls({field: [message]})


class ConflictError(SchedulerError):
    """The object's current state forbids the change (e.g. editing a published post)."""


class StaleUpdate(ConflictError):
    """A conditional update lost a race: the object changed since it was read."""

    def __init__(self, kind: str, id: object, expected: str) -> None:
        super().__init__(
            f"{kind} {id} changed while you were editing it (expected {expected}); "
            "reload it and try again."
        )
        self.kind = kind
        self.id = str(id)


class PermissionDenied(SchedulerError):
    """The caller is authenticated but may not perform this action."""


class AuthenticationFailed(SchedulerError):
    """The credentials were missing, wrong, expired or revoked."""


class AccountNeedsReconnect(SchedulerError):
    """The account's Threads token is expired or revoked; its posts are held until reconnect."""

    def __init__(self, account_id: object, reason: str = "") -> None:
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"Account {account_id} must be reconnected to Threads{detail}; open Accounts and "
            "choose Reconnect. Its scheduled posts are held, not lost."
        )
        self.account_id = str(account_id)


class QuotaExhausted(SchedulerError):
    """The account has used its rolling 24-hour publishing quota."""

    def __init__(self, account_id: object, frees_at: datetime | None) -> None:
        when = f" at {frees_at.isoformat()}" if frees_at else " within 24 hours"
        super().__init__(
            f"Account {account_id} reached Threads' limit of 250 posts per 24 hours; "
            f"publishing resumes automatically when quota frees{when}."
        )
        self.account_id = str(account_id)
        self.frees_at = frees_at


class ThreadsApiError(SchedulerError):
    """The Threads Graph API returned an error (or no answer).

    Args:
        message: Meta's message, or a description of the transport failure.
        code: Graph error code (e.g. 190), when known.
        subcode: Graph error_subcode, when known.
        status: HTTP status, when a response arrived.
        explanation: what the user should change or expect, in plain words.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | str | None = None,
        subcode: int | None = None,
        status: int | None = None,
        explanation: str = "",
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        text = f"Threads API error: {message}"
        if code is not None:
            text += f" (code {code}" + (f"/{subcode}" if subcode else "") + ")"
        if explanation:
            text += f". {explanation}"
        super().__init__(text)
        self.meta_message = message
        self.code = code
        self.subcode = subcode
        self.status = status
        self.explanation = explanation
        self.payload = dict(payload or {})


class ThreadsTransientError(ThreadsApiError):
    """A temporary failure; retry after `retry_after` seconds when given, else with backoff."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ThreadsRateLimited(ThreadsTransientError):
    """Throttled, or the publishing quota is used up; `frees_at` says when, if known."""

    def __init__(self, message: str, *, frees_at: datetime | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.frees_at = frees_at


class ThreadsContainerNotReady(ThreadsTransientError):
    """Publishing a container Threads has not finished processing (code 24 / 4279009)."""


class ThreadsAuthError(ThreadsApiError):
    """The access token is invalid, expired or revoked (code 190): the account must reconnect."""


class ThreadsRejectedError(ThreadsApiError):
    """A permanent rejection: retrying the same request cannot succeed."""


class ThreadsMediaFailed(ThreadsApiError):
    """Threads could not process the media (container status ERROR with `error_message`)."""


class ThreadsOutcomeUnknown(ThreadsApiError):
    """The request was sent but its outcome is unknown (timeout, dropped connection).

    For `threads_publish` this must be resolved by asking Threads what happened,
    never by publishing again.
    """
