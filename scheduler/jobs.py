"""Jobs: the SAQ job functions, thin adapters over the core's services (C7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from saq.types import Context

from scheduler.services import Services


def _services(ctx: Context) -> Services:
    return cast(Services, ctx["services"])  # type: ignore[typeddict-item]


async def check_due_posts(ctx: Context) -> dict[str, Any]:
    """`check-due-posts`: dispatch everything due, then arm the next check."""
    job = ctx.get("job")
    return await _services(ctx).scheduler.process_due_posts(job.key if job else None)


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
