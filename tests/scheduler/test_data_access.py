"""The data-access rule (docs/conventions.md): Beanie reads and inserts; every update and delete
is a query-level write on the raw collection whose filter names the state it expects.

A loaded document is a snapshot: `post.save()` or `post.set(...)` writes that snapshot back over
whatever a worker changed since, which is exactly how a cancelled post gets published. So the core
must never call Beanie's write methods; this test reads its source to hold it to that.
"""

from __future__ import annotations

import ast
from pathlib import Path

import beanie

from scheduler.platform import documents

CORE = Path(__file__).resolve().parents[2] / "scheduler"
DOCUMENTS = {
    name
    for name, value in vars(documents).items()
    if isinstance(value, type) and issubclass(value, beanie.Document)
}
# Beanie write methods that take no positional argument (openpyxl's `book.save(path)` does).
ALWAYS = {"save", "save_changes", "upsert", "delete_all", "replace_many"}
# Ambiguous names (str.replace, dict.update, Redis set/delete, Prometheus inc): flagged when called
# on a document class or a query built from one, when they take a Beanie update document, or when
# called without arguments as Beanie's instance methods are.
WRITES = {"replace", "delete", "update", "update_many", "delete_many", "set", "inc", "current_date"}


def _root(node: ast.expr) -> ast.expr:
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            return node


def _is_raw(node: ast.expr) -> bool:
    """A call on `Model.get_pymongo_collection()`: PyMongo, where the rule wants the write."""
    return "get_pymongo_collection" in ast.unparse(node)


def _is_update_document(arg: ast.expr) -> bool:
    if not isinstance(arg, ast.Dict):
        return False
    for key in arg.keys:
        if isinstance(key, ast.Constant) and str(key.value).startswith("$"):
            return True
        if isinstance(key, ast.Attribute) and _is_document(key.value):
            return True
    return False


def _is_document(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in DOCUMENTS


def beanie_writes(source: str) -> list[str]:
    """`line: call` of every Beanie write in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name = node.func.attr
        if _is_raw(node.func.value):
            hit = False
        elif name in ALWAYS:
            hit = not node.args
        elif name in WRITES:
            hit = (
                _is_document(_root(node.func.value))
                or not node.args
                and not node.keywords
                and name in {"replace", "delete"}
                or bool(node.args)
                and _is_update_document(node.args[0])
            )
        else:
            hit = False
        if hit:
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_detector_finds_beanie_writes_and_nothing_else() -> None:
    assert DOCUMENTS >= {"Post", "Occurrence", "Account"}
    bad = """
async def f(post, redis, text, counter, values):
    await post.save()
    await post.set({Post.status: "CANCELLED"})
    await post.update({"$set": {"status": "CANCELLED"}})
    await post.delete()
    await Post.find({"status": "SCHEDULED"}).update_many({"$set": {"x": 1}})
    await Occurrence.find_one({"_id": 1}).delete()
"""
    assert len(beanie_writes(bad)) == 6
    fine = """
async def f(post, redis, text, counter, values, book, path):
    await redis.set("key", 1, nx=True)
    await redis.delete("key")
    counter.inc()
    values.update({"a": 1})
    text.replace("a", "b")
    book.save(path)
    await Post.get_pymongo_collection().update_one({"_id": 1, "version": 2}, {"$set": {"x": 1}})
    await post.insert()
    await Post.find({"owner_id": 1}).to_list()
"""
    assert beanie_writes(fine) == []


def test_the_core_never_writes_through_beanie() -> None:
    offenders = {
        str(path.relative_to(CORE.parent)): hits
        for path in sorted(CORE.rglob("*.py"))
        if (hits := beanie_writes(path.read_text()))
    }
    assert offenders == {}, (
        "Write with a conditional update on Model.get_pymongo_collection() instead "
        "(see docs/conventions.md, data access)"
    )
