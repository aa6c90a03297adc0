"""Benchmark of the MongoDB stand-in over real TCP, through PyMongo's AsyncMongoClient.

Prints ops/s for ping (the client's round-trip ceiling), insert_one and find_one_and_update
by _id (one client, one operation at a time; median of three rounds), and the latency of the
scheduler's due-post query (`{status: "SCHEDULED", next_run_at: {$lte: now}}` sorted by
next_run_at, limit 100) at 10,000 and 100,000 posts, with the (status, next_run_at) index and,
for comparison, without it. Writes bench/results/standin.json.

Goals (printed, never asserted): due-post query under 10 ms at 100,000 posts;
at least 2,000 find_one_and_update by _id per second.

    .venv/bin/python bench/standin_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from scheduler.standin import StandinProcess

RESULTS = Path(__file__).parent / "results" / "standin.json"
NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)
DUE_FRACTION = 0.01  # 1% of the posts are due; the rest lie in the next 30 days


async def ops_per_second(operations: int, operation: Any, rounds: int = 3) -> int:
    """Median of `rounds` timed runs (the machine is shared and noisy)."""
    rates = []
    for round_number in range(rounds):
        start = time.perf_counter()
        for n in range(operations):
            await operation(round_number * operations + n)
        rates.append(operations / (time.perf_counter() - start))
    return round(statistics.median(rates))


async def fill_posts(posts: AsyncCollection[dict[str, Any]], count: int) -> None:
    batch: list[dict[str, Any]] = []
    for n in range(count):
        due = n % int(1 / DUE_FRACTION) == 0
        offset = -timedelta(seconds=n) if due else timedelta(seconds=30 * 86400 * n / count + 60)
        status = "SCHEDULED" if due or n % 3 else "PUBLISHED"
        batch.append({"status": status, "next_run_at": NOW + offset, "text": f"post {n}"})
        if len(batch) == 1000:
            await posts.insert_many(batch)
            batch = []
    if batch:
        await posts.insert_many(batch)


async def due_query_latency(posts: AsyncCollection[dict[str, Any]], runs: int) -> dict[str, float]:
    query = {"status": "SCHEDULED", "next_run_at": {"$lte": NOW}}
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        found = await posts.find(query).sort("next_run_at", ASCENDING).limit(100).to_list(None)
        samples.append((time.perf_counter() - start) * 1000)
        assert len(found) == 100
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 3),
    }


async def run(quick: bool) -> dict[str, Any]:
    operations = 500 if quick else 2000
    sizes = [10_000] if quick else [10_000, 100_000]
    results: dict[str, Any] = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    async with StandinProcess() as standin:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(standin.url, tz_aware=True)
        db = client.bench
        await db.warm.insert_one({"warm": True})

        ids: list[Any] = []

        async def insert(n: int) -> None:
            ids.append(
                (
                    await db.items.insert_one({"n": n, "status": "new", "claimed_by": None})
                ).inserted_id
            )

        async def ping(n: int) -> None:
            await client.admin.command("ping")

        # The round-trip ceiling of one PyMongo client on this machine, for context.
        results["ping_ops_per_s"] = await ops_per_second(operations, ping)
        results["insert_one_ops_per_s"] = await ops_per_second(operations, insert)

        async def claim(n: int) -> None:
            await db.items.find_one_and_update(
                {"_id": ids[n % len(ids)]}, {"$set": {"claimed_by": "bench"}, "$inc": {"claims": 1}}
            )

        results["find_one_and_update_by_id_ops_per_s"] = await ops_per_second(operations, claim)

        for size in sizes:
            posts = db[f"posts_{size}"]
            await posts.create_index([("status", ASCENDING), ("next_run_at", ASCENDING)])
            await fill_posts(posts, size)
            results[f"due_query_{size}_indexed"] = await due_query_latency(posts, 200)
            plain = db[f"plain_{size}"]
            await fill_posts(plain, size)
            results[f"due_query_{size}_unindexed"] = await due_query_latency(
                plain, 10 if size > 10_000 else 30
            )
        await client.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer operations, 10,000 posts only")
    args = parser.parse_args()
    results = asyncio.run(run(args.quick))
    print(f"ping (client round trip):       {results['ping_ops_per_s']:>8} ops/s")
    print(f"insert_one:                     {results['insert_one_ops_per_s']:>8} ops/s")
    print(
        f"find_one_and_update by _id:     {results['find_one_and_update_by_id_ops_per_s']:>8} ops/s"
        "   (goal >= 2,000)"
    )
    for key, value in results.items():
        if key.startswith("due_query_"):
            print(f"{key + ':':<32}p50 {value['p50_ms']:>8.3f} ms   p99 {value['p99_ms']:>8.3f} ms")
    print("(goal: due_query_100000_indexed under 10 ms)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    temporary = RESULTS.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(results, indent=2) + "\n")
    temporary.replace(RESULTS)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
