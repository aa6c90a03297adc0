"""A claiming worker for the two-process test: `python claimer.py URL DATABASE NAME`.

Prints "ready", waits for a line on stdin, then claims documents one by one with
find_one_and_update until none is left, and prints the claimed ids as a JSON list.
"""

from __future__ import annotations

import json
import sys

from pymongo import MongoClient


def main(url: str, database: str, me: str) -> None:
    client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=5000)
    jobs = client[database].jobs
    jobs.find_one({})  # connect before the start signal
    print("ready", flush=True)
    sys.stdin.readline()
    claimed = []
    while job := jobs.find_one_and_update({"claimed_by": None}, {"$set": {"claimed_by": me}}):
        claimed.append(job["n"])
    client.close()
    print(json.dumps(claimed), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
