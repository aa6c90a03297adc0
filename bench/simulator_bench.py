"""Benchmark: how many `threads_publish` calls per second the Threads simulator serves.

The simulator runs in its own process (`python -m sandbox.simulator --port 0`, uvicorn with
httptools, access log off). Two client processes drive it over many concurrent keep-alive
connections, one `httpx.AsyncHTTPTransport` per connection (httpx's client and pool layers cost more
CPU per request than the simulator itself, and on 2 cores they would be what is measured). Each
process first creates its TEXT containers (timed separately), then all processes publish at once;
accounts hold at most 250 posts each, as the real quota allows.

    .venv/bin/python bench/simulator_bench.py [--publishes 8000] [--connections 32] [--clients 2]

Prints publish calls/s and writes bench/results/simulator.json. The goal is ≥ 2,000 calls/s on the
2-core build machine; the number is printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.simulator import SimulatorAdmin, SimulatorServer  # noqa: E402

POSTS_PER_ACCOUNT = 250  # stay within the real quota: many accounts, as in production


async def _worker(
    base_url: str, tokens: list[str], per_token: int, connections: int, barrier: Any
) -> dict[str, Any]:
    # One httpx transport per keep-alive connection. httpx's client layer and its pool do work per
    # request that grows with the pool; on 2 cores that work, not the simulator, would be measured.
    lanes_io = [
        httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1)
        )
        for _ in range(connections)
    ]
    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    jobs = [(t, i) for t in tokens for i in range(per_token)]
    lanes = [jobs[k::connections] for k in range(connections)]

    async def post(k: int, url: httpx.URL, form: dict[str, str]) -> dict[str, Any]:
        request = httpx.Request("POST", url, content=urlencode(form).encode(), headers=headers)
        response = await lanes_io[k].handle_async_request(request)
        body = await response.aread()
        await response.aclose()
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {body[:300]!r}")
        return dict(json.loads(body))

    create_url = httpx.URL(f"{base_url}/me/threads")
    publish_url = httpx.URL(f"{base_url}/me/threads_publish")

    async def create_lane(k: int) -> list[tuple[str, str]]:
        made = []
        for token, i in lanes[k]:
            form = {"media_type": "TEXT", "text": f"bench {i}", "access_token": token}
            made.append((token, (await post(k, create_url, form))["id"]))
        return made

    t0 = time.perf_counter()
    containers = await asyncio.gather(*(create_lane(k) for k in range(connections)))
    create_s = time.perf_counter() - t0

    barrier.wait()  # every client process starts publishing together
    latencies: list[float] = []

    async def publish_lane(k: int) -> None:
        for token, container_id in containers[k]:
            t = time.perf_counter()
            await post(k, publish_url, {"creation_id": container_id, "access_token": token})
            latencies.append(time.perf_counter() - t)

    started = time.time()
    await asyncio.gather(*(publish_lane(k) for k in range(connections)))
    ended = time.time()
    for transport in lanes_io:
        await transport.aclose()
    return {"n": len(jobs), "create_s": create_s, "start": started, "end": ended, "lat": latencies}


def _client_process(
    base_url: str, tokens: list[str], per_token: int, connections: int, barrier: Any, out: Any
) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    out.put(asyncio.run(_worker(base_url, tokens, per_token, connections, barrier)))


async def _setup(admin: SimulatorAdmin, accounts: int) -> list[str]:
    return [
        (await admin.create_account(f"bench_{i}", access_token=f"bench-token-{i}")).access_token
        for i in range(accounts)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--publishes", type=int, default=8000)
    parser.add_argument(
        "--connections", type=int, default=32, help="connections per client process"
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "simulator.json"))
    args = parser.parse_args()

    per_token = min(POSTS_PER_ACCOUNT, max(1, args.publishes // args.clients))
    accounts = max(args.clients, -(-args.publishes // per_token))
    accounts += (-accounts) % args.clients  # same number of accounts per client
    with SimulatorServer(subprocess=True, args=["--log-level", "warning"]) as sim:
        tokens = asyncio.run(_setup(sim.admin, accounts))
        queue: Any = mp.Queue()
        barrier = mp.Barrier(args.clients)
        share = len(tokens) // args.clients
        procs = [
            mp.Process(
                target=_client_process,
                args=(
                    sim.base_url,
                    tokens[i * share : (i + 1) * share],
                    per_token,
                    args.connections,
                    barrier,
                    queue,
                ),
            )
            for i in range(args.clients)
        ]
        for p in procs:
            p.start()
        results = [queue.get(timeout=600) for _ in procs]
        for p in procs:
            p.join()
        published = asyncio.run(sim.admin.published())

    total = sum(r["n"] for r in results)
    # Publish phase wall time: from the first process's start to the last one's end.
    publish_wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    create_wall = max(r["create_s"] for r in results)
    latencies = sorted(x for r in results for x in r["lat"])
    report = {
        "publish_calls": total,
        "published_in_journal": len(published),
        "publish_calls_per_s": round(total / publish_wall, 1),
        "create_calls_per_s": round(total / create_wall, 1),
        "publish_latency_ms": {
            "p50": round(1000 * latencies[len(latencies) // 2], 2),
            "p99": round(1000 * latencies[int(len(latencies) * 0.99)], 2),
        },
        "client_processes": args.clients,
        "connections_per_client": args.connections,
        "accounts": len(tokens),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    print(f"publish calls/s: {report['publish_calls_per_s']} (goal ≥ 2000)")
    print(f"create calls/s:  {report['create_calls_per_s']}")
    latency = report["publish_latency_ms"]
    print(f"publish latency: p50 {latency['p50']} ms, p99 {latency['p99']} ms")
    print(f"journal: {len(published)} publishes recorded for {total} calls")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0 if len(published) == total else 1


if __name__ == "__main__":
    raise SystemExit(main())
