"""Fuzz run: schemathesis on the GraphQL schema, generated requests on every HTTP route and
generated WebSocket conversations, then abuse while another tenant uses the server.

Starts its own MongoDB stand-in and Redis (on private ports) and the web app as its own process
(`threads-scheduler serve`, as deployed), then, over real sockets:

1. GraphQL: every query and mutation, valid and invalid documents (schemathesis), as an API
   token's holder (then, with fewer cases, with a read-only token and anonymously); checks: no
   5xx, no masked ("Unexpected error.") or unmasked internal error, responses conform to the
   schema.
2. HTTP: every route of the app (Hypothesis-generated methods, paths, query strings, forms,
   bodies, headers); checks: no 5xx, no internals in any body.
3. WebSocket: generated conversations in both subscription protocols; checks: answers and close
   codes the protocol defines, no internal errors.
4. Abuse, with a bystander (another tenant creating posts and watching them on a subscription):
   protocol violations, a flood of 20,000 messages, 5 MB bodies, 200 slowloris connections, an
   event stream that is never read. Prints the bystander's latency (p50/p99/max) in each.

Every error the server logged is counted and listed. Writes bench/results/fuzz.json; the exit
status is 0 only when nothing was found.

    .venv/bin/python -m bench.fuzz                       # the default run (a few minutes)
    .venv/bin/python -m bench.fuzz --quick               # a smoke run
    .venv/bin/python -m bench.fuzz --graphql-examples 200 --http-examples 200 --ws-examples 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from sandbox.devservers import free_port, port_open
from sandbox.standin import StandinProcess
from tests.fuzz.abuse import (
    STALLED_STREAM_SECONDS,
    Bystander,
    bystander,
    commit,
    drained_until_closed,
    flood,
    owner_id_of,
    pour_events,
    slowloris,
    unread_event_stream,
    violations,
)
from tests.fuzz.graphql_fuzz import Tally, fuzz_operation, load_schema, operation_labels
from tests.fuzz.http_fuzz import Session, fuzz_route, logged_in_session, route_shapes
from tests.fuzz.server import AppProcess, Tenant
from tests.fuzz.ws_fuzz import PROTOCOLS, fuzz_conversations

REPOSITORY = Path(__file__).resolve().parents[1]
RESULTS = REPOSITORY / "bench" / "results" / "fuzz.json"


@dataclass
class Report:
    """What one run did and found."""

    cases: dict[str, int] = field(default_factory=dict)
    findings: list[dict[str, str]] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    server_5xx: int = 0  # answers of 500 and above, /readyz's 503 (its contract) aside
    abuse: dict[str, dict[str, Any]] = field(default_factory=dict)
    server_errors: Counter[str] = field(default_factory=Counter)

    def found(self, area: str, target: str, error: BaseException) -> None:
        # Tracebacks name files relative to the repository and the interpreter's prefix: results
        # are committed, and no path of this machine belongs in them.
        text = str(error).replace(f"{sys.prefix}/", "").replace(f"{REPOSITORY}/", "")
        self.findings.append({"area": area, "target": target, "error": text[:4000]})


# --- the system under test ---------------------------------------------------------------------


@contextmanager
def system(workdir: Path) -> Iterator[AppProcess]:
    """Redis, the stand-in and the app, all on private ports."""
    redis_port = free_port()
    redis = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            *("--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""),
            *("--appendonly", "no"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if port_open("127.0.0.1", redis_port):
                break
            time.sleep(0.05)
        with (
            StandinProcess() as standin,
            AppProcess(
                mongo_url=standin.url,
                database=f"fuzz_{uuid.uuid4().hex[:8]}",
                redis_url=f"redis://127.0.0.1:{redis_port}/0",
                workdir=workdir,
            ) as app,
        ):
            yield app
    finally:
        redis.terminate()
        redis.wait(10)


# --- phases ------------------------------------------------------------------------------------


def fuzz_graphql(app: AppProcess, owner: Tenant, ids: list[str], examples: int, r: Report) -> None:
    """As the owner, then with their read-only token and with no credentials (fewer cases)."""
    schema = load_schema(app.base_url, owner.bearer, ids)
    callers = [
        ("owner", owner.bearer, examples),
        ("read-only token", owner.read_only_bearer, max(1, examples // 4)),
        ("anonymous", {}, max(1, examples // 6)),
    ]
    labels = operation_labels()
    for caller, headers, count in callers:
        tally = Tally()
        for label in labels:
            try:
                fuzz_operation(schema, label, headers, examples=count, tally=tally)
            except Exception as exc:  # a finding: recorded, and the run goes on
                r.found(f"graphql ({caller})", label, exc)
        r.cases[f"graphql ({caller})"] = tally.total
        print(f"  graphql ({caller}): {tally.total} cases, {len(labels)} operations", flush=True)


def fuzz_http(app: AppProcess, session: Session, ids: list[str], examples: int, r: Report) -> None:
    shapes = route_shapes()
    with httpx.Client(base_url=app.base_url, timeout=30) as client:
        for shape in shapes:
            try:
                statuses = fuzz_route(client, shape, ids=ids, session=session, examples=examples)
            except Exception as exc:
                r.found("http", f"{'|'.join(shape.methods)} {shape.path}", exc)
                continue
            r.statuses += statuses
            if shape.path != "/readyz":
                r.server_5xx += sum(n for status, n in statuses.items() if status >= 500)
    r.cases["http"] = sum(r.statuses.values())
    print(f"  http: {r.cases['http']} requests over {len(shapes)} routes", flush=True)


def fuzz_websockets(
    app: AppProcess, owner: Tenant, ids: list[str], examples: int, r: Report
) -> None:
    total = 0
    for protocol in PROTOCOLS:
        try:
            endings = fuzz_conversations(app.ws_url, protocol, owner.token, ids, examples=examples)
            total += sum(endings.values())
        except Exception as exc:
            r.found("websocket", protocol, exc)
    r.cases["websocket"] = total
    print(f"  websocket: {total} conversations", flush=True)


async def abuse(
    app: AppProcess, owner: Tenant, session: Session, bystanders: list[Tenant], r: Report
) -> None:
    """Each scenario runs while a fresh bystander keeps creating and watching posts."""

    async def idle() -> dict[str, Any]:
        await asyncio.sleep(5)
        return {}

    async def protocol_violations() -> dict[str, Any]:
        codes: Counter[str] = Counter()
        for violation in violations(owner.token):
            closed = await commit(app, owner.token, violation)
            ok = closed.code == violation.code
            codes["expected close code" if ok else f"{violation.name}: {closed.code}"] += 1
        return dict(codes)

    async def message_flood() -> dict[str, Any]:
        return await flood(app, owner.token, pings=20_000, operations=150)

    async def big_bodies() -> dict[str, Any]:
        body = b'{"query": "{ health }", "padding": "' + b"x" * (5 << 20) + b'"}'
        headers = {**owner.bearer, "Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=app.base_url, timeout=60) as client:
            started = time.monotonic()
            sent = [client.post("/graphql", content=body, headers=headers) for _ in range(8)]
            responses = await asyncio.gather(*sent)
            form = await client.post(
                "/posts/new",
                content=b"text=" + b"x" * (5 << 20),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        return {
            "graphql_statuses": dict(Counter(resp.status_code for resp in responses)),
            "form_status": form.status_code,
            "seconds_for_8x5MB": round(time.monotonic() - started, 3),
        }

    async def slow_headers() -> dict[str, Any]:
        async with slowloris(app, 200) as socks:
            await asyncio.sleep(5)
            return {"connections": len(socks)}

    async def unread_stream() -> dict[str, Any]:
        async with unread_event_stream(app, session.cookie) as stream:
            await pour_events(app, owner_id_of(app, owner), count=300, size=50_000)
            await asyncio.sleep(STALLED_STREAM_SECONDS + 3)
            received, closed = await asyncio.to_thread(drained_until_closed, stream, 30)
        return {"bytes_received_of_30MB": received, "dropped_by_server": closed}

    scenarios: list[tuple[str, Callable[[], Awaitable[dict[str, Any]]]]] = [
        ("idle (baseline)", idle),
        ("WebSocket protocol violations", protocol_violations),
        ("WebSocket flood (20k messages)", message_flood),
        ("5 MB bodies", big_bodies),
        ("200 slowloris connections", slow_headers),
        ("/events never read", unread_stream),
    ]
    for (name, scenario), tenant in zip(scenarios, bystanders, strict=True):
        async with bystander(app, tenant) as user:
            done = asyncio.Event()
            busy = asyncio.create_task(_keep_busy(user, done))
            try:
                outcome = await scenario()
            except Exception as exc:
                r.found("abuse", name, exc)
                outcome = {"error": str(exc)[:300]}
            done.set()
            await busy
        r.abuse[name] = {**outcome, **_latency(user.latencies)}
        print(f"  abuse: {name}: {r.abuse[name]}", flush=True)


async def _keep_busy(user: Bystander, done: asyncio.Event) -> None:
    while not done.is_set():
        await user.roundtrip()
        await user.request()
        await asyncio.sleep(0.1)


def _latency(samples: list[float]) -> dict[str, Any]:
    if not samples:
        return {"bystander_calls": 0}
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "bystander_calls": len(samples),
        "bystander_p50_ms": round(statistics.median(samples) * 1000, 1),
        "bystander_p99_ms": round(p99 * 1000, 1),
        "bystander_max_ms": round(ordered[-1] * 1000, 1),
    }


def classify_server_errors(app: AppProcess, r: Report) -> None:
    for record in app.server_errors():
        text = f"{record.get('message', '')}\n{record.get('exc', '')}"
        r.server_errors["logged"] += 1
        r.found("server log", str(record.get("logger")), RuntimeError(text[-3000:]))


# --- report ------------------------------------------------------------------------------------


def table(r: Report) -> str:
    lines = ["", "| what | cases |", "|---|---:|"]
    lines += [f"| {area} | {count:,} |" for area, count in r.cases.items()]
    lines += [f"| **total** | **{sum(r.cases.values()):,}** |", ""]
    lines += [f"HTTP statuses: {dict(sorted(r.statuses.items()))}"]
    lines += [
        f"5xx responses (other than /readyz's 503): {r.server_5xx}; "
        f"new findings: {len(r.findings)}; server log errors: {dict(r.server_errors)}",
        "",
        "| abuse (bystander meanwhile) | calls | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, outcome in r.abuse.items():
        lines.append(
            f"| {name} | {outcome.get('bystander_calls', 0)} | "
            f"{outcome.get('bystander_p50_ms', '-')} | {outcome.get('bystander_p99_ms', '-')} | "
            f"{outcome.get('bystander_max_ms', '-')} |"
        )
    for finding in r.findings:
        lines += ["", f"FINDING [{finding['area']}] {finding['target']}:", finding["error"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--graphql-examples", type=int, default=60, help="per operation and mode")
    parser.add_argument("--http-examples", type=int, default=60, help="per route")
    parser.add_argument("--ws-examples", type=int, default=200, help="per protocol")
    parser.add_argument("--no-abuse", action="store_true", help="skip the abuse scenarios")
    parser.add_argument("--quick", action="store_true", help="10 examples each, for a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.graphql_examples = args.http_examples = args.ws_examples = 10
    report = Report()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp, system(Path(tmp)) as app:
        owner = asyncio.run(app.add_tenant("owner@fuzz.example"))
        stranger = asyncio.run(app.add_tenant("stranger@fuzz.example"))
        ids = [owner.account_id, owner.post_id, stranger.account_id, stranger.post_id]
        # Logged in first: the fuzzed logins soon trip the login throttle for this client.
        session = logged_in_session(app.base_url, owner.email, owner.password)
        print(f"Fuzzing {app.base_url} (log: {app.log_path})", flush=True)
        fuzz_graphql(app, owner, ids, args.graphql_examples, report)
        fuzz_http(app, session, ids, args.http_examples, report)
        fuzz_websockets(app, owner, ids, args.ws_examples, report)
        if not args.no_abuse:
            bystanders = [
                asyncio.run(app.add_tenant(f"bystander{n}@fuzz.example")) for n in range(6)
            ]
            asyncio.run(abuse(app, owner, session, bystanders, report))
        if not app.alive:
            report.found("server", "process", RuntimeError(app.log_text()[-3000:]))
        classify_server_errors(app, report)
    print(table(report))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": f"{platform.machine()} {platform.python_version()}",
                "seconds": round(time.monotonic() - started, 1),
                "examples": {
                    "graphql_per_operation_and_mode": args.graphql_examples,
                    "http_per_route": args.http_examples,
                    "websocket_per_protocol": args.ws_examples,
                },
                "cases": report.cases,
                "http_statuses": {str(k): v for k, v in sorted(report.statuses.items())},
                "server_5xx": report.server_5xx,
                "abuse": report.abuse,
                "server_errors": dict(report.server_errors),
                "findings": report.findings,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nWrote {RESULTS}")
    return 0 if not report.findings else 1


if __name__ == "__main__":
    sys.exit(main())
