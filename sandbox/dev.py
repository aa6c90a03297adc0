"""Dev: the whole system on one machine with embedded defaults (`threads-sandbox dev`).

Starts what is missing — the MongoDB stand-in (data in `./.data`), a local Redis, the Threads
simulator as a sandbox — then serves the web app and runs a worker in this process. Settings that
point elsewhere (MONGODB_URI, REDIS_URL, THREADS_API_BASE_URL) are respected.
"""

from __future__ import annotations

import asyncio
import os
from contextlib import ExitStack
from pathlib import Path

import uvicorn

from sandbox.devservers import ensure_redis
from sandbox.simulator.config import SimulatorConfig
from sandbox.simulator.server import SimulatorServer
from sandbox.standin.launcher import StandinProcess
from scheduler.accounts.bootstrap import bootstrap_account
from scheduler.platform.queues import BACKGROUND_QUEUE, PUBLISH_QUEUE, SCHEDULER_QUEUE
from scheduler.platform.settings import Settings, load_settings
from scheduler.publishing.worker import run_workers
from scheduler.services import build_services

SANDBOX_SECRET = "dev-secret-key-not-for-production"
SANDBOX_ACCOUNTS = ("sandbox_studio", "sandbox_maker")


def run_dev(*, data: Path, host: str | None, port: int | None) -> int:
    """Start what is missing, then serve web and worker until Ctrl-C."""
    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    with ExitStack() as stack:
        overrides: dict[str, str] = {}
        if settings.mongodb_uri is None:
            standin = stack.enter_context(StandinProcess(data=data / "mongo"))
            overrides["MONGODB_URI"] = f"{standin.url}/threads_scheduler"
            print(f"mongo-standin listening on {standin.url} (data in {data / 'mongo'})")
        if ensure_redis(settings.effective_redis_url, data_dir=data / "redis"):
            print(f"redis-server started for {settings.effective_redis_url}")
        if "THREADS_API_BASE_URL" not in os.environ:
            sandbox = stack.enter_context(SimulatorServer())
            assert sandbox.state is not None
            for username in SANDBOX_ACCOUNTS:  # to pick from on the sandbox's OAuth page
                sandbox.state.create_account(username)
            config = SimulatorConfig()
            overrides |= {
                "THREADS_API_BASE_URL": sandbox.base_url,
                "THREADS_APP_ID": config.app_id,
                "THREADS_APP_SECRET": config.app_secret,
                "THREADS_REDIRECT_URI": f"http://{host}:{port}/accounts/callback",
            }
            print(f"threads-simulator (sandbox) listening on {sandbox.origin}")
        overrides.setdefault("SECRET_KEY", os.environ.get("SECRET_KEY", SANDBOX_SECRET))
        # The web app reads its settings from the environment, as in production.
        os.environ.update(overrides)
        asyncio.run(_serve(load_settings(), host, port))
    return 0


async def _serve(settings: Settings, host: str, port: int) -> None:
    async with build_services(settings) as services:
        await bootstrap_account(services)
        config = uvicorn.Config(
            "web.app:create_app", factory=True, host=host, port=port, log_level="warning"
        )
        server = uvicorn.Server(config)
        stop = asyncio.Event()
        workers = asyncio.create_task(run_workers(services, stop))
        print(f"web listening on http://{host}:{port}", flush=True)
        queues = f"{SCHEDULER_QUEUE}, {PUBLISH_QUEUE}, {BACKGROUND_QUEUE}"
        print(f"worker running in this process (queues {queues})", flush=True)
        try:
            await server.serve()
        finally:
            stop.set()
            await workers
