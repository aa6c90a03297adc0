"""Engine benchmark: lateness, burst, MongoDB commands per post and while idle, Redis memory.

Each figure is measured side by side in one run for three schedulers:
- `event`: ours (USE_EVENT_DRIVEN_SCHEDULER=true): one delayed check, containers prepared ahead,
  the publish call released on the clock at the exact instant;
- `polling`: the seed's fallback (USE_EVENT_DRIVEN_SCHEDULER=false, POLL_INTERVAL_SECONDS);
- `naive`: one SAQ job scheduled per post at its epoch second, publishing when it runs.

Everything is real: the MongoDB stand-in and the Threads simulator run as their own processes,
Redis is the local server, workers are `threads-scheduler worker` processes. Lateness is the
simulator's receive time of threads_publish minus the post's scheduled instant. Numbers are goals
to compare, not assertions; the machine is shared, so compare the columns of one run.

    .venv/bin/python bench/engine_bench.py            # full run (~20 minutes with --idle 600)
    .venv/bin/python bench/engine_bench.py --quick    # a smaller, faster run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from beanie import PydanticObjectId
from redis.asyncio import Redis
from saq import Worker
from saq.queue.redis import RedisQueue

from sandbox.simulator.admin_client import SimulatorAdmin
from sandbox.simulator.server import SimulatorServer
from sandbox.standin import StandinProcess, standin_reset_stats, standin_stats
from scheduler.accounts.actors import Actor
from scheduler.platform.clock import SystemClock
from scheduler.platform.documents import Post, PostStatus
from scheduler.platform.settings import load_settings
from scheduler.posts.content import PostContent
from scheduler.posts.service import PostInput
from scheduler.services import build_services
from scheduler.threads.client import ThreadsClient
from scheduler.threads.models import ContainerRequest, MediaType

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
_redis = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))
REDIS_BASE = f"{_redis.scheme}://{_redis.netloc}"
BENCH_DB = int(os.environ.get("BENCH_REDIS_DB", "12"))


@dataclass
class Env:
    mongo_url: str
    redis_url: str
    sim: SimulatorServer
    database: str
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def settings(self, **overrides: Any) -> Any:
        return load_settings(
            {},
            mongodb_uri=f"{self.mongo_url}/{self.database}",
            redis_url=self.redis_url,
            threads_api_base_url=self.sim.base_url,
            secret_key="bench-secret",
            **overrides,
        )

    def start_worker(self, **env: str) -> None:
        settings = self.settings()
        environ = {
            **os.environ,
            "MONGODB_URI": settings.mongodb_uri,
            "REDIS_URL": self.redis_url,
            "THREADS_API_BASE_URL": self.sim.base_url,
            "SECRET_KEY": "bench-secret",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "scheduler.cli", "worker"],
                env=environ,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def stop_workers(self) -> None:
        for proc in self.workers:
            proc.terminate()
        for proc in self.workers:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.workers.clear()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def fresh(env: Env, name: str) -> None:
    env.database = f"bench_{name}_{int(time.time())}"
    redis = Redis.from_url(env.redis_url)
    await redis.flushdb()
    await redis.aclose()
    await env.sim.admin.reset()


async def make_accounts(env: Env, services: Any, actor: Actor, n: int) -> list[Any]:
    accounts = []
    for i in range(n):
        sim = await env.sim.admin.create_account(f"bench{i}")
        accounts.append(await services.accounts.connect_with_token(actor, sim.access_token))
    return accounts


async def schedule_spread(
    services: Any, actor: Actor, accounts: list[Any], count: int, start: datetime, span: float
) -> dict[str, datetime]:
    due: dict[str, datetime] = {}
    for i in range(count):
        at = start + timedelta(seconds=span * i / count)
        at = at.replace(microsecond=0)
        text = f"bench {i}"
        due[text] = at
        await services.posts.create(
            actor,
            PostInput(
                account_id=str(accounts[i % len(accounts)].id),
                content=PostContent(text=text),
                schedule={
                    "pattern": "ONCE",
                    "timezone": "UTC",
                    "start_date": at.date().isoformat(),
                    "times": [at.strftime("%H:%M:%S")],
                },
            ),
        )
    return due


async def collect(admin: SimulatorAdmin, due: dict[str, datetime], wait: float) -> dict[str, Any]:
    deadline = time.monotonic() + wait
    published: list[Any] = []
    while time.monotonic() < deadline:
        published = await admin.published()
        if len({p.text for p in published} & set(due)) >= len(due):
            break
        await asyncio.sleep(1.0)
    await asyncio.sleep(1.0)
    published = await admin.published()
    counts = Counter(p.text for p in published if p.text in due)
    first = {}
    for p in published:
        if p.text in due and p.text not in first:
            first[p.text] = p.received_at
    lateness_ms = [(first[t] - due[t]).total_seconds() * 1000 for t in first]
    return {
        "scheduled": len(due),
        "published": len(first),
        "lost": len(due) - len(first),
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "early": sum(1 for x in lateness_ms if x < 0),
        "p50_ms": round(percentile(lateness_ms, 50), 1),
        "p99_ms": round(percentile(lateness_ms, 99), 1),
        "max_ms": round(max(lateness_ms), 1) if lateness_ms else None,
    }


async def run_engine(
    env: Env, mode: str, count: int, span: float, accounts_n: int, workers: int, burst: bool = False
) -> dict[str, Any]:
    await fresh(env, f"{mode}{'_burst' if burst else ''}")
    extra = {"USE_EVENT_DRIVEN_SCHEDULER": "false"} if mode == "polling" else {}
    settings = env.settings(use_event_driven_scheduler=mode != "polling")
    async with build_services(settings, clock=SystemClock()) as services:
        actor = Actor(owner_id=PydanticObjectId())
        accounts = await make_accounts(env, services, actor, accounts_n)
        for _ in range(workers):
            env.start_worker(**extra)
        await asyncio.sleep(3)  # started and initialised: count only what publishing costs
        lead = 30 + count / 150  # time to create the posts before the first is due
        start = (SystemClock().now() + timedelta(seconds=lead)).replace(microsecond=0)
        due = await schedule_spread(services, actor, accounts, count, start, 0 if burst else span)
        await standin_reset_stats(env.mongo_url)
        result = await collect(
            env.sim.admin, due, wait=(start - SystemClock().now()).total_seconds() + span + 120
        )
        stats = await standin_stats(env.mongo_url)
        result["mongo_commands_per_post"] = round(
            sum(stats.values()) / max(1, result["published"]), 2
        )
        result["mongo_commands"] = dict(sorted(stats.items(), key=lambda kv: -kv[1])[:8])
        env.stop_workers()
    return result


async def run_naive(
    env: Env, count: int, span: float, accounts_n: int, burst: bool = False
) -> dict[str, Any]:
    """One SAQ job per post scheduled at its epoch second; the job publishes when it runs."""
    await fresh(env, "naive")
    redis = Redis.from_url(env.redis_url)
    queue = RedisQueue(redis, name="naive-publishing")
    tokens = []
    for i in range(accounts_n):
        tokens.append((await env.sim.admin.create_account(f"naive{i}")).access_token)
    start = (SystemClock().now() + timedelta(seconds=15 + count / 500)).replace(microsecond=0)
    due: dict[str, datetime] = {}
    for i in range(count):
        at = (start + timedelta(seconds=0 if burst else span * i / count)).replace(microsecond=0)
        text = f"bench {i}"
        due[text] = at
        await queue.enqueue(
            "naive_publish",
            key=f"naive:{i}",
            scheduled=int(at.timestamp()),
            text=text,
            token=tokens[i % len(tokens)],
            timeout=60,
        )
    http = httpx.AsyncClient(timeout=30)
    client = ThreadsClient(http, base_url=env.sim.base_url)

    async def naive_publish(ctx: Any, *, text: str, token: str) -> str:
        container = await client.create_container(
            ContainerRequest(media_type=MediaType.TEXT, text=text), access_token=token
        )
        return await client.publish(container, access_token=token)

    worker = Worker(queue, functions=[("naive_publish", naive_publish)], concurrency=20)
    task = asyncio.create_task(worker.start())
    try:
        result = await collect(
            env.sim.admin, due, wait=(start - SystemClock().now()).total_seconds() + span + 120
        )
    finally:
        await worker.stop()
        task.cancel()
        await http.aclose()
        await redis.aclose()
    result["mongo_commands_per_post"] = 0.0
    return result


async def idle_commands(env: Env, seconds: float) -> dict[str, Any]:
    await fresh(env, "idle")
    settings = env.settings()
    async with build_services(settings, clock=SystemClock()) as services:
        actor = Actor(owner_id=PydanticObjectId())
        accounts = await make_accounts(env, services, actor, 1)
        later = SystemClock().now() + timedelta(days=7)
        await schedule_spread(services, actor, accounts, 10, later, 3600)
    env.start_worker()
    await asyncio.sleep(5)
    await standin_reset_stats(env.mongo_url)
    await asyncio.sleep(seconds)
    stats = await standin_stats(env.mongo_url)
    env.stop_workers()
    return {"idle_seconds": seconds, "mongo_commands": sum(stats.values()), "by_command": stats}


async def redis_memory(env: Env, sizes: list[int]) -> dict[str, Any]:
    """Redis memory of the scheduler's state with N posts scheduled, versus one SAQ job per post."""
    out: dict[str, Any] = {}
    for n in sizes:
        await fresh(env, f"mem{n}")
        settings = env.settings()
        async with build_services(settings, clock=SystemClock()) as services:
            redis = services.redis
            base = (await redis.info("memory"))["used_memory"]
            owner, account = PydanticObjectId(), PydanticObjectId()
            now = SystemClock().now()
            batch = []
            for i in range(n):
                at = now + timedelta(days=1, seconds=i)
                batch.append(
                    Post(
                        owner_id=owner,
                        account_id=account,
                        content=PostContent(text=f"m{i}"),
                        status=PostStatus.SCHEDULED,
                        next_run_at=at,
                        check_at=at - timedelta(seconds=10),
                        created_at=now,
                        updated_at=now,
                    )
                )
                if len(batch) == 1000:
                    await Post.insert_many(batch)
                    batch = []
            if batch:
                await Post.insert_many(batch)
            await services.scheduler.initialize()
            ours = (await redis.info("memory"))["used_memory"] - base
            naive_queue = RedisQueue(redis, name="naive-memory")
            for i in range(min(n, 20000)):
                await naive_queue.enqueue(
                    "naive_publish",
                    key=f"m:{i}",
                    scheduled=int(now.timestamp()) + 86400 + i,
                    text=f"m{i}",
                    token="t",
                )
            naive = (await redis.info("memory"))["used_memory"] - base - ours
            naive_per_job = naive / min(n, 20000)
            out[str(n)] = {
                "event_driven_bytes": ours,
                "naive_bytes_estimated": int(naive_per_job * n),
            }
    return out


def table(results: dict[str, Any]) -> str:
    lat, burst = results["lateness"], results["burst"]
    rows = [("figure", "event-driven", "polling", "naive", "goal"), ("---",) * 5]

    def three(figure: str, data: dict[str, Any], key: str, goal: str) -> None:
        rows.append((figure, *(str(data[m][key]) for m in ("event", "polling", "naive")), goal))

    for key, goal in (
        ("early", "0"),
        ("p50_ms", "≤ 10"),
        ("p99_ms", "≤ 25"),
        ("max_ms", "≤ 250"),
        ("lost", "0"),
        ("duplicates", "0"),
    ):
        three(f"lateness {key}", lat, key, goal)
    three("burst max lateness ms", burst, "max_ms", "≤ 2000")
    three("burst lost", burst, "lost", "0")
    rows.append(
        (
            "MongoDB commands / post",
            str(lat["event"]["mongo_commands_per_post"]),
            str(lat["polling"]["mongo_commands_per_post"]),
            "–",
            "≤ 5",
        )
    )
    idle = results["idle"]
    rows.append(
        (
            f"MongoDB commands idle {idle['idle_seconds']:g} s",
            str(idle["mongo_commands"]),
            "–",
            "–",
            "0",
        )
    )
    for n, mem in results["redis_memory"].items():
        rows.append(
            (
                f"Redis bytes, {n} scheduled",
                str(mem["event_driven_bytes"]),
                "–",
                f"~{mem['naive_bytes_estimated']}",
                "no growth",
            )
        )
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, shorter idle period")
    parser.add_argument(
        "--idle", type=float, default=None, help="idle seconds (default 600, quick 30)"
    )
    args = parser.parse_args()
    count, span, accounts = (400, 20.0, 10) if args.quick else (2000, 60.0, 20)
    burst_n, burst_accounts = (300, 20) if args.quick else (1000, 50)
    idle = args.idle if args.idle is not None else (30 if args.quick else 600)
    mem_sizes = [1000, 10000] if args.quick else [10000, 100000]
    redis_url = f"{REDIS_BASE}/{BENCH_DB}"
    with StandinProcess() as standin, SimulatorServer(subprocess=True) as sim:
        env = Env(mongo_url=standin.url, redis_url=redis_url, sim=sim, database="")
        results: dict[str, Any] = {"lateness": {}, "burst": {}}
        try:
            for mode in ("event", "polling"):
                print(f"lateness: {mode} ...", flush=True)
                results["lateness"][mode] = await run_engine(env, mode, count, span, accounts, 1)
                print(f"burst: {mode} ...", flush=True)
                results["burst"][mode] = await run_engine(
                    env, mode, burst_n, 0, burst_accounts, 2, burst=True
                )
            print("lateness: naive ...", flush=True)
            results["lateness"]["naive"] = await run_naive(env, count, span, accounts)
            print("burst: naive ...", flush=True)
            results["burst"]["naive"] = await run_naive(env, burst_n, 0, burst_accounts, burst=True)
            print(f"idle ({idle:g} s) ...", flush=True)
            results["idle"] = await idle_commands(env, idle)
            print("redis memory ...", flush=True)
            results["redis_memory"] = await redis_memory(env, mem_sizes)
        finally:
            env.stop_workers()
    results["when"] = datetime.now(UTC).isoformat()
    results["quick"] = args.quick
    print(json.dumps(results, indent=2, default=str))
    print(table(results))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / ("engine-quick.json" if args.quick else "engine.json")).write_text(
        json.dumps(results, indent=2, default=str)
    )


if __name__ == "__main__":
    asyncio.run(main())
