"""Sessions: who is logged in, the CSRF token and one-shot flash messages.

The signed session cookie (`ts_session`, set by `web.security`) holds `user_id` and `email` once
logged in, and `csrf`, the token every state-changing form and HTMX request must echo. This is
the one module that turns a session into an `Actor` (`current_actor`).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request

from scheduler.accounts.actors import Actor
from scheduler.platform.documents import User
from web.state import get_services

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class LoginRequired(Exception):
    """No one is logged in: pages redirect to /login, HTMX gets HX-Redirect, SSE gets 401."""


async def current_actor(request: HTTPConnection) -> Actor:
    """The logged-in user as the core's `Actor` (cached for the request).

    Raises:
        LoginRequired: nobody is logged in.
        AuthenticationFailed: the session's user no longer exists.
    """
    cached = getattr(request.state, "actor", None)
    if isinstance(cached, Actor):
        return cached
    user_id = request.session.get("user_id")
    if not user_id:
        raise LoginRequired()
    actor = await get_services(request).auth.user_actor(user_id)
    request.state.actor = actor
    return actor


def session_actor(request: HTTPConnection) -> Actor | None:
    """The actor `current_actor` found for this request, if it ran (for templates)."""
    cached = getattr(request.state, "actor", None)
    return cached if isinstance(cached, Actor) else None


def log_in(request: Request, user: User) -> None:
    """Start a fresh session for `user` (a new CSRF token: nothing carries over)."""
    request.session.clear()
    request.session["user_id"] = str(user.id)
    request.session["email"] = user.email
    request.session["csrf"] = secrets.token_urlsafe(32)
    request.state.actor = None


def log_out(request: Request) -> None:
    request.session.clear()
    request.state.actor = None


def csrf_token(request: HTTPConnection) -> str:
    """This session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def flash(request: Request, message: str, kind: str = "info") -> None:
    """Show `message` on the next page rendered for this session."""
    messages: list[dict[str, str]] = list(request.session.get("flash", []))
    messages.append({"message": message, "kind": kind})
    request.session["flash"] = messages[-5:]


def take_flashes(request: HTTPConnection) -> list[dict[str, Any]]:
    """The pending flash messages, removed from the session."""
    if "flash" not in request.session:
        return []
    messages = request.session.pop("flash")
    return list(messages) if isinstance(messages, list) else []


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after logging in; anything else (other hosts, `//x`) is ignored."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target
