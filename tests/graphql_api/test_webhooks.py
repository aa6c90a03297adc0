"""Webhooks over HTTP: creating one (its secret shown once, never again), changing, rotating and
deleting it, a test delivery, the delivery log and resending, with each typed error."""

from __future__ import annotations

import json
from typing import Any

from scheduler.platform.documents import Webhook, WebhookDelivery
from scheduler.services import Services
from tests.graphql_api.conftest import Api, Caller

FAIL = "__typename ... on Error { message }"
INVALID = "... on ValidationErrors { errors { field messages } }"
HOOK = "id url events enabled description createdAt updatedAt"
CREATE = f"""mutation($input: CreateWebhookInput!) {{ createWebhook(input: $input) {{
    {FAIL} {INVALID} ... on WebhookWithSecret {{ secret webhook {{ {HOOK} }} }} }} }}"""
UPDATE = f"""mutation($input: UpdateWebhookInput!) {{ updateWebhook(input: $input) {{
    {FAIL} {INVALID} ... on NotFound {{ kind }} ... on Webhook {{ {HOOK} }} }} }}"""
ROTATE = f"""mutation($input: RotateWebhookSecretInput!) {{ rotateWebhookSecret(input: $input) {{
    {FAIL} {INVALID} ... on NotFound {{ kind }}
    ... on WebhookWithSecret {{ secret webhook {{ id }} }} }} }}"""
DELETE = f"""mutation($input: WebhookIdInput!) {{ deleteWebhook(input: $input) {{
    {FAIL} ... on NotFound {{ kind }} ... on DeletedWebhook {{ id }} }} }}"""
DELIVERY = """id webhookId eventId eventType payload status attempts responseCode error
    nextAttemptAt deliveredAt resendOf history { at responseCode error } createdAt"""
SEND_TEST = f"""mutation($input: WebhookIdInput!) {{ sendTestWebhook(input: $input) {{
    {FAIL} ... on NotFound {{ kind }} ... on WebhookDelivery {{ {DELIVERY} }} }} }}"""
RESEND = f"""mutation($input: WebhookDeliveryIdInput!) {{ resendWebhookDelivery(input: $input) {{
    {FAIL} ... on NotFound {{ kind }} ... on Conflict {{ stale }}
    ... on WebhookDelivery {{ {DELIVERY} }} }} }}"""
DELIVERIES = f"""query($hook: ID, $status: DeliveryStatus, $first: Int!, $after: String) {{
    webhookDeliveries(webhookId: $hook, status: $status, first: $first, after: $after) {{
        {FAIL} {INVALID} ... on NotFound {{ kind }}
        ... on WebhookDeliveryConnection {{ totalCount
            pageInfo {{ hasNextPage endCursor }} nodes {{ id resendOf status }} }} }} }}"""
ONE = f"""query($id: ID!) {{ webhook(id: $id) {{ {FAIL} ... on Webhook {{ {HOOK} }} }} }}"""


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    variables = {"input": {"url": "https://hooks.example.com/threads", **fields}}
    result: dict[str, Any] = (await api(CREATE, variables))["createWebhook"]
    return result


async def test_the_secret_is_shown_once_and_never_again(api: Api, services: Services):
    created = await create(api, description="CI", events=["POST_FAILED", "QUEUE_EMPTY"])
    assert created["__typename"] == "WebhookWithSecret"
    secret, hook = created["secret"], created["webhook"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert (hook["url"], hook["events"], hook["enabled"], hook["description"]) == (
        "https://hooks.example.com/threads",
        ["POST_FAILED", "QUEUE_EMPTY"],
        True,
        "CI",
    )
    listed = await api(f"{{ webhooks {{ {HOOK} }} }}")
    one = await api(ONE, {"id": hook["id"]})
    assert listed["webhooks"] == [hook] and one["webhook"] == {"__typename": "Webhook", **hook}
    assert secret not in json.dumps(listed) + json.dumps(one)
    fields = await api('{ __type(name: "Webhook") { fields { name } } }')
    assert "secret" not in {f["name"] for f in fields["__type"]["fields"]}
    stored = await Webhook.get(hook["id"])
    assert stored is not None and secret not in stored.secret  # encrypted at rest
    assert services.cipher.decrypt(stored.secret) == secret

    rotated = (await api(ROTATE, {"input": {"id": hook["id"]}}))["rotateWebhookSecret"]
    assert rotated["webhook"]["id"] == hook["id"] and rotated["secret"] != secret
    stored = await Webhook.get(hook["id"])
    assert stored is not None and services.cipher.decrypt(stored.secret) == rotated["secret"]
    chosen = {"input": {"id": hook["id"], "secret": "short"}}
    refused = (await api(ROTATE, chosen))["rotateWebhookSecret"]
    assert [e["field"] for e in refused["errors"]] == ["secret"]


async def test_only_http_urls_and_known_events(api: Api):
    for url in ("ftp://example.com/hook", "javascript:alert(1)", "file:///etc/passwd"):
        result = await create(api, url=url)
        assert result["__typename"] == "ValidationErrors", url
        assert result["errors"] == [
            {
                "field": "url",
                "messages": ["Use an http:// or https:// URL; webhooks are only sent over HTTP."],
            }
        ]
    test_only = await create(api, events=["WEBHOOK_TEST"])
    assert [e["field"] for e in test_only["errors"]] == ["events"]
    assert (await create(api, events=[]))["errors"][0]["field"] == "events"
    assert (await api("{ webhooks { id } }"))["webhooks"] == []


async def test_update_and_delete(api: Api, services: Services):
    hook = (await create(api))["webhook"]
    assert hook["events"] == [
        "POST_PUBLISHED",
        "POST_FAILED",
        "POST_DEFERRED",
        "ACCOUNT_NEEDS_RECONNECT",
        "QUEUE_EMPTY",
    ]
    changes = {"id": hook["id"], "enabled": False, "events": ["POST_PUBLISHED"]}
    updated = (await api(UPDATE, {"input": changes}))["updateWebhook"]
    assert (updated["enabled"], updated["events"], updated["url"]) == (
        False,
        ["POST_PUBLISHED"],
        hook["url"],
    )
    bad = await api(UPDATE, {"input": {"id": hook["id"], "url": "mailto:a@b.c"}})
    assert bad["updateWebhook"]["errors"][0]["field"] == "url"

    deleted = (await api(DELETE, {"input": {"id": hook["id"]}}))["deleteWebhook"]
    assert deleted == {"__typename": "DeletedWebhook", "id": hook["id"]}
    assert (await api(ONE, {"id": hook["id"]}))["webhook"]["__typename"] == "NotFound"
    again = (await api(DELETE, {"input": {"id": hook["id"]}}))["deleteWebhook"]
    assert again["__typename"] == "NotFound"


async def test_test_delivery_the_log_and_resend(api: Api, services: Services):
    hook = (await create(api))["webhook"]
    sent = (await api(SEND_TEST, {"input": {"id": hook["id"]}}))["sendTestWebhook"]
    assert sent["__typename"] == "WebhookDelivery"
    assert (sent["webhookId"], sent["eventType"], sent["status"], sent["attempts"]) == (
        hook["id"],
        "WEBHOOK_TEST",
        "PENDING",
        0,
    )
    payload = json.loads(sent["payload"])
    assert payload["type"] == "webhook.test" and payload["data"] == {"webhook_id": hook["id"]}

    resent = (await api(RESEND, {"input": {"id": sent["id"]}}))["resendWebhookDelivery"]
    assert resent["__typename"] == "WebhookDelivery" and resent["id"] != sent["id"]
    assert (resent["resendOf"], resent["payload"]) == (sent["id"], sent["payload"])

    log = (await api(DELIVERIES, {"hook": hook["id"], "first": 1}))["webhookDeliveries"]
    assert log["totalCount"] == 2 and log["pageInfo"]["hasNextPage"]
    assert log["nodes"] == [{"id": resent["id"], "resendOf": sent["id"], "status": "PENDING"}]
    after = {"hook": hook["id"], "first": 1, "after": log["pageInfo"]["endCursor"]}
    rest = (await api(DELIVERIES, after))["webhookDeliveries"]
    assert [n["id"] for n in rest["nodes"]] == [sent["id"]]
    failed = (await api(DELIVERIES, {"status": "FAILED", "first": 10}))["webhookDeliveries"]
    assert failed["totalCount"] == 0
    too_many = (await api(DELIVERIES, {"first": 1000}))["webhookDeliveries"]
    assert too_many["__typename"] == "ValidationErrors"

    await api(UPDATE, {"input": {"id": hook["id"], "enabled": False}})
    disabled = (await api(RESEND, {"input": {"id": sent["id"]}}))["resendWebhookDelivery"]
    assert disabled["__typename"] == "Conflict"
    assert "enable it before resending" in disabled["message"]
    assert await WebhookDelivery.count() == 2  # the refused resend added nothing


async def test_other_owners_webhooks_are_not_found(api: Api, stranger: Caller, services: Services):
    theirs = (await create(api))["webhook"]  # made by the owner; the stranger looks for it
    sent = (await api(SEND_TEST, {"input": {"id": theirs["id"]}}))["sendTestWebhook"]
    as_stranger: dict[str, Any] = {"token": stranger.token}
    assert (await api(ONE, {"id": theirs["id"]}, **as_stranger))["webhook"]["__typename"] == (
        "NotFound"
    )
    assert (await api("{ webhooks { id } }", **as_stranger))["webhooks"] == []
    for query, name, variables in [
        (UPDATE, "updateWebhook", {"input": {"id": theirs["id"], "enabled": False}}),
        (ROTATE, "rotateWebhookSecret", {"input": {"id": theirs["id"]}}),
        (DELETE, "deleteWebhook", {"input": {"id": theirs["id"]}}),
        (SEND_TEST, "sendTestWebhook", {"input": {"id": theirs["id"]}}),
        (RESEND, "resendWebhookDelivery", {"input": {"id": sent["id"]}}),
    ]:
        result = (await api(query, variables, **as_stranger))[name]
        assert result["__typename"] == "NotFound", name
    log = await api(DELIVERIES, {"hook": theirs["id"], "first": 10}, **as_stranger)
    assert log["webhookDeliveries"]["__typename"] == "NotFound"
    everything = await api(DELIVERIES, {"first": 10}, **as_stranger)
    assert everything["webhookDeliveries"]["totalCount"] == 0
    stored = await Webhook.get(theirs["id"])
    assert stored is not None and stored.enabled


async def test_a_viewer_lists_but_cannot_change(api: Api, viewer: Caller):
    hook = (await create(api))["webhook"]
    as_viewer: dict[str, Any] = {"token": viewer.token}
    assert (await api("{ webhooks { id } }", **as_viewer))["webhooks"] == [{"id": hook["id"]}]
    variables = {"input": {"url": "https://example.com/hook"}}
    denied = (await api(CREATE, variables, **as_viewer))["createWebhook"]
    assert denied["__typename"] == "PermissionDenied"
    for query, name, variables in [
        (UPDATE, "updateWebhook", {"input": {"id": hook["id"], "enabled": False}}),
        (ROTATE, "rotateWebhookSecret", {"input": {"id": hook["id"]}}),
        (DELETE, "deleteWebhook", {"input": {"id": hook["id"]}}),
        (SEND_TEST, "sendTestWebhook", {"input": {"id": hook["id"]}}),
    ]:
        result = (await api(query, variables, **as_viewer))[name]
        assert result["__typename"] == "PermissionDenied", name
