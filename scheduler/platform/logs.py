"""Logs: one logging set-up for every process — text or JSON lines, ids from context, no secrets.

    configure_logging(settings)                 # at the process edge (CLI)
    with log_context(job_id=job.key, post_id=post_id):
        ...                                     # every record inside carries both ids

`log_context` uses a context variable, so tasks created inside it (a publish job's release)
inherit the ids. `RedactingFilter` sits on the handler, so it sees every record that is written,
whichever library logged it: httpx logs request URLs (with `access_token=` in the query), Graph
errors echo parameters, exceptions carry URLs. Tokens, passwords, secrets, Authorization headers
and URL credentials are replaced by `[REDACTED]` before anything is formatted.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any, ParamSpec, TypeVar

from scheduler.platform.settings import Settings

REDACTED = "[REDACTED]"
CONTEXT_FIELDS = ("post_id", "job_id", "account_id", "owner_id", "delivery_id", "webhook_id")
LOG_FORMATS = ("text", "json")

_context: ContextVar[Mapping[str, str]] = ContextVar("log_context", default={})  # noqa: B039

# Names whose values are secrets wherever they appear as `name=value` or `"name": "value"`.
_SECRET_NAMES = (
    r"access_token|refresh_token|client_secret|app_secret|secret_key|encryption_keys|password"
    r"|passwd|api_key|apikey|secret|token|fb_exchange_token|x-signature-256|authorization"
)
_SECRET_HEADERS = r"proxy-authorization|authorization|set-cookie|cookie|x-signature-256|x-api-key"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer abc, Cookie: abc, X-Signature-256: sha256=abc (in any quoting)
    (
        re.compile(
            rf"(?i)((?:{_SECRET_HEADERS})[\"']?\s*[:=]\s*[\"']?)"
            r"(?:(?:bearer|basic|token)\s+)?[^\s\"',}]+"
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\1{REDACTED}"),
    # "access_token": "abc"  /  'password': 'abc'  (JSON, dict reprs)
    (
        re.compile(rf"(?i)([\"'](?:{_SECRET_NAMES})[\"']\s*:\s*[\"'])[^\"']*"),
        rf"\1{REDACTED}",
    ),
    # access_token=abc (query strings, form bodies, key=value text); OAuth `code` only in URLs
    (
        re.compile(rf"(?i)(?<![A-Za-z0-9_-])((?:{_SECRET_NAMES})=)[^&\s\"',;)]+"),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(?i)([?&]code=)[^&\s\"',;)]+"), rf"\1{REDACTED}"),
    # scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"), rf"\1{REDACTED}@"),
)
_exception_formatter = logging.Formatter()
P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def log_context(**ids: object) -> Iterator[None]:
    """Attach ids (post_id, job_id, ...) to every record logged inside the block."""
    added = {name: str(value) for name, value in ids.items() if value is not None}
    token = _context.set({**_context.get(), **added})
    try:
        yield
    finally:
        _context.reset(token)


def with_job_context(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Decorate a SAQ job function: its records carry the job's key and its `post_id` kwarg."""

    @functools.wraps(function)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        ctx = args[0] if args else {}
        job = ctx.get("job") if isinstance(ctx, Mapping) else None
        with log_context(job_id=getattr(job, "key", None), post_id=kwargs.get("post_id")):
            return await function(*args, **kwargs)

    return run


def current_context() -> Mapping[str, str]:
    """The ids `log_context` attached to the running task."""
    return _context.get()


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without anything that looks like a credential, nor any of the known `secrets`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ContextFilter(logging.Filter):
    """Copies the ids of `log_context` onto each record (an explicit `extra=` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class RedactingFilter(logging.Filter):
    """Rewrites each record's message, exception text and string extras through `redact`.

    Args:
        secrets: exact values to remove as well (the configured keys and passwords); values
            shorter than 6 characters are ignored, they would blank out ordinary words.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # bad %-args: keep the raw text, still redacted
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _exception_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, redact(value, self.secrets))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the context ids, exc."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                payload[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = record.stack_info
        return json.dumps(payload, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message [post_id=… job_id=…]` for people reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = " ".join(
            f"{name}={getattr(record, name)}"
            for name in CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        )
        if not ids:
            return text
        first, newline, rest = text.partition("\n")
        return f"{first} [{ids}]{newline}{rest}"


def configured_secrets(settings: Settings) -> list[str]:
    """The secret values in `settings` (to redact verbatim wherever they show up)."""
    values: list[str] = []
    for name in (
        "secret_key",
        "encryption_keys",
        "threads_app_secret",
        "threads_access_token",
        "threads_refresh_token",
        "redis_password",
    ):
        secret = getattr(settings, name, None)
        if secret is not None:
            values.extend(v.strip() for v in secret.get_secret_value().split(","))
    return values


def make_handler(
    log_format: str, *, stream: IO[str] | None = None, secrets: Iterable[str] = ()
) -> logging.Handler:
    """A stream handler with the context and redaction filters and the chosen formatter."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}.")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.set_name("threads-scheduler")
    return handler


def configure_logging(settings: Settings, *, stream: IO[str] | None = None) -> logging.Handler:
    """Route every logger through one redacting handler on the root logger; returns it.

    Calling it again replaces the handler it installed before (and only that one).
    """
    handler = make_handler(settings.log_format, stream=stream, secrets=configured_secrets(settings))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "threads-scheduler":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # One line per HTTP request (every container poll) drowns the rest; DEBUG shows them.
    quiet = logging.DEBUG if settings.log_level == "DEBUG" else logging.WARNING
    for name in ("httpx", "httpcore", "pymongo"):
        logging.getLogger(name).setLevel(quiet)
    return handler


_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)
