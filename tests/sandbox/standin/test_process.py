"""The stand-in as a process: launcher, snapshots across restarts, the data-directory lock and
command counting. These need the stand-in itself, so they skip on a real MongoDB.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pymongo import ASCENDING, AsyncMongoClient, IndexModel

from sandbox.standin import StandinProcess, standin_reset_stats, standin_stats
from scheduler.platform.errors import ConfigurationError

pytestmark = [pytest.mark.usefixtures("standin_only"), pytest.mark.integration]


def _client(url: str) -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=5000)


def test_cli_prints_the_listening_line_and_exits_cleanly_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.standin", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert re.fullmatch(r"mongo-standin listening on mongodb://127\.0\.0\.1:\d+\n", line)
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        process.kill()
        process.communicate()


def test_launcher_exposes_url_and_pid_and_stops() -> None:
    standin = StandinProcess()
    with standin:
        assert re.fullmatch(r"mongodb://127\.0\.0\.1:\d+", standin.url)
        os.kill(standin.pid, 0)  # alive
        pid = standin.pid
    assert not standin.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_launcher_reports_a_server_that_cannot_start(tmp_path: Path) -> None:
    with StandinProcess(data=tmp_path) as first:
        second = StandinProcess(data=tmp_path, startup_timeout=20)
        with pytest.raises(ConfigurationError, match="already using the data directory"):
            second.start()
        assert first.running


async def test_snapshot_and_indexes_survive_a_restart(tmp_path: Path) -> None:
    indexes = [
        IndexModel([("slug", ASCENDING)], unique=True),
        IndexModel([("status", ASCENDING), ("next_run_at", ASCENDING)], name="status_due"),
    ]
    async with StandinProcess(data=tmp_path) as standin:
        client = _client(standin.url)
        await client.app.posts.create_indexes(indexes)
        await client.app.posts.insert_many([{"slug": f"s{n}", "n": n} for n in range(50)])
        await client.close()
    assert (tmp_path / "snapshot.bson").exists()

    async with StandinProcess(data=tmp_path) as standin:
        client = _client(standin.url)
        try:
            assert await client.app.posts.count_documents({}) == 50
            assert (await client.app.posts.find_one({"slug": "s7"}) or {})["n"] == 7
            reply = await client.app.command(
                {
                    "createIndexes": "posts",
                    "indexes": [
                        {"key": {"slug": 1}, "name": "slug_1", "unique": True},
                        {"key": {"status": 1, "next_run_at": 1}, "name": "status_due"},
                    ],
                }
            )
            assert reply["note"] == "all indexes already exist"
            assert reply["numIndexesBefore"] == reply["numIndexesAfter"] == 3
            with pytest.raises(Exception, match="duplicate key"):
                await client.app.posts.insert_one({"slug": "s7"})
        finally:
            await client.close()


async def test_periodic_snapshot_survives_a_crash(tmp_path: Path) -> None:
    standin = StandinProcess(data=tmp_path)
    await asyncio.to_thread(standin.start)
    try:
        client = _client(standin.url)
        await client.app.jobs.insert_one({"_id": "kept"})
        await client.close()
        snapshot = tmp_path / "snapshot.bson"
        for _ in range(100):  # written within a few seconds of the change
            if snapshot.exists():
                break
            await asyncio.sleep(0.1)
        assert snapshot.exists()
    finally:
        await asyncio.to_thread(standin.kill)  # SIGKILL: no final snapshot
    async with StandinProcess(data=tmp_path) as restarted:
        client = _client(restarted.url)
        assert await client.app.jobs.find_one({"_id": "kept"}) == {"_id": "kept"}
        await client.close()


async def test_counts_commands_but_not_monitoring(mongo_url: str) -> None:
    client = _client(mongo_url)
    try:
        await client.admin.command("ping")
        await standin_reset_stats(client)
        await client.stats_db.things.insert_one({"a": 1})
        await client.stats_db.things.find_one({"a": 1})
        await client.admin.command("ping")
        assert await standin_stats(client) == {"insert": 1, "find": 1}
        reply = await client.admin.command("standinStats")
        assert reply["total"] == 2
        assert reply["monitoring"].get("ping", 0) >= 1
        await client.drop_database("stats_db")
    finally:
        await client.close()


async def test_no_counted_commands_while_a_client_sits_idle(mongo_url: str) -> None:
    client = _client(mongo_url)
    try:
        await client.idle_db.things.insert_one({"a": 1})
        await standin_reset_stats(mongo_url)
        await asyncio.sleep(2.5)
        assert await standin_stats(mongo_url) == {}
        await client.drop_database("idle_db")
    finally:
        await client.close()
