"""Errors: the one place where the core's errors become GraphQL.

Expected errors are part of the schema: every mutation (and the queries that can fail for a
reason the caller can act on) returns a union of its payload and the error types below, and the
`strawberry.ExceptionHandler`s here turn a raised `SchedulerError` into the matching member. A
handler only applies when the field's union lists its type, so the order below goes from the
specific to the general (a rate limit is a `QuotaExceeded` where the union has one, else a
`ThreadsApiFailure`).

Everything else either passes through as a top-level error with the core's own message (other
`SchedulerError`s, GraphQL validation) or is masked by `MaskErrors` as "Unexpected error." (bugs:
their details go to the log, never to the client).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from graphql import GraphQLError
from pydantic import ValidationError
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from scheduler.platform import errors as core
from scheduler.posts.content import PostContent

if TYPE_CHECKING:
    from strawberry.types.field import StrawberryField

# The core reports a post's own content at the top level (`text`, `media.0.url`); the GraphQL
# input nests it under `content`.
_CONTENT_FIELDS = frozenset(PostContent.model_fields)
_WORD = re.compile(r"_([a-z0-9])")
T = TypeVar("T")


def graphql_path(path: str) -> str:
    """A core field path (`schedule.start_date`) as the input's path (`schedule.startDate`)."""
    parts = [_WORD.sub(lambda m: m.group(1).upper(), part) for part in path.split(".")]
    if parts and parts[0] in _CONTENT_FIELDS:
        parts.insert(0, "content")
    return ".".join(parts)


# --- the error types ---------------------------------------------------------------------------


@strawberry.interface(description="Something the caller can act on; `message` says what to do.")
class Error:
    message: str


@strawberry.type(description="The messages about one input field, named by its path.")
class FieldError:
    field: str = strawberry.field(description="Path in the input, e.g. `schedule.startDate`.")
    messages: list[str]


@strawberry.type(description="The input was refused; each field path lists what is wrong.")
class ValidationErrors(Error):
    errors: list[FieldError]

    @classmethod
    def from_fields(cls, message: str, fields: dict[str, list[str]]) -> ValidationErrors:
        paths = [FieldError(field=graphql_path(k), messages=v) for k, v in fields.items()]
        return cls(message=message, errors=paths)


@strawberry.type(description="No such object is visible to you (it may belong to someone else).")
class NotFound(Error):
    kind: str
    id: strawberry.ID


@strawberry.type(description="The object's state forbids the change (published, being sent...).")
class Conflict(Error):
    stale: bool = strawberry.field(
        description="True when someone else changed the object first: reload and try again."
    )


@strawberry.type(description="The account's Threads token expired or was revoked: reconnect it.")
class AccountNeedsReconnect(Error):
    account_id: strawberry.ID | None


@strawberry.type(description="Threads' publishing quota or rate limit is used up for now.")
class QuotaExceeded(Error):
    frees_at: datetime | None
    retry_after_seconds: float | None


@strawberry.type(description="Your role may not do this (a viewer, or a read-only API token).")
class PermissionDenied(Error):
    pass


@strawberry.type(description="The Threads API refused the request or did not answer.")
class ThreadsApiFailure(Error):
    code: str | None
    retryable: bool


# --- the handlers ------------------------------------------------------------------------------


class _Handler:
    """Handlers take the field and info only to match strawberry's protocol."""

    def handle(self, exception: Any, *, field: StrawberryField, info: Any) -> Any:
        return self.convert(exception)

    def convert(self, exception: Any) -> Error:
        raise NotImplementedError


class ValidationFailedHandler(
    _Handler, strawberry.ExceptionHandler[core.ValidationFailed, ValidationErrors]
):
    def convert(self, exception: core.ValidationFailed) -> ValidationErrors:
        return ValidationErrors.from_fields(exception.message, exception.field_errors)


class PydanticErrorHandler(
    _Handler, strawberry.ExceptionHandler[ValidationError, ValidationErrors]
):
    """Input the core models refuse while the GraphQL input is turned into them."""

    def convert(self, exception: ValidationError) -> ValidationErrors:
        fields: dict[str, list[str]] = {}
        for error in exception.errors():
            path = ".".join(str(part) for part in error["loc"])
            fields.setdefault(path, []).append(error["msg"].rstrip(".") + ".")
        return ValidationErrors.from_fields("Invalid input; see the fields.", fields)


class NotFoundHandler(_Handler, strawberry.ExceptionHandler[core.NotFoundError, NotFound]):
    def convert(self, exception: core.NotFoundError) -> NotFound:
        return NotFound(
            message=exception.message, kind=exception.kind, id=strawberry.ID(exception.id)
        )


class ConflictHandler(_Handler, strawberry.ExceptionHandler[core.ConflictError, Conflict]):
    def convert(self, exception: core.ConflictError) -> Conflict:
        return Conflict(message=exception.message, stale=isinstance(exception, core.StaleUpdate))


class ReconnectHandler(
    _Handler,
    strawberry.ExceptionHandler[
        core.AccountNeedsReconnect | core.ThreadsAuthError, AccountNeedsReconnect
    ],
):
    def convert(self, exception: core.SchedulerError) -> AccountNeedsReconnect:
        account_id = getattr(exception, "account_id", None)
        if isinstance(exception, core.ThreadsAuthError):
            return AccountNeedsReconnect(
                message=f"{exception.message} Reconnect the account (Accounts → Reconnect).",
                account_id=None,
            )
        return AccountNeedsReconnect(
            message=exception.message,
            account_id=strawberry.ID(account_id) if account_id else None,
        )


class QuotaHandler(
    _Handler,
    strawberry.ExceptionHandler[core.QuotaExhausted | core.ThreadsRateLimited, QuotaExceeded],
):
    def convert(self, exception: core.SchedulerError) -> QuotaExceeded:
        return QuotaExceeded(
            message=exception.message,
            frees_at=getattr(exception, "frees_at", None),
            retry_after_seconds=getattr(exception, "retry_after", None),
        )


class PermissionHandler(
    _Handler, strawberry.ExceptionHandler[core.PermissionDenied, PermissionDenied]
):
    def convert(self, exception: core.PermissionDenied) -> PermissionDenied:
        return PermissionDenied(message=exception.message)


class ThreadsHandler(
    _Handler, strawberry.ExceptionHandler[core.ThreadsApiError, ThreadsApiFailure]
):
    def convert(self, exception: core.ThreadsApiError) -> ThreadsApiFailure:
        code = f"{exception.code}/{exception.subcode}" if exception.subcode else exception.code
        return ThreadsApiFailure(
            message=exception.message,
            code=str(code) if code is not None else None,
            retryable=isinstance(exception, core.ThreadsTransientError),
        )


EXCEPTION_HANDLERS: list[strawberry.ExceptionHandler[Any, Any]] = [
    ValidationFailedHandler(),
    PydanticErrorHandler(),
    NotFoundHandler(),
    ConflictHandler(),
    ReconnectHandler(),
    QuotaHandler(),
    PermissionHandler(),
    ThreadsHandler(),
]


# --- what is not a union member ----------------------------------------------------------------


# Strawberry's own refusals of a request, raised where its HTTP view would answer 400: over a
# WebSocket they reach the result as errors ("Unknown operation named ...", "queries are not
# allowed" on the legacy protocol, which carries subscriptions only).
CLIENT_MISTAKES = (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError)


def is_unexpected(error: GraphQLError) -> bool:
    """Mask an execution error unless the core raised it on purpose (or it is a GraphQL error).

    Errors without an original exception (syntax, validation, depth and alias limits, variable
    coercion) are the client's and say what is wrong; they pass through, as do Strawberry's
    refusals of a malformed request (`CLIENT_MISTAKES`).
    """
    original = error.original_error
    expected = (core.SchedulerError, GraphQLError, *CLIENT_MISTAKES)
    return original is not None and not isinstance(original, expected)


def mask_unexpected_errors() -> MaskErrors:
    return MaskErrors(should_mask_error=is_unexpected)


def not_authenticated(message: str) -> GraphQLError:
    """The error of a field asked for without valid credentials."""
    return GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})


async def authentication_outcome(attempt: Awaitable[T]) -> tuple[T | None, str | None]:
    """Await an authentication; a refusal becomes its message (reported when a field needs it)."""
    try:
        return await attempt, None
    except core.AuthenticationFailed as exc:
        return None, exc.message


@asynccontextmanager
async def rejecting_failed_authentication() -> AsyncIterator[None]:
    """Turn refused credentials in a WebSocket `connection_init` into a rejected connection."""
    try:
        yield
    except core.AuthenticationFailed as exc:
        raise ConnectionRejectionError({"message": exc.message}) from exc
