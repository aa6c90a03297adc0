"""Context: what every command handler receives, and how a command is declared."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.standin.cursors import CursorRegistry
from sandbox.standin.failures import BAD_VALUE, CommandFailed, bad_value
from sandbox.standin.stats import CommandStats
from sandbox.standin.storage import Engine, StoredCollection
from scheduler.platform.clock import Clock

Reply = dict[str, Any]


@dataclass(slots=True)
class Context:
    """The server's state shared by all connections (used from one thread only)."""

    engine: Engine
    clock: Clock
    cursors: CursorRegistry = field(default_factory=CursorRegistry)
    stats: CommandStats = field(default_factory=CommandStats)

    def now(self) -> datetime:
        return self.clock.now()

    def seconds(self) -> float:
        return self.clock.now().timestamp()


@dataclass(slots=True)
class Call:
    """One command being served."""

    context: Context
    command: dict[str, Any]
    name: str
    connection_id: int

    @property
    def database(self) -> str:
        return str(self.command["$db"])

    def target(self) -> str:
        """The collection named by the command's first field."""
        value = self.command[self.name]
        if not isinstance(value, str) or not value:
            raise CommandFailed(
                BAD_VALUE, f"'{self.name}' needs a collection name (a non-empty string)."
            )
        return value

    def collection(self) -> StoredCollection | None:
        return self.context.engine.collection(self.database, self.target())

    def namespace(self) -> str:
        return f"{self.database}.{self.target()}"

    def document(self, name: str, default: Mapping[str, Any] | None = None) -> dict[str, Any]:
        value = self.command.get(name, default)
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise bad_value(f"'{self.name}.{name}' must be a document.")
        return dict(value)

    def integer(self, name: str, default: int = 0, *, minimum: int = 0) -> int:
        value = self.command.get(name, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise bad_value(f"'{self.name}.{name}' must be an integer, not {value!r}.")
        if value < minimum:
            raise bad_value(f"'{self.name}.{name}' must be at least {minimum}, not {value}.")
        return int(value)

    def flag(self, name: str) -> bool:
        return bool(self.command.get(name, False))


Handler = Callable[[Call], Reply]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command: its handler, the fields it accepts and the ones it refuses by name.

    `fields=None` accepts anything (handshake commands carry driver metadata).
    """

    handler: Handler
    fields: frozenset[str] | None = frozenset()
    refused: frozenset[str] = frozenset()
    monitoring: bool = False


def spec(
    handler: Handler,
    fields: str | None = "",
    refused: str = "",
    *,
    monitoring: bool = False,
) -> CommandSpec:
    """Declare a command with space-separated field names."""
    return CommandSpec(
        handler,
        None if fields is None else frozenset(fields.split()),
        frozenset(refused.split()),
        monitoring,
    )
