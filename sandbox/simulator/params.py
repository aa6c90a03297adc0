"""Reading Graph requests: query and body parameters, tokens, and typed parameter values.

Parameters may come in the query string, a urlencoded or multipart form, or (configurable) a JSON
body; body values win over query values. Object parameters (`poll_attachment`, `text_entities`, …)
are JSON-encoded strings. Bad values raise the code-100 `GraphError` Threads would return.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from sandbox.simulator.journal import RequestRecord
from sandbox.simulator.responses import GraphError, invalid_param

_VERSION = re.compile(r"v\d+\.\d+")
EARLIEST_SINCE = 1688540400  # the API rejects `since` before this (docs/threads-api.md §7.3)

Scope = MutableMapping[str, Any]


@dataclass(slots=True)
class GraphRequest:
    """One parsed Graph call."""

    method: str
    segments: list[str]
    params: dict[str, str]
    token: str | None
    now: datetime
    record: RequestRecord
    scope: Scope
    repeated: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.params.get(name)

    def require(self, name: str) -> str:
        value = self.params.get(name)
        if value is None or value == "":
            raise invalid_param(f"The parameter {name} is required")
        return value

    def flag(self, name: str) -> bool:
        value = self.params.get(name)
        if value is None or value == "":
            return False
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise invalid_param(f"Param {name} must be a boolean (true or false)")

    def json(self, name: str, kind: type) -> Any:
        """A JSON-encoded object (`kind=dict`) or array (`kind=list`) parameter, or None."""
        raw = self.params.get(name)
        if raw is None or raw == "":
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            raise invalid_param(f"Param {name} must be a JSON-encoded {kind.__name__}") from None
        if not isinstance(value, kind):
            raise invalid_param(f"Param {name} must be a JSON-encoded {kind.__name__}")
        return value

    def integer(self, name: str, default: int) -> int:
        raw = self.params.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise invalid_param(f"Param {name} must be an integer") from None

    def timestamp(self, name: str) -> int | None:
        """A `since`/`until` value: a Unix timestamp or an ISO 8601 date."""
        raw = self.params.get(name)
        if raw is None or raw == "":
            return None
        if raw.lstrip("-").isdigit():
            return int(raw)
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise invalid_param(
                f"Param {name} must be a Unix timestamp or an ISO 8601 date"
            ) from None
        return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())

    def fields(self, allowed: frozenset[str], default: str) -> list[str]:
        """The requested top-level fields (nested `{...}` selections are accepted and ignored)."""
        names = split_fields(self.params.get("fields") or default)
        for name in names:
            if name not in allowed:
                raise invalid_param(f"Tried accessing nonexisting field ({name})")
        return names

    def base_url(self) -> str:
        """Scheme, host and path of this request, for Graph paging URLs."""
        host = header(self.scope, b"host") or "localhost"
        return f"{self.scope.get('scheme', 'http')}://{host}{self.scope['path']}"


def split_fields(value: str) -> list[str]:
    """Split `a,b{c,d},e` at top-level commas into `["a", "b", "e"]`."""
    names: list[str] = []
    depth, start = 0, 0
    for i, char in enumerate(value + ","):
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            name = value[start:i].split("{", 1)[0].strip()
            if name:
                names.append(name)
            start = i + 1
    return names


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def path_segments(path: str) -> list[str]:
    """Path segments without an API version prefix: `/v1.0/me/threads` → `["me", "threads"]`."""
    segments = [s for s in path.split("/") if s]
    if segments and _VERSION.fullmatch(segments[0]):
        segments = segments[1:]
    return segments


async def parse_request(
    scope: Scope, body: bytes, now: datetime, record: RequestRecord, *, accept_json: bool
) -> GraphRequest:
    """Turn an ASGI request into a `GraphRequest`."""
    query = scope["query_string"]
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True) if query else []
    if body:
        pairs += await _body_pairs(scope, body, accept_json)
    params: dict[str, str] = {}
    repeated: dict[str, list[str]] = {}
    for key, value in pairs:
        if key in params:
            repeated.setdefault(key, [params[key]]).append(value)
        params[key] = value
    token = params.get("access_token")
    if token is None:
        auth = header(scope, b"authorization")
        if auth and auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
    return GraphRequest(
        scope["method"], path_segments(scope["path"]), params, token, now, record, scope, repeated
    )


async def _body_pairs(scope: Scope, body: bytes, accept_json: bool) -> list[tuple[str, str]]:
    content_type = (header(scope, b"content-type") or "").lower()
    if content_type.startswith("multipart/form-data"):
        form = await Request(scope, _replay(body)).form()
        return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    if content_type.startswith("application/json"):
        if not accept_json:
            raise invalid_param("JSON request bodies are not supported; send form parameters")
        try:
            data = json.loads(body)
        except ValueError:
            raise invalid_param("The request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise invalid_param("The JSON request body must be an object of parameters")
        return [(str(k), _as_param(v)) for k, v in data.items()]
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise invalid_param("The request body is not UTF-8 form data") from None


def _as_param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)


def _replay(body: bytes) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def graph_error_for_bad_since(
    since: int | None, until: int | None, now: datetime
) -> GraphError | None:
    """The documented `since`/`until` rules, or None when they hold."""
    if since is not None and since < EARLIEST_SINCE:
        return invalid_param(f"Param since must be at least {EARLIEST_SINCE}")
    if since is not None and until is not None and since >= until:
        return invalid_param("Param since must be earlier than until")
    if until is not None and until > now.timestamp() + 60:
        return invalid_param("Param until cannot be in the future")
    return None
