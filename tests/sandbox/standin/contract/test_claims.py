"""Contract: two OS processes claiming the same documents never claim one twice.

Each process loops `find_one_and_update({claimed_by: null}, {$set: {claimed_by: me}})`.
Runs against the stand-in, or unchanged against a real MongoDB (MONGODB_URI).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

CLAIMER = Path(__file__).with_name("claimer.py")
DOCUMENTS = 1_000


@pytest.mark.integration
async def test_two_processes_claim_each_document_exactly_once(
    db: AsyncDatabase[dict[str, Any]], mongo_url: str
) -> None:
    await db.jobs.insert_many([{"n": n, "claimed_by": None} for n in range(DOCUMENTS)])
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(CLAIMER),
            mongo_url,
            db.name,
            name,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for name in ("left", "right")
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert (await worker.stdout.readline()).strip() == b"ready"
        for worker in workers:  # start both together so their claims interleave
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
        outputs = await asyncio.wait_for(
            asyncio.gather(*(worker.communicate() for worker in workers)), timeout=60
        )
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
    left, right = (json.loads(stdout) for stdout, _ in outputs)
    assert set(left).isdisjoint(right)
    assert len(left) + len(right) == DOCUMENTS
    assert sorted(left + right) == list(range(DOCUMENTS))
    assert left and right, "both processes should have claimed some documents"
    owners = {doc["n"]: doc["claimed_by"] async for doc in db.jobs.find({})}
    assert all(owners[n] == "left" for n in left)
    assert all(owners[n] == "right" for n in right)
