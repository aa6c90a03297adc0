"""Bulk fixtures: an owner, accounts inserted for it, and helpers to build CSV and XLSX files."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from beanie import PydanticObjectId

from scheduler.accounts.actors import Actor
from scheduler.platform.documents import Account, Occurrence, Post
from scheduler.services import Services
from tests.factories import make_account

AddAccount = Callable[..., Awaitable[Account]]
_ids = itertools.count(1_000_001)


@pytest.fixture
def actor() -> Actor:
    return Actor(owner_id=PydanticObjectId())


@pytest.fixture
def add_account(services: Services, actor: Actor) -> AddAccount:
    """Insert a connected account of the actor: `await add_account("ana", timezone="UTC")`."""

    async def add(username: str = "ana", **overrides: Any) -> Account:
        account = make_account(
            owner_id=actor.owner_id,
            threads_user_id=str(next(_ids)),
            username=username,
            **overrides,
        )
        return await account.insert()

    return add


def csv_bytes(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> bytes:
    """A CSV file (UTF-8) with a header row from `columns` (default: the first row's keys)."""
    names = list(columns or rows[0].keys())
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(sheets: dict[str, Sequence[Sequence[Any]]]) -> bytes:
    """An XLSX workbook with these sheets (name → rows, the first row being the header)."""
    from openpyxl import Workbook

    book = Workbook()
    first = True
    for name, rows in sheets.items():
        sheet = book.active if first else book.create_sheet()
        assert sheet is not None
        sheet.title = name
        first = False
        for row in rows:
            sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def database_state() -> tuple[int, int, list[Any]]:
    """Everything an import could change: post and occurrence counts, and every post's id."""
    posts = await Post.get_pymongo_collection().find({}, {"_id": 1}).to_list()
    return (
        len(posts),
        await Occurrence.get_pymongo_collection().count_documents({}),
        sorted(str(p["_id"]) for p in posts),
    )
