"""Auth: who is calling, from an API token or the dashboard's session cookie.

Credentials are read, in this order, from a WebSocket's `connection_init` payload
(`{"Authorization": "Bearer <token>"}` or `{"token": "<token>"}`), the `Authorization` header,
and the signed session cookie the dashboard sets at login (`user_id`, see `web.security`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import HTTPConnection
from strawberry.permission import BasePermission

from graphql_api.context import NOT_AUTHENTICATED, Info
from graphql_api.errors import not_authenticated
from scheduler.accounts.actors import Actor
from scheduler.platform.errors import AuthenticationFailed
from scheduler.services import Services

BAD_SCHEME = "Send the API token as `Authorization: Bearer <token>`; no other scheme is accepted."


def _bearer(value: object) -> str:
    """The token of `Bearer <token>`; raises AuthenticationFailed for anything else."""
    if not isinstance(value, str):
        raise AuthenticationFailed(BAD_SCHEME)
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed(BAD_SCHEME)
    return token.strip()


def _token(conn: HTTPConnection, params: Mapping[str, Any] | None) -> str | None:
    params = params or {}
    for key in ("Authorization", "authorization"):
        if key in params:
            return _bearer(params[key])
    if "token" in params:
        token = params["token"]
        if not isinstance(token, str) or not token:
            raise AuthenticationFailed("The `token` of connection_init must be the API token.")
        return token
    header = conn.headers.get("authorization")
    return _bearer(header) if header is not None else None


async def authenticate(
    services: Services, conn: HTTPConnection, params: Mapping[str, Any] | None = None
) -> Actor | None:
    """The actor behind the connection's credentials; None when it sent none.

    Raises:
        AuthenticationFailed: credentials were sent but are malformed, unknown or revoked.
    """
    token = _token(conn, params)
    if token is not None:
        return await services.auth.authenticate_token(token)
    session: Mapping[str, Any] = conn.scope.get("session") or {}
    if user_id := session.get("user_id"):
        return await services.auth.user_actor(user_id)
    return None


class IsAuthenticated(BasePermission):
    """Every field but `health` needs an authenticated actor; the error says how to get one."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if info.context.actor is None:
            raise not_authenticated(info.context.auth_error or NOT_AUTHENTICATED)
        return True
