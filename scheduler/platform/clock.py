"""Time: the only module that reads the wall clock or sleeps.

Everything else receives a `Clock`, so scheduling, recurrence and publishing are tested
without sleeping (`ManualClock`) and a linter (ruff TID251) bans every way around it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of aware UTC instants and of waiting."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...

    async def sleep_until(self, instant: datetime) -> None: ...


class SystemClock:
    """The real clock: aware UTC datetimes, asyncio sleeping."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    async def sleep_until(self, instant: datetime) -> None:
        # Sleep most of the way, then re-read the clock: long sleeps drift by a few ms and
        # publishing must never happen before `instant`.
        while (remaining := (instant - self.now()).total_seconds()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(remaining if remaining < 0.05 else remaining - 0.01)


class ManualClock:
    """A clock that only moves when told to; `sleep` waits until `advance` passes its deadline."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2030, 1, 1, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime, e.g. datetime(..., tzinfo=UTC)")
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self.advance(instant - self._now)

    def advance(self, delta: timedelta | float) -> None:
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        if delta < timedelta(0):
            raise ValueError("ManualClock cannot go backwards")
        self._now += delta
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self._now + timedelta(seconds=max(0.0, seconds)))

    async def sleep_until(self, instant: datetime) -> None:
        if instant <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (instant, next(self._seq), future))
        await future

    @property
    def sleepers(self) -> int:
        """How many coroutines are waiting on this clock (lets tests wait for a job to park)."""
        return sum(1 for _, _, f in self._sleepers if not f.done())
