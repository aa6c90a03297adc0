"""The admin API under `/__admin/` (JSON): accounts, tokens, faults, quotas, clock, journal, reset.

    GET    /__admin/health                      {"ok": true, "now": ...}
    POST   /__admin/accounts                    {"username", "access_token"?, "name"?, "scopes"?,
                                                 "token_age_seconds"?, "geo_gating_eligible"?,
                                                 "ig_linked"?} → {"user_id", "username",
                                                 "access_token", "expires_at", ...}
    GET    /__admin/accounts                    → {"accounts": [...]}
    POST   /__admin/accounts/{ref}/tokens       {"kind": "long"|"short", "access_token"?,
                                                 "age_seconds"?, "expires_in"?} → token
    POST   /__admin/accounts/{ref}/auth_codes   {"redirect_uri"?} → {"code"}
    POST   /__admin/accounts/{ref}/quota        {"posts"?, "replies"?, "deletes"?}: set usage
    POST   /__admin/revoke                      {"access_token"} or {"user_id"}, "subcode"?
    GET|POST|PUT|DELETE /__admin/faults         list | add | replace | clear (see faults.py)
    GET    /__admin/journal                     ?user_id&endpoint&since_seq&limit
    GET    /__admin/published                   ?user_id&container_id&since_seq
    GET|PATCH /__admin/config                   read | change settings (config.py)
    GET|POST  /__admin/clock                    read | {"advance_seconds": n}
    POST   /__admin/reset                       {"config": false}

`{ref}` is a user id or a username. Bad input answers 400 `{"error": "<what to fix>"}`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.simulator.faults import parse_faults
from sandbox.simulator.objects import ALL_SCOPES, Token, TokenKind
from sandbox.simulator.state import SimulatorState

Endpoint = Callable[[Request], Awaitable[Response]]


def token_json(token: Token) -> dict[str, Any]:
    return {
        "user_id": token.user_id,
        "access_token": token.value,
        "kind": token.kind.value,
        "issued_at": token.issued_at.isoformat(timespec="microseconds"),
        "expires_at": token.expires_at.isoformat(timespec="microseconds"),
    }


class AdminApi:
    """The admin handlers of one simulator state; each takes the request and its JSON body."""

    def __init__(self, state: SimulatorState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        table = [
            ("/health", self.health, ["GET"]),
            ("/accounts", self.create_account, ["POST"]),
            ("/accounts", self.list_accounts, ["GET"]),
            ("/accounts/{ref}/tokens", self.issue_token, ["POST"]),
            ("/accounts/{ref}/auth_codes", self.auth_code, ["POST"]),
            ("/accounts/{ref}/quota", self.set_quota, ["POST"]),
            ("/revoke", self.revoke, ["POST"]),
            ("/faults", self.faults, ["GET", "POST", "PUT", "DELETE"]),
            ("/journal", self.journal, ["GET"]),
            ("/published", self.published, ["GET"]),
            ("/config", self.config, ["GET", "PATCH"]),
            ("/clock", self.clock, ["GET", "POST"]),
            ("/reset", self.reset, ["POST"]),
        ]
        return [
            Route(path, _json_endpoint(handler), methods=methods)
            for path, handler, methods in table
        ]

    @staticmethod
    def scopes(body: dict[str, Any]) -> frozenset[str]:
        value = body.get("scopes")
        if value is None:
            return ALL_SCOPES
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            raise ValueError('"scopes" must be a list of permission names.')
        return frozenset(value)

    def create_account(self, request: Request, body: dict[str, Any]) -> Any:
        account, token = self.state.create_account(
            str(body.get("username", "")),
            name=body.get("name"),
            access_token=body.get("access_token"),
            scopes=self.scopes(body),
            token_age_seconds=float(body.get("token_age_seconds", 0)),
            geo_gating_eligible=bool(body.get("geo_gating_eligible", True)),
            ig_linked=bool(body.get("ig_linked", False)),
        )
        return {
            **account.to_json(),
            **token_json(token),
        }

    def list_accounts(self, request: Request, body: dict[str, Any]) -> Any:
        return {"accounts": [a.to_json() for a in self.state.accounts.values()]}

    def issue_token(self, request: Request, body: dict[str, Any]) -> Any:
        account = self.state.account_by_ref(request.path_params["ref"])
        try:
            kind = TokenKind(body.get("kind", "long"))
        except ValueError:
            raise ValueError('"kind" must be "long" or "short".') from None
        expires_in = body.get("expires_in")
        token = self.state.issue_token(
            account.user_id,
            kind,
            value=body.get("access_token"),
            age_seconds=float(body.get("age_seconds", 0)),
            scopes=self.scopes(body),
            expires_in=None if expires_in is None else float(expires_in),
        )
        return token_json(token)

    def auth_code(self, request: Request, body: dict[str, Any]) -> Any:
        account = self.state.account_by_ref(request.path_params["ref"])
        code = self.state.issue_code(account.user_id, body.get("redirect_uri"), self.scopes(body))
        return {"code": code.value, "user_id": account.user_id}

    def set_quota(self, request: Request, body: dict[str, Any]) -> Any:
        account = self.state.account_by_ref(request.path_params["ref"])
        now = self.state.clock.now()
        for kind in ("posts", "replies", "deletes"):
            if kind in body:
                self.state.fill_quota(account, kind, int(body[kind]), now)
        return {k: self.state.quota_usage(account, k, now) for k in ("posts", "replies", "deletes")}

    def revoke(self, request: Request, body: dict[str, Any]) -> Any:
        ref = body.get("user_id") or body.get("username")
        user_id = self.state.account_by_ref(str(ref)).user_id if ref else None
        if user_id is None and not body.get("access_token"):
            raise ValueError(
                'Give "access_token", or "user_id" to revoke all of an account\'s tokens.'
            )
        count = self.state.revoke(
            token=body.get("access_token"), user_id=user_id, subcode=int(body.get("subcode", 458))
        )
        return {"revoked": count}

    def faults(self, request: Request, body: dict[str, Any]) -> Any:
        if request.method in ("PUT", "DELETE"):
            self.state.faults.clear()
        if request.method in ("POST", "PUT"):
            specs = parse_faults(body)
            for spec in specs:
                if spec.user_id is not None:
                    spec.user_id = self.state.account_by_ref(spec.user_id).user_id
            self.state.faults.add(specs)
        return {"faults": [spec.to_json() for spec in self.state.faults.specs]}

    def journal(self, request: Request, body: dict[str, Any]) -> Any:
        q = request.query_params
        records = self.state.journal.query_requests(
            user_id=q.get("user_id"),
            endpoint=q.get("endpoint"),
            since_seq=int(q.get("since_seq", 0)),
            limit=int(q["limit"]) if "limit" in q else None,
        )
        return {"requests": [r.to_json() for r in records]}

    def published(self, request: Request, body: dict[str, Any]) -> Any:
        q = request.query_params
        records = self.state.journal.query_published(
            user_id=q.get("user_id"),
            container_id=q.get("container_id"),
            since_seq=int(q.get("since_seq", 0)),
        )
        return {"published": [r.to_json() for r in records]}

    def config(self, request: Request, body: dict[str, Any]) -> Any:
        if request.method == "PATCH":
            self.state.config.update(body)
        return self.state.config.to_json()

    def clock(self, request: Request, body: dict[str, Any]) -> Any:
        if request.method == "POST":
            advance = getattr(self.state.clock, "advance", None)
            if advance is None:
                raise ValueError("This simulator's clock cannot be moved (it is not adjustable).")
            advance(timedelta(seconds=float(body.get("advance_seconds", 0))))
        return {"now": self.state.clock.now().isoformat(timespec="microseconds")}

    def reset(self, request: Request, body: dict[str, Any]) -> Any:
        self.state.reset(config=bool(body.get("config", False)))
        return {"ok": True}

    def health(self, request: Request, body: dict[str, Any]) -> Any:
        return {"ok": True, "now": self.state.clock.now().isoformat(timespec="microseconds")}


def admin_routes(state: SimulatorState) -> list[Route]:
    """The admin endpoints, bound to one simulator state."""
    return AdminApi(state).routes()


def _json_endpoint(handler: Callable[[Request, dict[str, Any]], Any]) -> Endpoint:
    async def run(request: Request) -> Response:
        try:
            raw = await request.body()
            body = json.loads(raw) if raw else {}
            if isinstance(body, list):
                body = {"faults": body}
            if not isinstance(body, dict):
                return _bad_request("The request body must be a JSON object.")
            result = handler(request, body)
        except (ValueError, TypeError) as exc:
            return _bad_request(str(exc))
        return JSONResponse(result)

    return run


def _bad_request(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=400)
