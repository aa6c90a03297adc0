"""Simulated Graph responses: the Graph error envelope, the flat OAuth error, JSON replies."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = b"application/json; charset=UTF-8"


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer: status, body bytes, content type and extra headers."""

    status: int
    body: bytes
    content_type: bytes = JSON_TYPE
    headers: tuple[tuple[bytes, bytes], ...] = ()


def json_reply(
    payload: Any, status: int = 200, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> Reply:
    """Serialise `payload` compactly (the hot path: no indentation, no sorting)."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Reply(status, body, JSON_TYPE, headers)


@dataclass(eq=False)
class GraphError(Exception):
    """A Graph API error, rendered as `{"error": {message, type, code, error_subcode, ...}}`."""

    message: str
    code: int = 100
    subcode: int | None = None
    type: str = "THApiException"
    status: int = 400
    is_transient: bool = False
    user_title: str | None = None
    user_msg: str | None = None
    headers: tuple[tuple[bytes, bytes], ...] = field(default=())

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def reply(self, trace_id: str) -> Reply:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["is_transient"] = self.is_transient
        if self.user_title is not None:
            error["error_user_title"] = self.user_title
        if self.user_msg is not None:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = trace_id
        return json_reply({"error": error}, self.status, self.headers)


@dataclass(eq=False)
class OAuthError(Exception):
    """The flat error of the code exchange: `{"error_type", "code", "error_message"}`."""

    message: str
    status: int = 400

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def reply(self) -> Reply:
        payload = {"error_type": "OAuthException", "code": 400, "error_message": self.message}
        return json_reply(payload, self.status)


def no_such_object(object_id: str, method: str = "get") -> GraphError:
    """The observed 100/33 error for an id that does not exist or is not the caller's."""
    return GraphError(
        f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        code=100,
        subcode=33,
    )


def invalid_param(message: str) -> GraphError:
    """A code-100 parameter error."""
    return GraphError(message, code=100)


def container_not_ready(container_id: str) -> GraphError:
    """The observed 400 24/4279009 payload for publishing a container that is not FINISHED."""
    return GraphError(
        "The requested resource does not exist",
        code=24,
        subcode=4279009,
        type="OAuthException",
        user_title="Media Not Found",
        user_msg=f"The media with id {container_id} cannot be found.",
    )
