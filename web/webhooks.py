"""Settings: webhooks — where notices are POSTed, their secrets (shown once), the delivery log.

Routes: `GET|POST /settings/webhooks` (list, and create: the secret is in that response only),
`POST /settings/webhooks/{id}` (edit URL, description, events, enabled),
`POST /settings/webhooks/{id}/rotate` (a new secret, shown once), `.../test` (send a test notice),
`.../delete`, `GET /settings/webhooks/deliveries` (the log fragment: `webhook`, `status`, `page`
filters; it refreshes itself) and `POST /settings/webhooks/deliveries/{id}/resend`.
A stored secret is encrypted and never rendered.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from scheduler.accounts.actors import Actor
from scheduler.ops.notifications import SUBSCRIBABLE
from scheduler.ops.webhooks import IssuedWebhook, WebhookInput
from scheduler.platform.documents import DeliveryStatus
from scheduler.services import Services
from web.forms import FormValues, expect_form, form_values, page_number, strings, text
from web.htmx import redirect, render_fragment, render_page
from web.sessions import current_actor, flash
from web.state import get_services

PAGE = "settings/webhooks.html"
LOG = "settings/_deliveries.html"
LOG_SIZE = 25
EVENT_LABELS = {
    "post.published": "A post was published",
    "post.failed": "A post failed",
    "post.deferred": "A post was deferred (publishing quota reached)",
    "account.needs_reconnect": "An account must be reconnected",
    "queue.empty": "An account's posting queue ran empty",
}
STATUSES = [status.value for status in DeliveryStatus]
REPEATED = frozenset({"events"})


def new_webhook_values() -> FormValues:
    return {"url": "", "description": "", "events": list(SUBSCRIBABLE), "enabled": "on"}


async def log_context(services: Services, actor: Actor, params: QueryParams) -> dict[str, Any]:
    """One page of the delivery log, filtered by webhook and status."""
    webhook = params.get("webhook") or None
    status = params.get("status") if params.get("status") in STATUSES else None
    page = page_number(params)
    found = await services.webhooks.deliveries(
        actor, webhook_id=webhook, status=status, offset=(page - 1) * LOG_SIZE, limit=LOG_SIZE
    )
    query = [(k, v) for k, v in params.multi_items() if k in ("webhook", "status")]
    return {
        "log": found,
        "deliveries": found.deliveries,
        "log_filters": {"webhook": webhook or "", "status": status or ""},
        "log_query": QueryParams(query),
        "log_page": page,
        "statuses": STATUSES,
    }


async def webhooks_context(
    services: Services, actor: Actor, params: QueryParams | None = None
) -> dict[str, Any]:
    hooks, log = await asyncio.gather(
        services.webhooks.all(actor), log_context(services, actor, params or QueryParams())
    )
    return {
        **log,
        "webhooks": hooks,
        "urls": {str(hook.id): hook.url for hook in hooks},
        "event_labels": EVENT_LABELS,
        "subscribable": SUBSCRIBABLE,
        "issued": None,
        "values": new_webhook_values(),
        "errors": {},
    }


def webhook_input(values: FormValues) -> WebhookInput:
    return WebhookInput(
        url=text(values, "url"),
        events=strings(values, "events"),
        enabled=values.get("enabled") == "on",
        description=text(values, "description"),
    )


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def shown_once(request: Request, actor: Actor, issued: IssuedWebhook) -> Response:
        # The secret is rendered in this response only; it is stored encrypted and never shown.
        context = await webhooks_context(get_services(request), actor)
        return render_page(templates, request, PAGE, context | {"issued": issued})

    async def page(request: Request) -> Response:
        actor = await current_actor(request)
        context = await webhooks_context(get_services(request), actor, request.query_params)
        return render_page(templates, request, PAGE, context)

    async def log(request: Request) -> Response:
        actor = await current_actor(request)
        context = await webhooks_context(get_services(request), actor, request.query_params)
        return render_fragment(templates, request, LOG, context)

    async def create(request: Request) -> Response:
        actor = await current_actor(request)
        actor.require_write()
        services = get_services(request)
        values = form_values(await request.form(), REPEATED)
        expect_form(request, PAGE, values, await webhooks_context(services, actor))
        issued = await services.webhooks.create(actor, webhook_input(values))
        return await shown_once(request, actor, issued)

    async def edit(request: Request) -> Response:
        actor = await current_actor(request)
        actor.require_write()
        services = get_services(request)
        webhook_id = request.path_params["webhook_id"]
        values = form_values(await request.form(), REPEATED) | {"webhook_id": webhook_id}
        expect_form(request, PAGE, values, await webhooks_context(services, actor))
        data = webhook_input(values)
        hook = await services.webhooks.update(
            actor,
            webhook_id,
            url=data.url,
            events=data.events,
            enabled=data.enabled,
            description=data.description,
        )
        flash(request, f"Saved the webhook to {hook.url}.")
        return redirect(request, "/settings/webhooks")

    async def rotate(request: Request) -> Response:
        actor = await current_actor(request)
        issued = await get_services(request).webhooks.rotate_secret(
            actor, request.path_params["webhook_id"]
        )
        return await shown_once(request, actor, issued)

    async def send_test(request: Request) -> Response:
        actor = await current_actor(request)
        await get_services(request).webhooks.send_test(actor, request.path_params["webhook_id"])
        flash(request, "A test notice is on its way; its delivery appears in the log below.")
        return redirect(request, "/settings/webhooks")

    async def delete(request: Request) -> Response:
        actor = await current_actor(request)
        await get_services(request).webhooks.delete(actor, request.path_params["webhook_id"])
        flash(request, "The webhook and its delivery log were deleted.")
        return redirect(request, "/settings/webhooks")

    async def resend(request: Request) -> Response:
        actor = await current_actor(request)
        await get_services(request).webhooks.resend(actor, request.path_params["delivery_id"])
        flash(request, "Sent again, as a new delivery at the top of the log.")
        return redirect(request, "/settings/webhooks")

    base = "/settings/webhooks"
    return [
        Route(base, page, methods=["GET"], name="webhooks"),
        Route(base, create, methods=["POST"], name="create_webhook"),
        Route(f"{base}/deliveries", log, methods=["GET"], name="webhook_deliveries"),
        Route(
            f"{base}/deliveries/{{delivery_id}}/resend",
            resend,
            methods=["POST"],
            name="resend_delivery",
        ),
        Route(f"{base}/{{webhook_id}}", edit, methods=["POST"], name="edit_webhook"),
        Route(f"{base}/{{webhook_id}}/rotate", rotate, methods=["POST"], name="rotate_webhook"),
        Route(f"{base}/{{webhook_id}}/test", send_test, methods=["POST"], name="test_webhook"),
        Route(f"{base}/{{webhook_id}}/delete", delete, methods=["POST"], name="delete_webhook"),
    ]
