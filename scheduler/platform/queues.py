"""Queues: the name of every SAQ queue and job function, in one place.

Operators see these names (in Redis, logs and the monitoring API), and the engine, the dispatcher,
the webhook service and the worker must agree on them: they are defined once, here.
"""

from __future__ import annotations

# The delayed "check due posts" job and the crons; concurrency 1.
SCHEDULER_QUEUE = "scheduler-meta"
# Preparing occurrences for their instant; concurrency WORKER_CONCURRENCY.
PUBLISH_QUEUE = "post-publishing"
# Webhook deliveries and insights: never in publishing's way.
BACKGROUND_QUEUE = "background"

CHECK_JOB = "check-due-posts"  # on SCHEDULER_QUEUE, key `scheduler-check-{epoch_ms}`
PUBLISH_JOB = "publish-occurrence"  # on PUBLISH_QUEUE
DELIVER_JOB = "deliver-webhook"  # on BACKGROUND_QUEUE
