"""Launcher: start the stand-in as a child process (for tests and `dev`) and stop it again.

    with StandinProcess(data=Path(".data/mongo")) as standin:
        client = AsyncMongoClient(standin.url, tz_aware=True)

`async with` works too (starting and stopping then happen off the event loop).
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from scheduler.platform.errors import ConfigurationError

_READY_PREFIX = "mongo-standin listening on "
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class StandinProcess:
    """A `python -m sandbox.standin` child process.

    Args:
        data: snapshot directory (`--data`); None keeps data in memory only.
        host: interface to listen on.
        port: TCP port; 0 (the default) picks a free one.
        startup_timeout: seconds to wait for the "listening" line.
        stop_timeout: seconds to wait after SIGTERM before killing.
    """

    def __init__(
        self,
        data: Path | str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.data = Path(data) if data is not None else None
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """`mongodb://HOST:PORT` of the running server."""
        if self._url is None:
            raise RuntimeError("StandinProcess is not started; call start() or use `with`.")
        return self._url

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("StandinProcess is not started; call start() or use `with`.")
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Spawn the server and wait until it listens; raise ConfigurationError if it cannot."""
        if self.running:
            return self
        command = [
            sys.executable,
            "-m",
            "sandbox.standin",
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
        if self.data is not None:
            command += ["--data", str(self.data)]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        # stderr goes to a file: an unread pipe would fill up and freeze the server.
        self._log = tempfile.TemporaryFile("w+", prefix="mongo-standin-", suffix=".log")
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )
        try:
            self._url = self._read_url()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> int | None:
        """SIGTERM (the server snapshots and exits), then SIGKILL after `stop_timeout`."""
        process, self._process = self._process, None
        self._url = None
        code: int | None = None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            code = process.returncode
            if process.stdout is not None:
                process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def kill(self) -> None:
        """SIGKILL without a final snapshot (to test crash recovery)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        self.stop()

    def logs(self) -> str:
        """What the server wrote to stderr so far."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    def _read_url(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        stdout = self._process.stdout
        while (remaining := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([stdout], [], [], remaining)
            if not ready:
                break
            line = stdout.readline()
            if not line:  # the process exited before listening
                self._process.wait(5)
                raise ConfigurationError(
                    f"mongo-standin exited with code {self._process.returncode} before "
                    f"listening:\n{self.logs().strip()}"
                )
            if line.startswith(_READY_PREFIX):
                return line[len(_READY_PREFIX) :].strip()
        raise ConfigurationError(
            f"mongo-standin did not start within {self.startup_timeout:.0f} s; its log:\n"
            f"{self.logs().strip()}"
        )

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
