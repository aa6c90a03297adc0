"""Run the simulator on a real socket: in a background thread (fast tests) or a subprocess.

    with SimulatorServer() as sim:                 # thread mode: shares `sim.state` with the test
        client = ThreadsClient(http, base_url=sim.base_url)
        account = await sim.admin.create_account("alice")

    with SimulatorServer(subprocess=True) as sim:  # its own process (multi-process tests)
        ...

The subprocess runs `python -m sandbox.simulator --port 0` and reads the first line it prints,
`threads-simulator listening on http://127.0.0.1:PORT`.
"""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess as sp
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from sandbox.simulator.admin_client import SimulatorAdmin
from sandbox.simulator.app import create_simulator_app
from sandbox.simulator.state import SimulatorState
from scheduler.platform.clock import Clock

LISTENING = "threads-simulator listening on "
_LISTENING_RE = re.compile(re.escape(LISTENING) + r"(http://\S+)")


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket (port 0 picks a free port)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def uvicorn_config(app: Any, *, log_level: str = "warning") -> uvicorn.Config:
    """uvicorn settings for speed: httptools when installed, no access log, no lifespan."""
    try:
        import httptools  # noqa: F401

        http = "httptools"
    except ImportError:  # pragma: no cover - httptools ships with uvicorn[standard]
        http = "h11"
    return uvicorn.Config(
        app,
        http=http,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
        backlog=2048,
    )


class SimulatorServer:
    """The simulator listening on a real socket, started and stopped as a context manager.

    Args:
        state: the world to serve (thread mode only; a fresh one by default).
        clock: the simulated clock (thread mode only), e.g. a `ManualClock`.
        subprocess: run `python -m sandbox.simulator` in a separate process instead of a thread.
        args: extra command-line flags for the subprocess (e.g. `["--account", "alice:TOKEN"]`).
        host: interface to listen on.
        port: port (0: any free port).
        startup_timeout: seconds to wait for the server to listen.
    """

    def __init__(
        self,
        *,
        state: SimulatorState | None = None,
        clock: Clock | None = None,
        subprocess: bool = False,
        args: Sequence[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 30.0,
    ) -> None:
        if subprocess and (state is not None or clock is not None):
            raise ValueError("A subprocess simulator has its own state; configure it with `args`.")
        self.subprocess = subprocess
        self.state = None if subprocess else (state or SimulatorState(clock=clock))
        self.args = list(args)
        self.host, self.port = host, port
        self.startup_timeout = startup_timeout
        self.origin = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._process: sp.Popen[str] | None = None

    @property
    def base_url(self) -> str:
        """The Graph base URL to give `ThreadsClient` (`http://127.0.0.1:PORT/v1.0`)."""
        return f"{self.origin}/v1.0"

    @property
    def admin(self) -> SimulatorAdmin:
        """An admin API client (each call uses its own short-lived connection)."""
        return SimulatorAdmin(self.origin)

    def start(self) -> SimulatorServer:
        if self.subprocess:
            self._start_process()
        else:
            self._start_thread()
        return self

    def _start_thread(self) -> None:
        assert self.state is not None
        sock = bind_socket(self.host, self.port)
        host, port = sock.getsockname()[:2]
        self.origin = f"http://{host}:{port}"
        self._server = uvicorn.Server(uvicorn_config(create_simulator_app(self.state)))
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name="threads-simulator",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("The Threads simulator thread did not start; see the log above.")
            time.sleep(0.005)

    def _start_process(self) -> None:
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        command = [
            sys.executable,
            "-m",
            "sandbox.simulator",
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
        self._process = sp.Popen([*command, *self.args], stdout=sp.PIPE, text=True, env=env)
        lines: queue.Queue[str] = queue.Queue()
        stdout = self._process.stdout
        assert stdout is not None
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=self.startup_timeout)
        except queue.Empty:
            line = ""
        match = _LISTENING_RE.search(line)
        if match is None:
            self.stop()
            raise RuntimeError(
                f"The Threads simulator process did not start (it printed {line!r})."
            )
        self.origin = match.group(1)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
            self._server = self._thread = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except sp.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None

    @property
    def pid(self) -> int | None:
        """The subprocess's id (subprocess mode), e.g. to kill it in crash tests."""
        return self._process.pid if self._process is not None else None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
