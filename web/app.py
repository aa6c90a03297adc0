"""The Starlette application, composed by `create_app` from the parts each area owns:

- `web.health`: /healthz, /readyz, /metrics
- `graphql_api.app`: /graphql (HTTP, WebSocket, GraphiQL)
- `web.pages`: the HTMX dashboard, login and the live SSE stream
- `web.security`: middleware (sessions, CSRF, security headers)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from graphql_api.app import graphql_routes
from scheduler.platform.settings import Settings, load_settings
from scheduler.services import Services, build_services
from web import health, pages, security
from web.errors import exception_handlers
from web.state import AppState
from web.templating import STATIC_DIR, create_templates


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Starlette:
    """Build the app; with `services` given (tests), the lifespan uses them as they are."""
    if settings is None:
        settings = services.settings if services is not None else load_settings()
    templates = create_templates()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[AppState]:
        if services is not None:
            yield {"services": services}
            return
        async with build_services(settings) as built:
            yield {"services": built}

    routes = [
        *health.routes(),
        *graphql_routes(),
        *pages.routes(templates),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=security.middleware(settings),
        exception_handlers=exception_handlers(templates),
        lifespan=lifespan,
    )
