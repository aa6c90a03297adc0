"""Benchmark of the GraphQL API served by uvicorn on a real socket, over the MongoDB stand-in.

Stores 10,000 posts for one owner, starts `threads-scheduler serve` as its own process (with its
own Redis on a private port), and measures from this process, over HTTP:

- the latency of `posts(first: 50)` (with each post's account and last occurrence, through the
  DataLoaders), one request at a time: p50 and p99;
- `schedulePost` mutations per second, with a few clients at once, on distinct drafts;
- for comparison, the core's `posts.find` alone (in this process, same stand-in): the listing's
  floor, since the stand-in filters, counts and sorts in Python.

Goals (printed, never asserted): p99 <= 30 ms; >= 300 mutations/s. Writes
bench/results/graphql.json.

    .venv/bin/python bench/graphql_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from beanie import PydanticObjectId

from sandbox.devservers import free_port, port_open
from sandbox.standin import StandinProcess
from scheduler.accounts.auth import actor_for
from scheduler.accounts.users import create_user
from scheduler.platform.clock import SystemClock
from scheduler.platform.documents import Account, Post
from scheduler.platform.settings import Settings, load_settings
from scheduler.posts.content import PostContent
from scheduler.services import build_services

RESULTS = Path(__file__).parent / "results" / "graphql.json"
SECRET = "graphql-bench-secret-key"
LIST = """query { posts(first: 50) { totalCount pageInfo { endCursor hasNextPage }
  edges { cursor node { id status version nextRunAt content { type text }
    account { username } lastOccurrence { state } } } } }"""
SCHEDULE = """mutation($input: SchedulePostInput!) { schedulePost(input: $input) {
  __typename ... on Post { status } ... on Error { message } } }"""


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def start_redis(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A private redis-server (nothing shared with other runs is touched)."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (Debian: apt-get install redis-server).")
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen([*args, "--dir", str(data)], stdout=subprocess.DEVNULL)
    for _ in range(100):
        if port_open("127.0.0.1", port):
            return process, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    process.kill()
    sys.exit("redis-server did not start.")


def start_web(settings: Settings, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB", "REDIS"))}
    env.update(
        APP_ENV="test",
        MONGODB_URI=settings.mongodb_uri or "",
        REDIS_URL=settings.effective_redis_url,
        SECRET_KEY=SECRET,
        LOG_LEVEL="WARNING",
    )
    command = [sys.executable, "-m", "scheduler.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    sys.exit(f"the web app did not start; see {log}")


async def core_find_latency(settings: Settings, token: str, calls: int) -> dict[str, float]:
    """The core's `posts.find` alone (what the stand-in costs), for comparison."""
    async with build_services(settings, clock=SystemClock()) as services:
        actor = await services.auth.authenticate_token(token)
        samples = []
        for _ in range(calls):
            start = time.perf_counter()
            await services.posts.find(actor, None, offset=0, limit=50)
            samples.append((time.perf_counter() - start) * 1000)
        return {
            "calls": calls,
            "p50_ms": round(statistics.median(samples), 2),
            "p99_ms": round(percentile(samples, 0.99), 2),
        }


async def fill(settings: Settings, count: int) -> tuple[str, list[str]]:
    """One owner with an API token, one account and `count` drafts; returns (token, post ids)."""
    async with build_services(settings, clock=SystemClock()) as services:
        now = services.clock.now()
        user = await create_user("bench@example.com", "a long enough password", now=now)
        actor = actor_for(user)
        issued = await services.auth.create_token(actor, "bench")
        account = Account(
            owner_id=actor.owner_id,
            threads_user_id="1000001",
            username="bench",
            created_at=now,
            updated_at=now,
        )
        await account.insert()
        assert account.id is not None
        ids: list[str] = []
        for start in range(0, count, 1000):
            batch = [
                Post(
                    id=PydanticObjectId(),
                    owner_id=actor.owner_id,
                    account_id=account.id,
                    content=PostContent(text=f"Benchmark post number {n}"),
                    created_at=now,
                    updated_at=now,
                )
                for n in range(start, min(count, start + 1000))
            ]
            await Post.insert_many(batch)
            ids += [str(post.id) for post in batch]
        return issued.secret, ids


async def list_latency(client: httpx.AsyncClient, requests: int) -> dict[str, float]:
    for _ in range(20):  # warm up: connections, caches, the server's first imports
        (await client.post("/graphql", json={"query": LIST})).raise_for_status()
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = await client.post("/graphql", json={"query": LIST})
        samples.append((time.perf_counter() - start) * 1000)
        body = response.json()
        assert "errors" not in body and len(body["data"]["posts"]["edges"]) == 50, body
    return {
        "requests": requests,
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(percentile(samples, 0.99), 2),
        "max_ms": round(max(samples), 2),
    }


async def schedule_rate(
    client: httpx.AsyncClient, ids: list[str], concurrency: int
) -> dict[str, float]:
    at = datetime.now(UTC) + timedelta(days=30)
    schedule = {"pattern": "ONCE", "startDate": at.date().isoformat(), "times": ["12:00"]}
    queue = list(ids)

    async def client_loop() -> int:
        done = 0
        while queue:
            variables = {"input": {"id": queue.pop(), "schedule": schedule}}
            response = await client.post(
                "/graphql", json={"query": SCHEDULE, "variables": variables}
            )
            result = response.json()["data"]["schedulePost"]
            assert result["__typename"] == "Post", result
            done += 1
        return done

    start = time.perf_counter()
    done = sum(await asyncio.gather(*(client_loop() for _ in range(concurrency))))
    elapsed = time.perf_counter() - start
    return {"mutations": done, "concurrency": concurrency, "per_second": round(done / elapsed)}


async def run(quick: bool) -> dict[str, Any]:
    posts, requests, mutations = (2_000, 100, 200) if quick else (10_000, 500, 1_000)
    with tempfile.TemporaryDirectory() as tmp, StandinProcess() as standin:
        redis, redis_url = start_redis(Path(tmp))
        try:
            settings = load_settings(
                {},
                app_env="test",
                mongodb_uri=f"{standin.url}/graphql_bench",
                redis_url=redis_url,
                secret_key=SECRET,
            )
            token, ids = await fill(settings, posts)
            core = await core_find_latency(settings, token, 50)
            web, url = start_web(settings, Path(tmp) / "web.log")
            try:
                headers = {"Authorization": f"Bearer {token}"}
                limits = httpx.Limits(max_connections=16)
                async with httpx.AsyncClient(
                    base_url=url, headers=headers, limits=limits, timeout=30
                ) as client:
                    listing = await list_latency(client, requests)
                    scheduling = await schedule_rate(client, ids[:mutations], concurrency=8)
            finally:
                web.terminate()
                web.wait(15)
        finally:
            redis.terminate()
            redis.wait(15)
    return {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "posts_stored": posts,
        "posts_first_50": listing,
        "core_posts_find_in_process": core,
        "schedule_post": scheduling,
        "goals": {"posts_first_50_p99_ms": 30, "schedule_post_per_second": 300},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 posts, fewer requests")
    args = parser.parse_args()
    results = asyncio.run(run(args.quick))
    listing, scheduling = results["posts_first_50"], results["schedule_post"]
    print(f"posts stored: {results['posts_stored']:,}")
    print(
        f"posts(first: 50): p50 {listing['p50_ms']} ms, p99 {listing['p99_ms']} ms "
        f"(goal p99 <= 30 ms) over {listing['requests']} requests"
    )
    core = results["core_posts_find_in_process"]
    print(
        f"  of which the core's posts.find on the stand-in (count + sorted page), measured "
        f"alone in-process: p50 {core['p50_ms']} ms, p99 {core['p99_ms']} ms"
    )
    print(
        f"schedulePost: {scheduling['per_second']} mutations/s with "
        f"{scheduling['concurrency']} clients (goal >= 300/s)"
    )
    if args.quick:
        return
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    temporary = RESULTS.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(results, indent=2) + "\n")
    temporary.replace(RESULTS)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
