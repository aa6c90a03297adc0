"""Snapshot: every database saved to one BSON file, written atomically, and reloaded at start.

The file is a stream of BSON documents: a header, then per collection a descriptor (database,
name, index specs, document count) followed by its documents. It is written to a temporary
file, fsynced and renamed over the previous snapshot, so a crash leaves either the old or the
new snapshot, never a torn one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import bson

from sandbox.standin.indexes import IndexSpec
from sandbox.standin.storage import Engine
from sandbox.standin.wire import CODEC_OPTIONS
from scheduler.platform.errors import ConfigurationError

FORMAT = "mongo-standin-snapshot"
VERSION = 1
FILE_NAME = "snapshot.bson"
LOCK_NAME = "standin.lock"


def dump(engine: Engine) -> bytes:
    """Encode every database (synchronously: the result is one consistent point in time)."""
    parts = [bson.encode({"format": FORMAT, "version": VERSION})]
    for database, collections in engine.databases.items():
        for name, collection in collections.items():
            indexes = [
                index.spec.document()
                for index_name, index in collection.indexes.items()
                if index_name != "_id_"
            ]
            parts.append(
                bson.encode(
                    {
                        "database": database,
                        "collection": name,
                        "indexes": indexes,
                        "count": len(collection),
                    }
                )
            )
            parts.extend(bson.encode(document) for document in collection.docs.values())
    return b"".join(parts)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old or the new file, nothing else."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def load(engine: Engine, path: Path) -> int:
    """Restore a snapshot into an empty engine; return how many documents were loaded."""
    if not path.exists():
        return 0
    with open(path, "rb") as handle:
        records = bson.decode_file_iter(handle, CODEC_OPTIONS)
        header = next(records, None)
        if not header or header.get("format") != FORMAT or header.get("version") != VERSION:
            raise ConfigurationError(
                f"{path} is not a mongo-standin snapshot (version {VERSION}); move it away or "
                "point --data at another directory."
            )
        return _load_collections(engine, records)


def _load_collections(engine: Engine, records: Iterator[dict[str, Any]]) -> int:
    loaded = 0
    for descriptor in records:
        collection = engine.create_collection(descriptor["database"], descriptor["collection"])
        for document in descriptor["indexes"]:
            collection.create_index(IndexSpec.parse(document))
        for _ in range(descriptor["count"]):
            collection.insert(next(records))
            loaded += 1
    engine.changes = 0
    return loaded


def lock_directory(directory: Path) -> IO[bytes]:
    """Create and lock the data directory so two stand-ins never share (and clobber) it."""
    directory.mkdir(parents=True, exist_ok=True)
    # Held open (and locked) for the life of the process; the OS drops the lock if it dies.
    handle = open(directory / LOCK_NAME, "wb")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise ConfigurationError(
            f"Another mongo-standin is already using the data directory {directory}; stop it "
            "or pass a different --data."
        ) from exc
    return handle
