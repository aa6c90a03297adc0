"""Logs: JSON or text lines carrying post and job ids, and never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from scheduler.ops.webhooks import WebhookInput
from scheduler.platform.documents import PostStatus
from scheduler.platform.logs import REDACTED, configure_logging, log_context, make_handler, redact
from scheduler.platform.settings import Settings
from tests.ops.conftest import Receiver
from tests.publishing.conftest import Live, soon

TOKEN = "THQWJZX9secretTokenValue0123456789abcdef"


@pytest.mark.parametrize(
    "line",
    [
        f"HTTP Request: GET http://127.0.0.1:1/v1.0/me?fields=id&access_token={TOKEN} 200",
        f"POST body client_secret={TOKEN}&grant_type=th_exchange_token",
        f"headers {{'Authorization': 'Bearer {TOKEN}'}}",
        f"Authorization: Bearer {TOKEN}",
        f'{{"access_token": "{TOKEN}", "user_id": "1"}}',
        f"{{'password': '{TOKEN}'}}",
        f"connecting to redis://:{TOKEN}@redis:6379/0",
        f"callback /accounts/callback?state=abc&code={TOKEN}",
        f"refresh_token={TOKEN}",
        f"X-Signature-256: sha256={TOKEN}",
    ],
)
def test_credentials_are_redacted_wherever_they_appear(line: str) -> None:
    cleaned = redact(line)
    assert TOKEN not in cleaned
    assert REDACTED in cleaned


def test_ordinary_text_is_left_alone() -> None:
    line = "Threads API error: Media Not Found (code 24/4279009). Wait and publish again."
    assert redact(line) == line
    assert redact("post 665f published; token_id=abc", secrets=["sekrit-value"]) == (
        "post 665f published; token_id=abc"
    )


def _fail_with_a_token_in_the_message() -> None:
    raise RuntimeError(f"GET https://graph.threads.net/me?access_token={TOKEN} failed")


def _capture(log_format: str, *secrets: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger(f"tests.ops.capture.{log_format}")
    logger.handlers = [make_handler(log_format, stream=stream, secrets=secrets)]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_json_lines_carry_the_context_ids_and_redacted_exceptions() -> None:
    logger, stream = _capture("json", "configured-secret-key")
    with log_context(post_id="p1", job_id="publish:p1:1"):
        logger.info("publishing %s", "now")
        try:
            _fail_with_a_token_in_the_message()
        except RuntimeError:
            logger.exception("call failed with configured-secret-key")
    logger.info("outside")
    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "publishing now" and first["level"] == "INFO"
    assert (first["post_id"], first["job_id"]) == ("p1", "publish:p1:1")
    assert "configured-secret-key" not in second["message"] and TOKEN not in second["exc"]
    assert "RuntimeError" in second["exc"]
    assert "post_id" not in third


def test_text_lines_append_the_ids() -> None:
    logger, stream = _capture("text")
    with log_context(post_id="p2"):
        logger.warning("late")
    assert stream.getvalue().rstrip().endswith("late [post_id=p2]")


@pytest.fixture
def captured_logs(live: Live) -> Iterator[io.StringIO]:
    """Every logger of the process, at DEBUG, as JSON into a buffer (restored afterwards)."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "pymongo")}
    stream = io.StringIO()
    settings: Settings = live.services.settings.model_copy(
        update={"log_level": "DEBUG", "log_format": "json"}
    )
    handler = configure_logging(settings, stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, level in noisy.items():
            logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("worker")
async def test_no_secret_appears_in_the_logs_of_a_full_publish(
    live: Live, receiver: Receiver, captured_logs: io.StringIO
) -> None:
    webhook_secret = "webhook-signing-secret-for-the-log-test"
    sim = await live.admin.create_account("bea", access_token=TOKEN)
    account = await live.services.accounts.connect_with_token(live.actor, sim.access_token)
    await live.services.webhooks.create(
        live.actor, WebhookInput(url=receiver.url, secret=webhook_secret)
    )
    receiver.answers = [500]  # a failed delivery is logged too
    post = await live.schedule("secret-free", soon(2), account=account)
    await live.wait_status(post.id, PostStatus.PUBLISHED, timeout=30)
    await receiver.wait_for(2, timeout=20)

    output = captured_logs.getvalue()
    records = [json.loads(line) for line in output.splitlines()]
    settings = live.services.settings
    assert settings.secret_key is not None
    for secret in (TOKEN, webhook_secret, settings.secret_key.get_secret_value()):
        assert secret not in output
    # The redaction did work on real lines: httpx logged GET URLs with the token in them.
    assert f"access_token={REDACTED}" in output
    assert any(r.get("post_id") == str(post.id) and r.get("job_id") for r in records)
    assert any(r["logger"] == "scheduler.ops.webhooks" for r in records)
