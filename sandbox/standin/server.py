"""Server: the asyncio TCP server that frames messages and feeds the dispatcher.

One event loop serves every connection. Each command runs to completion synchronously inside
the loop, so commands from different connections (and processes) never interleave: a
`find_one_and_update` claim is atomic, as on a real server. Background tasks snapshot the data
when it changed (`--data`) and reap idle cursors.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from pathlib import Path
from typing import IO, Any

import bson

from sandbox.standin import snapshot
from sandbox.standin.commands import Dispatcher
from sandbox.standin.failures import BAD_VALUE, UNSUPPORTED_OP_QUERY, CommandFailed
from sandbox.standin.storage import Engine
from sandbox.standin.wire import (
    Request,
    WireError,
    encode_op_msg,
    encode_op_reply,
    parse_request,
    read_message,
)
from scheduler.platform.clock import Clock, SystemClock

log = logging.getLogger("sandbox.standin")

SNAPSHOT_INTERVAL_SECONDS = 2.0
REAP_INTERVAL_SECONDS = 60.0
_HANDSHAKES = {"hello", "isMaster", "ismaster"}


class StandinServer:
    """A MongoDB wire-protocol server backed by mongomock.

    Args:
        host: interface to listen on.
        port: TCP port; 0 picks a free one (read it back from `port`/`url`).
        data: directory for the snapshot; None keeps everything in memory only.
        clock: source of time for sleeps, cursor timeouts and `localTime`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        data: Path | None = None,
        clock: Clock | None = None,
        snapshot_interval: float = SNAPSHOT_INTERVAL_SECONDS,
    ) -> None:
        self.host = host
        self.port = port
        self.data = data
        self.clock = clock or SystemClock()
        self.snapshot_interval = snapshot_interval
        self.engine = Engine()
        self.dispatcher = Dispatcher(self.engine, clock=self.clock)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._connection_ids = itertools.count(1)
        self._saved_changes = 0
        self._lock: IO[bytes] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mongodb://{host}:{self.port}"

    @property
    def snapshot_path(self) -> Path | None:
        return None if self.data is None else self.data / snapshot.FILE_NAME

    async def start(self) -> None:
        """Load the snapshot (if any), then listen."""
        if self.data is not None:
            self._lock = snapshot.lock_directory(self.data)
            assert self.snapshot_path is not None
            loaded = snapshot.load(self.engine, self.snapshot_path)
            log.info("Loaded %d documents from %s", loaded, self.snapshot_path)
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._tasks.append(asyncio.create_task(self._reap_cursors()))
        if self.data is not None:
            self._tasks.append(asyncio.create_task(self._snapshot_periodically()))

    async def close(self) -> None:
        """Stop listening, drop connections, and write a final snapshot."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            await self._server.wait_closed()
        await self.save_snapshot()
        if self._lock is not None:
            self._lock.close()

    async def save_snapshot(self) -> bool:
        """Write a snapshot if anything changed since the last one; True if written."""
        path = self.snapshot_path
        if path is None or self.engine.changes == self._saved_changes:
            return False
        changes = self.engine.changes
        data = snapshot.dump(self.engine)  # on the loop: a consistent point in time
        await asyncio.to_thread(snapshot.write_atomic, path, data)
        self._saved_changes = changes
        return True

    async def _snapshot_periodically(self) -> None:
        while True:
            await self.clock.sleep(self.snapshot_interval)
            try:
                await self.save_snapshot()
            except OSError:
                log.exception("Could not write the snapshot to %s", self.snapshot_path)

    async def _reap_cursors(self) -> None:
        while True:
            await self.clock.sleep(REAP_INTERVAL_SECONDS)
            if reaped := self.dispatcher.reap_cursors():
                log.info("Killed %d cursors idle for 10 minutes", reaped)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection_id = next(self._connection_ids)
        peer = writer.get_extra_info("peername")
        self._writers.add(writer)
        try:
            while (framed := await read_message(reader)) is not None:
                request = parse_request(*framed)
                answer = self._answer(request, connection_id)
                if answer is not None:
                    writer.write(answer)
                    await writer.drain()
        except WireError as exc:
            log.warning("Closing connection %d from %s: %s", connection_id, peer, exc)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; nothing to answer
        except Exception:
            log.exception(
                "Closing connection %d from %s after an internal error", connection_id, peer
            )
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _answer(self, request: Request, connection_id: int) -> bytes | None:
        command = request.command
        name = next(iter(command), "")
        if request.legacy and name not in _HANDSHAKES:
            reply = _legacy_refusal(name)
        else:
            reply = self.dispatcher.run(command, connection_id)
        if request.more_to_come:
            return None  # unacknowledged write (w:0): the client expects no answer
        response_to = request.header.request_id
        try:
            if request.legacy:
                return encode_op_reply(reply, response_to, query_failure="$err" in reply)
            return encode_op_msg(reply, response_to)
        except (bson.errors.InvalidDocument, OverflowError, TypeError) as exc:
            failure = CommandFailed(BAD_VALUE, f"The reply could not be encoded as BSON: {exc}")
            return encode_op_msg(failure.to_reply(), response_to)


def _legacy_refusal(name: str) -> dict[str, Any]:
    message = (
        f"Unsupported OP_QUERY command: {name}. The client driver may require an upgrade "
        "(only the hello handshake may use OP_QUERY)."
    )
    reply = CommandFailed(UNSUPPORTED_OP_QUERY, message).to_reply()
    if name == "$legacyQuery":
        reply["$err"] = message
    return reply
