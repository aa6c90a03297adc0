"""Services: the composition root. The only place that constructs clients.

`build_services` opens MongoDB (Beanie), Redis, the SAQ queues and the HTTP client, wires the core
services over them and closes everything on exit. The web app's lifespan and the worker's startup
both call it, so an interface never builds a client of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from pymongo import AsyncMongoClient
from redis.asyncio import Redis
from saq.queue.redis import RedisQueue

from scheduler.accounts.auth import AuthService
from scheduler.accounts.secrets import TokenCipher
from scheduler.accounts.service import AccountService, AccountTokens
from scheduler.bulk import BulkService
from scheduler.ops.health import HealthService
from scheduler.ops.insights import InsightsService
from scheduler.ops.metrics import Metrics
from scheduler.ops.monitoring import MonitoringService
from scheduler.ops.notifications import NotificationService
from scheduler.ops.reactor import Reactor
from scheduler.ops.webhooks import RECEIVER_LIMITS, RECEIVER_TIMEOUT, WebhookService
from scheduler.platform.clock import Clock, SystemClock
from scheduler.platform.database import connect_database
from scheduler.platform.errors import ConfigurationError
from scheduler.platform.events import CHANNEL, EventBus
from scheduler.platform.queues import BACKGROUND_QUEUE, PUBLISH_QUEUE, SCHEDULER_QUEUE
from scheduler.platform.settings import Settings
from scheduler.posts.distribute import Distributor
from scheduler.posts.duplicates import DuplicateGuard
from scheduler.posts.service import PostService
from scheduler.posts.slots import SlotService
from scheduler.publishing.dispatch import Dispatcher
from scheduler.publishing.engine import EventDrivenScheduler
from scheduler.publishing.publisher import Publisher
from scheduler.publishing.releaser import Releaser
from scheduler.publishing.timing import PREPARE_TIMEOUT, lease_margin
from scheduler.threads.client import ThreadsClient


@dataclass(frozen=True)
class Services:
    """Everything a request handler, resolver or job needs, built once per process."""

    settings: Settings
    clock: Clock
    mongo: AsyncMongoClient[dict[str, Any]]
    redis: Redis
    scheduler_queue: RedisQueue
    publish_queue: RedisQueue
    http: httpx.AsyncClient
    events: EventBus
    threads: ThreadsClient
    cipher: TokenCipher
    scheduler: EventDrivenScheduler
    posts: PostService
    accounts: AccountService
    publisher: Publisher
    releaser: Releaser
    monitoring: MonitoringService
    auth: AuthService
    duplicates: DuplicateGuard
    bulk: BulkService
    distributor: Distributor
    slots: SlotService
    background_queue: RedisQueue
    metrics: Metrics
    health: HealthService
    insights: InsightsService
    notifications: NotificationService
    webhooks: WebhookService
    reactor: Reactor


@asynccontextmanager
async def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Services]:
    """Open every connection the core needs, yield the wired `Services`, close them on exit."""
    if settings.mongodb_uri is None:
        raise ConfigurationError(
            "MONGODB_URI is not set; point it at MongoDB (mongodb://host:27017/threads_scheduler) "
            "or run `scripts/dev` (`threads-sandbox dev`), which starts the embedded stand-in.",
            variables=["MONGODB_URI"],
        )
    clock = clock or SystemClock()
    cipher = TokenCipher.from_settings(settings)
    mongo = await connect_database(settings.mongodb_uri, settings.database_name)
    # SAQ needs a bytes-mode client (it decodes itself).
    redis: Redis = Redis.from_url(settings.effective_redis_url, health_check_interval=30)
    scheduler_queue = RedisQueue(redis, name=SCHEDULER_QUEUE)
    publish_queue = RedisQueue(redis, name=PUBLISH_QUEUE)
    background_queue = RedisQueue(redis, name=BACKGROUND_QUEUE)
    metrics = Metrics()
    # Webhook receivers are strangers: a client of their own, which follows no redirects.
    webhook_http = httpx.AsyncClient(
        timeout=RECEIVER_TIMEOUT, follow_redirects=False, limits=RECEIVER_LIMITS
    )
    http = httpx.AsyncClient(
        transport=http_transport,
        timeout=httpx.Timeout(settings.job_timeout_seconds, connect=5.0),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
    )
    margin = lease_margin(settings.job_timeout_seconds, settings.lease_grace_seconds)
    # Pub/sub ignores Redis's logical databases: a channel per database keeps deployments (and
    # parallel test runs) that share one Redis server from reacting to each other's events.
    redis_db = redis.connection_pool.connection_kwargs.get("db", 0)
    events = EventBus(redis, clock, channel=f"{CHANNEL}:{redis_db}")
    threads = ThreadsClient(
        http,
        base_url=settings.threads_api_base_url,
        app_id=settings.threads_app_id,
        app_secret=(
            settings.threads_app_secret.get_secret_value() if settings.threads_app_secret else None
        ),
        clock=clock,
        observer=metrics,
    )
    dispatcher = Dispatcher(
        queue=publish_queue,
        clock=clock,
        events=events,
        lease_margin=margin,
        prepare_timeout=PREPARE_TIMEOUT,
    )
    scheduler = EventDrivenScheduler(
        redis=redis,
        queue=scheduler_queue,
        clock=clock,
        events=events,
        dispatcher=dispatcher,
        batch_window=timedelta(milliseconds=settings.scheduler_batch_window_ms),
        event_driven=settings.use_event_driven_scheduler,
        poll_interval=timedelta(seconds=settings.poll_interval_seconds),
    )
    tokens = AccountTokens(cipher, clock)
    accounts = AccountService(
        clock=clock,
        events=events,
        threads=threads,
        cipher=cipher,
        tokens=tokens,
        scheduler=scheduler,
        redis=redis,
        redirect_uri=settings.threads_redirect_uri,
    )
    releaser = Releaser(clock)
    publisher = Publisher(
        clock=clock,
        events=events,
        threads=threads,
        tokens=tokens,
        accounts=accounts,
        releaser=releaser,
        scheduler=scheduler,
        attempts=settings.publish_attempts,
        lease_margin=margin,
        observer=metrics,
    )
    duplicates = DuplicateGuard.from_settings(settings, clock)
    posts = PostService(clock=clock, events=events, scheduler=scheduler, duplicates=duplicates)
    insights = InsightsService(
        clock=clock,
        redis=redis,
        threads=threads,
        tokens=tokens,
        calls_per_hour=settings.insights_calls_per_hour,
        observer=metrics,
    )
    notifications = NotificationService(clock=clock, events=events)
    webhooks = WebhookService(
        clock=clock,
        http=webhook_http,
        queue=background_queue,
        cipher=cipher,
        observer=metrics,
        retry_base=timedelta(seconds=settings.webhook_retry_seconds),
        attempts=settings.webhook_attempts,
    )
    try:
        await redis.ping()  # type: ignore[misc]
        yield Services(
            settings=settings,
            clock=clock,
            mongo=mongo,
            redis=redis,
            scheduler_queue=scheduler_queue,
            publish_queue=publish_queue,
            http=http,
            events=events,
            threads=threads,
            cipher=cipher,
            scheduler=scheduler,
            posts=posts,
            accounts=accounts,
            publisher=publisher,
            releaser=releaser,
            monitoring=MonitoringService(
                redis=redis,
                queues=[scheduler_queue, publish_queue],
                scheduler=scheduler,
                clock=clock,
            ),
            auth=AuthService(clock=clock, events=events, redis=redis),
            duplicates=duplicates,
            bulk=BulkService(
                clock=clock,
                posts=posts,
                duplicates=duplicates,
                events=events,
                max_bytes=settings.import_max_bytes,
                max_rows=settings.import_max_rows,
            ),
            distributor=Distributor(clock=clock, posts=posts),
            slots=SlotService(clock=clock, posts=posts, events=events),
            background_queue=background_queue,
            metrics=metrics,
            health=HealthService(
                mongo=mongo,
                redis=redis,
                clock=clock,
                metrics=metrics,
                queues=[scheduler_queue, publish_queue, background_queue],
                scheduler=scheduler,
            ),
            insights=insights,
            notifications=notifications,
            webhooks=webhooks,
            reactor=Reactor(
                redis=redis,
                events=events,
                webhooks=webhooks,
                notifications=notifications,
                insights=insights,
            ),
        )
    finally:
        await events.close()
        await http.aclose()
        await webhook_http.aclose()
        await redis.aclose()
        await mongo.close()
