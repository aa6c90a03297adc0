"""Checks: what every fuzzed response must satisfy, over any transport.

- No 5xx. The one deliberate 5xx is `/readyz` answering 503 while a dependency (or the worker)
  is missing, with the failing parts as JSON: that is its contract, not a server error.
- No internal error reaches the client. A GraphQL `errors` entry is either the client's mistake
  (syntax, validation, limits), an expected core error that says what to do, or masked as
  "Unexpected error." (a bug: the server log says what raised). A masked error is a finding,
  and so is a message that looks like Python's own (an exception's text, a traceback, a driver's
  name), which would mean something bypassed the masking.

The same predicates serve the schemathesis run (as schemathesis checks) and the hand-rolled
HTTP and WebSocket fuzzers (as plain functions).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import schemathesis

MASKED = "Unexpected error."
READINESS_PATH = "/readyz"

# Text that only Python, a driver or a library writes: none of it may reach a client.
_INTERNAL = re.compile(
    r"Traceback \(most recent call last\)"
    r'|File "[^"]+", line \d+'
    r"|object has no attribute"
    r"|object is not (?:subscriptable|iterable|callable)"
    r"|unhashable type"
    r"|unexpected keyword argument"
    r"|positional arguments? but \d+"
    r"|missing \d+ required positional"
    r"|invalid literal for"
    r"|index out of range"
    r"|NoneType"
    r"|Invalid isoformat string"
    r"|could not convert string to float"
    r"|is not a valid ObjectId"
    r"|\b(?:Key|Attribute|Type|Index|Value|Runtime|Assertion|Recursion|ZeroDivision)Error\b"
    r"|\b(?:pymongo|bson|beanie|motor|redis|saq|mongomock|pydantic_core|starlette|uvicorn)\."
    r"|ServerSelectionTimeout|OperationFailure|DuplicateKeyError"
    r"|object at 0x[0-9a-f]+"
    r"|\[Errno \d+\]"
)


def internal_error(message: str) -> bool:
    """Whether an error message the client received is the server's internals."""
    return message == MASKED or bool(_INTERNAL.search(message))


def graphql_error_problems(payload: object) -> list[str]:
    """What is wrong with the `errors` of one GraphQL result (an empty list when nothing is)."""
    if not isinstance(payload, dict):
        return []
    errors = payload.get("errors")
    if errors is None:
        return []
    if not isinstance(errors, list) or not errors:
        return [f"`errors` must be a non-empty list, got {errors!r}"]
    problems: list[str] = []
    for error in errors:
        message = error.get("message") if isinstance(error, dict) else None
        if not isinstance(message, str) or not message:
            problems.append(f"an error without a message: {error!r}")
        elif message == MASKED:
            problems.append(f"a masked internal error (see the server log): {error!r}")
        elif internal_error(message):
            problems.append(f"an unmasked internal error: {error!r}")
        elif isinstance(error, dict) and _leaks_internals(error.get("extensions")):
            problems.append(f"internals in the error's extensions: {error!r}")
    return problems


def _leaks_internals(extensions: object) -> bool:
    if not isinstance(extensions, dict):
        return False
    return "exception" in extensions or "stacktrace" in extensions


def status_problem(method: str, path: str, status: int, body: bytes) -> str | None:
    """Why a response's status is a server error (None when it is not one)."""
    if status < 500:
        return None
    if path == READINESS_PATH and status == 503 and method in ("GET", "HEAD"):
        if method == "HEAD" or _json(body).get("status") == "unavailable":
            return None
    return f"{method} {path} answered {status}: {body[:500]!r}"


def body_problems(content_type: str, body: bytes) -> list[str]:
    """Internal errors in a response body: GraphQL errors in JSON, Python's text in any body."""
    problems: list[str] = []
    if content_type.startswith("application/json"):
        problems += graphql_error_problems(_json(body))
    text = body[:200_000].decode(errors="replace")
    if match := _INTERNAL.search(text):
        start = max(0, match.start() - 120)
        problems.append(f"internals in the body: …{text[start : match.end() + 120]}…")
    return problems


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class ServerErrorStatus(AssertionError):
    """The server answered 5xx."""


class InternalErrorLeaked(AssertionError):
    """A response carried a masked or unmasked internal error."""


@schemathesis.check
def no_5xx(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any) -> None:
    """No response is a server error (schemathesis' own check also fails on every GraphQL
    execution error, including the expected ones the core raises on purpose)."""
    request = response.request
    path = urlsplit(request.url or "").path
    problem = status_problem(request.method or "", path, response.status_code, response.content)
    if problem is not None:
        raise ServerErrorStatus(problem)


@schemathesis.check
def no_internal_errors(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
) -> None:
    """No GraphQL error is masked ("Unexpected error.") or shows the server's internals."""
    content_type = response.headers.get("content-type", [""])[0]
    problems = body_problems(content_type, response.content)
    if problems:
        raise InternalErrorLeaked("\n".join(problems))
