"""`threads-scheduler import / export / import-template`, run as real processes on the test's
database and Redis."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from scheduler.accounts.users import create_user
from scheduler.platform.documents import Post
from scheduler.services import Services
from tests.bulk.conftest import csv_bytes
from tests.factories import make_account

ROOT = Path(__file__).resolve().parents[2]


async def cli(services: Services, cwd: Path, *args: str) -> tuple[int, str, str]:
    settings = services.settings
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "APP_ENV": "test",
        "MONGODB_URI": settings.mongodb_uri or "",
        "REDIS_URL": settings.effective_redis_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scheduler.cli", *args,
        cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def owner(services: Services) -> str:
    user = await create_user("owner@example.com", "a long password", now=services.clock.now())
    await make_account(owner_id=user.owner_id, username="ana").insert()
    return user.email


async def test_import_dry_run_then_import_with_progress(
    services: Services, owner: str, tmp_path: Path
) -> None:
    rows = [{"text": f"From the CLI {i}", "date": "2030-02-01", "time": "10:00"} for i in range(3)]
    rows.append({"text": "", "date": "2030-02-01", "time": "10:00"})
    (tmp_path / "posts.csv").write_bytes(csv_bytes(rows))

    code, out, err = await cli(services, tmp_path, "import", "posts.csv", "--dry-run")

    assert code == 1  # a row has an error
    assert "4 rows read, 3 posts would be created, 1 rows with errors" in out
    assert "Row 5, column 'text': Text is empty" in out
    assert "Dry run: nothing was written." in out
    assert "validating [" in err and "4/4 rows" in err
    assert await Post.count() == 0

    code, out, err = await cli(
        services, tmp_path, "import", "posts.csv", "--owner", owner, "--all-or-nothing"
    )
    assert code == 1 and "Nothing was imported" in out
    assert await Post.count() == 0

    code, out, err = await cli(services, tmp_path, "import", "posts.csv", "--owner", owner)
    assert code == 1 and "3 posts created" in out and "importing [" in err
    assert await Post.count() == 3


async def test_a_refused_file_exits_with_a_message(
    services: Services, owner: str, tmp_path: Path
) -> None:
    (tmp_path / "posts.xlsx").write_bytes(b"not a workbook")
    code, out, err = await cli(services, tmp_path, "import", "posts.xlsx")
    assert code == 1 and "posts.xlsx is not a valid XLSX workbook" in err


async def test_export_and_template(services: Services, owner: str, tmp_path: Path) -> None:
    rows = [{"text": "=SUM(1)", "date": "2030-02-01", "time": "10:00"}]
    (tmp_path / "one.csv").write_bytes(csv_bytes(rows))
    assert (await cli(services, tmp_path, "import", "one.csv"))[0] == 0

    code, out, _ = await cli(services, tmp_path, "export", "--account", "@ana")
    assert code == 0
    header, line = out.strip().splitlines()
    assert header.startswith("id,account,status,type,text")
    assert ",ana,SCHEDULED,TEXT,'=SUM(1)," in line  # guarded against formula injection

    code, out, _ = await cli(services, tmp_path, "import-template", "template.xlsx", "--xlsx")
    assert code == 0 and (tmp_path / "template.xlsx").read_bytes().startswith(b"PK")
