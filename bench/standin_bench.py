"""Benchmark of the MongoDB stand-in over real TCP, through PyMongo's AsyncMongoClient.

Prints ops/s for ping (the client's round-trip ceiling), insert_one, find_one and
find_one_and_update by _id (one client, one operation at a time; median of three rounds), the
latency of the scheduler's due-post query (`{status: "SCHEDULED", next_run_at: {$lte: now}}`
sorted by next_run_at, limit 100) at 10,000 and 100,000 posts, with the (status, next_run_at)
index and, for comparison, without it, and the latency of the dashboard's and the API's list
queries: what `PostService.find` sends, a page of 51 posts newest first (`sort _id desc`) plus
`count_documents` of the same filter, over 10,000 posts of one owner and 3,000 of others, with
the `posts` indexes of `scheduler/platform/documents.py`. A write to the collection precedes each
list sample (untimed), so nothing is served from the stand-in's memo of recent matches.
Writes bench/results/standin.json.

Goals (printed, never asserted): due-post query under 10 ms at 100,000 posts; at least 2,000
find_one_and_update by _id per second; a page plus its total under 10 ms, filtered by status or
account under 20 ms; a `$regex` text search no slower than one pass over the owner's posts.

    .venv/bin/python bench/standin_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection

from sandbox.standin import StandinProcess

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
    for sample in range(runs):
        # Untimed: a write, as between two checks of the scheduler (it clears the memo).
        await posts.update_one({"status": "PUBLISHED"}, {"$set": {"version": sample}})
        start = time.perf_counter()
        found = await posts.find(query).sort("next_run_at", ASCENDING).limit(100).to_list(None)
        samples.append((time.perf_counter() - start) * 1000)
        assert len(found) == 100
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 3),
    }


OWNER = ObjectId()
OWNER_ACCOUNTS = [ObjectId() for _ in range(3)]
STATUSES = ["DRAFT", "SCHEDULED", "PUBLISHED", "FAILED", "CANCELLED"]
# The `posts` indexes of scheduler/platform/documents.py.
POST_INDEXES = [
    IndexModel([("status", ASCENDING), ("next_run_at", ASCENDING)], name="status_next_run"),
    IndexModel([("status", ASCENDING), ("check_at", ASCENDING)], name="status_check_at"),
    IndexModel([("owner_id", ASCENDING), ("created_at", DESCENDING)]),
    IndexModel([("owner_id", ASCENDING), ("status", ASCENDING), ("next_run_at", ASCENDING)]),
    IndexModel([("account_id", ASCENDING), ("status", ASCENDING)]),
    IndexModel([("account_id", ASCENDING), ("content_hash", ASCENDING)]),
]
LIST_PAGE = 50


def post_document(n: int, owner: ObjectId, account: ObjectId) -> dict[str, Any]:
    """A post shaped like the ones Beanie stores (scheduler.platform.documents.Post)."""
    status = STATUSES[n % len(STATUSES)]
    at = NOW + timedelta(minutes=n)
    topic = "launch" if n % 97 == 0 else "update"
    return {
        "owner_id": owner,
        "account_id": account,
        "content": {
            "type": "TEXT",
            "text": f"Post {n}: our {topic} notes for the week, with a link and a few words.",
            "media": [],
            "options": {"topic_tag": None, "reply_control": None, "poll": None},
        },
        "replies": [],
        "status": status,
        "schedule": None,
        "next_run_at": at if status == "SCHEDULED" else None,
        "check_at": at - timedelta(seconds=30) if status == "SCHEDULED" else None,
        "lease": None,
        "occurrence_count": 0,
        "version": 1,
        "last_error": None,
        "threads_media_ids": [],
        "content_hash": f"{n:064x}",
        "created_at": NOW - timedelta(minutes=n),
        "updated_at": NOW - timedelta(minutes=n),
    }


async def fill_list_posts(posts: AsyncCollection[dict[str, Any]], owned: int) -> None:
    """`owned` posts of OWNER, and 1,000 of each of three other owners."""
    await posts.create_indexes(POST_INDEXES)
    batch = [post_document(n, OWNER, OWNER_ACCOUNTS[n % 3]) for n in range(owned)]
    for _ in range(3):
        other, account = ObjectId(), ObjectId()
        batch += [post_document(n, other, account) for n in range(1000)]
    for start in range(0, len(batch), 1000):
        await posts.insert_many(batch[start : start + 1000])


def list_queries() -> dict[str, tuple[dict[str, Any], int]]:
    """PostService._query's filters (and offsets) for the list variants."""
    owner: dict[str, Any] = {"owner_id": OWNER}
    return {
        "page": (owner, 0),
        "page_at_offset_5000": (owner, 5000),
        "status": ({**owner, "status": {"$in": ["SCHEDULED", "FAILED"]}}, 0),
        "account": ({**owner, "account_id": OWNER_ACCOUNTS[1]}, 0),
        "account_and_status": (
            {**owner, "account_id": OWNER_ACCOUNTS[1], "status": {"$in": ["SCHEDULED"]}},
            0,
        ),
        "due_range": (
            {**owner, "next_run_at": {"$gte": NOW, "$lte": NOW + timedelta(days=2)}},
            0,
        ),
        "text_regex": (
            {**owner, "content.text": {"$regex": re.escape("Launch"), "$options": "i"}},
            0,
        ),
    }


async def list_latency(
    posts: AsyncCollection[dict[str, Any]], query: dict[str, Any], offset: int, runs: int
) -> dict[str, float]:
    """p50/p99 of one page (sort _id desc, limit+1) plus its count, as PostService.find does."""
    samples = []
    for sample in range(runs):
        # Untimed: a write, as a live dashboard sees between requests (it clears the memo).
        await posts.update_one({"owner_id": {"$ne": OWNER}}, {"$set": {"version": sample}})
        start = time.perf_counter()
        page = await posts.find(
            query, sort=[("_id", DESCENDING)], skip=offset, limit=LIST_PAGE + 1
        ).to_list(None)
        total = await posts.count_documents(query)
        samples.append((time.perf_counter() - start) * 1000)
        assert len(page) <= LIST_PAGE + 1 and total >= len(page)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 3),
        "total": total,
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

        async def find_one(n: int) -> None:
            await db.items.find_one({"_id": ids[n % len(ids)]})

        results["find_one_by_id_ops_per_s"] = await ops_per_second(operations, find_one)

        listed = db.listed_posts
        await fill_list_posts(listed, 10_000)
        results["list_10000"] = {
            name: await list_latency(listed, query, offset, 20 if quick else 60)
            for name, (query, offset) in list_queries().items()
        }

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
    print(f"find_one by _id:                {results['find_one_by_id_ops_per_s']:>8} ops/s")
    print(
        f"find_one_and_update by _id:     {results['find_one_and_update_by_id_ops_per_s']:>8} ops/s"
        "   (goal >= 2,000)"
    )
    for key, value in results.items():
        if key.startswith("due_query_"):
            print(f"{key + ':':<32}p50 {value['p50_ms']:>8.3f} ms   p99 {value['p99_ms']:>8.3f} ms")
    print("(goal: due_query_100000_indexed under 10 ms)")
    goals = {"page": 10.0, "status": 20.0, "account": 20.0}
    print("list queries, 10,000 posts of one owner + 3,000 of others (page of 50 + its total):")
    for name, value in results["list_10000"].items():
        goal = f"   (goal < {goals[name]:.0f} ms)" if name in goals else ""
        print(
            f"  {name + ':':<30}p50 {value['p50_ms']:>8.3f} ms   p99 {value['p99_ms']:>8.3f} ms"
            f"   total {value['total']:>6}{goal}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    temporary = RESULTS.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(results, indent=2) + "\n")
    temporary.replace(RESULTS)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
