"""Chaos run: thousands of posts, killed workers, a wiped Redis, a faulty Threads — and the proof.

Starts its own Redis (so FLUSHALL touches nothing else), the MongoDB stand-in, the Threads
simulator, the web app and three `threads-scheduler worker` processes. Schedules posts of every
kind (text, image, video, carousel, reply chains, recurring) across many accounts over a window,
cancels and edits some shortly before they are due, and meanwhile: SIGKILLs a random worker every
10–20 s and restarts it, runs FLUSHALL once, makes the simulator inject transient errors, latency
spikes, hangs and failures after a publish was accepted, and revokes one account's token.

At the end it checks, from the simulator's journal and MongoDB: every occurrence reached a
terminal state or is correctly held; nothing published twice, nothing early, no cancelled post
published, edits published in their edited form, nothing lost, every failure explained. It prints
a table and writes `bench/results/chaos.json`; the exit status is 0 only when the invariants hold.

    .venv/bin/python bench/chaos.py                      # 3,000 posts over 3 minutes, 30 accounts
    .venv/bin/python bench/chaos.py --runs 3             # three runs in a row
    .venv/bin/python bench/chaos.py --posts 600 --window 60 --accounts 10   # shorter
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from beanie import PydanticObjectId

from sandbox.devservers import free_port, port_open
from sandbox.simulator.server import SimulatorServer
from sandbox.standin import StandinProcess
from scheduler.accounts.actors import Actor
from scheduler.platform.clock import SystemClock
from scheduler.platform.documents import (
    Account,
    AccountStatus,
    Occurrence,
    OccurrenceState,
    Post,
    PostStatus,
)
from scheduler.platform.errors import SchedulerError
from scheduler.platform.settings import load_settings
from scheduler.posts.content import MediaItem, MediaKind, PostContent, PostType, ReplySpec
from scheduler.posts.service import PostInput
from scheduler.services import Services, build_services

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
FAULTS = [
    {"kind": "transient", "p": 0.10},
    {"kind": "latency", "p": 0.05, "min_ms": 200, "max_ms": 1500},
    {"kind": "hang", "p": 0.01, "seconds": 6},
    {"kind": "accept_then_error", "p": 0.02},
    {"kind": "accept_then_drop", "p": 0.01},
    {"kind": "accept_then_hang", "p": 0.01, "seconds": 6},
]
WORKER_ENV = {
    "JOB_TIMEOUT": "4000",
    "LEASE_GRACE_SECONDS": "4",
    "PUBLISH_ATTEMPTS": "4",
    "WORKER_CONCURRENCY": "8",
    "LOG_LEVEL": "WARNING",
}


@dataclass
class Plan:
    """What the run scheduled, and what it did to each post."""

    due: dict[str, datetime] = field(default_factory=dict)  # post id -> first instant
    kinds: dict[str, str] = field(default_factory=dict)
    recurring: set[str] = field(default_factory=set)
    cancelled: set[str] = field(default_factory=set)
    cancel_refused: set[str] = field(default_factory=set)
    edited: set[str] = field(default_factory=set)
    edit_refused: set[str] = field(default_factory=set)
    revoked_account: str = ""
    events: list[str] = field(default_factory=list)


class System:
    """The processes of one run."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.redis_port = free_port()
        self.redis: subprocess.Popen[bytes] | None = None
        self.standin = StandinProcess()
        self.sim = SimulatorServer(subprocess=True, args=["--seed", "7"])
        self.web: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.logs: list[Any] = []
        self.database = "chaos"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "APP_ENV": "test",
            "MONGODB_URI": f"{self.standin.url}/{self.database}",
            "REDIS_URL": self.redis_url,
            "THREADS_API_BASE_URL": self.sim.base_url,
            "SECRET_KEY": "chaos-secret",
            **WORKER_ENV,
        }

    def start(self) -> None:
        self.redis = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if port_open("127.0.0.1", self.redis_port):
                break
            time.sleep(0.05)
        self.standin.start()
        self.sim.start()
        web_port = free_port()
        self.web = subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", "serve", "--port", str(web_port)],
            env=self.env(),
            stdout=self._log("web"),
            stderr=subprocess.STDOUT,
        )
        for _ in range(3):
            self.start_worker()

    def _log(self, name: str) -> Any:
        log = open(self.workdir / f"{name}.log", "ab")  # closed in stop()
        self.logs.append(log)
        return log

    def start_worker(self) -> None:
        n = len(self.workers)
        self.workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "scheduler.cli", "worker"],
                env=self.env(),
                stdout=self._log(f"worker-{n}"),
                stderr=subprocess.STDOUT,
            )
        )

    def kill_random_worker(self, rng: random.Random) -> int:
        alive = [w for w in self.workers if w.poll() is None]
        victim = rng.choice(alive)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        return victim.pid

    def stop(self) -> None:
        for proc in [*self.workers, self.web]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in [*self.workers, self.web]:
            if proc is not None:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.sim.stop()
        self.standin.stop()
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait(10)
        for log in self.logs:
            log.close()


def content_for(i: int, kind: str) -> tuple[PostContent, list[ReplySpec]]:
    marker = f"#P{i}"
    images = [
        MediaItem(url=f"https://cdn.example/chaos/{i}-{k}.jpg", alt_text=f"image {k}")
        for k in range(3)
    ]
    if kind == "image":
        return PostContent(type=PostType.IMAGE, text=f"image post {marker}", media=images[:1]), []
    if kind == "carousel":
        return PostContent(type=PostType.CAROUSEL, text=f"carousel {marker}", media=images), []
    if kind == "video":
        video = MediaItem(url=f"https://cdn.example/chaos/{i}.mp4", kind=MediaKind.VIDEO)
        return PostContent(type=PostType.VIDEO, text=f"video {marker}", media=[video]), []
    if kind == "chain":
        replies = [
            ReplySpec(text=f"reply {k} to {marker}r{k}", delay_seconds=1 + (i + k) % 3)
            for k in range(1, 2 + i % 2)
        ]
        return PostContent(text=f"thread start {marker}"), replies
    return PostContent(text=f"chaos text post {marker}"), []


def kind_of(i: int) -> str:
    if i % 100 == 4:
        return "recurring"
    if i % 20 == 0:
        return "image"
    if i % 20 == 1:
        return "carousel"
    if i % 50 == 2:
        return "video"
    if i % 10 == 3:
        return "chain"
    return "text"


def schedule_for(at: datetime, kind: str) -> dict[str, Any]:
    if kind == "recurring":
        times = [(at + timedelta(seconds=40 * k)).strftime("%H:%M:%S") for k in range(3)]
        return {
            "pattern": "WEEKLY",
            "timezone": "UTC",
            "start_date": at.date().isoformat(),
            "days_of_week": [at.weekday()],
            "times": times,
            "count": 3,
        }
    return {
        "pattern": "ONCE",
        "timezone": "UTC",
        "start_date": at.date().isoformat(),
        "times": [at.strftime("%H:%M:%S")],
    }


async def schedule_all(
    services: Services,
    actor: Actor,
    accounts: list[Account],
    args: argparse.Namespace,
    start: datetime,
    plan: Plan,
) -> list[Post]:
    inputs, meta = [], []
    for i in range(args.posts):
        kind = kind_of(i)
        at = start + timedelta(seconds=args.window * i / args.posts)
        at = at.replace(microsecond=0)
        if kind == "recurring" and at + timedelta(seconds=80) > start + timedelta(
            seconds=args.window
        ):
            kind = "text"  # its later occurrences would fall outside the window
        content, replies = content_for(i, kind)
        inputs.append(
            PostInput(
                account_id=str(accounts[i % len(accounts)].id),
                content=content,
                replies=replies,
                schedule=schedule_for(at, kind),
            )
        )
        meta.append((kind, at))
    posts: list[Post] = []
    for chunk in range(0, len(inputs), 250):
        results = await services.posts.create_many(actor, inputs[chunk : chunk + 250])
        for offset, result in enumerate(results):
            if isinstance(result, Exception):
                raise SystemExit(f"could not schedule post {chunk + offset}: {result}")
            kind, at = meta[chunk + offset]
            plan.due[str(result.id)] = at
            plan.kinds[str(result.id)] = kind
            if kind == "recurring":
                plan.recurring.add(str(result.id))
            posts.append(result)
    # create_many inserts in bulk; make sure the scheduler looks at the earliest one.
    await services.scheduler.schedule_next_check()
    return posts


async def meddle(
    services: Services, actor: Actor, posts: list[Post], plan: Plan, rng: random.Random
) -> None:
    """Cancel or edit some posts a few seconds before they are due."""
    targets = []
    for i, post in enumerate(posts):
        if plan.kinds[str(post.id)] in ("recurring",):
            continue
        if i % 33 == 5:
            targets.append(("cancel", post))
        elif i % 33 == 6:
            targets.append(("edit", post))
    targets.sort(key=lambda t: plan.due[str(t[1].id)])
    clock = SystemClock()
    for action, post in targets:
        at = plan.due[str(post.id)] - timedelta(seconds=rng.uniform(0.5, 8.0))
        await clock.sleep_until(at)
        pid = str(post.id)
        try:
            if action == "cancel":
                await services.posts.cancel(actor, post.id)
                plan.cancelled.add(pid)
            else:
                edited = post.content.model_copy(update={"text": f"[edited] {post.content.text}"})
                await services.posts.update(actor, post.id, PostInput(content=edited))
                plan.edited.add(pid)
        except SchedulerError:
            (plan.cancel_refused if action == "cancel" else plan.edit_refused).add(pid)


async def kill_loop(system: System, until: datetime, rng: random.Random, plan: Plan) -> None:
    clock = SystemClock()
    while clock.now() < until:
        await asyncio.sleep(rng.uniform(10, 20))
        if clock.now() >= until:
            break
        pid = system.kill_random_worker(rng)
        plan.events.append(f"{clock.now().isoformat()} SIGKILL worker {pid}")
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        system.start_worker()


async def one_off_events(
    system: System,
    services: Services,
    start: datetime,
    window: float,
    plan: Plan,
    revoke_token: str,
) -> None:
    clock = SystemClock()
    await clock.sleep_until(start + timedelta(seconds=window * 0.4))
    await services.redis.flushall()  # the run's own Redis: nothing else lives there
    plan.events.append(f"{clock.now().isoformat()} FLUSHALL")
    await clock.sleep_until(start + timedelta(seconds=window * 0.5))
    await system.sim.admin.revoke_token(revoke_token)
    plan.events.append(f"{clock.now().isoformat()} revoked the token of {plan.revoked_account}")


async def settle(services: Services, plan: Plan, deadline: datetime) -> None:
    """Wait until nothing is in flight and nothing (not held) is overdue."""
    clock = SystemClock()
    while clock.now() < deadline:
        busy = await Post.find({"status": str(PostStatus.PUBLISHING)}).count()
        overdue = await Post.find(
            {
                "status": str(PostStatus.SCHEDULED),
                "check_at": {"$lte": clock.now()},
                "held_reason": None,
            }
        ).count()
        if busy == 0 and overdue == 0:
            return
        await asyncio.sleep(2)


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 1)


@dataclass
class Records:
    """What the simulator says was published, and what MongoDB says happened."""

    published: list[Any]
    posts: dict[str, Post]
    occurrences: list[Occurrence]
    accounts: dict[str, Account]

    def roots_by_post(self) -> dict[str, list[Any]]:
        """Root publishes (not replies) per post, recognised by the post's `#P<n>` marker."""
        post_of_marker = {_marker(post.content.text): pid for pid, post in self.posts.items()}
        roots: dict[str, list[Any]] = defaultdict(list)
        for item in self.published:
            if item.reply_to_id is None and item.text and "#P" in item.text:
                pid = post_of_marker.get(_marker(item.text))
                if pid is not None:
                    roots[pid].append(item)
        return roots

    def explain(self, pid: str, items: list[Any]) -> dict[str, Any]:
        """Everything known about one post, for a finding that must be understood."""
        post = self.posts[pid]
        return {
            "post": pid,
            "status": post.status.value,
            "last_error": post.last_error,
            "held_reason": post.held_reason,
            "published": [
                {"at": i.received_at, "container": i.container_id, "media": i.media_id}
                for i in items
            ],
            "occurrences": [
                {
                    "due": o.scheduled_for,
                    "state": o.state.value,
                    "error": o.error,
                    "parts": [
                        (p.index, p.state.value, p.container_id, p.media_id) for p in o.parts
                    ],
                    "attempts": [(a.at, a.step, a.kind, a.error) for a in o.attempts],
                }
                for o in self.occurrences
                if str(o.post_id) == pid
            ],
        }

    def part_due(self) -> dict[str, datetime]:
        """When each recorded media id was due (occurrence instant, or reply due time)."""
        return {
            part.media_id: part.due_at
            for occ in self.occurrences
            for part in occ.parts
            if part.media_id
        }


def _marker(text: str) -> str:
    return text[text.index("#P") :].split()[0] if "#P" in text else text


def check_publishes(records: Records, plan: Plan) -> dict[str, Any]:
    """Duplicates, early publishes, cancelled or edited posts, and lateness."""
    recorded: Counter[str] = Counter(
        str(occ.post_id)
        for occ in records.occurrences
        if occ.parts and occ.parts[0].state is OccurrenceState.PUBLISHED
    )
    due_of = records.part_due()
    duplicates, early, cancelled, edits_lost = 0, [], [], []
    examples: list[dict[str, Any]] = []
    lateness: list[float] = []
    for pid, items in records.roots_by_post().items():
        # More root publishes than occurrences our records call published: a duplicate (or a
        # publish we lost track of, which is as bad).
        extra = max(0, len(items) - recorded[pid])
        duplicates += extra
        if extra and len(examples) < 5:
            examples.append(records.explain(pid, items))
        if pid in plan.cancelled:
            cancelled.append(pid)
        if pid in plan.edited and not all(i.text.startswith("[edited]") for i in items):
            edits_lost.append(pid)
        for item in items:
            due = due_of.get(item.media_id) or plan.due[pid]
            delta = (item.received_at - due).total_seconds()
            lateness.append(delta * 1000)
            if delta < 0:
                early.append((pid, delta))
    for item in records.published:
        due = due_of.get(item.media_id)
        if item.reply_to_id is not None and due is not None and item.received_at < due:
            early.append((item.media_id, (item.received_at - due).total_seconds()))
    replies = Counter(i.text for i in records.published if i.reply_to_id is not None)
    duplicates += sum(n - 1 for n in replies.values() if n > 1)
    return {
        "duplicates": duplicates,
        "duplicate_examples": examples,
        "early": len(early),
        "early_examples": early[:5],
        "cancelled_but_published": len(cancelled),
        "edits_lost": len(edits_lost),
        "lateness_ms": {
            "p50": percentile(lateness, 50),
            "p99": percentile(lateness, 99),
            "max": round(max(lateness), 1) if lateness else None,
        },
    }


def check_outcomes(records: Records, plan: Plan, window_end: datetime) -> dict[str, Any]:
    """Every post terminal, held for a reason, or a recurring one continuing; failures explained."""
    roots = records.roots_by_post()
    status: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    held, lost, unexplained = 0, [], []
    for pid, post in records.posts.items():
        status[post.status.value] += 1
        if post.status is PostStatus.FAILED:
            reasons[_reason(post.last_error or "")] += 1
            if not post.last_error:
                unexplained.append(pid)
        elif post.status is PostStatus.SCHEDULED:
            if _held(post, records.accounts.get(str(post.account_id))):
                held += 1
            elif not (pid in plan.recurring and (post.next_run_at or window_end) > window_end):
                lost.append(pid)
        elif post.status is PostStatus.PUBLISHING:
            lost.append(pid)
        elif post.status is PostStatus.PUBLISHED and pid not in roots:
            lost.append(pid)  # says published, Threads never saw it
    unexplained += [
        str(o.id) for o in records.occurrences if o.state is OccurrenceState.FAILED and not o.error
    ]
    return {
        "scheduled": len(records.posts),
        "published": status.get("PUBLISHED", 0),
        "publish_calls_that_posted": len(records.published),
        "recurring_continuing": sum(
            1 for pid in plan.recurring if records.posts[pid].status is PostStatus.SCHEDULED
        ),
        "failed": status.get("FAILED", 0),
        "failed_by_reason": dict(reasons),
        "cancelled": len(plan.cancelled),
        "cancel_refused_being_published": len(plan.cancel_refused),
        "edited": len(plan.edited),
        "held": held,
        "lost": len(lost),
        "lost_examples": lost[:5],
        "unexplained_failures": len(unexplained),
        "status": dict(status),
    }


def _held(post: Post, account: Account | None) -> bool:
    if not post.held_reason:
        return False
    reconnect = account is not None and account.status is not AccountStatus.ACTIVE
    return reconnect or "quota" in post.held_reason


async def verify(system: System, plan: Plan, window_end: datetime) -> dict[str, Any]:
    records = Records(
        published=await system.sim.admin.published(),
        posts={str(p.id): p for p in await Post.find_all().to_list()},
        occurrences=await Occurrence.find_all().to_list(),
        accounts={str(a.id): a for a in await Account.find_all().to_list()},
    )
    return {**check_outcomes(records, plan, window_end), **check_publishes(records, plan)}


def _reason(message: str) -> str:
    lowered = message.lower()
    for word in ("reconnect", "quota", "gave up", "media", "download", "unknown", "rejected"):
        if word in lowered:
            return word
    return "other"


async def run_once(args: argparse.Namespace, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    workdir = RESULTS / "chaos-logs" / f"run-{seed}"
    workdir.mkdir(parents=True, exist_ok=True)
    system = System(workdir)
    plan = Plan()
    try:
        system.start()
        settings = load_settings(
            {},
            mongodb_uri=f"{system.standin.url}/{system.database}",
            redis_url=system.redis_url,
            threads_api_base_url=system.sim.base_url,
            secret_key="chaos-secret",
        )
        async with build_services(settings, clock=SystemClock()) as services:
            actor = Actor(owner_id=PydanticObjectId())
            accounts, tokens = [], []
            for i in range(args.accounts):
                sim = await system.sim.admin.create_account(f"chaos{i}")
                tokens.append(sim.access_token)
                accounts.append(await services.accounts.connect_with_token(actor, sim.access_token))
            plan.revoked_account = accounts[7 % len(accounts)].username
            start = (SystemClock().now() + timedelta(seconds=args.lead)).replace(microsecond=0)
            posts = await schedule_all(services, actor, accounts, args, start, plan)
            print(
                f"scheduled {len(posts)} posts from {start.time()} over {args.window:g} s",
                flush=True,
            )
            await system.sim.admin.set_faults(*FAULTS)
            window_end = start + timedelta(seconds=args.window)
            tasks = [
                asyncio.create_task(meddle(services, actor, posts, plan, rng)),
                asyncio.create_task(kill_loop(system, window_end, rng, plan)),
                asyncio.create_task(
                    one_off_events(
                        system, services, start, args.window, plan, tokens[7 % len(tokens)]
                    )
                ),
            ]
            await asyncio.gather(*tasks)
            await SystemClock().sleep_until(window_end + timedelta(seconds=10))
            await system.sim.admin.clear_faults()
            await settle(services, plan, window_end + timedelta(seconds=args.drain))
            report = await verify(system, plan, window_end)
            report["events"] = plan.events
            return report
    finally:
        system.stop()


def table(report: dict[str, Any]) -> str:
    lat = report["lateness_ms"]
    rows = [
        ("scheduled posts", report["scheduled"]),
        ("published", report["published"]),
        ("recurring, continuing", report["recurring_continuing"]),
        ("failed (by reason)", f"{report['failed']} {report['failed_by_reason']}"),
        (
            "cancelled / refused (being published)",
            f"{report['cancelled']} / {report['cancel_refused_being_published']}",
        ),
        ("held (needs reconnect)", report["held"]),
        ("duplicates", report["duplicates"]),
        ("early", report["early"]),
        ("cancelled but published", report["cancelled_but_published"]),
        ("edits lost", report["edits_lost"]),
        ("lost", report["lost"]),
        ("unexplained failures", report["unexplained_failures"]),
        ("lateness p50 / p99 / max (ms)", f"{lat['p50']} / {lat['p99']} / {lat['max']}"),
    ]
    return "\n".join(["| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])


def passed(report: dict[str, Any]) -> bool:
    return all(
        report[key] == 0
        for key in (
            "duplicates",
            "early",
            "lost",
            "cancelled_but_published",
            "edits_lost",
            "unexplained_failures",
        )
    )


async def main_async(args: argparse.Namespace) -> int:
    reports = []
    for run in range(args.runs):
        print(f"chaos run {run + 1}/{args.runs}", flush=True)
        report = await run_once(args, seed=args.seed + run)
        report["passed"] = passed(report)
        reports.append(report)
        print(table(report), flush=True)
        print("PASSED" if report["passed"] else "FAILED", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "when": datetime.now(UTC).isoformat(),
        "config": vars(args),
        "runs": reports,
    }
    (RESULTS / "chaos.json").write_text(json.dumps(out, indent=2, default=str))
    return 0 if all(r["passed"] for r in reports) else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Chaos run of the whole system.")
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument(
        "--window", type=float, default=180.0, help="seconds over which posts are due"
    )
    parser.add_argument("--accounts", type=int, default=30)
    parser.add_argument("--lead", type=float, default=45.0, help="seconds before the first is due")
    parser.add_argument(
        "--drain", type=float, default=150.0, help="seconds to settle after the window"
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(main_async(parse_args(argv)))
    return 130


if __name__ == "__main__":
    sys.exit(main())
