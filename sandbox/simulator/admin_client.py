"""SimulatorAdmin: a typed async client of the simulator's admin API (tests, benchmarks, dev)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from sandbox.simulator.faults import FaultSpec

_VERSION_SUFFIX = re.compile(r"/v\d+\.\d+/?$")


@dataclass(frozen=True)
class SimAccount:
    """A simulated account and its long-lived token."""

    user_id: str
    username: str
    access_token: str
    token_expires_at: datetime

    def __repr__(self) -> str:  # keep tokens out of test logs
        return f"SimAccount(user_id={self.user_id!r}, username={self.username!r})"


@dataclass(frozen=True)
class JournalEntry:
    """One request the simulator received (`received_at` is its arrival, UTC with µs)."""

    seq: int
    received_at: datetime
    method: str
    path: str
    endpoint: str
    user_id: str | None
    status: int
    container_id: str | None
    media_id: str | None
    fault: str | None


@dataclass(frozen=True)
class PublishedPost:
    """One post the simulator made public, stamped with the arrival of the call that did it."""

    seq: int
    received_at: datetime
    user_id: str
    username: str
    container_id: str
    media_id: str
    media_type: str
    text: str | None
    reply_to_id: str | None
    quote_post_id: str | None
    children: tuple[str, ...]
    auto_published: bool


class SimulatorError(RuntimeError):
    """The admin API refused a request; the message says why."""


class SimulatorAdmin:
    """Async client of `/__admin/`.

    Args:
        base_url: the simulator's origin or its Graph base (`http://127.0.0.1:PORT/v1.0`).
        http: a client to reuse; without one each call opens and closes its own connection.
    """

    def __init__(self, base_url: str, http: httpx.AsyncClient | None = None) -> None:
        self.origin = _VERSION_SUFFIX.sub("", base_url.rstrip("/"))
        self._http = http

    async def _call(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        url = f"{self.origin}/__admin/{path}"
        if self._http is not None:
            response = await self._http.request(method, url, json=json, params=params)
        else:
            async with httpx.AsyncClient(timeout=30.0) as http:
                response = await http.request(method, url, json=json, params=params)
        if response.status_code >= 400:
            try:
                detail = response.json().get("error", response.text)
            except ValueError:
                detail = response.text
            raise SimulatorError(
                f"Simulator admin {method} {path} failed ({response.status_code}): {detail}"
            )
        return response.json()

    async def health(self) -> datetime:
        """Check the simulator answers; returns its current time."""
        return datetime.fromisoformat((await self._call("GET", "health"))["now"])

    async def create_account(
        self,
        username: str,
        *,
        access_token: str | None = None,
        name: str | None = None,
        scopes: Sequence[str] | None = None,
        token_age_seconds: float = 0.0,
        geo_gating_eligible: bool = True,
        ig_linked: bool = False,
    ) -> SimAccount:
        """Create an account with a long-lived token (`access_token` fixes the token string)."""
        body: dict[str, Any] = {
            "username": username,
            "token_age_seconds": token_age_seconds,
            "geo_gating_eligible": geo_gating_eligible,
            "ig_linked": ig_linked,
        }
        if access_token is not None:
            body["access_token"] = access_token
        if name is not None:
            body["name"] = name
        if scopes is not None:
            body["scopes"] = list(scopes)
        data = await self._call("POST", "accounts", json=body)
        return SimAccount(
            data["user_id"],
            data["username"],
            data["access_token"],
            datetime.fromisoformat(data["expires_at"]),
        )

    async def issue_token(
        self,
        user: str,
        *,
        kind: str = "long",
        access_token: str | None = None,
        age_seconds: float = 0.0,
        expires_in: float | None = None,
        scopes: Sequence[str] | None = None,
    ) -> str:
        """Issue another token for an account (user id or username); returns the token."""
        body: dict[str, Any] = {"kind": kind, "age_seconds": age_seconds}
        if access_token is not None:
            body["access_token"] = access_token
        if expires_in is not None:
            body["expires_in"] = expires_in
        if scopes is not None:
            body["scopes"] = list(scopes)
        return str((await self._call("POST", f"accounts/{user}/tokens", json=body))["access_token"])

    async def auth_code(self, user: str, *, redirect_uri: str | None = None) -> str:
        """An authorization code for an account, as the authorize page would give."""
        body = {"redirect_uri": redirect_uri} if redirect_uri else {}
        return str((await self._call("POST", f"accounts/{user}/auth_codes", json=body))["code"])

    async def set_quota_usage(
        self,
        user: str,
        *,
        posts: int | None = None,
        replies: int | None = None,
        deletes: int | None = None,
    ) -> dict[str, int]:
        """Set how much of an account's rolling quotas is used (all stamped now)."""
        body = {
            k: v
            for k, v in (("posts", posts), ("replies", replies), ("deletes", deletes))
            if v is not None
        }
        return dict(await self._call("POST", f"accounts/{user}/quota", json=body))

    async def revoke_token(
        self, access_token: str | None = None, *, user: str | None = None, subcode: int = 458
    ) -> int:
        """Revoke one token, or all of an account's tokens; returns how many."""
        body: dict[str, Any] = {"subcode": subcode}
        if access_token is not None:
            body["access_token"] = access_token
        if user is not None:
            body["user_id"] = user
        return int((await self._call("POST", "revoke", json=body))["revoked"])

    async def set_faults(self, *faults: FaultSpec | Mapping[str, Any]) -> list[dict[str, Any]]:
        """Replace the active faults (FaultSpecs, `{"kind": ...}` dicts or shorthand dicts)."""
        return await self._faults("PUT", faults)

    async def add_faults(self, *faults: FaultSpec | Mapping[str, Any]) -> list[dict[str, Any]]:
        """Add faults to the active ones."""
        return await self._faults("POST", faults)

    async def _faults(
        self, method: str, faults: Sequence[FaultSpec | Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for fault in faults:
            if isinstance(fault, FaultSpec):
                items.append(fault.to_json())
            elif "kind" in fault:
                items.append(dict(fault))
            else:
                items.extend({"kind": k, **(v or {})} for k, v in fault.items())
        return list((await self._call(method, "faults", json={"faults": items}))["faults"])

    async def faults(self) -> list[dict[str, Any]]:
        """The active faults, with how many times each fired."""
        return list((await self._call("GET", "faults"))["faults"])

    async def clear_faults(self) -> None:
        await self._call("DELETE", "faults")

    async def journal(
        self, *, user: str | None = None, endpoint: str | None = None, since_seq: int = 0
    ) -> list[JournalEntry]:
        """Requests received, oldest first, optionally filtered."""
        params: dict[str, Any] = {"since_seq": since_seq}
        if user is not None:
            params["user_id"] = user
        if endpoint is not None:
            params["endpoint"] = endpoint
        data = await self._call("GET", "journal", params=params)
        return [
            JournalEntry(**{**r, "received_at": datetime.fromisoformat(r["received_at"])})
            for r in data["requests"]
        ]

    async def published(
        self, *, user: str | None = None, container_id: str | None = None, since_seq: int = 0
    ) -> list[PublishedPost]:
        """Posts published, oldest first, optionally filtered."""
        params: dict[str, Any] = {"since_seq": since_seq}
        if user is not None:
            params["user_id"] = user
        if container_id is not None:
            params["container_id"] = container_id
        data = await self._call("GET", "published", params=params)
        return [
            PublishedPost(
                **{
                    **p,
                    "received_at": datetime.fromisoformat(p["received_at"]),
                    "children": tuple(p["children"]),
                }
            )
            for p in data["published"]
        ]

    async def configure(self, **changes: Any) -> dict[str, Any]:
        """Change simulator settings (see SimulatorConfig); returns the whole configuration."""
        return dict(await self._call("PATCH", "config", json=changes))

    async def advance_clock(self, seconds: float) -> datetime:
        """Move the simulator's clock forward (its clock must be adjustable)."""
        data = await self._call("POST", "clock", json={"advance_seconds": seconds})
        return datetime.fromisoformat(data["now"])

    async def reset(self, *, config: bool = False) -> None:
        """Forget everything (and restore default settings if `config`)."""
        await self._call("POST", "reset", json={"config": config})
