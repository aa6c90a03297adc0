"""A local Threads Graph API: the documented contract, with fault injection and a journal.

Run it with `python -m sandbox.simulator --port 8765` (or `main(argv)`), in tests with
`SimulatorServer`, or mount `create_simulator_app(state, clock)` yourself. Graph endpoints answer
with and without the `/v1.0` prefix; the admin API lives under `/__admin/` (`SimulatorAdmin` is its
client), a feed per account under `/__feed/{username}`, and a local authorize page under
`/oauth/authorize`.

Faithful to `docs/threads-api.md`: the two-step publish flow; container processing per media
type (configurable; VIDEO goes IN_PROGRESS → FINISHED), expiry after 24 h, ERROR for configured bad
media URLs (e.g. a URL containing `fail-download` → `FAILED_DOWNLOADING_VIDEO`); the observed 400
24/4279009 payload for publishing an unfinished container; the 500-character (emoji by UTF-8
bytes), 5-link, 2–20 carousel, poll, topic-tag, alt-text, spoiler and geo-gating rules; 250 posts
and 1,000 replies per rolling 24 h (a carousel counts once) reported by `threads_publishing_limit`
in the `{"data": [{...}]}` shape; OAuth codes (1 h, single use) → short-lived (1 h) → long-lived
(60 days) tokens, refreshable when ≥ 24 h old and unexpired; Graph paging (limit 25 by default,
100 at most, never `before` with `after`); the Graph error envelope (`message`, `type`, `code`,
`error_subcode`, `is_transient`, `fbtrace_id`), code 190 for bad tokens, the flat OAuth error shape
for the code exchange; deterministic insights.

Choices where Meta documents nothing (`docs/threads-api.md` §10; all in `SimulatorConfig` unless
noted):

* quota exceeded → HTTP 400, code 9 / subcode 2207042 (Instagram's content-publishing limit),
  `Retry-After: <seconds until quota frees>` (`quota_error`); replies do not count toward the
  250 posts (`replies_count_toward_posts`);
* publishing an already-published container → HTTP 400 code 100 "has already been published": a
  container is never published twice; ERROR / EXPIRED / carousel-item containers → code 100; an
  unknown container id → 24/4279009 like an unfinished one (publishing.py);
* `THREADS_API__*` errors → code 100 with the name as `message` (publishing.py);
* a refresh returns a new token string and the old one stays valid until it expires
  (`refresh_returns_new_token`); the code exchange includes `expires_in` and `token_type`
  (`short_lived_includes_expires_in`); refreshing too early → code 100 (oauth.py);
* JSON request bodies and lower-case `media_type` are accepted (`accept_json_bodies`,
  `media_type_case_insensitive`);
* all simulated accounts are app testers: any of them may read and reply to any post;
* a revoked token answers code 190 with subcode 458 by default (the admin call picks it).

Time comes from the injected `Clock`; injected latency and hangs use real time (`fault_clock`).
"""

from __future__ import annotations

from sandbox.simulator.admin_client import (
    JournalEntry,
    PublishedPost,
    SimAccount,
    SimulatorAdmin,
    SimulatorError,
)
from sandbox.simulator.app import create_simulator_app
from sandbox.simulator.cli import main
from sandbox.simulator.config import QuotaError, SimulatorConfig
from sandbox.simulator.faults import ENDPOINTS, FaultKind, FaultSpec
from sandbox.simulator.server import SimulatorServer
from sandbox.simulator.state import OffsetClock, SimulatorState

__all__ = [
    "ENDPOINTS",
    "FaultKind",
    "FaultSpec",
    "JournalEntry",
    "OffsetClock",
    "PublishedPost",
    "QuotaError",
    "SimAccount",
    "SimulatorAdmin",
    "SimulatorConfig",
    "SimulatorError",
    "SimulatorServer",
    "SimulatorState",
    "create_simulator_app",
    "main",
]
