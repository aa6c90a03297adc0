"""Commands: dispatch one command document to its handler and shape the reply.

Commands run one at a time: the server calls `Dispatcher.run` synchronously from its single
event loop, and mongomock (not thread-safe) is never touched from anywhere else. Options the
stand-in does not implement are refused by name, never silently ignored: transactions,
`collation`, `hint`, `let`, `arrayFilters`, change streams, unknown commands and unknown
fields all come back as `{ok: 0}` errors that PyMongo raises as `OperationFailure`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sandbox.standin import admin, crud
from sandbox.standin.context import Call, CommandSpec, Context, Reply
from sandbox.standin.failures import (
    BAD_VALUE,
    COMMAND_NOT_FOUND,
    INTERNAL_ERROR,
    MISSING_DB,
    CommandFailed,
    from_exception,
    refuse_option,
    unknown_field,
)
from sandbox.standin.storage import Engine
from scheduler.platform.clock import Clock, SystemClock

log = logging.getLogger("sandbox.standin")

HANDLERS: dict[str, CommandSpec] = {**admin.HANDLERS, **crud.HANDLERS}

# Fields any command may carry; none of them changes what a single standalone server returns.
GENERIC_FIELDS = frozenset(
    {
        "$db",
        "lsid",
        "txnNumber",  # retryable writes; harmless without startTransaction
        "$readPreference",
        "$clusterTime",
        "readConcern",
        "writeConcern",
        "maxTimeMS",
        "comment",
        "apiVersion",
        "apiStrict",
        "apiDeprecationErrors",
    }
)
_READ_CONCERN_LEVELS = {None, "local", "available", "majority"}


class Dispatcher:
    """Runs commands against one engine and keeps the command counts."""

    def __init__(self, engine: Engine | None = None, *, clock: Clock | None = None) -> None:
        self.context = Context(engine or Engine(), clock or SystemClock())

    def run(self, command: dict[str, Any], connection_id: int = 0) -> Reply:
        """Serve one command; always returns a reply document (errors included)."""
        name = next(iter(command), "")
        self.context.stats.record(name)
        try:
            reply = self._run(name, command, connection_id)
        except Exception as exc:
            failure = from_exception(exc)
            if failure is None:
                log.exception("Internal error while serving %r", name)
                failure = CommandFailed(
                    INTERNAL_ERROR, f"Internal stand-in error in '{name}': {exc!r}"
                )
            return failure.to_reply()
        reply["ok"] = 1.0
        return reply

    def _run(self, name: str, command: dict[str, Any], connection_id: int) -> Reply:
        found = HANDLERS.get(name)
        if found is None:
            raise CommandFailed(
                COMMAND_NOT_FOUND,
                f"no such command: '{name}'. The MongoDB stand-in implements: "
                f"{', '.join(sorted(HANDLERS))}.",
            )
        if "startTransaction" in command or "autocommit" in command:
            raise admin.transactions_refused()
        if found.fields is not None:
            _check_fields(name, command, found)
        if not isinstance(command.get("$db"), str):
            raise CommandFailed(MISSING_DB, "OP_MSG requests require a $db argument.")
        return found.handler(Call(self.context, command, name, connection_id))

    def reap_cursors(self) -> int:
        """Kill cursors idle for ten minutes; return how many."""
        return self.context.cursors.reap(self.context.seconds())


def _check_fields(name: str, command: Mapping[str, Any], found: CommandSpec) -> None:
    assert found.fields is not None
    for field in command:
        if field == name or field in GENERIC_FIELDS:
            continue
        if field in found.refused:
            raise refuse_option(field, name)
        if field not in found.fields:
            raise unknown_field(name, field)
    concern = command.get("readConcern")
    if concern is not None:
        level = concern.get("level") if isinstance(concern, Mapping) else "?"
        if level not in _READ_CONCERN_LEVELS:
            raise CommandFailed(
                BAD_VALUE,
                f"readConcern level {level!r} is not supported by the MongoDB stand-in; use "
                "'local' or 'majority'.",
            )
