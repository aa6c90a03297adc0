"""Benchmark: rows per second of the bulk import — dry run and import — on the MongoDB stand-in.

The file has N rows of our CSV format (two accounts; text, image and weekly posts, drafts and
scheduled ones; a reply on some), the same as an XLSX workbook, and each run starts on an empty
database. For comparison it also times creating the same posts one `PostService.create` at a time
(the path the import would take without `PostService.create_many`).

Goal (printed, never asserted): >= 1,000 rows/s for the dry run and the import.

    .venv/bin/python bench/import_bench.py [--rows 5000] [--quick]

Needs a local Redis (REDIS_URL, default redis://127.0.0.1:6379/8: events and the scheduler's
next-check key are written there). Writes bench/results/import.json.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import platform
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from beanie import PydanticObjectId

from sandbox.standin import StandinProcess
from scheduler.accounts.actors import Actor
from scheduler.bulk import ImportReport
from scheduler.platform.clock import ManualClock
from scheduler.platform.documents import Account, Occurrence, Post
from scheduler.platform.settings import load_settings
from scheduler.services import Services, build_services

GOAL = 1_000
RESULTS = Path(__file__).parent / "results" / "import.json"
T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
COLUMNS = ["account", "type", "text", "media_urls", "date", "time", "timezone", "recurrence",
           "reply_1"]  # fmt: skip


def rows(count: int) -> list[dict[str, str]]:
    found = []
    for i in range(count):
        row = {
            "account": "@ana" if i % 2 else "@bo",
            "text": f"Benchmark post {i}: a sentence or two of ordinary text, like a real post.",
            "date": f"2030-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "time": f"{i % 24:02d}:{i % 60:02d}",
            "timezone": "Europe/Berlin" if i % 3 else "",
        }
        if i % 5 == 0:
            row |= {"type": "IMAGE", "media_urls": f"https://cdn.example.com/{i}.jpg"}
        if i % 4 == 0:
            row |= {"date": "", "time": ""}
        elif i % 7 == 0:
            row |= {"recurrence": "FREQ=WEEKLY;BYDAY=MO,TH", "reply_1": f"More on {i}"}
        found.append(row)
    return found


def csv_file(data: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(data)
    return out.getvalue().encode()


def xlsx_file(data: list[dict[str, str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Posts"
    sheet.append(COLUMNS)
    for row in data:
        sheet.append([row.get(name, "") for name in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def fresh(services: Services) -> Actor:
    """An empty database with one owner and two accounts."""
    for document in (Post, Occurrence, Account):
        await document.get_pymongo_collection().delete_many({})
    actor = Actor(owner_id=PydanticObjectId())
    for n, name in enumerate(("ana", "bo")):
        await Account(
            owner_id=actor.owner_id,
            threads_user_id=str(1000 + n),
            username=name,
            timezone="America/New_York",
            created_at=T0,
            updated_at=T0,
        ).insert()
    return actor


async def timed(label: str, count: int, run: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    start = time.perf_counter()
    result = await run()
    seconds = time.perf_counter() - start
    rate = count / seconds
    extra = ""
    if isinstance(result, ImportReport):
        created, errors = len(result.created), len(result.errors)
        extra = f"  ({result.valid_rows} valid, {created} created, {errors} errors)"
    flag = "ok " if rate >= GOAL else "LOW"
    print(f"  {flag} {label:<38} {count:>6} rows  {seconds:7.2f} s  {rate:>8,.0f} rows/s{extra}")
    return {"rows": count, "seconds": round(seconds, 3), "rows_per_second": round(rate)}


async def main(count: int, one_by_one: int) -> dict[str, Any]:
    data = rows(count)
    csv_data, xlsx_data = csv_file(data), xlsx_file(data)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8")
    results: dict[str, Any] = {}
    with StandinProcess() as standin:
        settings = load_settings(
            {},
            app_env="test",
            mongodb_uri=f"{standin.url}/bench_import",
            redis_url=redis_url,
            secret_key="bench-secret-key",
        )
        async with build_services(settings, clock=ManualClock(T0)) as services:
            sizes = f"{len(csv_data) / 1e6:.1f} MB CSV, {len(xlsx_data) / 1e6:.1f} MB XLSX"
            print(f"import of {count} rows ({sizes}) on the stand-in; goal {GOAL:,} rows/s")
            bulk = services.bulk
            actor = await fresh(services)
            results["dry_run_csv"] = await timed(
                "dry run, CSV", count, lambda: bulk.dry_run(actor, csv_data)
            )
            results["dry_run_xlsx"] = await timed(
                "dry run, XLSX", count, lambda: bulk.dry_run(actor, xlsx_data)
            )
            results["import_csv"] = await timed(
                "import, CSV (create_many batches)",
                count,
                lambda: bulk.import_posts(actor, csv_data),
            )
            actor = await fresh(services)
            results["import_xlsx"] = await timed(
                "import, XLSX", count, lambda: bulk.import_posts(actor, xlsx_data)
            )
            actor = await fresh(services)
            inputs = await _inputs(services, actor, csv_file(data[:one_by_one]))

            async def one_at_a_time() -> None:
                for item in inputs:
                    await services.posts.create(actor, item)

            results["create_one_by_one"] = await timed(
                "baseline: PostService.create per row", len(inputs), one_at_a_time
            )
            await services.mongo.drop_database(settings.database_name)
    return results


async def _inputs(services: Services, actor: Actor, data: bytes) -> list[Any]:
    """The PostInputs the importer would hand to create_many (read through its own steps)."""
    from scheduler.bulk.importer import ImportOptions
    from scheduler.bulk.readers import read_table

    importer = services.bulk._importer  # the bench looks inside on purpose
    table = read_table(data, max_bytes=10**9, max_rows=10**9)
    parsed, _ = await importer._parse(actor, table, ImportOptions(), "bench", True)
    return [row.data for row in parsed if row.data is not None]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="1,000 rows, 200 one by one")
    args = parser.parse_args()
    count = 1000 if args.quick else args.rows
    results = asyncio.run(main(count, 200 if args.quick else 1000))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "goal_rows_per_second": GOAL,
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")
