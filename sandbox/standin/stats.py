"""Stats: how many commands the stand-in served, so tests can assert "no queries while idle".

Handshake and monitoring commands (PyMongo's monitor sends `hello` every ~10 s) are reported
apart and never counted in `total`. The server answers `{standinStats: 1}` with
`{commands: {name: n}, total: n, monitoring: {name: n}}` and `{standinResetStats: 1}` zeroes
both; `standin_stats()` is the client-side helper tests call.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pymongo import AsyncMongoClient

MONITORING_COMMANDS = frozenset(
    {
        "hello",
        "isMaster",
        "ismaster",
        "ping",
        "buildInfo",
        "buildinfo",
        "endSessions",
        "standinStats",
        "standinResetStats",
    }
)


@dataclass(slots=True)
class CommandStats:
    """Served commands per name, split into counted and monitoring."""

    commands: Counter[str] = field(default_factory=Counter)
    monitoring: Counter[str] = field(default_factory=Counter)

    def record(self, name: str) -> None:
        (self.monitoring if name in MONITORING_COMMANDS else self.commands)[name] += 1

    def reset(self) -> None:
        self.commands.clear()
        self.monitoring.clear()

    def document(self) -> dict[str, Any]:
        return {
            "commands": dict(self.commands),
            "total": sum(self.commands.values()),
            "monitoring": dict(self.monitoring),
        }


async def standin_stats(client_or_url: AsyncMongoClient[Any] | str) -> dict[str, int]:
    """Counted commands served so far, by name (`sum(...values())` is the total).

    Args:
        client_or_url: a connected client, or a `mongodb://` URL of the stand-in.
    """
    reply = await _admin_command(client_or_url, "standinStats")
    return {str(name): int(count) for name, count in reply["commands"].items()}


async def standin_reset_stats(client_or_url: AsyncMongoClient[Any] | str) -> None:
    """Zero the stand-in's command counters."""
    await _admin_command(client_or_url, "standinResetStats")


async def _admin_command(client_or_url: AsyncMongoClient[Any] | str, name: str) -> dict[str, Any]:
    if isinstance(client_or_url, str):
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            client_or_url, serverSelectionTimeoutMS=5000
        )
        try:
            return await client.admin.command(name)
        finally:
            await client.close()
    reply: dict[str, Any] = await client_or_url.admin.command(name)
    return reply
