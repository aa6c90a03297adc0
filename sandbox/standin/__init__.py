"""The embedded MongoDB stand-in: a MongoDB wire-protocol server backed by mongomock.

Run it with `python -m sandbox.standin --port 0 [--data DIR]` (or `threads-sandbox
mongo-standin ...`), start it from Python with `StandinProcess`, and read its command counters
with `standin_stats`. See DESIGN.md section 2.
"""

from __future__ import annotations

from sandbox.standin.launcher import StandinProcess
from sandbox.standin.stats import standin_reset_stats, standin_stats

__all__ = ["StandinProcess", "standin_reset_stats", "standin_stats"]
