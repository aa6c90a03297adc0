"""Pages: every dashboard route, gathered from the module of each area (composed by `web.app`).

Order matters where paths overlap: `/posts/new`, `/posts/distribute` and `/posts/export.csv` come
before `/posts/{post_id}`, and `/accounts/connect|callback|table` before `/accounts/{account_id}`.
Every route except login, setup and the favicon calls `web.sessions.current_actor` first.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from web import (
    accounts,
    calendar_view,
    composer,
    distribute,
    imports,
    inbox,
    live,
    login,
    overview,
    posts,
    queueing,
    queues,
    tokens,
    webhooks,
)
from web.templating import STATIC_DIR


async def favicon(request: Request) -> Response:
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    return [
        *login.routes(templates),
        *overview.routes(templates),
        *composer.routes(templates),
        *distribute.routes(templates),
        *imports.routes(templates),
        *posts.routes(templates),
        *calendar_view.routes(templates),
        *queues.routes(templates),
        *accounts.routes(templates),
        *queueing.routes(templates),
        *tokens.routes(templates),
        *webhooks.routes(templates),
        *inbox.routes(templates),
        *live.routes(templates),
        Route("/favicon.ico", favicon, name="favicon"),
    ]
