"""Fault injection: what can go wrong, where, how often, and how many times.

A `FaultSpec` names a kind, an optional scope (one account, one endpoint), a probability `p` and an
optional `count` (how many times it fires before it is spent). Kinds:

before the request is handled
    latency          wait `min_ms`..`max_ms` (uniform), then handle it (stacks with others)
    hang             hold the request `seconds` (None: until the client gives up), then
                     handle it; if the client disconnects meanwhile, nothing is done
    drop             close the connection without an answer; nothing is done
    error_5xx        answer `status` (500: Graph code 1 body; 502/503/504: a proxy's HTML)
    transient        answer `status` (500) with Graph code 2 and `is_transient: true`
    rate_limited     answer 400 with throttling `code` (4; or 17, 32, 341, 613) and
                     `Retry-After: retry_after` when given
    auth_error       answer 400 with code 190 and `subcode` (463: expired), as if the token
                     died
    quota_exhausted  answer the configured quota error with `Retry-After: retry_after`

after the request was handled successfully (the work is done — e.g. the post is published)
    accept_then_error  answer `status` (500) with a Graph code 1 body instead of the result
    accept_then_drop   close the connection without an answer
    accept_then_hang   hold the answer `seconds` (None: until the client gives up)

`accept_then_*` apply to `publish` unless another endpoint is named. Endpoint names are listed in
`ENDPOINTS`. Probabilities use a seeded RNG, so runs are reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    LATENCY = "latency"
    HANG = "hang"
    DROP = "drop"
    ERROR_5XX = "error_5xx"
    TRANSIENT = "transient"
    RATE_LIMITED = "rate_limited"
    AUTH_ERROR = "auth_error"
    QUOTA_EXHAUSTED = "quota_exhausted"
    ACCEPT_THEN_ERROR = "accept_then_error"
    ACCEPT_THEN_DROP = "accept_then_drop"
    ACCEPT_THEN_HANG = "accept_then_hang"


# The endpoint names used by the journal and by endpoint-scoped faults.
ENDPOINTS = frozenset(
    {
        "create_container", "publish", "container_status", "profile", "get_post", "get_object",
        "publishing_limit", "list_threads", "list_replies", "media_replies", "delete_post",
        "post_insights", "account_insights", "oauth_code", "app_token", "oauth_exchange",
        "oauth_refresh", "debug_token", "unknown",
    }
)  # fmt: skip
AFTER_KINDS = frozenset(
    {FaultKind.ACCEPT_THEN_ERROR, FaultKind.ACCEPT_THEN_DROP, FaultKind.ACCEPT_THEN_HANG}
)
_ALIASES = {"latency_ms": FaultKind.LATENCY, "timeout": FaultKind.HANG, "5xx": FaultKind.ERROR_5XX}
_PARAM_ALIASES = {"min": "min_ms", "max": "max_ms", "probability": "p"}


@dataclass
class FaultSpec:
    """One injected fault (see the module docstring for the kinds and their parameters)."""

    kind: FaultKind
    p: float = 1.0
    count: int | None = None
    user_id: str | None = None
    endpoint: str | None = None
    min_ms: float = 0.0
    max_ms: float = 0.0
    seconds: float | None = None
    status: int | None = None
    code: int | None = None
    subcode: int | None = None
    retry_after: int | None = None
    fired: int = 0

    def __post_init__(self) -> None:
        self.kind = FaultKind(self.kind)
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"Fault probability p must be between 0 and 1, not {self.p}.")
        if self.count is not None and self.count < 0:
            raise ValueError(f"Fault count must be 0 or more, not {self.count}.")
        if self.max_ms < self.min_ms:
            self.max_ms = self.min_ms
        if self.endpoint is None and self.kind in AFTER_KINDS:
            self.endpoint = "publish"
        if self.endpoint is not None and self.endpoint not in ENDPOINTS:
            raise ValueError(
                f"Unknown endpoint {self.endpoint!r} for a fault; use one of: "
                f"{', '.join(sorted(ENDPOINTS))}."
            )

    @property
    def spent(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["kind"] = self.kind.value
        return {k: v for k, v in data.items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultSpec:
        """Build from `{"kind": ..., ...}`; raises ValueError naming what is wrong."""
        # `fired` is reported by to_json and ignored here, so a listed fault can be sent back.
        data = {_PARAM_ALIASES.get(k, k): v for k, v in data.items() if k != "fired"}
        known = {f.name for f in fields(cls)} - {"fired"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(
                f"Unknown fault field(s) {sorted(unknown)}; known fields: {sorted(known)}."
            )
        kind = data.get("kind")
        try:
            name = str(kind)
            data["kind"] = _ALIASES[name] if name in _ALIASES else FaultKind(name)
        except ValueError:
            kinds = ", ".join(k.value for k in FaultKind)
            raise ValueError(f"Unknown fault kind {kind!r}; use one of: {kinds}.") from None
        try:
            return cls(**data)
        except TypeError as exc:
            raise ValueError(f"Malformed fault {data!r}: {exc}.") from None


def parse_faults(body: Any) -> list[FaultSpec]:
    """Parse `{"faults": [...]}`, a list of faults, or shorthand `{"latency_ms": {"p": 0.1}}`."""
    if isinstance(body, dict) and "faults" in body:
        body = body["faults"]
    if isinstance(body, dict):
        if "kind" in body:
            body = [body]
        else:
            body = [{"kind": kind, **(params or {})} for kind, params in body.items()]
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise ValueError(
            'Send faults as {"faults": [{"kind": "error_5xx", "p": 0.1}, ...]} or as '
            '{"latency_ms": {"p": 0.1, "min": 50, "max": 500}}.'
        )
    return [FaultSpec.from_json(item) for item in body]


class FaultSet:
    """The active faults; `pick` decides (and counts) which fire for one request."""

    def __init__(self, seed: int = 0) -> None:
        self.specs: list[FaultSpec] = []
        self.rng = random.Random(seed)

    def add(self, specs: list[FaultSpec]) -> None:
        self.specs.extend(specs)

    def clear(self) -> None:
        self.specs.clear()

    def pick(self, *, after: bool, endpoint: str, user_id: str | None) -> list[FaultSpec]:
        """The faults that fire for this request in this phase (before or after handling)."""
        fired: list[FaultSpec] = []
        for spec in self.specs:
            if (
                (spec.kind in AFTER_KINDS) != after
                or spec.spent
                or (spec.endpoint is not None and spec.endpoint != endpoint)
                or (spec.user_id is not None and spec.user_id != user_id)
            ):
                continue
            if spec.p >= 1.0 or self.rng.random() < spec.p:
                spec.fired += 1
                fired.append(spec)
        return fired

    def delay_seconds(self, spec: FaultSpec) -> float:
        """A latency draw for a `latency` fault."""
        return self.rng.uniform(spec.min_ms, spec.max_ms) / 1000.0
