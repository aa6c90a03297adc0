"""Server: the web app as its own process, the target every fuzz and abuse test aims at.

`AppProcess` runs `threads-scheduler serve` (uvicorn on a real socket, exactly as deployed) on a
MongoDB (the stand-in) database and a Redis of the caller's choosing, with a Threads simulator as
its Threads API, and writes the server's JSON log to a file. The fuzzers talk to it only over
HTTP and WebSocket, so a request that blocks the server's event loop, leaks memory or crashes it
shows up as it would in production; and every error the server logged is read back from the log
(`server_errors`), which is where a masked "Unexpected error." says what really raised.

    with AppProcess(mongo_url=..., database="fuzz", redis_url=..., workdir=tmp) as app:
        owner = asyncio.run(app.add_tenant("owner@example.com"))
        httpx.get(f"{app.base_url}/graphql", headers=owner.bearer)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import httpx

from sandbox.devservers import free_port
from sandbox.simulator.server import SimulatorServer
from scheduler.accounts.auth import actor_for
from scheduler.accounts.users import create_user
from scheduler.platform.clock import SystemClock
from scheduler.platform.settings import Settings, load_settings
from scheduler.posts.content import PostContent
from scheduler.posts.service import PostInput
from scheduler.services import build_services

SECRET_KEY = "fuzz-secret-key-not-for-production"
PASSWORD = "fuzzing is a long enough password"
STARTUP_SECONDS = 60.0
LISTENING = "web listening on "  # printed by `serve` before logging starts


@dataclass(frozen=True)
class Tenant:
    """One owner of the running app: their login, API tokens, an account and a draft post."""

    email: str
    password: str
    token: str
    read_only_token: str
    account_id: str
    post_id: str

    @property
    def bearer(self) -> dict[str, str]:
        """The `Authorization` header of the tenant's API token."""
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def read_only_bearer(self) -> dict[str, str]:
        """The `Authorization` header of the tenant's read-only API token (a viewer's rights)."""
        return {"Authorization": f"Bearer {self.read_only_token}"}


class AppProcess:
    """`threads-scheduler serve` in a child process, with its own Threads simulator (a thread).

    Args:
        mongo_url: MongoDB URL without a database (e.g. the stand-in's).
        database: the database to use (dropped by nobody: pick a fresh name).
        redis_url: the Redis to use, with its logical database.
        workdir: where `web.log` goes.
        env: extra environment variables for the server (settings).
    """

    def __init__(
        self,
        *,
        mongo_url: str,
        database: str,
        redis_url: str,
        workdir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.mongo_uri = f"{mongo_url.rstrip('/')}/{database}"
        self.redis_url = redis_url
        self.log_path = workdir / "web.log"
        self.extra_env = dict(env or {})
        self.port = free_port()
        self.simulator = SimulatorServer()
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """The GraphQL WebSocket endpoint."""
        return f"ws://127.0.0.1:{self.port}/graphql"

    def environment(self) -> dict[str, str]:
        """The settings of the server, as environment variables."""
        return {
            "APP_ENV": "test",
            "MONGODB_URI": self.mongo_uri,
            "REDIS_URL": self.redis_url,
            "THREADS_API_BASE_URL": self.simulator.base_url,
            "THREADS_APP_ID": "1234567890",
            "THREADS_APP_SECRET": "sim-app-secret",
            "THREADS_REDIRECT_URI": f"{self.base_url}/accounts/callback",
            "SECRET_KEY": SECRET_KEY,
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            **self.extra_env,
        }

    def settings(self) -> Settings:
        """The same settings, for services built in the test's own process."""
        return load_settings(self.environment())

    def start(self) -> Self:
        self.simulator.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB", "REDIS"))}
        env.update(self.environment())
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # closed in stop()
        command = [sys.executable, "-m", "scheduler.cli", "serve", "--port", str(self.port)]
        self._process = subprocess.Popen(
            command, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_until_serving()
        return self

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if not self.alive:
                self.stop()
                raise RuntimeError(f"The web app exited at start:\n{self.log_text()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"The web app did not answer /healthz in time:\n{self.log_text()}")

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(15)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        self.simulator.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def add_tenant(self, email: str) -> Tenant:
        """A new owner with an API token, a connected (simulated) account and a draft post."""
        settings = self.settings()
        async with build_services(settings, clock=SystemClock()) as services:
            user = await create_user(email, PASSWORD, now=services.clock.now())
            actor = actor_for(user)
            issued = await services.auth.create_token(actor, "fuzz")
            read_only = await services.auth.create_token(actor, "fuzz viewer", read_only=True)
            username = email.split("@")[0].replace(".", "_")[:20]
            sim = await self.simulator.admin.create_account(username)
            account = await services.accounts.connect_with_token(actor, sim.access_token)
            post = await services.posts.create(
                actor,
                PostInput(account_id=str(account.id), content=PostContent(text="fuzz target")),
            )
        return Tenant(
            email, PASSWORD, issued.secret, read_only.secret, str(account.id), str(post.id)
        )

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_size(self) -> int:
        """The log's current length: `server_errors(since=...)` reads only what came after."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def server_errors(self, since: int = 0) -> list[dict[str, Any]]:
        """The records the server logged at ERROR or above (or with a traceback), oldest first.

        Lines that are not JSON (a crash before logging was set up) count as errors too.
        """
        errors: list[dict[str, Any]] = []
        with open(self.log_path, "rb") as log:
            log.seek(since)
            for raw in log.read().decode(errors="replace").splitlines():
                if not raw.strip() or raw.startswith(LISTENING):
                    continue
                try:
                    record = json.loads(raw)
                except ValueError:
                    errors.append({"level": "RAW", "message": raw})
                    continue
                if record.get("level") in ("ERROR", "CRITICAL") or "exc" in record:
                    errors.append(record)
        return errors


def describe_errors(records: list[dict[str, Any]], limit: int = 5) -> str:
    """The first few logged errors, readable in an assertion message."""
    shown = [
        f"{r.get('level')} {r.get('logger', '')}: {r.get('message')}\n{r.get('exc', '')}".strip()
        for r in records[:limit]
    ]
    more = f"\n... and {len(records) - limit} more" if len(records) > limit else ""
    return "\n\n".join(shown) + more
