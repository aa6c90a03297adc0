"""Live: the dashboard's one SSE stream, `/events`, of small "something changed" events.

Each event of the logged-in owner (from any worker, through `services.events`) becomes one or two
named SSE events: `posts` (and `post-{id}`) for post, occurrence and job changes, `accounts` (also
for posting-slot changes), `jobs`, `tokens`, `notifications` (the inbox and its badge), and
`scheduler` for the scheduler's state (which carries no one's data). Pages listen with
`hx-trigger="sse:posts"` and re-fetch their fragments, which show the whole current state. Each
(re)connected stream starts with `ready` once its subscription is live, and every fragment
re-fetches on it too, so nothing changed between a page's render and its stream, or while the
stream was down, is missed. Browsers reconnect a second after a drop.

An import's progress is the exception: it exists only as events, so `import.progress` becomes
`import-{import_id}` carrying the rendered progress bar (`imports/_progress.html`), which the
import page swaps in as it comes (`sse-swap`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar

from jinja2 import Template
from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.sse import SendTimeoutError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates
from starlette.types import Receive, Scope, Send

from scheduler.platform.events import Event
from web.sessions import current_actor
from web.state import get_services

RETRY_MS = 1000
PING_SECONDS = 15
POST_EVENTS = frozenset({"post.status", "post.deleted", "occurrence.state", "job.status"})
# Events without an owner that every logged-in user may hear about (they carry no user data).
SYSTEM_EVENTS = frozenset({"scheduler.state"})
SHOWN_FIELDS = ("post_id", "account_id", "status", "state")
NOTIFICATION_EVENTS = frozenset({"notification.created", "notification.read"})
IMPORT_PROGRESS = "import.progress"
IMPORT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")  # it becomes part of an event name
PROGRESS = "imports/_progress.html"
SEND_TIMEOUT_SECONDS = 10
logger = logging.getLogger(__name__)


def sse_names(event: Event) -> list[str]:
    """The SSE event names one core event is delivered as."""
    names: list[str] = []
    post_id = event.data.get("post_id")
    if event.type in POST_EVENTS and (event.type != "job.status" or post_id):
        names.append("posts")
        if post_id:
            names.append(f"post-{post_id}")
    if event.type == "job.status":
        names.append("jobs")
    elif event.type in ("account.status", "account.slots"):
        names.append("accounts")
    elif event.type in NOTIFICATION_EVENTS:
        names.append("notifications")
    elif event.type == IMPORT_PROGRESS and IMPORT_ID.fullmatch(str(event.data.get("import_id"))):
        names.append(f"import-{event.data['import_id']}")
    elif event.type == "token.revoked":
        names.append("tokens")
    elif event.type == "scheduler.state":
        names.append("scheduler")
    return names


def visible_to(owner_id: str) -> Callable[[Event], bool]:
    """Only the owner's events, and the ownerless system events."""

    def accept(event: Event) -> bool:
        if event.owner_id is None:
            return event.type in SYSTEM_EVENTS
        return event.owner_id == owner_id

    return accept


def payload(event: Event) -> str:
    if event.owner_id is None:
        return json.dumps({"type": event.type})
    shown = {k: event.data[k] for k in SHOWN_FIELDS if event.data.get(k) is not None}
    return json.dumps({"type": event.type, **shown})


def progress_context(event: Event) -> dict[str, object]:
    """What the progress bar of an import shows: its phase, rows done and the total."""
    data = event.data
    return {
        "phase": str(data.get("phase", "")),
        "done": int(data.get("done") or 0),
        "total": int(data.get("total") or 0),
    }


def event_data(event: Event, progress: Template) -> str:
    """The data of an SSE event: an import's rendered progress bar, else `payload`."""
    if event.type == IMPORT_PROGRESS:
        return " ".join(progress.render(progress_context(event)).split())
    return payload(event)


# Set in the server's task for a request whose stream was dropped on purpose (see LiveStream).
_dropped: ContextVar[bool] = ContextVar("live_stream_dropped", default=False)


class LiveStream(EventSourceResponse):
    """An SSE response that drops a browser which stopped reading, quietly: a stalled tab is
    the browser's business, not a server error (sse-starlette raises it to the server)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except* SendTimeoutError:
            _dropped.set(True)
            logger.info("dropped an event stream the browser stopped reading")


class DroppedStreamFilter(logging.Filter):
    """ASGI cannot close a connection whose client stopped reading (the final chunk would wait
    for it), so uvicorn reports the unfinished response, as an error; for a stream LiveStream
    dropped on purpose that is expected, and logged as INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _dropped.get() and record.getMessage().startswith("ASGI callable returned without"):
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


_DROPPED_STREAM_FILTER = DroppedStreamFilter()


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    logging.getLogger("uvicorn.error").addFilter(_DROPPED_STREAM_FILTER)  # once: same instance
    progress = templates.get_template(PROGRESS)

    async def events(request: Request) -> Response:
        actor = await current_actor(request)
        services = get_services(request)
        accept = visible_to(str(actor.owner_id))

        async def stream() -> AsyncIterator[ServerSentEvent]:
            async with services.events.subscribe(accept=accept) as incoming:
                yield ServerSentEvent(data="", event="ready", retry=RETRY_MS)
                async for event in incoming:
                    data = event_data(event, progress)
                    for name in sse_names(event):
                        yield ServerSentEvent(data=data, event=name, id=event.id)

        return LiveStream(stream(), ping=PING_SECONDS, send_timeout=SEND_TIMEOUT_SECONDS)

    return [Route("/events", events, name="events")]
