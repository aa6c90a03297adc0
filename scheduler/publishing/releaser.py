"""Releaser: fires prepared publishes at their exact instant, outside SAQ's concurrency slots.

A publish job only prepares (containers created and processed) and then *arms* its release here:
one asyncio task per occurrence sleeping on the injected clock until the instant. Waiting therefore
costs no worker slot, and thousands of posts due at once are released together. The lease on the
post (in MongoDB) still belongs to this process, so if it dies another worker takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from scheduler.platform.clock import Clock

log = logging.getLogger(__name__)

Release = Callable[[], Awaitable[None]]
HandBack = Callable[[], Awaitable[None]]


class Releaser:
    """Per-process timers for armed occurrences; `drain` hands back what has not started."""

    def __init__(self, clock: Clock, *, max_concurrent: int = 200) -> None:
        self._clock = clock
        self._gate = asyncio.Semaphore(max_concurrent)
        # occurrence key -> (lease token, timer task, hand-back)
        self._armed: dict[str, tuple[str, asyncio.Task[None], HandBack]] = {}
        self._running: set[asyncio.Task[None]] = set()

    @property
    def armed(self) -> int:
        return len(self._armed)

    @property
    def running(self) -> int:
        return len(self._running)

    def arm(
        self, key: str, token: str, at: datetime, release: Release, hand_back: HandBack
    ) -> None:
        """Run `release` at `at`; on shutdown before `at`, `hand_back` returns the work instead.

        An occurrence armed again with the same lease token (a duplicate job) is armed once; with
        a new token (the post was edited and claimed again) the new one replaces the old.
        """
        current = self._armed.get(key)
        if current is not None:
            if current[0] == token:
                return
            current[1].cancel()
        task = asyncio.create_task(self._fire(key, token, at, release), name=f"release {key}")
        self._armed[key] = (token, task, hand_back)

    async def _fire(self, key: str, token: str, at: datetime, release: Release) -> None:
        try:
            await self._clock.sleep_until(at)
        finally:
            if key in self._armed and self._armed[key][0] == token:
                del self._armed[key]
        current = asyncio.current_task()
        assert current is not None
        self._running.add(current)
        try:
            async with self._gate:
                await release()
        except Exception:
            log.exception("release of %s failed", key)
        finally:
            self._running.discard(current)

    async def drain(self, grace_seconds: float) -> None:
        """Shutdown: hand back everything still waiting, let running releases finish."""
        armed, self._armed = dict(self._armed), {}
        for _, task, _ in armed.values():
            task.cancel()
        for _, task, hand_back in armed.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
            try:
                await hand_back()
            except Exception:
                log.exception("could not hand back an armed publish; its lease will expire")
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace_seconds)
