"""OAuth: authorization codes, short- and long-lived tokens, refresh, app tokens and debug_token.

Rules (`docs/threads-api.md` §6): codes last 1 hour and work once; the code exchange gives a
short-lived token (1 hour) and answers errors in the flat `{"error_type", "code", "error_message"}`
shape; a valid short-lived token exchanges for a long-lived one (60 days); a long-lived token
refreshes only when it is at least 24 hours old and not expired. Choices (§6.7 there):
exchange/refresh errors use the Graph envelope — code 190 when the token is invalid or expired (the
account must reconnect), code 100 when the call itself is wrong (too young to refresh, wrong token
kind), code 101 for a wrong app secret.

The simulator also serves a tiny authorize page (`/oauth/authorize`) that lists the simulated
accounts and redirects back with `?code=…&state=…#_`, so the dashboard's Connect flow works
locally.
"""

from __future__ import annotations

from datetime import timedelta
from html import escape
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from sandbox.simulator.objects import ALL_SCOPES, TokenKind
from sandbox.simulator.params import GraphRequest
from sandbox.simulator.responses import GraphError, OAuthError, Reply, invalid_param, json_reply
from sandbox.simulator.state import SimulatorState


def _expires_in(state: SimulatorState, expires_at: Any, now: Any) -> int:
    return max(0, int((expires_at - now).total_seconds()))


def exchange_code(state: SimulatorState, req: GraphRequest) -> Reply:
    """`POST /oauth/access_token` with `grant_type=authorization_code`."""
    config, p = state.config, req.params
    if p.get("grant_type") != "authorization_code":
        raise OAuthError("Unsupported grant_type; use authorization_code.")
    if p.get("client_id") != config.app_id:
        raise OAuthError("Invalid platform app: the client_id is not a Threads app id.")
    if p.get("client_secret") != config.app_secret:
        raise OAuthError("Error validating client secret.")
    code = state.codes.get((p.get("code") or "").removesuffix("#_"))
    if (
        code is None
        or code.used
        or req.now - code.issued_at >= timedelta(seconds=config.auth_code_seconds)
    ):
        raise OAuthError("Matching code was not found or was already used")
    if code.redirect_uri is not None and p.get("redirect_uri") != code.redirect_uri:
        raise OAuthError(
            "Error validating verification code. Please make sure your redirect_uri is identical "
            "to the one you used in the OAuth dialog request"
        )
    code.used = True
    token = state.issue_token(code.user_id, TokenKind.SHORT, scopes=code.scopes)
    payload: dict[str, Any] = {"access_token": token.value, "user_id": int(code.user_id)}
    if config.short_lived_includes_expires_in:
        payload.update(token_type="bearer", expires_in=config.short_lived_seconds)
    return json_reply(payload)


def app_token(state: SimulatorState, req: GraphRequest) -> Reply:
    """`GET /oauth/access_token?grant_type=client_credentials`."""
    config, p = state.config, req.params
    if p.get("grant_type") != "client_credentials":
        raise OAuthError("Unsupported grant_type; use client_credentials.")
    if p.get("client_id") != config.app_id or p.get("client_secret") != config.app_secret:
        raise OAuthError("Error validating client secret.")
    token = state.issue_token(
        None, TokenKind.APP, value=f"TH|{config.app_id}|{state.rng.getrandbits(64):016x}"
    )
    return json_reply({"access_token": token.value, "token_type": "bearer"})


def exchange_long_lived(state: SimulatorState, req: GraphRequest) -> Reply:
    """`GET /access_token?grant_type=th_exchange_token` (short-lived → long-lived)."""
    if req.get("grant_type") != "th_exchange_token":
        raise invalid_param("Param grant_type must be th_exchange_token")
    if req.get("client_secret") != state.config.app_secret:
        raise GraphError("Error validating client secret.", code=101, type="OAuthException")
    account, token = state.authenticate(req.token, req.now)
    if token.kind is not TokenKind.SHORT:
        raise invalid_param("Only a short-lived token can be exchanged for a long-lived token")
    long_lived = state.issue_token(account.user_id, TokenKind.LONG, scopes=token.scopes)
    return json_reply(
        {
            "access_token": long_lived.value,
            "token_type": "bearer",
            "expires_in": _expires_in(state, long_lived.expires_at, req.now),
        }
    )


def refresh(state: SimulatorState, req: GraphRequest) -> Reply:
    """`GET /refresh_access_token?grant_type=th_refresh_token`."""
    if req.get("grant_type") != "th_refresh_token":
        raise invalid_param("Param grant_type must be th_refresh_token")
    account, token = state.authenticate(req.token, req.now)
    if token.kind is not TokenKind.LONG:
        raise invalid_param("Only a long-lived token can be refreshed")
    age = (req.now - token.issued_at).total_seconds()
    minimum = state.config.refresh_min_age_seconds
    if age < minimum:
        raise invalid_param(
            f"The access token can be refreshed only when it is at least {minimum // 3600} hours "
            f"old; this one is {int(age // 3600)} hours old."
        )
    if state.config.refresh_returns_new_token:
        fresh = state.issue_token(account.user_id, TokenKind.LONG, scopes=token.scopes)
    else:
        token.issued_at = req.now
        token.expires_at = req.now + timedelta(seconds=state.config.long_lived_seconds)
        fresh = token
    return json_reply(
        {
            "access_token": fresh.value,
            "token_type": "bearer",
            "expires_in": _expires_in(state, fresh.expires_at, req.now),
        }
    )


def debug_token(state: SimulatorState, req: GraphRequest) -> Reply:
    """`GET /debug_token?input_token=…`: what the simulator knows about a token."""
    state.authenticate(req.token, req.now)
    token = state.tokens.get(req.require("input_token"))
    if token is None:
        return json_reply({"data": {"is_valid": False, "scopes": []}})
    valid = token.revoked_subcode is None and req.now < token.expires_at
    data = {
        "type": "APP" if token.kind is TokenKind.APP else "USER",
        "application": "Threads Simulator",
        "app_id": state.config.app_id,
        "data_access_expires_at": int((token.issued_at + timedelta(days=90)).timestamp()),
        "expires_at": int(token.expires_at.timestamp()),
        "is_valid": valid,
        "issued_at": int(token.issued_at.timestamp()),
        "scopes": sorted(token.scopes),
        "user_id": token.user_id,
    }
    return json_reply({"data": data})


_DENIED = urlencode({"error": "access_denied", "error_reason": "user_denied"})


def authorize_page(state: SimulatorState, request: Request) -> Response:
    """`GET /oauth/authorize`: pick a simulated account to grant access as."""
    q = request.query_params
    if q.get("client_id") != state.config.app_id or not q.get("redirect_uri"):
        return HTMLResponse(
            "<p>Invalid request: client_id must be the simulator's app id and redirect_uri is "
            "required.</p>",
            status_code=400,
        )
    rows = "".join(
        f'<li><a href="/oauth/authorize/grant?{escape(urlencode({**q, "user_id": a.user_id}))}">'
        f"@{escape(a.username)}</a></li>"
        for a in state.accounts.values()
    )
    body = rows or "<li>No simulated accounts yet: create one with POST /__admin/accounts.</li>"
    return HTMLResponse(
        "<!doctype html><title>Threads simulator: authorize</title><h1>Grant access to the app "
        f"as…</h1><ul>{body}</ul>"
        f'<p><a href="{escape(q["redirect_uri"])}?{escape(_DENIED)}">Cancel</a></p>'
    )


def authorize_grant(state: SimulatorState, request: Request) -> Response:
    """Issue a code for the chosen account and redirect back, as Meta does (with `#_`)."""
    q = request.query_params
    account = state.accounts.get(q.get("user_id", ""))
    redirect_uri = q.get("redirect_uri")
    if account is None or not redirect_uri or q.get("client_id") != state.config.app_id:
        return HTMLResponse("<p>Unknown account or invalid request.</p>", status_code=400)
    requested = frozenset(s for s in q.get("scope", "").replace(" ", ",").split(",") if s)
    code = state.issue_code(account.user_id, redirect_uri, (requested & ALL_SCOPES) or ALL_SCOPES)
    params = {"code": code.value}
    if "state" in q:
        params["state"] = q["state"]
    return RedirectResponse(f"{redirect_uri}?{urlencode(params)}#_", status_code=302)
