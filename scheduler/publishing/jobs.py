"""Jobs: the SAQ job functions, thin adapters over the core's services."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from saq.types import Context

from scheduler.platform.logs import with_job_context
from scheduler.services import Services


def _services(ctx: Context) -> Services:
    return cast(Services, ctx["services"])  # type: ignore[typeddict-item]


@with_job_context
async def check_due_posts(ctx: Context) -> dict[str, Any]:
    """`check-due-posts`: dispatch everything due, then arm the next check."""
    job = ctx.get("job")
    return await _services(ctx).scheduler.process_due_posts(job.key if job else None)


@with_job_context
async def publish_occurrence(
    ctx: Context, *, post_id: str, post: dict[str, Any], token: str, due: str
) -> dict[str, str]:
    """`publish-occurrence`: prepare one claimed occurrence and arm its release."""
    result = await _services(ctx).publisher.run(post, token, datetime.fromisoformat(due))
    return {"post_id": post_id, **result}


async def reconcile(ctx: Context) -> dict[str, str]:
    """Cron: rebuild the scheduler's Redis state if it was lost, re-arm a stalled check."""
    return {"result": await _services(ctx).scheduler.reconcile()}


async def refresh_tokens(ctx: Context) -> dict[str, int]:
    """Cron: refresh long-lived Threads tokens well before they expire."""
    return {"refreshed": await _services(ctx).accounts.refresh_due_tokens()}


@with_job_context
async def deliver_webhook(ctx: Context, *, delivery_id: str) -> dict[str, str]:
    """`deliver-webhook`: one attempt at one webhook delivery (schedules its own retry)."""
    return {
        "delivery_id": delivery_id,
        "status": await _services(ctx).webhooks.deliver(delivery_id),
    }


async def refresh_insights(ctx: Context) -> dict[str, Any]:
    """Cron: read the post and account insights that are due (Redis only while none is)."""
    run = await _services(ctx).insights.refresh_due()
    return {"ran": run.ran, "calls": run.post_calls + run.account_calls, "waiting": run.waiting}
